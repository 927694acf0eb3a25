"""The explorer's model, instance picture, charts, audit panel and command, without a browser
(tests/test_explore_browser.py drives the page itself)."""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from abm import mechanisms as M
from abm import theory
from abm.explore import charts
from abm.explore.audit import default_kind, run_audit, witness_table
from abm.explore.instance import instance_table
from abm.explore.prediction import welfare_prediction
from abm.explore.session import Explorer, parse_params
from abm.mechanisms.ranking import ranks
from abm.priors import parse_prior

BAD_INPUTS = [
    ({"prior": "beta(a=2"}, "expected ')'"),
    ({"prior": "__import__('os')"}, "prior"),
    ({"mechanism": "pik-r"}, "did you mean 'pick-r'"),
    ({"params": "r=[2, 3]"}, "sum to 1"),
    ({"params": "r=2,3"}, "expected keyword argument"),
    ({"params": "r"}, "give parameters by name"),
    ({"params": "bonus=1"}, "does not take bonus"),
    ({"seed": "x"}, "seed must be a nonnegative integer"),
    ({"seed": "²"}, "seed must be a nonnegative integer"),  # isdigit() says yes, int() says no
    ({"seed": "-1"}, "seed must be a nonnegative integer"),
    ({"strategies": "hedge,foo"}, "unknown strategy 'foo'"),
    ({"strategies": "truthful,truthful,truthful"}, "3 strategies for 2 agents"),
    ({"n_items": 0}, "from 1 to 200"),
    ({"n_agents": 7}, "from 1 to 6"),
    ({"instances_per_step": 501}, "from 1 to 500"),
    ({"prior": "uniform; uniform; uniform"}, "describes 3 agents"),
    ({"prior": "mixture([])"}, "at least one component"),
    ({"prior": "mixture([], weights=[])"}, "at least one component"),
]


@pytest.mark.parametrize("kwargs,expected", BAD_INPUTS, ids=[str(k) for k, _ in BAD_INPUTS])
def test_bad_input_is_a_one_line_message_not_an_exception(kwargs, expected):
    model = Explorer(**kwargs)
    assert model.error is not None and expected in model.error, model.error
    assert "\n" not in model.error and "Traceback" not in model.error and model.internal is None
    assert model.running is False and model.allocation is None
    model.step()  # a no-op, not a crash
    assert model.history == [] and model.instance() is None and model.audit() is None


def test_parameters_are_parsed_like_the_command_line():
    from fractions import Fraction

    assert parse_params("r=[0.3, 0.7]") == {"r": [0.3, 0.7]}
    assert parse_params(" r=[1/3, 2/3] ") == {"r": [Fraction(1, 3), Fraction(2, 3)]}
    assert parse_params("") == {}


def test_steps_record_the_same_estimates_as_the_model_and_repeat_with_the_seed():
    a, b = Explorer(seed="3"), Explorer(seed="3")
    for _ in range(4):
        a.step()
        b.step()
    assert a.history == b.history and a.gains == b.gains
    last = a.history[-1]
    s = a.allocation.summary()
    assert last["instances"] == 4 * 50 == s["instances"]
    assert last["welfare_ratio"] == s["welfare_ratio"]
    assert (last["ratio_low"], last["ratio_high"]) == tuple(s["welfare_ratio_ci"])  # the page shows the model's interval
    assert [r["step"] for r in a.history] == [1, 2, 3, 4]
    assert len(a.gains) == 4 * 2  # one row per agent per step
    c = Explorer(seed="4")
    c.step()
    assert c.history[0]["welfare_ratio"] != a.history[0]["welfare_ratio"]


def test_a_liar_shows_a_gain_and_truth_shows_exactly_zero():
    model = Explorer(mechanism="round-robin", strategies="ex-post-best-response,truthful", n_items=8)
    for _ in range(3):
        model.step()
    last = {row["agent"]: row for row in model.gains[-2:]}
    assert last[1]["mean_gain"] > 0 and last[1]["gain_low"] > 0  # round robin is manipulable
    assert last[2]["mean_gain"] == 0.0


def test_the_prediction_is_lemma_3_6_alpha_computed_for_the_prior():
    # Uniform, two agents, equal shares: agent 1 takes the top half of its quantiles (mean 3/4),
    # agent 2 gets the rest at its own independent value (mean 1/2), so an item is worth 5/8 on
    # average against E[max of two uniforms] = 2/3: alpha = 15/16.
    p = Explorer().prediction
    assert p.value == pytest.approx(15 / 16, abs=1e-9) and "Lemma 3.6" in p.label
    prior = parse_prior("beta(a=2, b=5)")
    r = [0.3, 0.7]
    got = welfare_prediction(M.get("pick-r", r=r), prior, 2, 20)
    assert got.value == pytest.approx(theory.alpha_pick_r(prior, r))
    assert welfare_prediction(M.get("ranking"), prior, 3, 20).value == 1.0
    assert welfare_prediction(M.get("round-robin"), prior, 2, 20).value is None
    assert welfare_prediction(M.get("pick-r"), parse_prior("uniform; beta(a=2, b=5)"), 2, 20).value is None


def _replay_picks(bids, owner, order):
    """Check, independently of the mechanisms, that taking the items in ``order`` (1-based
    picks) has every picker take its favourite remaining item (ties: lowest index)."""
    m = owner.size
    taken = np.zeros(m, bool)
    for item in np.argsort(order):
        picker = owner[item]
        remaining = np.flatnonzero(~taken)
        favourite = remaining[np.argmax(bids[picker, remaining])]  # argmax: first (lowest index) on ties
        assert item == favourite
        taken[item] = True


@pytest.mark.parametrize("name,kwargs", [("pick-r", {}), ("pick-r", {"r": [0.3, 0.2, 0.5]}), ("round-robin", {}),
                                         ("serial-dictatorship", {}), ("pick-optimal", {"prior": "uniform"})])
def test_the_picking_sequence_replays_as_favourite_remaining_picks(name, kwargs):
    rng = np.random.default_rng(5)
    prior = parse_prior("uniform")
    mech = M.get(name, **kwargs)
    sizes = ((3, 10), (3, 1)) if "r" in kwargs else ((2, 7), (3, 10), (3, 1))
    for n, m in sizes:
        bids = np.round(prior.sample(rng, n, m, batch=1)[0], 1)  # rounded: ties happen
        owner = mech.allocate(bids[None])[0]
        order, caption = mech.instance_labels(bids, owner)
        assert caption.startswith("pick number")
        assert sorted(order.tolist()) == list(range(1, m + 1)), caption
        _replay_picks(bids, owner, order)
        if name == "round-robin":  # turns go 1, 2, ..., n, 1, 2, ...
            assert [int(owner[np.argsort(order)][k]) for k in range(m)] == [k % n for k in range(m)]


def test_ranking_labels_are_the_owners_rank_and_beat_the_others():
    rng = np.random.default_rng(2)
    prior = parse_prior("uniform")
    values = prior.sample(rng, 3, 12, batch=1)[0]
    mech = M.get("ranking")
    owner = mech.allocate(values[None])[0]
    assert not mech.instance_labels(values, owner)[1].startswith("pick number")
    table = instance_table(mech, prior, values, values, owner)
    r = ranks(values[None])[0] + 1  # 1 = top
    won = table[table["owns"]]
    assert len(won) == 12 and set(won["item"]) == set(range(1, 13))
    for row in won.itertuples():
        assert int(row.label) == r[row.agent - 1, row.item - 1] == r[:, row.item - 1].min()
    # items are ordered by the highest quantile any agent has for them
    by_position = table.drop_duplicates("item").sort_values("position")
    top = table.groupby("item")["quantile"].max()
    assert list(top[by_position["item"]].to_numpy()) == sorted(top.to_numpy(), reverse=True)


def test_chart_options_are_json_with_the_theory_line_and_thinned_history():
    model = Explorer(n_items=10, instances_per_step=5)
    for _ in range(3):
        model.step()
    history, gains = model.frames()
    welfare = charts.welfare_chart(history, model.prediction, 0.95)
    json.dumps(welfare, allow_nan=False)  # what goes to the browser: plain JSON, no NaN
    line = next(s for s in welfare["series"] if s["name"] == "simulated")
    assert line["data"] == pytest.approx(history["welfare_ratio"].tolist())
    assert line["markLine"]["data"][0]["yAxis"] == model.prediction.value
    assert welfare["yAxis"]["min"] < model.prediction.value < welfare["yAxis"]["max"]
    assert welfare["xAxis"]["data"] == [5, 10, 15]
    rates = charts.rates_chart(history, 0.95)
    assert [s["name"] for s in rates["series"] if not s.get("silent")] == list(charts.RATES.values())
    json.dumps(charts.gains_chart(gains, 0.95), allow_nan=False)
    picture = charts.instance_chart(model.instance(), 2)
    json.dumps(picture, allow_nan=False)
    assert len(picture["series"][0]["data"]) == 2 * 10
    long = history.loc[history.index.repeat(300)].assign(instances=np.arange(900))
    thinned = charts.welfare_chart(long, model.prediction, 0.95)
    assert len(thinned["xAxis"]["data"]) <= charts.MAX_POINTS and thinned["xAxis"]["data"][-1] == 899


def test_the_audit_panel_proves_or_shows_a_replayed_witness():
    prior = parse_prior("uniform")
    proven = run_audit("DSIC", M.get("pick-r"), prior, 2, 8)
    assert proven.witness is None and proven.status.startswith("proven for every pair")
    lie = run_audit("DSIC", M.get("round-robin"), prior, 2, 8)
    assert lie.verdict.startswith("manipulable") and "replayed" in lie.status
    assert lie.witness is not None and {"owner (truthful)", "owner (deviating)"} <= set(lie.witness.columns)
    assert (lie.witness["owner (truthful)"] != lie.witness["owner (deviating)"]).any()
    bic = run_audit("BIC", M.get("ranking"), prior, 2, 6)
    assert bic.status.startswith("statistical, not a proof")
    assert default_kind(M.get("ranking")) == "BIC" and default_kind(M.get("round-robin")) == "DSIC"


def test_witness_table_numbers_agents_and_items_from_one():
    from abm.audit import dsic_audit

    w = dsic_audit(M.get("welfare-max"), "uniform", 2, 3, profiles=5, seed=1).shrunk
    table = witness_table(w)
    assert table["item"].tolist() == list(range(1, w.n_items + 1))
    assert set(table["owner (truthful)"]) <= {1, 2}


def _tfd(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "abm.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args,expected", [
    (["--prior", "beta(a=2"], "expected ')'"),
    (["--port", "99999"], "port must be an integer from 0 to 65535"),
    (["--items", "500"], "from 1 to 200"),
    (["--mechanism", "rankin"], "did you mean 'ranking'"),
])
def test_explore_refuses_bad_settings_in_one_line(args, expected):
    done = _tfd("explore", "--no-open", *args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_explore_says_when_its_port_is_taken():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        done = _tfd("explore", "--no-open", "--port", str(s.getsockname()[1]))
    assert done.returncode == 2 and "pass --port 0 for any free port" in done.stderr, done.stderr


def test_the_page_offers_what_the_model_accepts():
    pytest.importorskip("solara", reason="the viz extra is not installed")
    from mesa.visualization.solara_viz import _check_model_params

    from abm.explore import app

    params = app.model_params(app.DEFAULTS)
    _check_model_params(Explorer(), params)  # Mesa's own check: every input is a model argument
    assert set(params) == set(app.DEFAULTS)
    assert "pick-r" in params["mechanism"]["values"] and "ranking" in params["mechanism"]["values"]
    assert Explorer(**{k: v["value"] for k, v in params.items()}).error is None


def test_explore_passes_its_starting_settings_to_the_page(monkeypatch):
    pytest.importorskip("solara", reason="the viz extra is not installed")
    from abm.explore import app

    monkeypatch.setenv(app.DEFAULTS_VARIABLE, json.dumps({"mechanism": "ranking", "n_agents": 3, "rng": 5}))
    settings = app.starting_settings()
    assert settings["mechanism"] == "ranking" and settings["n_agents"] == 3 and "rng" not in settings
    assert settings["prior"] == app.DEFAULTS["prior"]
    own = app.model_params({**settings, "mechanism": "examples.my_mechanism:TopBidWins"})
    assert own["mechanism"]["values"][-1] == "examples.my_mechanism:TopBidWins"  # offered, so it shows


def test_the_browser_setup_never_fails_the_install(tmp_path):
    # No Chromium and no apt-get on PATH: .ci/browser says the browser test will be skipped, exit 0.
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    (tmp_path / "bin").mkdir()
    for tool in ("id", "tail"):
        (tmp_path / "bin" / tool).symlink_to(subprocess.run(["which", tool], capture_output=True, text=True)
                                             .stdout.strip())
    done = subprocess.run(["/bin/bash", str(root / ".ci" / "browser")], capture_output=True, text=True,
                          env={"PATH": str(tmp_path / "bin")}, cwd=tmp_path)
    assert done.returncode == 0
    assert "the browser test will be skipped" in done.stderr


def test_ctrl_c_stops_the_explorer_without_a_traceback():
    pytest.importorskip("solara", reason="the viz extra is not installed")
    import signal

    from browser_probe import start_explorer

    proc, _ = start_explorer()
    try:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "tfd explore: stopped" in out


def test_a_bug_becomes_an_error_card_with_a_saved_traceback(tmp_path, monkeypatch):
    """A rule that raises something other than bad input is a bug: the page keeps one line that
    says so and names the saved traceback, on creation and mid-run alike, and never raises."""
    import planted  # noqa: F401 - importable by path, as a researcher's module

    monkeypatch.setenv("TFD_CRASH_DIR", str(tmp_path))
    model = Explorer(mechanism="planted:CrashesOnStep", n_items=6)
    assert model.error is None and model.internal is None
    model.step()
    assert model.internal.startswith("internal error (a bug in tfd, not in your input): ZeroDivisionError")
    saved = list(tmp_path.glob("tfd-internal-error-*.txt"))
    assert len(saved) == 1 and str(saved[0]) in model.internal and "Traceback" in saved[0].read_text()
    assert model.error is None and model.allocation is None and model.running is False
    model.step()  # a no-op now


def test_the_pages_audit_outcomes_are_told_apart(tmp_path, monkeypatch):
    from abm.errors import AuditCancelled, TfdError
    from abm.explore.app import audit_outcome

    monkeypatch.setenv("TFD_CRASH_DIR", str(tmp_path))
    assert audit_outcome(AuditCancelled("x")) == ("cancelled", "audit cancelled")
    assert audit_outcome(TfdError("too big\nmore")) == ("refused", "audit refused: too big")
    kind, line = audit_outcome(IndexError("index 9 is out of bounds"))
    assert kind == "internal" and "IndexError" in line and str(tmp_path) in line


@pytest.mark.parametrize("kind", ["DSIC", "BIC"])
def test_the_audit_stops_when_asked_and_has_the_work_guard(kind):
    from abm.errors import AuditCancelled, TfdError

    model = Explorer(mechanism="round-robin", n_items=12)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2  # the third checkpoint

    with pytest.raises(AuditCancelled):
        model.audit(kind, stop=stop)
    assert len(calls) == 3
    with pytest.raises(TfdError, match="would take about"):
        model.audit(kind, limit_seconds=1e-6)
    assert model.audit(kind, stop=lambda: False).kind == kind  # not stopped: it finishes


def test_the_page_helpers_raise_with_a_deadline_not_an_assert():
    """A server that never prints its address ends the wait in TimeoutError, also under ``python -O``."""
    import subprocess
    import sys

    from browser_probe import wait_for_page

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        with pytest.raises(TimeoutError, match="printed no line within 1 s"):
            wait_for_page(proc, timeout=1)
    finally:
        proc.kill()
        proc.wait()
    proc = subprocess.Popen([sys.executable, "-c", "print('no address here')"], stdout=subprocess.PIPE, text=True)
    with pytest.raises(RuntimeError, match="printed no address"):
        wait_for_page(proc, timeout=10)
    proc.wait()


@pytest.mark.parametrize("name, flag, bad", [("n_agents", "--agents", 7), ("n_items", "--items", 0),
                                             ("instances_per_step", "--instances-per-step", 501)])
def test_a_bad_field_gets_one_message_on_the_page_and_the_command_line(name, flag, bad):
    from abm.explore.parameters import EXPLORE, PAGE

    on_page = Explorer(**{name: bad}).error
    done = _tfd("explore", "--no-open", flag, str(bad))
    wanted = f"must be {PAGE[name].accepts}, got"
    assert on_page == f"{name} {wanted} {bad}", on_page
    assert EXPLORE[name].flag == flag
    assert done.returncode == 2 and f"{EXPLORE[name].label} {wanted} '{bad}'" in done.stderr, done.stderr


def test_the_page_form_is_made_from_its_declaration():
    pytest.importorskip("solara", reason="the viz extra is not installed")
    from abm.explore import app
    from abm.explore.parameters import PAGE

    params = app.model_params(app.DEFAULTS)
    assert list(params) == [o.name for o in PAGE.options]
    for o in PAGE.options:
        low, high, _, _ = o.bounds
        if params[o.name]["type"] == "SliderInt":
            assert (params[o.name]["min"], params[o.name]["max"]) == (low, high)
        assert params[o.name]["label"] == o.help
