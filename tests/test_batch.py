"""Batch runs: identical rows on every executor, crash-safe resume, clear sweep errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from abm.batch import STOP_AFTER_VARIABLE, Sweep, SweepError, inspect, load_sweep, run_seed, run_sweep
from abm.cli import main

SWEEP = {"seed": 11, "instances": 6, "replications": 2, "agents": [2, 3], "items": [12, 40],
         "priors": ["uniform", "beta(a=2, b=5)"], "strategies": ["truthful", "random-permutation"],
         "mechanisms": [{"name": "pick-r"}, {"name": "ranking"}]}
KEY = ["run", "instance", "agent"]


def rows(folder) -> pd.DataFrame:
    return pd.read_parquet(Path(folder) / "runs").sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    run_sweep(Sweep.from_dict(SWEEP), out, executor="serial", chunk_size=5)
    return rows(out)


def test_every_run_is_on_disk_with_its_parameters(serial):
    sweep = Sweep.from_dict(SWEEP)
    assert serial["run"].nunique() == len(sweep.runs()) == 2 * 2 * 2 * 2 * 2 * 2
    r = sweep.runs()[17]
    got = serial[serial.run == 17]
    assert (got["n_agents"] == r.n_agents).all() and (got["n_items"] == r.n_items).all()
    assert (got["prior"] == r.prior).all() and len(got) == r.instances * r.n_agents
    assert (got["run_seed"].astype("uint64") == run_seed(11, 17)).all()


def test_processes_give_the_same_rows(serial, tmp_path):
    run_sweep(Sweep.from_dict(SWEEP), tmp_path, executor="processes", workers=2, chunk_size=3)
    pd.testing.assert_frame_equal(rows(tmp_path), serial)


def test_a_local_dask_cluster_gives_the_same_rows(serial, tmp_path):
    pytest.importorskip("distributed")
    run_sweep(Sweep.from_dict(SWEEP), tmp_path, executor="dask", workers=2, chunk_size=7)
    pd.testing.assert_frame_equal(rows(tmp_path), serial)


def test_rows_do_not_depend_on_chunking_or_order(serial, tmp_path):
    run_sweep(Sweep.from_dict(SWEEP), tmp_path, executor="serial", chunk_size=64)
    pd.testing.assert_frame_equal(rows(tmp_path), serial)


def _writer(tmp_path, sweep_text, out, parts, stderr=subprocess.DEVNULL, pause=False):
    """The ``tfd batch run`` command for ``sweep_text`` (one run a chunk), and a writer of it into
    ``out`` that stops right after its ``parts``-th part (``TFD_BATCH_STOP_AFTER``): killed there,
    or with ``pause`` left running there, holding the folder's lock, until the test kills it."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(sweep_text)
    cmd = [sys.executable, "-m", "abm.cli", "batch", "run", str(sweep), "--chunk-size", "1", "--no-progress"]
    env = {**os.environ, STOP_AFTER_VARIABLE: f"{parts}:pause" if pause else str(parts)}
    proc = subprocess.Popen(cmd + ["--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    if pause:
        from browser_probe import first_line

        line = first_line(proc.stderr, 120, "tfd batch run")  # said once it holds the lock after `parts` parts
        assert line.startswith(f"tfd batch: paused after {parts} parts"), line
    else:
        proc.wait(timeout=120)
    return cmd, proc


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    killed = tmp_path / "killed"
    cmd, proc = _writer(tmp_path, 'seed = 3\ninstances = 40\nreplications = 100\nitems = [300]\nagents = [2]\n'
                                  'priors = ["beta(a=2, b=5)"]\n[[mechanisms]]\nname = "ranking"\n', killed, 5)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((killed / "runs").glob("part-*.parquet"))) == 5  # killed right after its 5th part
    assert subprocess.run(cmd + ["--out", str(killed), "--resume"], capture_output=True).returncode == 0
    whole = tmp_path / "whole"
    assert subprocess.run(cmd + ["--out", str(whole)], capture_output=True).returncode == 0
    a, b = rows(killed), rows(whole)
    assert a[["run"]].drop_duplicates().shape[0] == 100  # none missing
    assert not a.duplicated(KEY).any()  # no duplicates
    pd.testing.assert_frame_equal(a, b)
    assert not list((killed / "runs").glob(".*.tmp"))


def test_resume_refuses_a_different_sweep_and_rerun_without_resume(tmp_path):
    run_sweep(Sweep.from_dict({"instances": 2}), tmp_path)
    with pytest.raises(SweepError, match="already holds results"):
        run_sweep(Sweep.from_dict({"instances": 2}), tmp_path)
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(Sweep.from_dict({"instances": 3}), tmp_path, resume=True)
    assert run_sweep(Sweep.from_dict({"instances": 2}), tmp_path, resume=True)["executed"] == 0


@pytest.mark.parametrize("text, field", [
    ('instances = "ten"', "'instances'"),
    ("agents = [2, 0]", "'agents'"),
    ("seed = [1, 2]", "'seed'"),
    ('priors = ["norm"]', "'priors[0]'"),
    ('strategies = ["liar"]', "'strategies[0]'"),
    ('strategies = [["truthful"]]\nagents = [2]', "'strategies[0]'"),
    ("[[mechanisms]]\nr = [0.5]", "'mechanisms[0]'"),
    ('[[mechanisms]]\nname = "pick-r"\nr = [0.2, 0.3, 0.5]', "'mechanisms[0]'"),
    ('mechanism = "ranking"', "'mechanism'"),
    ("seed = [1", "cannot parse"),
])
def test_malformed_sweeps_name_the_field(tmp_path, text, field):
    path = tmp_path / "s.toml"
    path.write_text(text + "\n")
    with pytest.raises(SweepError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_sweep(path)


def test_yaml_sweeps_load_safely(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("seed: 2\nitems: [5]\nmechanisms:\n  - name: ranking\n")
    assert load_sweep(path).mechanisms == [{"name": "ranking"}]
    path.write_text("seed: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(SweepError, match="cannot parse"):
        load_sweep(path)


def test_cli_batch_and_inspect(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["batch", "run", "--mechanism", "ranking", "--mechanism", "round-robin", "--items", "8,16",
                 "--instances", "3", "--out", str(out), "--csv", "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["executed"] == 4
    assert len(list((out / "csv").glob("part-*.csv"))) == len(list((out / "runs").glob("part-*.parquet")))
    assert main(["batch", "inspect", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["runs_done"] == info["runs_total"] == 4 and info["covered"]["n_items"] == [8, 16]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 0 and meta["version"] and meta["sweep"]["items"] == [8, 16]
    assert inspect(out)["rows"] == 4 * 3 * 2


def test_learners_sweep_and_learn_one_round_per_instance(tmp_path):
    # Agent 0 runs Hedge under welfare maximization, one instance per step (a round): it must
    # come to prefer inflating its bids, so its late gain beats its early gain; the rows are the
    # same in processes, and a clairvoyant strategy for every agent is refused up front.
    sweep = {"seed": 3, "instances": 300, "instances_per_step": 1, "agents": [2], "items": [8],
             "strategies": [["hedge", "truthful"], "truthful"], "mechanisms": ["welfare-max", "pick-r"]}
    run_sweep(Sweep.from_dict(sweep), tmp_path / "a", executor="serial")
    run_sweep(Sweep.from_dict(sweep), tmp_path / "b", executor="processes", workers=2, chunk_size=1)
    a = rows(tmp_path / "a")
    pd.testing.assert_frame_equal(a, rows(tmp_path / "b"))
    learner = a[(a.agent == 0) & (a.strategies == "hedge,truthful")]
    wm = learner[learner.mechanism == "welfare-max"].sort_values("instance")["gain"].to_numpy()
    assert wm[200:].mean() > wm[:50].mean() and wm[200:].mean() > 0
    assert (learner[learner.mechanism == "pick-r"]["gain"] <= 0).all()  # DSIC: no round ever gains
    with pytest.raises(SweepError, match="at most one agent may play a clairvoyant strategy"):
        Sweep.from_dict({**sweep, "strategies": ["deadline-schedule"]})


def test_staggered_writers_and_resumes_lose_and_duplicate_nothing(tmp_path):
    # Writers start on one folder at staggered times: one runs, a second is refused while the
    # first holds the lock, the first is killed mid-way, then three resumes start at once and
    # retry until one finishes. No traceback anywhere, and the rows equal an uninterrupted run.
    out = tmp_path / "shared"
    cmd, first = _writer(tmp_path, 'seed = 5\ninstances = 30\nreplications = 200\nitems = [2000]\nagents = [2]\n'
                                   '[[mechanisms]]\nname = "ranking"\n', out, 3, pause=True)
    second = subprocess.run(cmd + ["--out", str(out), "--resume"], capture_output=True, text=True)
    assert second.returncode == 2 and "another tfd batch run is writing" in second.stderr, second.stderr
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert "Traceback" not in first.stderr.read()
    errors = []
    for attempt in range(20):
        procs = [subprocess.Popen(cmd + ["--out", str(out), "--resume"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [(p.wait(), p.stderr.read()) for p in procs]
        errors += [err for _, err in results]
        assert all(code in (0, 2) for code, _ in results), results
        if any(code == 0 for code, _ in results):
            break
    assert not any("Traceback" in e for e in errors)
    assert all(e == "" or e.startswith("tfd: error: another tfd batch run is writing") for e in errors), errors
    whole = tmp_path / "whole"
    assert subprocess.run(cmd + ["--out", str(whole)], capture_output=True).returncode == 0
    a = rows(out)
    assert a["run"].nunique() == 200 and not a.duplicated(KEY).any()
    pd.testing.assert_frame_equal(a, rows(whole))
    assert not list((out / "runs").glob(".*.tmp"))


def test_resume_needs_metadata_and_the_same_chunk_size(tmp_path):
    with pytest.raises(SweepError, match="no metadata.json"):
        run_sweep(Sweep.from_dict({"instances": 2}), tmp_path / "new", resume=True)
    assert not (tmp_path / "new").exists()  # a refused start leaves nothing behind
    run_sweep(Sweep.from_dict({"instances": 2, "replications": 4}), tmp_path / "a", chunk_size=2)
    (tmp_path / "a" / "metadata.json").unlink()
    with pytest.raises(SweepError, match="unknown sweep"):
        run_sweep(Sweep.from_dict({"instances": 2, "replications": 4}), tmp_path / "a", resume=True)
    run_sweep(Sweep.from_dict({"instances": 2, "replications": 4}), tmp_path / "b", chunk_size=2)
    with pytest.raises(SweepError, match="chunk-size 2"):
        run_sweep(Sweep.from_dict({"instances": 2, "replications": 4}), tmp_path / "b", resume=True, chunk_size=3)
    assert run_sweep(Sweep.from_dict({"instances": 2, "replications": 4}), tmp_path / "b", resume=True)["executed"] == 0


# -- Faults: damaged parts, writers racing, a killed run's workers ------------------------------

def test_a_damaged_or_unrecorded_part_is_rerun_on_resume_and_named(tmp_path, capsys):
    sweep = Sweep.from_dict({"instances": 3, "replications": 12, "seed": 4})
    whole = tmp_path / "whole"
    run_sweep(sweep, whole, chunk_size=3)
    out = tmp_path / "hurt"
    run_sweep(sweep, out, chunk_size=3)
    parts = sorted((out / "runs").glob("part-*.parquet"))
    parts[0].write_bytes(parts[0].read_bytes()[:200])  # truncated
    parts[1].write_bytes(b"not parquet at all")  # garbage
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest[parts[2].stem]  # renamed into place, then killed before the manifest was written
    (out / "manifest.json").write_text(json.dumps(manifest))
    info = inspect(out)
    assert info["runs_done"] == 3 and info["damaged"] == [p.name for p in parts[:3]]
    result = run_sweep(sweep, out, resume=True)
    assert result["executed"] == 9 and result["skipped"] == 3 and result["rerun_damaged"] == [p.name for p in parts[:3]]
    pd.testing.assert_frame_equal(rows(out), rows(whole))
    assert main(["batch", "inspect", str(out)]) == 0 and "unrecorded parts" not in capsys.readouterr().out


def test_resume_names_the_damaged_parts_in_one_line(tmp_path, capsys):
    out = tmp_path / "r"
    args = ["batch", "run", "--instances", "2", "--replications", "4", "--chunk-size", "2", "--no-progress",
            "--out", str(out)]
    assert main(args) == 0
    first = sorted((out / "runs").glob("part-*.parquet"))[0]
    first.write_bytes(b"garbage")
    capsys.readouterr()
    assert main(args + ["--resume"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"re-ran 1 damaged or unrecorded parts: {first.name}"


def test_inspect_refuses_metadata_that_is_not_an_object(tmp_path, capsys):
    (tmp_path / "metadata.json").write_text("[1, 2]")
    assert main(["batch", "inspect", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a JSON object" in err


def test_two_writers_started_together_give_one_refusal_every_time(tmp_path):
    """100 tries: two writers pass a barrier and open the same new folder at once. One holds it,
    the other is refused in one line; the folder is never half-made by the loser (checking and
    then creating the folder used to raise FileExistsError in the loser)."""
    import threading

    from abm.batch import ResultStore

    sweep = Sweep.from_dict({"instances": 2})
    for k in range(100):
        folder = tmp_path / f"race{k}"
        start, tried = threading.Barrier(2), threading.Barrier(2, timeout=10)
        outcome = []

        def writer():
            start.wait()
            try:
                with ResultStore(folder, sweep, None):
                    outcome.append("holds")
                    tried.wait()
            except SweepError as exc:
                outcome.append(str(exc))
                tried.wait()
            except Exception as exc:  # noqa: BLE001 - anything else is the failure this test looks for
                outcome.append(f"crash: {type(exc).__name__}: {exc}")
                tried.wait()

        threads = [threading.Thread(target=writer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused = [o for o in outcome if o.startswith("another tfd batch run is writing")]
        assert sorted(outcome, key=len)[0] == "holds" and len(refused) == 1, (k, outcome)
        assert (folder / "metadata.json").is_file()


def test_no_worker_of_a_killed_run_outlives_it(tmp_path):
    """SIGKILL a ``--executor processes`` run mid-way: its pool workers (and multiprocessing's
    resource tracker) must end, so a caller reading the run's output sees the pipes close."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "abm.cli", "batch", "run", "--agents", "3", "--items", "200", "--instances", "300",
           "--replications", "100", "--executor", "processes", "--workers", "2", "--chunk-size", "2",
           "--no-progress", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("part-*.parquet"))) < 1:
        time.sleep(0.05)
    assert proc.poll() is None, "the run should still be working when it is killed"
    os.kill(proc.pid, signal.SIGKILL)
    killed = time.time()
    try:
        proc.communicate(timeout=15)  # returns only once every holder of its pipes has exited
    except subprocess.TimeoutExpired:
        subprocess.run(["pkill", "-KILL", "-f", str(out)])
        pytest.fail("worker processes of the killed run kept its pipes open for 15 s")
    assert time.time() - killed < 5


def test_a_sweep_field_and_its_flag_are_checked_by_one_declaration(tmp_path, capsys):
    from abm.batch.parameters import SWEEP
    from abm.cli import main

    for name, flag, bad in (("agents", "--agents", 0), ("items", "--items", -2), ("replications", "--replications", 0),
                            ("instances", "--instances", 0), ("seed", "--seed", -1)):
        path = tmp_path / f"{name}.toml"
        path.write_text(f"{name} = {bad}\n")
        with pytest.raises(SweepError) as in_file:
            load_sweep(path)
        assert main(["batch", "run", "--out", str(tmp_path / "out"), flag, str(bad)]) == 2
        on_line = capsys.readouterr().err
        wanted = SWEEP[name].accepts
        assert f"sweep field '{name}' must be {wanted}, got" in str(in_file.value)
        assert f"{name} must be {wanted}, got '{bad}'" in on_line
        assert not (tmp_path / "out").exists()
