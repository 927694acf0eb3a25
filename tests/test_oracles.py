"""Every structural oracle against full enumeration.

For each mechanism of the catalogue, on random profiles with ties and zeros at m <= 6:
the oracle's report, run through ``allocate``, earns exactly the oracle's value, and no
enumerated report earns more. Ordinal mechanisms enumerate all m! strict rankings (the
ordinal property is checked separately); cardinal ones enumerate every report over the
levels {0, 1, 2, high}, which contains every "high on a subset" report and more.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from abm import mechanisms
from abm.audit.trust import basis
from abm.metrics import utilities, utility_of_reports

IID = "uniform"
MIXED3 = "uniform; beta(a=2, b=5); truncexpon(b=3)"
MIXED4 = "uniform; beta(a=2, b=5); truncexpon(b=3); beta(a=5, b=2)"


def _family(mech, m: int, high: float) -> np.ndarray:
    if "ordinal" in mech.properties:
        return m - np.array(list(itertools.permutations(range(m))), dtype=float)
    levels = np.array([0.0, 1.0, 2.0, high])
    return levels[np.array(list(itertools.product(range(4), repeat=m)))]


def _profiles(rng, n: int, m: int, trial: int) -> np.ndarray:
    if trial % 3 == 0:
        return rng.integers(0, 3, (n, m)).astype(float)  # many ties and zeros
    if trial % 3 == 1:
        return np.round(rng.random((n, m)), 1)
    return rng.random((n, m))


def _check(mech, n: int, rng, trials: int, max_m: int = 6, min_m: int = 1):
    for trial in range(trials):
        m = int(rng.integers(min_m, max_m + 1))
        values = _profiles(rng, n, m, trial)
        mech_m = mech(m) if callable(mech) else mech
        i = int(rng.integers(0, n))
        br = mech_m.best_response(values[i][None], values[None], i)
        assert br is not None and br.proven.all()
        lied = values.copy()
        lied[i] = br.reports[0]
        earned = utilities(values, mech_m.allocate(lied))[i]
        assert earned == pytest.approx(br.value[0], abs=1e-12), (values.tolist(), i)
        family = _family(mech_m, m, 2 * values.max() + 10)
        best = utility_of_reports(mech_m, values[i], values, i, family).max()
        assert best <= br.value[0] + 1e-12, (values.tolist(), i, best, br.value[0])
        if "ordinal" in mech_m.properties:
            assert best == pytest.approx(br.value[0], abs=1e-12)  # rankings are complete: equality


@pytest.mark.parametrize("name, params, n", [
    ("pick-r", {"r": [0.3]}, 2), ("pick-r", {"r": [0.2, 0.5, 0.3]}, 3), ("pick-r", {}, 4),
    ("serial-dictatorship", {}, 3), ("ranking", {}, 2), ("ranking", {}, 3), ("ranking", {}, 4),
    ("round-robin", {}, 2), ("round-robin", {}, 3), ("round-robin", {}, 4),
    ("welfare-max", {}, 3), ("qt-s", {"prior": IID}, 3), ("qt-s", {"prior": MIXED4}, 4),
    ("weighted-ranking", {"prior": MIXED3}, 3), ("weighted-ranking", {"prior": MIXED4}, 4),
    ("pick-optimal", {"prior": "beta(a=2, b=5)"}, 3), ("pick-theorem-3-7", {"prior": "truncexpon(b=3)"}, 2),
    ("pick-equal-quota", {"prior": IID}, 3), ("pick-correlated", {"prior": "copula(uniform, rho=0.5)"}, 2),
])
def test_oracle_matches_enumeration(name, params, n):
    mech = mechanisms.get(name, **params)
    _check(mech, n, np.random.default_rng(len(name) * 31 + n), trials=24)


@pytest.mark.parametrize("picker", [0, 1])
@pytest.mark.parametrize("sizes", [[2], [0, 3], [1, 2, 4]])
def test_picking_with_size_menus_matches_enumeration(picker, sizes):
    rng = np.random.default_rng(picker * 10 + len(sizes))
    _check(lambda m: mechanisms.Picking(picker, sizes=[k for k in sizes if k <= m] or [0]), 2, rng, trials=20,
           max_m=5)


def test_picking_with_explicit_bundles_matches_enumeration():
    rng = np.random.default_rng(4)

    def build(m):
        bundles = [sorted(rng.choice(m, size=int(rng.integers(0, m + 1)), replace=False).tolist()) for _ in range(3)]
        return mechanisms.Picking(int(rng.integers(0, 2)), bundles=bundles)

    _check(build, 2, rng, trials=30, max_m=5)


def test_exchange_matches_enumeration():
    rng = np.random.default_rng(5)
    _check(lambda m: mechanisms.Exchange(sorted(rng.choice(m, size=int(rng.integers(0, m + 1)), replace=False).tolist())),
           2, rng, trials=40, max_m=5)


def test_compositions_match_enumeration():
    rng = np.random.default_rng(6)
    _check(lambda m: mechanisms.random_composition(m, rng, max_components=3), 2, rng, trials=40, max_m=5)


def test_round_robin_solver_is_proven_at_thirty_items():
    rng = np.random.default_rng(7)
    values = rng.random((2, 3, 30))
    rr = mechanisms.get("round-robin")
    rr.solver_time_limit = 300.0  # a resource knob, not the claim: the claim is a proof at m = 30
    for i in range(3):
        br = rr.best_response(values[:, i, :], values, i)
        assert br.kind == "solver" and br.proven.all()
        lied = values.copy()
        lied[:, i, :] = br.reports
        np.testing.assert_allclose(utilities(values, rr.allocate(lied))[:, i], br.value, atol=1e-12)
        assert (br.value >= utilities(values, rr.allocate(values))[:, i] - 1e-12).all()


def test_every_catalogue_oracle_is_bound_to_its_own_rule():
    for info in mechanisms.available():
        mech = mechanisms.get(info.name, **info.example.params)  # each mechanism's own example
        assert basis(mech).oracle == "verified", info.name


def test_round_robin_solver_is_not_fooled_by_a_stale_solution():
    """A profile on which HiGHS, re-run as a MIP on the object that had solved the LP relaxation,
    reported the optimal objective (1.2) with the columns of a worse sequence (1.1), and the oracle
    called 1.1 proven. Enumerating all 720 rankings finds 1.2."""
    values = np.array([[0.4, 0.5, 0.8, 0.5, 0.3, 0.8], [0.4, 0.8, 0.8, 0.4, 0.7, 0.0],
                       [0.4, 0.9, 0.6, 0.6, 0.7, 0.7]])
    rr = mechanisms.get("round-robin")
    br = rr.best_response(values[1][None], values[None], 1)
    family = 6 - np.array(list(itertools.permutations(range(6))), dtype=float)
    best = utility_of_reports(rr, values[1], values, 1, family).max()
    assert best == pytest.approx(1.2)
    assert br.proven.all() and br.value[0] == pytest.approx(best, abs=1e-12)
