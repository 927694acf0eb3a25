"""Incentive audits: controls, exact oracles against brute force, witnesses, BIC."""

import json

import numpy as np
import pytest

from abm import mechanisms
from abm.audit import bic_audit, dsic_audit, load, replay, shrink
from abm.audit.witness import make
from abm.mechanisms.schedule import schedule_deadlines
from abm.cli import main
from abm.metrics import utilities

DSIC_CONTROLS = [
    ("pick-r", {"r": [0.4]}), ("serial-dictatorship", {}),
    ("picking", {"picker": 1, "sizes": [2, 4]}), ("exchange", {"endowment": [0, 2, 3]}),
    ("pick-optimal", {}), ("pick-theorem-3-7", {}),
]


@pytest.mark.parametrize("name, params", DSIC_CONTROLS)
def test_dsic_mechanisms_show_zero_gain_on_exhaustive_search(name, params):
    mech = mechanisms.get(name, prior="truncexpon(b=3)", **params)
    a = dsic_audit(mech, "truncexpon(b=3)", 2, 6, profiles=60, seed=3)
    s = a.summary
    # Proven pair by pair: rankings enumerated for the ordinal rules, the structural oracle for all.
    assert s["exact"] and s["proof"]["none"] == 0
    assert s["search"] == ("exhaustive" if mech.info.ordinal else "subset search")
    assert s["max_gain"] <= 1e-9 and s["violations"] == 0 and a.witness is None
    # Zero violations in 120 pairs still bound the rate: 1 - 0.05^(1/120) at 95%.
    assert s["violation_rate_upper"] == pytest.approx(1 - 0.05 ** (1 / 120))


def test_random_compositions_show_zero_gain_and_report_trades():
    rng = np.random.default_rng(5)
    traded = []
    for _ in range(6):
        comp = mechanisms.random_composition(6, rng, max_components=3)
        a = dsic_audit(comp, "uniform", 2, 6, profiles=40, seed=int(rng.integers(1000)))
        assert a.summary["max_gain"] <= 1e-9 and a.summary["exact"]
        if "trades" in a.summary:
            traded.append(a.summary["trades"]["trade_rate"])
    assert traded  # some compositions had exchanges, and their trades were reported


def test_round_robin_with_two_agents_gains_and_the_witness_replays(tmp_path):
    a = dsic_audit("round-robin", "uniform", 2, 6, profiles=80, seed=1)
    s = a.summary
    assert s["max_gain"] > 0 and s["violations"] > 0 and s["exact"]
    assert replay(a.witness)["confirmed"]
    path = tmp_path / "w.json"
    path.write_text(a.witness.to_json())
    assert replay(load(path))["confirmed"]


def test_round_robin_with_three_agents_is_proven_by_the_solver():
    a = dsic_audit("round-robin", "uniform", 3, 10, profiles=20, budget=60, seed=2)
    s = a.summary
    assert s["exact"] and s["proof"]["solver"] == s["pairs"] and s["max_gain"] > 0


def test_qt_s_is_not_dsic_its_quotas_are_not_fixed():
    # Lemma 3.6's twin of Pick-r: the first agent gains by accepting every item that reaches it.
    s = dsic_audit("qt-s", "uniform", 2, 6, profiles=40, seed=3).summary
    assert s["claim"] == "none" and s["violations"] > 0 and s["exact"]


def test_welfare_maximization_shows_a_large_gain():
    s = dsic_audit("welfare-max", "uniform", 2, 6, profiles=60, seed=4).summary
    assert s["violation_rate"] > 0.9 and s["mean_relative_gain"] > 0.3


def test_ranking_is_manipulable_ex_post_but_not_in_the_interim():
    s = dsic_audit("ranking", "uniform", 3, 6, profiles=60, seed=5).summary
    assert s["violations"] > 0 and s["exact"]
    b = bic_audit("ranking", "uniform", 3, 6, types=30, samples=100, seed=5)
    # No significant gain, and the largest expected gain is under 1% of an agent's truthful expected
    # utility (1.41 here); welfare maximization's is about 1 (test_the_bic_audit_can_fail).
    assert not b.summary["significant"] and b.summary["max_expected_gain"] < 0.0141
    assert b.summary["p_t_non_increasing"]
    p = b.p_t[b.p_t.agent == 0]["p"].to_numpy()
    assert p[0] > p[-1] + 0.5  # genuinely decreasing, not flat


def test_the_bic_audit_can_fail():
    b = bic_audit("welfare-max", "uniform", 2, 6, types=30, samples=100, seed=6)
    assert b.summary["significant"] and b.summary["ci_low"] > 0


def test_scheduling_matches_brute_force_over_subsets():
    rng = np.random.default_rng(8)
    for _ in range(200):
        m = int(rng.integers(1, 8))
        w = rng.integers(0, 5, m).astype(float)
        d = rng.integers(0, m + 2, m)
        slot = schedule_deadlines(w, d)
        chosen = slot >= 0
        assert (slot[chosen] < d[chosen]).all() and len(set(slot[chosen])) == chosen.sum()
        best = 0.0
        for mask in range(2**m):
            S = [j for j in range(m) if mask >> j & 1]
            if all(sum(d[j] <= t for j in S) <= t for t in range(m + 2)):
                best = max(best, w[S].sum())
        assert w[chosen].sum() == best


def test_schedule_batches_equal_single_instances():
    rng = np.random.default_rng(9)
    w, d = rng.random((30, 25)), rng.integers(0, 26, (30, 25))
    np.testing.assert_array_equal(schedule_deadlines(w, d), np.stack([schedule_deadlines(a, b) for a, b in zip(w, d)]))


def test_a_shrunk_witness_still_violates_and_is_no_larger():
    for name, n, m in (("ranking", 3, 6), ("welfare-max", 2, 6), ("round-robin", 2, 7)):
        a = dsic_audit(name, "uniform", n, m, profiles=40, seed=10)
        w, s = a.witness, a.shrunk
        assert s.n_items <= w.n_items and s.n_agents <= w.n_agents
        assert s.gain > 0 and replay(s)["confirmed"]
        assert s.n_items < w.n_items or s.n_agents < w.n_agents  # it did shrink something


def test_shrink_keeps_a_composition_consistent():
    mech = mechanisms.get("welfare-max")
    values = np.array([[0.2, 0.9, 0.1], [0.5, 0.3, 0.4]])
    w = make(mech, values, 0, np.array([1.0, 1.0, 1.0]))
    s = shrink(w)
    assert s.n_items == 1 and s.gain > 0


def test_cli_dsic_json_out_and_replay(tmp_path, capsys):
    out = tmp_path / "audit"
    assert main(["audit", "dsic", "--mechanism", "round-robin", "--items", "6", "--profiles", "30",
                 "--json", "--out", str(out), "--no-progress"]) == 0
    s = json.loads(capsys.readouterr().out)
    for key in ("max_gain", "mean_gain", "violation_rate", "violation_rate_upper", "profiles", "exact"):
        assert key in s
    assert (out / "dsic.parquet").exists() and (out / "summary.json").exists() and (out / "witness.json").exists()
    assert main(["audit", "replay", str(out / "witness-shrunk.json")]) == 0
    assert "confirmed" in capsys.readouterr().out
    tampered = json.loads((out / "witness.json").read_text())
    tampered["misreport"] = tampered["values"][tampered["agent"]]  # the truth: no gain, saved numbers now wrong
    (out / "bad.json").write_text(json.dumps(tampered))
    assert main(["audit", "replay", str(out / "bad.json")]) == 2  # refused as altered, never "replayed"
    assert "the witness was altered" in capsys.readouterr().err


def test_cli_bic_json_keys_and_plot(tmp_path, capsys):
    out = tmp_path / "bic"
    assert main(["audit", "bic", "--mechanism", "ranking", "--items", "5", "--types", "10", "--samples", "40",
                 "--json", "--out", str(out), "--no-progress", "--strategies", "swap-ranks,scale(factor=2)"]) == 0
    s = json.loads(capsys.readouterr().out)
    for key in ("max_expected_gain", "ci_low", "ci_high", "p_value", "types", "samples"):
        assert key in s
    assert (out / "p_t.png").stat().st_size > 1000


@pytest.mark.parametrize("args, message", [
    (["audit", "dsic", "--mechanism", "nosuch"], "unknown mechanism"),
    (["audit", "dsic", "--mechanism", "ranking", "--strategies", "liar"], "unknown strategy"),
    (["audit", "bic", "--mechanism", "ranking", "--prior", "copula(uniform, rho=0.3)"], "independent agents"),
    (["audit", "replay", "/nonexistent/w.json"], "no file at"),
    (["audit", "dsic", "--mechanism", "exchange", "--agents", "3"], "two-agent"),
])
def test_cli_audit_errors(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(args + (["--no-progress"] if args[1] != "replay" else [])))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
