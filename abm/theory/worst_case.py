"""Worst cases over all priors: prior-independent thresholds, Hill-Kertz a_n, Kertz's beta.

A prior's quantile function F^{-1} is nondecreasing and nonnegative, so it is a mixture
of steps 1{u >= 1 - w} (a two-point prior putting mass w on the high value). Welfare
and E[max] are linear in F^{-1}, so the worst prior for a fixed rule is a single step
(or, under one extra linear constraint, a mixture of two): for QT-s with thresholds s,

    worst(s) = min over w in (0, 1] of G_s(w) / D_n(w),
    G_s(w) = sum_i reach_i min(w, s_i),   D_n(w) = 1 - (1 - w)^n,

where G_s(w) is the rule's welfare and D_n(w) the prophet's on the step of height 1 and
mass w (section 3.1's proof of Proposition 3.3 is this argument for n = 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse
from scipy.integrate import quad

from abm.errors import TfdError
from abm.shares import as_s, r_from_s, s_from_r
from abm.shares import check_n as _check_n

__all__ = [
    "reach", "worst_case_alpha", "UniversalThresholds", "universal_thresholds", "HillKertz", "hill_kertz",
    "discrete_prior_search", "kertz_beta", "worst_case_alpha_constrained", "Theorem37Fallback",
    "theorem_3_7_fallback_bound",
]


def reach(s: np.ndarray) -> np.ndarray:
    """Probability that QT-s offers an item to agent i: prod_{k<i} (1 - s_k)."""
    return np.concatenate([[1.0], np.cumprod(1.0 - np.asarray(s, dtype=float))[:-1]])


def _prophet(w, n):
    """D_n(w) = 1 - (1 - w)^n, without cancellation for small w."""
    if np.ndim(w):
        with np.errstate(divide="ignore"):
            return -np.expm1(n * np.log1p(-np.asarray(w, dtype=float)))
    return 1.0 if w >= 1 else -math.expm1(n * math.log1p(-w))


def _welfare(w, s, c):
    return np.minimum(np.asarray(w, dtype=float)[..., None], s) @ c


def _grid(points: int = 4000) -> np.ndarray:
    return np.unique(np.concatenate([np.geomspace(1e-9, 1.0, points), np.linspace(0, 1, points)[1:]]))


def _min_ratio(numerator, n: int, breakpoints, limit: float) -> tuple[float, float]:
    """min over w in (0, 1] of numerator(w) / D_n(w), for a numerator linear between breakpoints.

    Each piece is searched on a grid and then by a bounded scalar search; ``limit`` is
    the value as w -> 0.
    """
    bp = np.asarray(list(breakpoints), dtype=float)
    cuts = np.unique(np.concatenate([[1e-12, 1.0], bp[(bp > 1e-12) & (bp < 1)]]))
    best_w, best = 0.0, float(limit)

    def f(w):
        return float(numerator(w) / _prophet(w, n))

    for lo, hi in zip(cuts, cuts[1:]):
        grid = np.linspace(lo, hi, 64)
        vals = np.array([f(g) for g in grid])
        k = int(np.argmin(vals))
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        res = optimize.minimize_scalar(f, bounds=(a, b), method="bounded", options={"xatol": 1e-13})
        for w, v in ((grid[k], vals[k]), (res.x, res.fun)):
            if v < best:
                best, best_w = float(v), float(w)
    return best, best_w


def worst_case_alpha(s, n: int | None = None) -> tuple[float, float]:
    """The worst ratio of QT-s over all priors and the step mass w where it occurs.

    G_s is linear between the breakpoints s_i and D_n concave; w -> 0 gives the limit
    sum_{s_i > 0} reach_i / n.
    """
    s = as_s(s, n)
    c = reach(s)
    return _min_ratio(lambda w: float(_welfare(w, s, c)), s.size, s, c[s > 0].sum() / s.size)


@dataclass(frozen=True)
class UniversalThresholds:
    n: int
    s: np.ndarray
    r: np.ndarray
    alpha: float  # worst case over priors of the deterministic rule found
    worst_w: float
    lp_value: float  # value of the randomized relaxation (= a_n by the minimax theorem)
    gap: float  # lp_value - alpha


def universal_thresholds(n: int, seed: int = 0, lp_cells: int = 800) -> UniversalThresholds:
    """Deterministic thresholds s maximizing the worst case of alpha over all priors.

    The objective is not concave in s, so a global search (scipy's differential
    evolution with a fixed seed, on a grid approximation of the inner minimum) is
    followed by a local polish of the exact worst case. Also solves the randomized
    relaxation (:func:`hill_kertz`) and reports the gap.
    """
    n = _check_n(n)
    lp = hill_kertz(n, cells=lp_cells).a_n
    if n == 1:
        return UniversalThresholds(1, np.ones(1), np.ones(1), 1.0, 1.0, lp, lp - 1.0)
    grid = _grid(1500)
    prophet = _prophet(grid, n)

    def approx(x):
        s = np.append(x, 1.0)
        return -float((_welfare(grid, s, reach(s)) / prophet).min())

    start = s_from_r(np.full(n, 1.0 / n))[:-1]
    found = optimize.differential_evolution(approx, [(0.0, 1.0)] * (n - 1), seed=seed, tol=1e-10,
                                            x0=start, polish=False, maxiter=400)

    def exact(x):
        return -worst_case_alpha(np.append(np.clip(x, 0, 1), 1.0))[0]

    polished = optimize.minimize(exact, found.x, method="Nelder-Mead",
                                 options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 4000})
    x = np.clip(polished.x if polished.fun <= exact(found.x) else found.x, 0, 1)
    s = np.append(x, 1.0)
    alpha, w = worst_case_alpha(s)
    return UniversalThresholds(n, s, r_from_s(s), alpha, w, lp, lp - alpha)


@dataclass(frozen=True)
class HillKertz:
    n: int
    a_n: float
    cells: int
    refined: float  # the same LP on twice as many cells
    error: float  # |a_n - refined|: the stated discretization error
    stopping: np.ndarray  # probability of stopping at each step in the optimal randomized rule
    upper: float  # exact optimal stopping ratio of the worst prior read off the LP's duals (>= a_n)


def _hill_kertz_lp(n: int, cells: int) -> tuple[float, np.ndarray]:
    # Quantile cells, finer towards u = 1 where thresholds for many draws sit.
    v = np.linspace(0.0, 1.0, cells + 1)
    u = 1.0 - (1.0 - v) ** 3
    width = np.diff(u)
    K = cells
    # Variables: y[i, k] (stop at draw i with quantile in cell k), reach R[i], suffix Z[j], ratio c.
    ny, nR, nZ = n * K, n, K + 1
    iy, iR, iZ, ic = 0, ny, ny + nR, ny + nR + nZ
    nvar = ic + 1
    rows, cols, vals = [], [], []
    b_eq, r = [], 0
    # R_1 = 1;  R_{i+1} = R_i - sum_k y[i, k]
    rows += [r]; cols += [iR]; vals += [1.0]; b_eq.append(1.0); r += 1
    for i in range(n - 1):
        rows += [r, r] + [r] * K
        cols += [iR + i + 1, iR + i] + list(range(iy + i * K, iy + (i + 1) * K))
        vals += [1.0, -1.0] + [1.0] * K
        b_eq.append(0.0); r += 1
    # Z_K = 0;  Z_j = Z_{j+1} + sum_i y[i, j]
    rows += [r]; cols += [iZ + K]; vals += [1.0]; b_eq.append(0.0); r += 1
    for j in range(K):
        rows += [r, r] + [r] * n
        cols += [iZ + j, iZ + j + 1] + [iy + i * K + j for i in range(n)]
        vals += [1.0, -1.0] + [-1.0] * n
        b_eq.append(0.0); r += 1
    A_eq = sparse.csr_matrix((vals, (rows, cols)), shape=(r, nvar))
    rows, cols, vals, b_ub, r = [], [], [], [], 0
    # capacity: y[i, k] <= width_k R_i
    for i in range(n):
        for k in range(K):
            rows += [r, r]; cols += [iy + i * K + k, iR + i]; vals += [1.0, -width[k]]
            b_ub.append(0.0); r += 1
    # ratio: welfare >= c (1 - t^n) against the step prior at every t. On a cell the welfare
    # Z(t) is linear and 1 - t^n concave, so it lies below its tangent T_j at the cell's
    # midpoint; Z >= c T_j at both ends of the cell implies the constraint on the whole cell.
    # The LP value is therefore a lower bound on a_n (the rule it finds is certified).
    # The last cell uses the tangent at t = 1, n (1 - t), so that the ratio near t = 1 (where
    # both sides vanish) is constrained too. Rows are divided by the tangent's value so every
    # constraint reads "c <= Z / T" at unit scale; otherwise the solver's absolute tolerance
    # swallows the rows near t = 1.
    mid = 0.5 * (u[:-1] + u[1:])
    ratio_rows = []  # (row, grid point, tangent value): to read the worst prior off the duals
    first_ratio_row = r
    for j in range(K):
        for end in ((j, j + 1) if j < K - 1 else (j,)):
            if j < K - 1:
                tangent = (1.0 - mid[j] ** n) - n * mid[j] ** (n - 1) * (u[end] - mid[j])
            else:
                tangent = n * (1.0 - u[end])
            rows += [r, r]; cols += [ic, iZ + end]; vals += [1.0, -1.0 / tangent]
            ratio_rows.append((end, tangent))
            b_ub.append(0.0); r += 1
    A_ub = sparse.csr_matrix((vals, (rows, cols)), shape=(r, nvar))
    cost = np.zeros(nvar)
    cost[ic] = -1.0
    res = optimize.linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status != 0:
        raise TfdError(f"the Hill-Kertz linear program did not solve: {res.message}")
    y = res.x[iy:iy + ny].reshape(n, K)
    # The duals of the ratio rows weight the step priors the rule is held against: the
    # worst prior, F^{-1}(u) = sum over grid points of mu 1{u >= u_point}.
    duals = np.abs(res.ineqlin.marginals[first_ratio_row:])
    mu = np.zeros(K + 1)
    for (point, tangent), lam in zip(ratio_rows, duals):
        mu[point] += lam / tangent
    return float(res.x[ic]), y.sum(axis=1), u, mu


def hill_kertz(n: int, cells: int = 800) -> HillKertz:
    """a_n, the best ratio E[X_tau] / E[max_i X_i] guaranteed for every prior (Hill and Kertz).

    Solved as the linear program over randomized quantile rules (stop at draw i with
    quantile in a cell, with probability at most the cell's width times the chance of
    reaching i), against every step prior on the grid; by the minimax theorem its value
    is the worst case over priors of the optimal stopping ratio. Solved again on twice
    the cells; the difference is the stated discretization error. The LP's duals give the
    worst prior; its exact optimal stopping ratio (backward induction) bounds a_n from above,
    so a_n lies in [a_n, upper].
    """
    n = _check_n(n)
    if cells < 10:
        raise TfdError(f"cells must be at least 10, got {cells}")
    if n == 1:
        return HillKertz(1, 1.0, cells, 1.0, 0.0, np.ones(1), 1.0)
    value, stopping, u, mu = _hill_kertz_lp(n, cells)
    refined, *_ = _hill_kertz_lp(n, 2 * cells)
    keep = mu > 1e-12 * mu.max()
    upper = _discrete_ratio(u[keep], mu[keep], n)
    return HillKertz(n, value, cells, refined, abs(value - refined), stopping, upper)


def _discrete_ratio(steps: np.ndarray, heights: np.ndarray, n: int) -> float:
    """Optimal stopping ratio for the prior F^{-1}(u) = sum_k heights_k 1{u >= steps_k}."""
    order = np.argsort(steps)
    t, h = steps[order], heights[order]
    values = np.concatenate([[0.0], np.cumsum(h)])
    probs = np.diff(np.concatenate([[0.0], t, [1.0]]))
    V = float(values @ probs)
    for _ in range(n - 1):
        V = float(np.maximum(values, V) @ probs)
    cdf = np.cumsum(probs)
    below = np.concatenate([[0.0], cdf[:-1]])
    emax = float(values @ (cdf**n - below**n))
    return V / emax


def discrete_prior_search(n: int, atoms: int = 3, starts: int = 30, seed: int = 0) -> tuple[float, np.ndarray, np.ndarray]:
    """Cross-check of a_n from the other side: the worst optimal-stopping ratio found over
    priors with ``atoms`` steps (an upper bound on a_n, by a seeded multistart local search).
    Returns the ratio, the step positions and the heights."""
    n = _check_n(n)
    rng = np.random.default_rng(seed)

    def unpack(x):
        steps = 0.5 * (1.0 + np.tanh(0.5 * x[:atoms]))  # the logistic function, without overflow
        heights = np.exp(np.clip(x[atoms:], -50, 50))
        return steps, heights

    def f(x):
        return _discrete_ratio(*unpack(x), n) if n > 1 else 1.0

    best = (math.inf, None)
    for _ in range(starts):
        x0 = np.concatenate([rng.normal(0, 3, atoms), rng.normal(0, 3, atoms)])
        res = optimize.minimize(f, x0, method="Nelder-Mead", options={"maxiter": 6000, "xatol": 1e-10, "fatol": 1e-12})
        if res.fun < best[0]:
            best = (float(res.fun), res.x)
    steps, heights = unpack(best[1])
    return best[0], steps, heights


def kertz_beta() -> float:
    """Kertz's constant beta = lim a_n (section 3.2): 1/beta is the a > 1 with
    integral over [0, 1] of dy / (y (1 - ln y) + a - 1) = 1.

    With y = e^{-x} the integrand e^{-x} / (e^{-x} (1 + x) + a - 1) is smooth on [0, inf).
    """

    def excess(a):
        # Beyond x = 60 the integrand is below e^-60 / (a - 1): negligible at double precision.
        val, _ = quad(lambda x: math.exp(-x) / (math.exp(-x) * (1.0 + x) + a - 1.0), 0.0, 60.0,
                      points=[1.0, 5.0, 20.0], limit=400, epsabs=1e-15, epsrel=1e-13)
        return val - 1.0

    # The integral falls from about 2.3 at a = 1.001 to 0.1 at a = 10: one sign change.
    return 1.0 / optimize.brentq(excess, 1.001, 10.0, xtol=1e-15, rtol=1e-15)


def worst_case_alpha_constrained(s, constraint, n: int | None = None, grid_points: int = 4000) -> tuple[float, np.ndarray, np.ndarray]:
    """Worst ratio of QT-s over priors with one linear constraint on F^{-1}.

    ``constraint(w)`` is the constraint functional on the step of mass w (the integral of h
    over [1 - w, 1] for a constraint "integral of h F^{-1} <= 0"). The worst prior mixes at
    most two steps: a linear program over a grid of steps finds them, and a local search
    over the two positions makes the value exact. Returns the ratio, step masses, weights.
    """
    s = as_s(s, n)
    n = s.size
    c = reach(s)
    w = _grid(grid_points)
    G = _welfare(w, s, c)
    D = np.array([_prophet(x, n) for x in w])
    H = np.array([constraint(x) for x in w])
    # Weights z_k = c_k D_k (each step's share of the prophet's welfare) keep the columns
    # well scaled: a raw step weight can be 1e9 where D is 1e-9, which the solver mishandles.
    res = optimize.linprog(G / D, A_ub=(H / D)[None, :], b_ub=[0.0], A_eq=np.ones((1, w.size)), b_eq=[1.0],
                           bounds=(0, None), method="highs")
    if res.status != 0:
        raise TfdError(f"no prior satisfies the constraint: {res.message}")
    support = np.argsort(res.x)[-2:]

    def pair(x):
        wa, wb = np.clip(x, 1e-12, 1.0)
        ha, hb = constraint(wa), constraint(wb)
        cands = []
        for wv, hv in ((wa, ha), (wb, hb)):
            if hv <= 0:
                cands.append(float(_welfare(wv, s, c) / _prophet(wv, n)))
        if ha * hb < 0:
            ca, cb = abs(hb), abs(ha)  # ca ha + cb hb = 0
            cands.append(float((ca * _welfare(wa, s, c) + cb * _welfare(wb, s, c)) /
                               (ca * _prophet(wa, n) + cb * _prophet(wb, n))))
        return min(cands) if cands else 10.0  # infeasible pair: worse than any ratio <= 1

    x0 = w[support]
    polished = optimize.minimize(pair, x0, method="Nelder-Mead", options={"xatol": 1e-13, "fatol": 1e-15, "maxiter": 5000})
    value = min(float(res.fun), float(polished.fun))
    return value, np.clip(polished.x, 1e-12, 1.0), res.x[support] / D[support]


@dataclass(frozen=True)
class Theorem37Fallback:
    paper_bound: float  # min over steps of (G + H/4) / D: appendix E's argument, multiplier 1/4
    exact: float  # the worst case itself, over all priors failing the condition
    worst_masses: np.ndarray  # the two steps (masses w) of the worst prior
    best_multiplier: float  # the multiplier lambda that makes (G + lambda H) / D tight


def theorem_3_7_fallback_bound() -> Theorem37Fallback:
    """Theorem 3.7's second case: Pick-1/2 (two agents, m -> infinity) on the priors for which
    Pick-(2-sqrt2)/2 fails its envy-freeness condition.

    The failing condition reads integral of F^{-1} over [1 - r0, 1] <= integral over [0, 1 - r0]:
    on the step of mass w = 1 - t it is H = r0 - |t - (1 - r0)|, the integrand of appendix E's
    A. Appendix E bounds the ratio by the Lagrangian min_t (G + H/4) / D, which this computes
    (7/8); the exact worst case is the constrained minimum, also computed, with the
    multiplier that attains it.
    """
    r0 = (2 - math.sqrt(2)) / 2
    s = s_from_r([0.5, 0.5])
    c = reach(s)

    def H(w):
        return min(w, r0) - max(0.0, w - r0)

    def lagrangian(lam):
        return _min_ratio(lambda w: float(_welfare(w, s, c)) + lam * H(w), 2, [*s, r0],
                          (c.sum() + lam) / 2)[0]

    exact, masses, _ = worst_case_alpha_constrained(s, H)
    best = optimize.minimize_scalar(lambda lam: -lagrangian(lam), bounds=(0.0, 2.0), method="bounded",
                                    options={"xatol": 1e-12})
    return Theorem37Fallback(lagrangian(0.25), exact, masses, float(best.x))
