"""Quantile-contiguous allocations on correlated priors: n-agent copulas, exact margins, the search."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats as st

from abm.errors import PriorSpecError
from abm.priors import parse_prior
from abm.theory import appendix_b_thresholds
from abm.theory.quantile_contiguous import best_contiguous, exact_margins, gaussian_margins, verify

CORR3 = "corr=[[1, 0.5, 0.2], [0.5, 1, 0.3], [0.2, 0.3, 1]]"


def test_three_agent_gaussian_copula_round_trips_and_has_its_spearman_rho():
    text = f"copula(uniform, uniform, beta(a=2, b=5), {CORR3})"
    prior = parse_prior(text)
    assert parse_prior(str(prior)).spec == prior.spec and prior.n_agents == 3
    v = prior.sample(np.random.default_rng(3), 3, 40_000)
    rho = st.spearmanr(v.T).statistic
    want = (6 / math.pi) * np.arcsin(np.array([[1, .5, .2], [.5, 1, .3], [.2, .3, 1]]) / 2)
    # Spearman's rho through Fisher's z: standard error about 1.06 / sqrt(N - 3); 99.9% two-sided
    half = st.norm.ppf(0.9995) * 1.06 / math.sqrt(40_000 - 3)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert abs(np.arctanh(rho[i, j]) - np.arctanh(want[i, j])) < half, (i, j, rho[i, j], want[i, j])


@pytest.mark.parametrize("text, expected", [
    ("copula(uniform, corr=[[1, 0.5], [0.4, 1]])", "symmetric"),
    ("copula(uniform, corr=[[1, 1], [1, 1]])", "positive definite"),
    ("copula(uniform, uniform, uniform, corr=[[1, 0.5], [0.5, 1]])", "marginals are given"),
    ("checkerboard(uniform, cells=[[1, 0], [0, 2]])", "not uniform"),
    ("checkerboard(uniform, file='missing.npy')", "no file"),
    ("checkerboard(uniform, file='/etc/hostname')", ".npy or .json"),
])
def test_bad_copulas_are_refused_with_the_reason(text, expected):
    with pytest.raises(PriorSpecError, match=expected):
        parse_prior(text)


def test_checkerboard_file_and_inline_cells_agree(tmp_path):
    prior = parse_prior(f"checkerboard(uniform, uniform, uniform, k=4, {CORR3})")
    np.save(tmp_path / "cells.npy", prior.cells)
    from_file = parse_prior(f"checkerboard(uniform, uniform, uniform, file='{tmp_path / 'cells.npy'}')")
    np.testing.assert_array_equal(from_file.cells, prior.cells)
    inline = parse_prior("checkerboard(uniform, uniform, cells=" + str(np.full((2, 2), 0.25).tolist()) + ")")
    assert inline.sample(np.random.default_rng(0), 2, 5).shape == (2, 5)


def test_exact_margins_match_a_brute_force_count():
    prior = parse_prior(f"checkerboard(uniform, uniform, uniform, k=6, {CORR3})")
    order, shares = (2, 0, 1), [Fraction(3, 10), Fraction(3, 10), Fraction(2, 5)]
    V, t = exact_margins(prior, order, shares)
    q = prior.quantile_points(np.random.default_rng(7), 2_000_000)
    t = [float(x) for x in t]
    r2 = q[:, 2] >= t[0]
    r0 = ~r2 & (q[:, 0] >= t[1])
    r1 = ~r2 & ~r0
    regions = {0: r0, 1: r1, 2: r2}
    for j, R in regions.items():
        assert R.mean() == pytest.approx(float(shares[order.index(j)]), abs=5 * math.sqrt(0.25 / q.shape[0]))
        for i in range(3):
            x = q[:, i] * R / 0.5  # v_i 1{R} / E[v_i]
            se = x.std() / math.sqrt(x.size)
            assert abs(x.mean() - float(V[i][j])) < 5 * se, (i, j)  # 5 standard errors: 1 in 1.7 million


def test_equal_shares_leave_the_last_picker_no_margin_and_the_search_finds_one():
    independent = parse_prior("checkerboard(uniform, uniform, uniform, k=3)")
    V, _ = exact_margins(independent, (0, 1, 2), [Fraction(1, 3)] * 3)
    assert V[2] == [Fraction(1, 3)] * 3  # the last picker values every region at 1/n
    best = best_contiguous(independent, steps=30)
    assert best.certified and best.min_ef > 0.01 and verify(independent, best)


def test_the_certificate_fails_when_a_margin_is_perturbed():
    prior = parse_prior("checkerboard(uniform, uniform, uniform, k=4, corr=[[1, .9, .8], [.9, 1, .9], [.8, .9, 1]])")
    best = best_contiguous(prior, steps=30)
    assert verify(prior, best)
    key = min(best.ef_margins, key=best.ef_margins.get)
    bad = dataclasses.replace(best, ef_margins={**best.ef_margins, key: best.ef_margins[key] + 1e-9})
    assert not verify(prior, bad)
    moved = dataclasses.replace(best, shares_exact=["1/3", "1/3", "1/3"])
    assert not verify(prior, moved)


@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.4, 0.9])
def test_two_agents_best_margin_is_at_least_appendix_b(rho):
    prior = parse_prior(f"checkerboard(uniform, uniform, k=8, corr=[[1, {rho}], [{rho}, 1]])")
    best = best_contiguous(prior, steps=60)
    b = appendix_b_thresholds(prior, eps=0.01)
    order = (b.picker, 1 - b.picker)
    share = Fraction(b.share).limit_denominator(10**6)
    V, _ = exact_margins(prior, order, [share, 1 - share])
    appendix_b = min(V[0][0] - V[0][1], V[1][1] - V[1][0])
    assert best.min_ef >= float(appendix_b) - 1e-12


def test_gaussian_margins_come_with_an_interval_that_covers_the_checkerboard_limit():
    # a fine checkerboard of the same copula and the Monte Carlo estimate agree within the interval
    # widened by the checkerboard's discretization (k = 12 cells per axis)
    prior = parse_prior("copula(uniform, uniform, rho=0.5)")
    mc = gaussian_margins(prior, (0, 1), [0.45, 0.55], 2, points=2_000_000, batches=10)
    assert mc["min_ef"][2] - mc["min_ef"][1] < 0.01
    from abm.priors.priors import CheckerboardCopulaPrior, gaussian_checkerboard

    board = CheckerboardCopulaPrior([prior.marginal(0)] * 2, gaussian_checkerboard(24, prior.correlation(2)), "x")
    V, _ = exact_margins(board, (0, 1), [Fraction(9, 20), Fraction(11, 20)])
    exact_min = float(min(V[0][0] - V[0][1], V[1][1] - V[1][0]))
    assert abs(exact_min - mc["min_ef"][0]) < 0.02  # checkerboard bias at k = 24 is about 1/k


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_the_float_search_agrees_with_the_exact_margins(order):
    from abm.theory.quantile_contiguous import value_matrices

    prior = parse_prior(f"checkerboard(uniform, uniform, uniform, k=5, {CORR3})")
    shares = np.array([[0.2, 0.3, 0.5], [0.45, 0.1, 0.45], [1 / 3, 1 / 3, 1 / 3]])
    V = value_matrices(prior, order, shares)
    for b, r in enumerate(shares):
        exact, _ = exact_margins(prior, order, [Fraction(x).limit_denominator(1000) for x in r])
        np.testing.assert_allclose(V[b], np.array(exact, dtype=float), atol=1e-12)


def test_the_search_in_blocks_matches_the_search_at_once(monkeypatch):
    """The share grid is evaluated in blocks so memory stays bounded; blocks change no result."""
    from abm.theory import quantile_contiguous as C

    prior = "checkerboard(uniform, uniform, uniform, k=3, corr=[[1, .5, .2], [.5, 1, .3], [.2, .3, 1]])"
    whole = C.best_contiguous(prior, steps=12, refine=1)
    monkeypatch.setattr(C, "_BLOCK_BYTES", 1)  # one share vector per block
    blocked = C.best_contiguous(prior, steps=12, refine=1)
    assert blocked.order == whole.order and blocked.shares == whole.shares and blocked.min_ef == whole.min_ef


def test_a_search_past_an_hour_is_refused_before_it_starts():
    from abm.errors import TfdError
    from abm.theory import quantile_contiguous as C

    with pytest.raises(TfdError, match=r"the contiguous search on 923,521 cells for 4 agents .* would take about"):
        C.best_contiguous("checkerboard(uniform, uniform, uniform, uniform, k=31)")


# -- the best that is the best ------------------------------------------------------------------
def _fine_search(prior, steps: int = 300) -> float:
    """An independent search for the best minimum EF margin: every order, a share grid of step
    1/steps, then Nelder-Mead on the minimum margin from each order's best grid point."""
    import itertools

    from scipy.optimize import minimize

    from abm.theory import quantile_contiguous as C

    n = prior.n_agents
    G = [C._Antiderivative(prior.marginal(i)) for i in range(n)]
    grid = C.share_grid(n, steps)
    off = ~np.eye(n, dtype=bool)
    best = -np.inf
    for order in itertools.permutations(range(n)):
        def worst(x):
            if x.min() <= 0 or x.sum() >= 1:
                return 1.0
            V = C.value_matrices(prior, order, np.r_[x, 1 - x.sum()][None], G)[0]
            return -float((np.diag(V)[:, None] - V)[off].min())

        mins = C._min_margins(prior, order, grid, G)
        b = int(np.argmax(mins))
        found = minimize(worst, grid[b][:-1], method="Nelder-Mead",
                         options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 4000})
        best = max(best, float(mins[b]), -found.fun)
    return best


def test_on_checkerboards_the_best_is_the_best_a_fine_independent_search_finds():
    from abm.priors.priors import CheckerboardCopulaPrior
    from abm.theory.quantile_contiguous import _copula_from

    rng = np.random.default_rng(2026)
    uniform = parse_prior("uniform").marginal(0)
    for trial in range(10):
        cells = _copula_from(rng.normal(size=27) * 1.5, 3, 3, 0.05)
        prior = CheckerboardCopulaPrior([uniform] * 3, cells, f"random checkerboard {trial}")
        ours = best_contiguous(prior)
        assert ours.min_ef == pytest.approx(_fine_search(prior), abs=1e-6), trial
        assert verify(prior, ours) == (ours.min_ef > 0)


def test_the_all_half_gaussian_copula_reaches_its_best_margin():
    from abm.theory import contiguous

    r = contiguous("copula(uniform, uniform, uniform, rho=0.5)")
    # the best minimum EF margin, 0.0669 to the four places an independent search gave
    assert abs(r.min_ef - 0.0669) < 5e-5, r.min_ef
    low, high = r.searched["min_ef_interval"]
    assert low <= r.min_ef <= high  # the Monte Carlo check's simultaneous interval holds the quadrature value
    assert sorted(r.shares) == pytest.approx([0.2346, 0.2521, 0.5133], abs=2e-4)


def test_gaussian_region_values_agree_with_monte_carlo():
    from scipy.special import ndtr

    from abm.theory.gaussian_regions import region_values

    corr = np.array([[1, .5, .2], [.5, 1, .3], [.2, .3, 1]])
    order, shares = (2, 0, 1), [0.3, 0.25, 0.45]
    V = region_values(corr, order, shares, [(0.0, 1.0)] * 3)
    assert V.sum(axis=1) == pytest.approx(np.ones(3), abs=1e-12)  # the regions cut the cube
    q = ndtr(np.random.default_rng(5).multivariate_normal(np.zeros(3), corr, size=2_000_000))
    first = q[:, 2] >= 0.7
    second = ~first & (q[:, 0] >= np.quantile(q[~first, 0], 1 - 0.25 / 0.7))
    for j, region in ((2, first), (0, second), (1, ~first & ~second)):
        for i in range(3):
            x = q[:, i] * region / 0.5
            # 5 standard errors: a false alarm on one of the nine cells has probability below 1e-5
            assert abs(x.mean() - V[i, j]) < 5 * x.std() / math.sqrt(x.size), (i, j)


def test_a_gaussian_checkerboard_is_the_same_in_every_run():
    import subprocess
    import sys

    code = ("import hashlib; from abm.priors.priors import gaussian_checkerboard; "
            "print(hashlib.sha256(gaussian_checkerboard(5, [[1, .5, .2], [.5, 1, .3], [.2, .3, 1]]).tobytes()).hexdigest())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1


def test_the_counterexample_search_is_seeded_stays_in_its_family_and_checks_what_it_reports():
    from abm.theory.quantile_contiguous import search_counterexample

    one = search_counterexample(evaluations=24, starts=("comonotone", "random"), seed=4)
    again = search_counterexample(evaluations=24, starts=("comonotone", "random"), seed=4)
    assert [r["checked"] for r in one["per_start"]] == [r["checked"] for r in again["per_start"]]
    assert one["best_margin_checked"] == min(r["checked"] for r in one["per_start"])
    for r in one["per_start"]:
        cells = r["cells"]
        assert cells.min() >= 0.05 / cells.size * (1 - 1e-12)  # the density floor holds
        for axis in range(3):
            slices = cells.sum(axis=tuple(a for a in range(3) if a != axis))
            assert slices == pytest.approx(np.full(4, 0.25), abs=1e-12)
        # the search never reports less than the full search finds on its copula
        assert r["checked"] >= r["reached"] - 1e-12
