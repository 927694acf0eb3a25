"""The tfd command: outputs, files, and one-line errors with exit status 2."""

import argparse
import json
import math
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from abm.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_json_has_the_promised_keys(capsys):
    code, out, _ = run(capsys, "simulate", "--items", "50", "--instances", "40", "--json", "--no-progress")
    assert code == 0
    data = json.loads(out)
    for key in ("welfare_ratio", "ef_rate", "ef1_rate", "mean_welfare", "mean_optimal_welfare", "instances"):
        assert key in data
    assert data["instances"] == 40 and 0 < data["welfare_ratio"] <= 1
    # The CLI's default is the Python API's: Pick-r with equal shares.
    from abm.simulate import simulate

    python = simulate(n_items=50, instances=40).to_dict()
    assert data["mechanism"] == python["mechanism"] == "pick-r"
    assert data["mechanism_params"] == python["mechanism_params"]
    assert data["welfare_ratio"] == python["welfare_ratio"]


def test_same_seed_same_output(capsys):
    args = ["simulate", "--mechanism", "ranking", "--agents", "3", "--items", "30", "--instances", "20",
            "--json", "--no-progress"]
    a = run(capsys, *args, "--seed", "3")[1]
    b = run(capsys, *args, "--seed", "3")[1]
    c = run(capsys, *args, "--seed", "4")[1]
    assert a == b and a != c


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_out_writes_one_row_per_instance_and_agent_with_parameters(capsys, tmp_path, suffix):
    path = tmp_path / "sim" / f"rows.{suffix}"
    code, _, _ = run(capsys, "simulate", "--mechanism", "qt-s(r=[0.3, 0.3, 0.4])", "--agents", "3",
                     "--items", "20", "--instances", "15", "--seed", "2", "--out", str(path.parent), "--csv",
                     "--no-progress")
    assert code == 0
    assert json.loads((path.parent / "summary.json").read_text())["instances"] == 15
    frame = pd.read_csv(path) if suffix == "csv" else pd.read_parquet(path)
    assert len(frame) == 15 * 3
    for col in ("instance", "agent", "utility", "gain", "welfare", "optimal_welfare", "ef", "ef1", "prop",
                "mechanism", "mechanism_params", "prior", "n_agents", "n_items", "seed"):
        assert col in frame.columns
    assert (frame["mechanism"] == "qt-s").all() and (frame["seed"] == 2).all()
    if suffix == "parquet":
        meta = json.loads(pq.read_schema(path).metadata[b"tfd"])
        assert meta["seed"] == 2 and meta["version"]


def test_mechanisms_lists_names_claims_and_parameters(capsys):
    code, out, _ = run(capsys, "mechanisms", "--json")
    listed = {m["name"]: m for m in json.loads(out)}
    assert code == 0 and {"pick-r", "qt-s", "ranking", "serial-dictatorship", "round-robin", "welfare-max"} <= set(listed)
    assert listed["pick-r"]["claim"] == "DSIC" and "r" in listed["pick-r"]["parameters"]
    code, out, _ = run(capsys, "mechanisms")
    assert "pick-r" in out and "claim: DSIC" in out


BAD = [
    (["--agents", "0"], "positive integer"),
    (["--items", "-5"], "positive integer"),
    (["--instances", "x"], "positive integer"),
    (["--seed", "²"], "seed must be a nonnegative integer"),
    (["--mechanism", "pick-r(r=[0.5, 0.6])"], "sum to 1"),
    (["--mechanism", "pick-r(r=[-0.5, 1.5])"], "nonnegative"),
    (["--mechanism", "pick-r(r=[a, b])"], "takes a list of numbers"),
    (["--mechanism", "pick-r(r=0.3,0.7)"], "expected"),
    (["--r", "0.5"], "unrecognized arguments: --r"),
    (["--mechanism", "nosuch"], "unknown mechanism"),
    (["--prior", "nosuch"], "unknown distribution"),
    (["--prior", "norm"], "not bounded and nonnegative"),
    (["--prior", "beta(a=2"], "expected ')'"),
    (["--prior", "__import__('os')"], "quoted text is accepted only as file="),
    (["--mechanism", "ranking(r=[0.5])"], "ranking does not take r"),
    (["--strategies", "liar"], "unknown strategy"),
    (["--out", "README.md"], "is a file; expected a folder"),
    (["--seed", "-1"], "seed"),
    (["--confidence", "2"], "confidence"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    with pytest.raises(SystemExit) as exc:  # argparse-level errors
        code = main(["simulate", "--instances", "2", "--items", "3", "--no-progress", *args])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tfd: error: ") and message in err
    assert "Traceback" not in err


def test_entry_point_runs_in_a_subprocess(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "abm.cli", "simulate", "--instances", "5", "--items", "10", "--json"],
                        capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["instances"] == 5
    bad = subprocess.run([sys.executable, "-m", "abm.cli", "simulate", "--prior", "expon"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_bare_tfd_version_strategies_and_subcommand_names(capsys):
    import json

    from abm import __version__

    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose a command:" in err and "learn" in err
    assert main(["--version"]) == 0  # answered before the parser (and numpy) load
    assert capsys.readouterr().out.strip() == f"tfd {__version__}"
    assert main(["strategies", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["strategies"]}
    assert rows["hedge"]["learner"] and not rows["truthful"]["learner"] and rows["scale"]["classifier"]["keeps_ranking"]
    code = main(["audit"])
    err = capsys.readouterr().err
    assert code == 2 and "audit_command" not in err and "{dsic,bic,mutants,replay}" in err


def test_simulate_reads_strategy_text_like_audit(capsys):
    import json

    assert main(["simulate", "--mechanism", "welfare-max", "--items", "10", "--instances", "20", "--json",
                 "--no-progress", "--strategies", "inflate-top-k(k=2,factor=3),scale(factor=3)"]) == 0
    agents = json.loads(capsys.readouterr().out)["agents"]
    assert [a["strategy"] for a in agents] == ["InflateTopK(k=2, factor=3.0)", "Scale(factor=3.0)"]


@pytest.mark.parametrize("args, hint", [
    (["simulate", "--mechanism", "pickr"], "did you mean 'pick-r'?"),
    (["simulate", "--strategies", "truthfull"], "did you mean 'truthful'?"),
    (["simulate", "--prior", "unifrom"], "did you mean 'uniform'?"),
    (["scenario", "run", "strategic_play", "--quick"], "did you mean 'strategic-play'?"),
    (["simulate", "--mechanism", "pick-r(r=[-0.2, 1.2])"], "r must be nonnegative"),
])
def test_names_suggest_and_negative_values_are_values(capsys, args, hint):
    assert main(args + ["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and hint in err


def test_every_option_with_a_default_shows_it_in_help(monkeypatch):
    from abm.cli import build_parser

    monkeypatch.setenv("COLUMNS", "2000")  # no wrapping inside "(default: round-robin)"

    def walk(parser):
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from walk(child)

    for parser in walk(build_parser()):
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            d = action.default
            if action.option_strings and not (d is None or d is False or d == [] or d == argparse.SUPPRESS):
                assert action.help and "default" in (action.help or "") or f"(default: {d})" in text, \
                    (parser.prog, action.option_strings)


def test_pick_r_shares_on_the_command_line_are_read_exactly_as_written(capsys):
    """The README's promise: ``pick-r(r=[1/3, 2/3])`` is accepted, as fractions the rule reads
    exactly."""
    import json

    assert main(["simulate", "--mechanism", "pick-r(r=[1/3, 2/3])", "--items", "3", "--instances", "2", "--no-progress", "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["mechanism_params"]
    assert params["r"] == pytest.approx([1 / 3, 2 / 3])
