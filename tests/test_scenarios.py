"""Every scenario runs in --quick mode; a claim the paper proves must not come out 'not reproduced'."""

import json
import re
from pathlib import Path

import pytest

from abm.cli import main
from abm.scenario_runner import available, run_all

NAMES = list(available())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return out, run_all(out, mode="quick", seed=0)


def test_every_claim_of_the_paper_has_a_scenario():
    assert NAMES == ["theorem-3-1", "proposition-3-3", "theorem-3-7", "proposition-3-8", "corollary-3-9",
                     "theorem-3-10", "theorem-4-1", "theorem-a-1", "appendix-b", "baselines", "strategic-play",
                     "open-question-n3", "open-question-contiguous"]


@pytest.mark.parametrize("name", NAMES)
def test_scenario_verdicts(report, name):
    out, results = report
    summary = json.loads((out / name / "summary.json").read_text())
    assert summary["claims"], "a scenario must check at least one claim"
    for c in summary["claims"]:
        assert set(c) >= {"claim", "paper_value", "threshold", "threshold_reason", "measured", "ci_low", "ci_high",
                          "verdict", "domain_low", "domain_high"}
        assert c["verdict"] in {"reproduced", "inconclusive", "not reproduced"}
        assert c["verdict"] != "not reproduced", c
        lo, hi, t, tol = c["ci_low"], c["ci_high"], c["threshold"], c["tolerance"]
        derived = {"at_least": "reproduced" if lo >= t else "not reproduced" if hi < t else "inconclusive",
                   "at_most": "reproduced" if hi <= t else "not reproduced" if lo > t else "inconclusive",
                   "matches": "reproduced" if lo - tol <= t <= hi + tol else "not reproduced"}
        if c["kind"] in derived:  # the verdict follows from the interval and the rule, as recorded
            assert c["verdict"] == derived[c["kind"]], c
        elif c["kind"] == "asymptotic" and c["verdict"] == "reproduced":
            assert lo >= t, c
    reproduced = sum(c["verdict"] == "reproduced" for c in summary["claims"])
    assert reproduced >= len(summary["claims"]) - 1  # at most one claim waits for larger m in quick mode
    for fig in summary["figures"]:
        assert (out / name / fig).stat().st_size > 5000
    for table in summary["tables"]:
        assert (out / name / table).exists() and (out / name / table.replace(".parquet", ".csv")).exists()


def _breaks_rule(c: dict, x: float) -> bool:
    t, tol = c["threshold"], c.get("tolerance", 0.0)
    if c["kind"] in ("at_least", "asymptotic"):
        return x < t
    if c["kind"] in ("at_most", "bic"):
        return x > t
    return abs(x - t) > tol


def test_every_check_can_fail(report):
    # For every claim of every summary.json, some value of the measured quantity's range breaks
    # the rule: a check whose rule holds for every possible measurement proves nothing.
    out, results = report
    import math

    for r in results:
        for c in json.loads((out / r["scenario"] / "summary.json").read_text())["claims"]:
            lo = -1e300 if c["domain_low"] is None else c["domain_low"]
            hi = 1e300 if c["domain_high"] is None else c["domain_high"]
            probes = [lo, hi, (lo + hi) / 2, c["threshold"] - abs(c["threshold"]) * 1e-6 - 1e-12,
                      c["threshold"] + abs(c["threshold"]) * 1e-6 + 1e-12 + c.get("tolerance", 0.0)]
            inside = [x for x in probes if lo <= x <= hi and math.isfinite(x)]
            assert any(_breaks_rule(c, x) for x in inside), (r["scenario"], c["claim"], c["rule"], lo, hi)


def test_paper_values_are_the_papers_and_thresholds_say_why(report):
    _, results = report
    for r in results:
        for c in r["claims"]:
            assert c["threshold_reason"] or c["kind"] == "matches", (r["scenario"], c["claim"])


def test_the_report_shows_every_verdict_and_figure(report):
    out, results = report
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    images = re.findall(r"<img src='([^']+)'", html)
    expected = [f"{r['scenario']}/{f}" for r in results for f in r["figures"]]
    assert images == expected and all((out / i).exists() for i in images)
    assert all(f"]({i})" in md for i in expected)
    claims = sum(len(r["claims"]) for r in results)
    assert html.count("<td class='v'") == claims


def test_the_inconclusive_claim_is_explained(report):
    _, results = report
    for r in results:
        for c in r["claims"]:
            if c["verdict"] == "inconclusive":
                assert c["note"], c


def test_cli_list_and_errors(capsys):
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in NAMES)
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["scenario", "run", "nosuch", "--quick", "--no-progress"]))
    assert exc.value.code == 2 and "unknown scenario 'nosuch'" in capsys.readouterr().err


def test_cli_runs_one_scenario(tmp_path, capsys):
    assert main(["scenario", "run", "baselines", "--quick", "--out", str(tmp_path), "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenarios"][0]["scenario"] == "baselines"
    assert (Path(tmp_path) / "baselines" / "summary.json").exists()


def test_progress_lines_reach_a_log_that_is_not_a_terminal(tmp_path, capsys):
    # stderr captured here is not a terminal: tqdm's bar is off, the per-scenario line is not
    assert main(["scenario", "run", "baselines", "--quick", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^tfd: \[1/1\] baselines: \d+ reproduced .*about \d+ s left\)$", err, re.M), err


def test_strategic_play_puts_each_learner_where_a_lie_could_matter(report):
    """Under serial dictatorship no seat's report moves its bundle, so the scenario says so instead of
    claiming that a learner in the dictator's seat gains nothing; every other DSIC claim names a
    seat whose bundle some report moves."""
    out, _ = report
    claims = json.loads((out / "strategic-play" / "summary.json").read_text())["claims"]
    dsic = [c for c in claims if "(DSIC)" in c["claim"]]
    sd = [c for c in dsic if c["claim"].startswith("serial dictatorship")]
    assert len(sd) == 1 and "vacuous" in sd[0]["claim"] and sd[0]["measured"] == 0
    for c in dsic:
        if c is not sd[0]:
            share = re.search(r"learner in seat \d+, where some report moves its bundle on (\d+)%", c["note"])
            assert share and int(share.group(1)) > 0, c


def test_the_seat_finder_sees_where_reports_matter():
    import numpy as np

    from abm import mechanisms
    from scenarios.strategic_play import seat_where_lies_matter

    rng = np.random.default_rng(0)
    assert seat_where_lies_matter(mechanisms.get("serial-dictatorship"), rng) == (None, 0.0)
    assert seat_where_lies_matter(mechanisms.get("pick-r"), rng)[0] == 0
    assert seat_where_lies_matter(mechanisms.get("picking", picker=1, sizes=[3, 5]), rng)[0] == 1


@pytest.mark.parametrize("kind, interval, threshold, expected", [
    ("at_least", (0.6, 0.8), 0.5, "reproduced"), ("at_least", (0.4, 0.6), 0.5, "inconclusive"),
    ("at_least", (0.2, 0.4), 0.5, "not reproduced"),
    ("at_most", (0.2, 0.4), 0.5, "reproduced"), ("at_most", (0.4, 0.6), 0.5, "inconclusive"),
    ("at_most", (0.6, 0.8), 0.5, "not reproduced"),
    ("matches", (0.4, 0.6), 0.5, "reproduced"), ("matches", (0.6, 0.8), 0.5, "not reproduced"),
])
def test_a_verdict_comes_from_the_interval_on_each_side_of_the_threshold(tmp_path, kind, interval, threshold,
                                                                           expected):
    """The rules themselves, on intervals above, straddling and below a threshold: the quick-mode
    runs never straddle one, so the verdicts they record cannot show a wrong rule."""
    from abm.scenario import Context

    ctx = Context("rule", "rule", tmp_path, mode="quick")
    low, high = interval
    verdict = getattr(ctx, kind)("a claim", (low + high) / 2, low, high, threshold)
    assert verdict == expected
