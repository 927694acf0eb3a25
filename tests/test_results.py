"""Results as objects: dsic_audit, bic_audit, simulate, design and theory contiguous return typed
results whose estimates are abm.metrics.Estimate, and whose to_dict() is the JSON the command prints."""

from __future__ import annotations

import json

import pytest

from abm.cli import main
from abm.metrics import Estimate

CHECKERBOARD = "checkerboard(uniform, uniform, cells=[[0.3, 0.2], [0.2, 0.3]])"


def _printed(capsys, argv) -> dict:
    assert main(argv + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_simulate_returns_estimates_and_the_printed_keys(capsys):
    from abm.simulate import SimulationResult, simulate

    r = simulate(n_items=30, instances=50, seed=3, confidence=0.9)
    assert isinstance(r, SimulationResult)
    for est in (r.welfare_ratio, r.ef_rate, r.ef1_rate, r.prop_rate, *r.agent_gains):
        assert isinstance(est, Estimate) and est.ci_low <= est.value <= est.ci_high and est.confidence == 0.9
    d = r.to_dict()
    assert d["welfare_ratio"] == r.welfare_ratio.value and d["ef_rate_ci"] == [r.ef_rate.ci_low, r.ef_rate.ci_high]
    assert r.instances == 50
    wider = r.at(0.99)
    assert wider.welfare_ratio.ci_high - wider.welfare_ratio.ci_low > r.welfare_ratio.ci_high - r.welfare_ratio.ci_low
    printed = _printed(capsys, ["simulate", "--items", "30", "--instances", "50", "--seed", "3", "--confidence", "0.9"])
    assert set(printed) - {"seed"} == set(d) and printed["welfare_ratio"] == d["welfare_ratio"]


def test_dsic_audit_result(capsys):
    from abm.audit import dsic_audit

    r = dsic_audit("welfare-max", n_items=4, profiles=20, seed=1)
    assert r.violations > 0 and r.exact  # enumeration proves every pair at m = 4, and welfare-max is manipulable
    rate = r.violation_rate
    assert isinstance(rate, Estimate) and rate.n == r.summary["pairs"] and rate.value == r.violations / rate.n
    assert rate.ci_low <= rate.value <= rate.ci_high and r.max_gain > 0
    printed = _printed(capsys, ["audit", "dsic", "--mechanism", "welfare-max", "--items", "4", "--profiles", "20",
                                "--seed", "1", "--no-progress"])
    assert set(printed) == set(r.to_dict()) and printed["violations"] == r.violations


def test_bic_audit_result(capsys):
    from abm.audit import bic_audit

    r = bic_audit("ranking", n_items=3, types=8, samples=20, seed=2)
    g = r.max_expected_gain
    assert isinstance(g, Estimate) and g.ci_low <= g.value <= g.ci_high and g.value == r.summary["max_expected_gain"]
    assert isinstance(r.significant, bool) and 0 <= r.p_value <= 1
    printed = _printed(capsys, ["audit", "bic", "--mechanism", "ranking", "--items", "3", "--profiles", "8",
                                "--samples", "20", "--seed", "2", "--no-progress"])
    assert set(printed) == set(r.to_dict())


def test_design_result(capsys):
    from abm.design import design

    lab = design(n_agents=2, n_items=2)
    assert lab.optimal and 0 < lab.optimum_ratio <= 1 and isinstance(lab.gap_positive, bool)
    d = lab.to_dict()
    assert d["optimum_ratio"] == lab.optimum_ratio and d["gap"] == lab.gap
    printed = _printed(capsys, ["design", "--agents", "2", "--items", "2", "--no-progress"])
    assert set(printed) == set(d)


def test_contiguous_result(capsys):
    from abm.theory import contiguous

    r = contiguous(CHECKERBOARD)
    est = r.min_ef_estimate
    assert isinstance(est, Estimate) and est.value == r.min_ef == est.ci_low == est.ci_high
    assert r.to_dict()["min_ef_margin"] == r.min_ef
    printed = _printed(capsys, ["theory", "contiguous", "--prior", CHECKERBOARD])
    assert printed == json.loads(json.dumps(r.to_dict()))


def test_a_result_dict_is_a_copy():
    from abm.audit import dsic_audit

    r = dsic_audit("pick-r", n_items=3, profiles=4)
    r.to_dict()["proof"]["exhaustive"] = -1
    assert r.to_dict()["proof"]["exhaustive"] != -1


@pytest.mark.parametrize("bad", [0, 1, 1.5, float("nan")])
def test_at_refuses_a_confidence_outside_its_declaration(bad):
    from abm.errors import TfdError
    from abm.simulate import simulate

    with pytest.raises(TfdError, match="^confidence must be "):
        simulate(n_items=3, instances=2).at(bad)


def test_the_theory_names_stay_functions_once_their_modules_are_loaded():
    import importlib

    import abm.theory as theory

    for module, names in theory._HOMES.items():
        importlib.import_module(f"abm.theory.{module}")
        for name in names:
            assert not isinstance(getattr(theory, name), type(theory)), f"abm.theory.{name} is a module"
