"""Quantile-contiguous allocations: Pick-r with an order of the agents, as m grows (the open question
after appendix B).

An item is a point q = (F_1(v_1), ..., F_n(v_n)) of the cube, distributed by the prior's copula. An
order sigma and shares r (summing to 1) define regions: sigma(1) takes {q_sigma(1) >= t_1} with
t_1 = 1 - r_1; sigma(j) takes, among what is left, {q_sigma(j) >= t_j}, the threshold t_j set so the
region has mass r_j; the last agent takes the rest. Agent i values a region R at
V_i(R) = E[v_i 1{q in R}] / E[v_i]. EF margins: V_i(R_i) - V_i(R_k); proportionality margins:
V_i(R_i) - 1/n. When every EF margin is strictly positive, Pick-r with that order and those shares
is envy-free with probability tending to 1 (the paper's concentration argument).

Checkerboard copulas (:class:`abm.priors.priors.CheckerboardCopulaPrior`) have regions that are
unions of boxes, so the margins are sums over cells; with uniform marginals they are computed
exactly in rational arithmetic (:func:`exact_margins`). The search over shares runs in floating
point (:func:`value_matrices`), vectorized over a grid of share vectors.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from abm.errors import TfdError
from abm.shares import simplest_fraction

__all__ = ["ContiguousResult", "value_matrices", "exact_margins", "best_contiguous", "share_grid", "gaussian_margins",
           "best_contiguous_gaussian", "contiguous", "verify", "search_counterexample",
           "search_gaussian_counterexample"]


# ----------------------------------------------------------------------------- marginals
class _Antiderivative:
    """G(u) = integral of F^{-1} over [0, u], and E[v] = G(1): closed form for uniform(loc, scale)
    (exact with rationals), else tabulated from exact piecewise integrals and interpolated (search
    only; :func:`exact_margins` integrates afresh)."""

    def __init__(self, marginal, table: int = 2048):
        self.marginal = marginal
        self.linear = _uniform_params(marginal)
        if self.linear is None:
            # 8-point Gauss-Legendre on each of ``table`` cells, one vectorized call of the quantile function
            u = np.linspace(0.0, 1.0, table + 1)
            x, w = np.polynomial.legendre.leggauss(8)
            a, b = u[:-1, None], u[1:, None]
            pieces = (marginal.ppf((a + b) / 2 + (b - a) / 2 * x) @ w) * (b[:, 0] - a[:, 0]) / 2
            self._u, self._G = u, np.concatenate([[0.0], np.cumsum(pieces)])

    def __call__(self, u):
        if self.linear is not None:
            loc, scale = self.linear
            return loc * u + scale * u * u / 2
        return np.interp(u, self._u, self._G)

    def exact(self, a: Fraction, b: Fraction):
        """The integral over [a, b]: a Fraction for uniform marginals, else a float by quadrature."""
        if self.linear is not None:
            loc, scale = (Fraction(x) for x in self.linear)
            return loc * (b - a) + scale * (b * b - a * a) / 2
        from abm.theory.quantile import integrate_ppf

        return integrate_ppf(self.marginal, float(a), float(b))


def _uniform_params(marginal):
    """(loc, scale) when the marginal is scipy's uniform, whose quantile function is loc + scale u."""
    if getattr(marginal, "name", None) != "uniform":
        return None
    d = marginal._dist
    loc, scale = d.kwds.get("loc", d.args[0] if d.args else 0.0), d.kwds.get("scale", d.args[1] if len(d.args) > 1 else 1.0)
    return float(loc), float(scale)


# ----------------------------------------------------------------------------- float search
def share_grid(n: int, steps: int) -> np.ndarray:
    """Every share vector with entries in multiples of 1/steps, positive, summing to 1: (B, n)."""
    rows = [c for c in itertools.combinations(range(1, steps), n - 1)]
    cuts = np.array(rows, dtype=float).reshape(-1, n - 1) / steps
    edges = np.concatenate([np.zeros((cuts.shape[0], 1)), cuts, np.ones((cuts.shape[0], 1))], axis=1)
    return np.diff(edges, axis=1)


def value_matrices(prior, order, shares: np.ndarray, antiderivatives=None) -> np.ndarray:
    """V[b, i, j] = V_i(R_j) for a checkerboard prior, the given order, and each share vector of
    ``shares (B, n)`` (shares indexed by position in ``order``). Floating point."""
    cells, k, n = prior.cells, prior.k, prior.n_agents
    G = antiderivatives or [_Antiderivative(prior.marginal(i)) for i in range(n)]
    B = shares.shape[0]
    corner = np.array(np.unravel_index(np.arange(cells.size), cells.shape)).T  # (C, n)
    lo, hi = corner / k, (corner + 1) / k
    M = cells.ravel()
    below = np.ones((B, cells.size))  # fraction of each cell under every earlier threshold
    # interval of each axis inside each cell, narrowed by earlier thresholds: [a, b]
    a = np.broadcast_to(lo, (B,) + lo.shape).copy()
    b = np.broadcast_to(hi, (B,) + hi.shape).copy()
    regions = []  # per position j: (fraction of cell in region j (B, C), a, b copies)
    for pos, agent in enumerate(order):
        axis_hi = hi[:, agent]
        if pos == n - 1:
            regions.append((below.copy(), a.copy(), b.copy()))
            break
        if pos == 0:
            t = 1.0 - shares[:, 0]
        else:
            t = _threshold(below, M, corner[:, agent], k, shares[:, pos])
        frac_above = np.clip((axis_hi[None, :] - t[:, None]) * k, 0.0, 1.0)
        ra, rb = a.copy(), b.copy()
        ra[:, :, agent] = np.maximum(a[:, :, agent], t[:, None])
        regions.append((below * frac_above, ra, rb))
        below = below * (1.0 - frac_above)
        b[:, :, agent] = np.minimum(b[:, :, agent], t[:, None])
    V = np.empty((B, n, n))
    for pos, agent_j in enumerate(order):
        frac, ra, rb = regions[pos]
        inside = frac > 0
        for i in range(n):
            # value of agent i over the region part in each cell: mass times the mean of F_i^{-1}
            # over agent i's interval; the other axes enter only through the fraction
            width = np.where(inside, rb[:, :, i] - ra[:, :, i], 1.0)
            mean_q = np.where(inside & (width > 0), (G[i](rb[:, :, i]) - G[i](ra[:, :, i])) / np.where(width > 0, width, 1.0), 0.0)
            V[:, i, agent_j] = (M[None, :] * frac * mean_q).sum(axis=1) / float(G[i](1.0))
    return V


def _threshold(below, M, axis_cell, k, r):
    """t with sum over cells of M * below * (fraction of the cell's axis interval above t) = r."""
    B = below.shape[0]
    w = np.zeros((B, k))
    for c in range(k):
        w[:, c] = below[:, axis_cell == c] @ M[axis_cell == c]
    through = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # mass in slice c and above
    c = np.clip((through >= r[:, None] - 1e-15).sum(axis=1) - 1, 0, k - 1)  # the slice where the cut falls
    rows = np.arange(B)
    need = r - (through[rows, c] - w[rows, c])
    inside = np.where(w[rows, c] > 0, need / np.where(w[rows, c] > 0, w[rows, c], 1.0), 0.0)
    return np.clip((c + 1 - np.clip(inside, 0.0, 1.0)) / k, 0.0, 1.0)


# ----------------------------------------------------------------------------- exact
def exact_margins(prior, order, shares) -> tuple[list, list]:
    """(V as an n x n list of Fractions, thresholds) for a checkerboard prior with uniform marginals,
    in exact rational arithmetic: shares as given (Fractions, or floats read as the simplest rational
    rounding to them), cell masses as the simplest rationals rounding to them."""
    cells, k, n = prior.cells, prior.k, prior.n_agents
    G = [_Antiderivative(prior.marginal(i)) for i in range(n)]
    r = [Fraction(x) for x in shares]
    # each mass as the simplest rational that rounds to it (the float 1/27 is 1/27), scaled to sum to 1
    M = {idx: simplest_fraction(float(m)) for idx, m in np.ndenumerate(cells) if m > 0}
    total = sum(M.values())
    M = {idx: m / total for idx, m in M.items()}
    K = Fraction(k)
    bounds = {idx: [[Fraction(c) / K, Fraction(c + 1) / K] for c in idx] for idx in M}
    below = {idx: Fraction(1) for idx in M}
    region = []
    thresholds = []
    for pos, agent in enumerate(order):
        if pos == n - 1:
            region.append({idx: (below[idx], [list(x) for x in bounds[idx]]) for idx in M})
            break
        if pos == 0:
            t = 1 - r[0]
        else:
            t = _exact_threshold(M, below, agent, k, r[pos])
        thresholds.append(t)
        part = {}
        for idx in M:
            hi_c = Fraction(idx[agent] + 1) / K
            above = min(max((hi_c - t) * K, Fraction(0)), Fraction(1))
            bb = [list(x) for x in bounds[idx]]
            bb[agent][0] = max(bb[agent][0], t)
            part[idx] = (below[idx] * above, bb)
            below[idx] = below[idx] * (1 - above)
            bounds[idx][agent][1] = min(bounds[idx][agent][1], t)
        region.append(part)
    V = [[Fraction(0)] * n for _ in range(n)]
    totals = [G[i].exact(Fraction(0), Fraction(1)) for i in range(n)]
    for pos, agent_j in enumerate(order):
        for idx, (frac, bb) in region[pos].items():
            if frac == 0:
                continue
            for i in range(n):
                lo_i, hi_i = bb[i]
                if hi_i <= lo_i:
                    continue
                V[i][agent_j] += M[idx] * frac * G[i].exact(lo_i, hi_i) / (hi_i - lo_i)
    V = [[V[i][j] / totals[i] for j in range(n)] for i in range(n)]
    return V, thresholds


def _exact_threshold(M, below, axis, k, r):
    w = [Fraction(0)] * k
    for idx, m in M.items():
        w[idx[axis]] += m * below[idx]
    above = Fraction(0)
    for c in range(k - 1, -1, -1):
        if above + w[c] >= r or c == 0:
            need = r - above
            inside = need / w[c] if w[c] > 0 else Fraction(0)
            return (Fraction(c + 1) - inside) / k
        above += w[c]
    return Fraction(0)


# ----------------------------------------------------------------------------- the best allocation
@dataclass
class ContiguousResult:
    """The best allocation found: ``order`` (first picker first), ``shares`` by position in the order
    (``shares_exact``: the rationals the exact margins used), ``values[i][j]`` = V_i(R_j)."""

    order: tuple
    shares: list
    thresholds: list
    values: list  # V[i][j]
    min_ef: float
    ef_margins: dict
    prop_margins: list
    method: str
    certified: bool
    certificate: str
    searched: dict = field(default_factory=dict)
    shares_exact: list = field(default_factory=list)

    @property
    def min_ef_estimate(self):
        """The smallest EF margin as an :class:`abm.metrics.Estimate`: a point (its interval the
        point) when computed exactly or by the search, the Monte Carlo interval on a Gaussian copula."""
        from abm.metrics import Estimate

        interval = self.searched.get("min_ef_interval")
        if interval:
            return Estimate(float(self.min_ef), float(interval[0]), float(interval[1]),
                            int(self.searched["points"]), float(self.searched["min_ef_confidence"]),
                            "t-interval over Monte Carlo batches")
        return Estimate(float(self.min_ef), float(self.min_ef), float(self.min_ef), 1, 1.0, self.method)

    def to_dict(self) -> dict:
        """JSON-ready data: the keys ``tfd theory contiguous --json`` prints."""
        import copy

        return copy.deepcopy({"order": list(self.order), "shares": self.shares, "thresholds": self.thresholds,
                              "values": self.values, "min_ef_margin": self.min_ef, "ef_margins": self.ef_margins,
                              "prop_margins": self.prop_margins, "method": self.method, "certified": self.certified,
                              "certificate": self.certificate, "searched": self.searched})


def _ef(V, n):
    return {f"{i}->{j}": V[i][i] - V[i][j] for i in range(n) for j in range(n) if i != j}


#: share vectors times cells (times agents) the search evaluates per second here (a 2-core VM);
#: the work guard's rate, from timing the search on a three-agent checkerboard with k = 16
SEARCH_RATE = 5.0e6
#: bytes per (share vector, cell) that :func:`value_matrices` holds at once, per float: the
#: region copies of every position (1 + 2n floats each) and the running bounds
_FLOATS_PER_POINT = lambda n: n * (2 * n + 1) + 2 * n + 4  # noqa: E731
#: memory one block of share vectors may take
_BLOCK_BYTES = 256 * 2**20


def _search_points(n: int, cells: int, grid: int, refine: int) -> float:
    local = math.comb(20 + n - 1, n - 1)
    return float(math.factorial(n)) * cells * (grid + refine * local / math.factorial(n))


def check_contiguous_work(n: int, cells: int, grid: int, refine: int, limit_seconds: float = 3600.0) -> None:
    """Refuse, in one line and before any work, a search estimated past ``limit_seconds`` (its
    memory is bounded by evaluating the share grid in blocks)."""
    from abm.sizes import check_work

    check_work(_search_points(n, cells, grid, refine) * n, SEARCH_RATE,
               f"the contiguous search on {cells:,} cells for {n} agents ({math.factorial(n)} orders, "
               f"{grid:,} share vectors each)", "use a checkerboard with fewer cells (a smaller k)",
               limit_seconds=limit_seconds)


def _min_margins(prior, order, shares, G) -> np.ndarray:
    """The smallest EF margin of each share vector, evaluated in blocks so memory stays bounded."""
    n = prior.n_agents
    rows = max(1, int(_BLOCK_BYTES // (8 * prior.cells.size * _FLOATS_PER_POINT(n))))
    out = []
    for start in range(0, shares.shape[0], rows):
        V = value_matrices(prior, order, shares[start:start + rows], G)
        out.append(np.min(V[:, np.arange(n), np.arange(n)][:, :, None] - V + np.eye(n)[None] * 9, axis=(1, 2)))
    return np.concatenate(out)


#: the smallest share the local optimization gives an agent (a zero share is no allocation)
_SHARE_FLOOR = 1e-9
#: the optimizer's stopping tolerance on the minimum margin, and the step of its central differences
POLISH_FTOL, _STEP = 1e-13, 1e-7


def _pair_margins(prior, order, X, G) -> np.ndarray:
    """Every EF margin V_i(R_i) - V_i(R_j), i != j, at each free share vector of ``X (B, n-1)``
    (the last share is 1 - the others): (B, n(n-1))."""
    n = prior.n_agents
    shares = np.concatenate([X, 1.0 - X.sum(axis=1, keepdims=True)], axis=1)
    V = value_matrices(prior, order, shares, G)
    return (V[:, np.arange(n), np.arange(n)][:, :, None] - V)[:, ~np.eye(n, dtype=bool)]


def _polish(margins, n: int, start: np.ndarray) -> tuple[float, np.ndarray]:
    """The shares maximizing the minimum EF margin for one order, from ``start``: the epigraph
    program max t s.t. margin_ij(r) >= t, r on the simplex, by SLSQP (scipy) with central-difference
    gradients. ``margins(X)`` gives every pair's margin at each free share vector of ``X (B, n-1)``
    (the last share is 1 - the others). Returns (the minimum margin re-evaluated at the optimum,
    its shares); never worse than the start."""
    from scipy.optimize import minimize

    eye = np.eye(n - 1)

    def jac(x):
        h = max(min(_STEP, float(x.min()) / 2, (1.0 - float(x.sum())) / 2), 1e-12)
        M = margins(np.vstack([x + h * eye, x - h * eye]))
        return ((M[:n - 1] - M[n - 1:]) / (2 * h)).T

    def feasible(x):
        x = np.clip(x, _SHARE_FLOOR, 1.0)
        over = x.sum() - (1.0 - _SHARE_FLOOR)
        return x - max(over, 0.0) / (n - 1)

    x0 = start[:-1].astype(float)
    t0 = float(margins(x0[None]).min())
    pairs = n * (n - 1)
    last = np.r_[np.zeros(n - 1), 1.0]
    constraints = [
        {"type": "ineq", "fun": lambda z: margins(feasible(z[:-1])[None])[0] - z[-1],
         "jac": lambda z: np.hstack([jac(feasible(z[:-1])), -np.ones((pairs, 1))])},
        {"type": "ineq", "fun": lambda z: np.r_[z[:-1] - _SHARE_FLOOR, 1.0 - _SHARE_FLOOR - z[:-1].sum()],
         "jac": lambda z: np.hstack([np.vstack([eye, -np.ones((1, n - 1))]), np.zeros((n, 1))])}]
    res = minimize(lambda z: -z[-1], np.r_[x0, t0], jac=lambda z: -last, constraints=constraints, method="SLSQP",
                   options={"ftol": POLISH_FTOL, "maxiter": 300})
    x = feasible(res.x[:-1])
    score = float(margins(x[None]).min())
    if score < t0:
        return t0, start
    return score, np.r_[x, 1.0 - x.sum()]


def _starts(mins: np.ndarray, grid: np.ndarray, count: int, apart: float) -> list[int]:
    """The ``count`` best grid points at least ``apart`` from one another (max norm): one start
    per peak of the max-min surface rather than ``count`` neighbours of the highest."""
    chosen = []
    for b in np.argsort(-mins, kind="stable"):
        if all(np.abs(grid[b] - grid[c]).max() >= apart for c in chosen):
            chosen.append(int(b))
            if len(chosen) == count:
                break
    return chosen


def best_contiguous(prior, steps: int = 60, refine: int = 3, certify: bool = True, progress=None,
                    starts: int = 4) -> ContiguousResult:
    """The order and shares maximizing the minimum EF margin: a grid over the share simplex (1/steps)
    for each of the n! orders; from the ``starts`` best separated grid points of every order, the
    epigraph program solved locally (:func:`_polish`, ``starts=0``: none), and ``refine`` rounds of a
    finer grid around the best point. The reported optimum's margins are then computed exactly
    (uniform marginals) and certified positive or not. The optimum is the best of these local optima
    (to the optimizer's tolerance), not a global certificate. ``progress(k)`` is called as the n!
    orders and the refinements are done."""
    from abm.priors import parse_prior
    from abm.priors.priors import CheckerboardCopulaPrior

    prior = parse_prior(prior)
    if not isinstance(prior, CheckerboardCopulaPrior):
        raise TfdError(f"quantile-contiguous margins are computed for checkerboard copulas, got {prior.spec!r}; "
                       "e.g. checkerboard(uniform, uniform, uniform, k=6, corr=[[1, .5, .2], [.5, 1, .3], [.2, .3, 1]])")
    n = prior.n_agents
    G = [_Antiderivative(prior.marginal(i)) for i in range(n)]
    grid = share_grid(n, steps)
    best = (-np.inf, None, None)
    evaluated = 0
    check_contiguous_work(n, prior.cells.size, grid.shape[0], refine)
    polished, per_order = 0, []
    for order in itertools.permutations(range(n)):
        mins = _min_margins(prior, order, grid, G)
        evaluated += grid.shape[0]
        b = int(np.argmax(mins))
        if mins[b] > best[0]:
            best = (float(mins[b]), order, grid[b])
        here = (float(mins[b]), grid[b])
        for b in _starts(mins, grid, starts, 3.0 / steps) if starts else []:
            here = max(here, _polish(lambda X: _pair_margins(prior, order, X, G), n, grid[b]), key=lambda v: v[0])
            polished += 1
        per_order.append([list(order), here[0], here[1].tolist()])
        if here[0] > best[0]:
            best = (here[0], order, here[1])
        if progress is not None:
            progress(1)
    score, order, shares = best
    h = 1.0 / steps
    for _ in range(refine):
        local = shares[None, :] + (share_grid(n, 20) - 1.0 / n) * h * n / 2
        local = local[(local > 0).all(axis=1)]
        local = local / local.sum(axis=1, keepdims=True)
        mins = _min_margins(prior, order, local, G)
        evaluated += local.shape[0]
        b = int(np.argmax(mins))
        if mins[b] >= score:
            score, shares = float(mins[b]), local[b]
        h /= 10
        if progress is not None:
            progress(1)
    exact_ok = certify and all(g.linear is not None for g in G)
    r = [Fraction(x).limit_denominator(10**9) for x in shares[:-1]]
    r.append(1 - sum(r))
    if exact_ok:
        Vx, t = exact_margins(prior, order, r)
        ef = _ef(Vx, n)
        lowest = min(ef.values())
        certified = lowest > 0
        method = "exact rational arithmetic (checkerboard copula, uniform marginals)"
        cert = (f"every EF margin is a rational number computed exactly; the smallest is "
                f"{float(lowest):.6g} ({'> 0: certified' if certified else '<= 0: not envy-free'})")
        values = [[float(x) for x in row] for row in Vx]
    else:
        Vf = value_matrices(prior, order, np.array([[float(x) for x in r]]), G)[0]
        values = Vf.tolist()
        ef = _ef(values, n)
        lowest = min(ef.values())
        certified = False
        t = []
        method = ("floating point (search only): not certified" if not certify else
                  "floating point with tabulated quantile integrals (marginals not uniform): not certified")
        cert = "no certificate: exact margins need uniform marginals" if certify else "not certified (search)"
    return ContiguousResult(order=tuple(int(a) for a in order), shares=[float(x) for x in r],
                            thresholds=[float(x) for x in t], values=values, min_ef=float(lowest),
                            ef_margins={k_: float(v) for k_, v in ef.items()},
                            prop_margins=[float(values[i][i]) - 1.0 / n for i in range(n)], method=method,
                            certified=bool(certified), certificate=cert,
                            searched={"orders": int(np.prod(range(1, n + 1))), "share_vectors": evaluated,
                                      "grid_step": 1.0 / steps, "refinements": refine, "local_optima": polished,
                                      "tolerance": (f"the best of {polished} local optima of the epigraph program "
                                                    f"(SLSQP, ftol {POLISH_FTOL:g}), {starts} separated starts per "
                                                    "order: best to that tolerance among the peaks started from, "
                                                    "not a global certificate") if polished else
                                                   "grid and refinement only",
                                      "per_order": per_order},
                            shares_exact=[f"{x.numerator}/{x.denominator}" for x in r] if exact_ok else [])


def verify(prior, result: ContiguousResult) -> bool:
    """Re-derive an exact certificate: recompute every margin at the result's order and rational shares
    in exact arithmetic; the claimed margins must be those (to the float) and all positive."""
    from abm.priors import parse_prior

    if not result.shares_exact:
        return False
    p = parse_prior(prior)
    V, _ = exact_margins(p, result.order, [Fraction(x) for x in result.shares_exact])
    ef = _ef(V, p.n_agents)
    same = all(float(ef[k]) == result.ef_margins.get(k) for k in ef) and len(ef) == len(result.ef_margins)
    return bool(same and min(ef.values()) > 0 and result.certified)


# ----------------------------------------------------------------------------- smooth copulas
def _fast_ppf(marginal, table: int = 1 << 16):
    """F^{-1}: exact for uniform marginals, else interpolated from 2^16 + 1 exact values (error below
    1e-8 of the value range for smooth marginals, far under the Monte Carlo noise)."""
    lin = _uniform_params(marginal)
    if lin is not None:
        return lambda u: lin[0] + lin[1] * u
    grid = np.linspace(0.0, 1.0, table + 1)
    values = marginal.ppf(grid)
    return lambda u: np.interp(u, grid, values)



def gaussian_margins(prior, order, shares, n_agents: int | None = None, points: int = 5_000_000,
                     batches: int = 10, seed: int = 0, confidence: float = 0.99) -> dict:
    """V_i(R_j) for a Gaussian copula by Monte Carlo: ``batches`` independent batches of quantile
    points (the same points for every order and share vector asked with the same seed: common random
    numbers). Each batch sets its thresholds from its own points (t_1 = 1 - r_1 exactly; later ones as
    the empirical quantile giving the region mass r_j), so the t-interval over batches covers the
    threshold noise too. Returns the mean V, each EF margin and the minimum with their intervals."""
    import scipy.stats as st

    n = n_agents or prior.n_agents
    corr = prior.correlation(n)
    L = np.linalg.cholesky(corr) if np.linalg.eigvalsh(corr).min() > 1e-12 else prior._factor(n)
    per = points // batches
    Vs = []
    ss = np.random.SeedSequence(seed)
    totals = [float(prior.marginal(i).mean()) for i in range(n)]
    ppf = [_fast_ppf(prior.marginal(i)) for i in range(n)]
    for child in ss.spawn(batches):
        rng = np.random.default_rng(child)
        q = st.norm.cdf(rng.standard_normal((per, n)) @ L.T)
        v = np.column_stack([ppf[i](q[:, i]) for i in range(n)])
        left = np.ones(per, dtype=bool)
        V = np.zeros((n, n))
        for pos, agent in enumerate(order):
            if pos == n - 1:
                mine = left
            else:
                if pos == 0:
                    t = 1.0 - shares[0]
                else:
                    frac_left = left.mean()
                    t = np.quantile(q[left, agent], 1.0 - min(1.0, shares[pos] / frac_left)) if frac_left > 0 else 1.0
                mine = left & (q[:, agent] >= t)
            V[:, agent] = (v * mine[:, None]).mean(axis=0)
            left = left & ~mine
        V = V / np.array(totals)[:, None]
        Vs.append(V)
    Vs = np.array(Vs)
    ef, simultaneous = {}, {}
    pairs = n * (n - 1)
    for i in range(n):
        for j in range(n):
            if i != j:
                d = Vs[:, i, i] - Vs[:, i, j]
                ci = st.ttest_1samp(d, 0.0).confidence_interval(confidence)
                ef[f"{i}->{j}"] = (float(d.mean()), float(ci.low), float(ci.high))
                # Bonferroni over the pairs: every pair's interval covers at once, with probability
                # at least ``confidence``, so the minimum of the means lies between the minima
                both = st.ttest_1samp(d, 0.0).confidence_interval(1 - (1 - confidence) / pairs)
                simultaneous[f"{i}->{j}"] = (float(both.low), float(both.high))
    # the quantity is the minimum of the expected margins; the mean of each batch's minimum would
    # sit below it by the noise of the margins that tie at an optimum
    low = min(v[0] for v in simultaneous.values())
    high = min(v[1] for v in simultaneous.values())
    return {"V": Vs.mean(axis=0), "ef": ef, "min_ef": (float(min(v[0] for v in ef.values())), low, high),
            "points": per * batches, "batches": batches, "confidence": confidence,
            "method": f"Monte Carlo, {per * batches:,} points in {batches} batches (common random numbers), "
                      f"{confidence:.0%} t-intervals over batches, Bonferroni over the {pairs} pairs for the minimum"}


def best_contiguous_gaussian(prior, n_agents: int | None = None, k: int = 8, steps: int = 40, points: int = 10_000_000,
                             seed: int = 0, progress=None) -> ContiguousResult:
    """The best order and shares for a Gaussian copula. Searched on its k^n checkerboard (exact cell
    masses of the Gaussian copula, :func:`abm.priors.priors.gaussian_checkerboard`); then, with
    uniform marginals and up to three agents, each order's best point there is the start of the
    epigraph program solved on the Gaussian copula itself, its margins by quadrature
    (:mod:`abm.theory.gaussian_regions`). The margins at the optimum are also estimated by Monte Carlo
    with an interval, an independent check; certified positive when that interval lies above 0 (a
    statistical certificate at the stated confidence, not a proof)."""
    from abm.priors.priors import CheckerboardCopulaPrior, gaussian_checkerboard
    from abm.theory import gaussian_regions as GR

    n = n_agents or prior.n_agents
    if n is None:
        raise TfdError("give the number of agents for an equicorrelated copula (--agents)")
    corr = prior.correlation(n)
    surrogate = CheckerboardCopulaPrior([prior.marginal(i) for i in range(n)], gaussian_checkerboard(k, corr),
                                        f"checkerboard of {prior.spec} (k={k})")
    found = best_contiguous(surrogate, steps=steps, progress=progress)
    linear = [_uniform_params(prior.marginal(i)) for i in range(n)]
    order, shares, quadrature = found.order, np.asarray(found.shares), None
    if n <= 3 and all(x is not None for x in linear):
        off = ~np.eye(n, dtype=bool)
        best = -np.inf
        for start_order, _, start in found.searched["per_order"]:
            def margins(X, o=tuple(start_order)):
                out = []
                for x in X:
                    V = GR.region_values(corr, o, np.r_[x, 1.0 - x.sum()], linear)
                    out.append((np.diag(V)[:, None] - V)[off])
                return np.array(out)

            value, at = _polish(margins, n, np.asarray(start))
            if value > best:
                best, order, shares = value, tuple(start_order), at
        V = GR.region_values(corr, order, shares, linear)
        quadrature = {"V": V, "min_ef": best}
    mc = gaussian_margins(prior, order, shares, n, points=points, batches=20, seed=seed)
    lo = mc["min_ef"][1]
    if quadrature is not None:
        V = quadrature["V"]
        ef = _ef(V.tolist(), n)
        value = float(min(ef.values()))
        method = (f"searched on the {k}^{n} checkerboard of the copula, then the epigraph program solved on the "
                  f"Gaussian copula from each order's best point (SLSQP, ftol {POLISH_FTOL:g}), margins by "
                  f"Gauss-Legendre quadrature ({GR.NODES} nodes per axis); checked by {mc['method']}")
        tolerance = (f"the best of {math.factorial(n)} local optima (one per order), each to the optimizer's "
                     f"tolerance {POLISH_FTOL:g} on the margin; quadrature error far below it")
    else:
        V = mc["V"]
        ef = {k_: v[0] for k_, v in mc["ef"].items()}
        value = float(mc["min_ef"][0])
        method = f"searched on the {k}^{n} checkerboard of the copula; margins by {mc['method']}"
        tolerance = ("the surrogate checkerboard's optimum, evaluated on the copula: not optimized on the copula "
                     "itself (that needs uniform marginals and at most three agents)")
    return ContiguousResult(order=tuple(int(a) for a in order), shares=[float(x) for x in shares], thresholds=[],
                            values=np.asarray(V).tolist(), min_ef=value, ef_margins={k_: float(v) for k_, v in ef.items()},
                            prop_margins=[float(V[i][i]) - 1.0 / n for i in range(n)], method=method,
                            certified=bool(lo > 0),
                            certificate=(f"Monte Carlo check {mc['min_ef'][0]:.5f}, interval "
                                         f"[{mc['min_ef'][1]:.5f}, {mc['min_ef'][2]:.5f}]: "
                                         + ("above 0 (statistical, not a proof)" if lo > 0 else "not above 0")),
                            searched={**found.searched, "surrogate_min_ef": found.min_ef, "tolerance": tolerance,
                                      "min_ef_monte_carlo": float(mc["min_ef"][0]),
                                      "min_ef_interval": list(mc["min_ef"][1:]), "min_ef_confidence": mc["confidence"],
                                      "points": mc["points"]})


_SOLVED: dict = {}


def contiguous(prior, n_agents: int | None = None, progress=None, **options) -> ContiguousResult:
    """The best quantile-contiguous allocation for ``prior``: exact on checkerboard copulas, searched
    on a checkerboard and estimated by Monte Carlo on Gaussian copulas (see the two functions).
    Results are kept per (spec, n, options) for the process: every pick-contiguous built on the same
    prior shares one search. ``progress(k)`` is called as the search's n! orders and its
    refinements are done."""
    from abm.priors import parse_prior

    key = (parse_prior(prior).spec, n_agents, tuple(sorted(options.items())))
    if key not in _SOLVED:
        _SOLVED[key] = _contiguous(prior, n_agents, progress=progress, **options)
    return _SOLVED[key]


def _contiguous(prior, n_agents: int | None = None, progress=None, **options) -> ContiguousResult:
    from abm.priors import parse_prior
    from abm.priors.priors import CheckerboardCopulaPrior, GaussianCopulaPrior

    p = parse_prior(prior)
    if isinstance(p, CheckerboardCopulaPrior):
        if n_agents is not None and n_agents != p.n_agents:
            raise TfdError(f"{p.spec} describes {p.n_agents} agents, not {n_agents}")
        return best_contiguous(p, progress=progress, **{k: v for k, v in options.items() if k in ("steps", "refine")})
    if isinstance(p, GaussianCopulaPrior):
        n = p.n_agents or n_agents
        if n is None:
            raise TfdError(f"{p.spec} fixes no number of agents; give --agents")
        if n_agents is not None and p.n_agents is not None and n_agents != p.n_agents:
            raise TfdError(f"{p.spec} describes {p.n_agents} agents, not {n_agents}")
        if n < 2 or n > 4:
            raise TfdError(f"quantile-contiguous margins are computed for 2 to 4 agents, got {n}")
        return best_contiguous_gaussian(p, n, progress=progress,
                                        **{k: v for k, v in options.items() if k in ("k", "steps", "points", "seed")})
    raise TfdError(f"quantile-contiguous margins need a copula prior (checkerboard(...) or copula(...)), got "
                   f"{p.spec!r}")


# ----------------------------------------------------------------------------- looking for a counterexample
def _copula_from(theta: np.ndarray, k: int, n: int, floor: float) -> np.ndarray:
    """A checkerboard with uniform margins from free parameters: exp(theta) scaled to uniform margins
    (iterative proportional fitting), mixed with independence at weight ``floor``. The mixture keeps
    every cell's density at least ``floor`` (times the independent one): no agent's quantile is a
    function of the others', as the paper's correlation assumption asks."""
    from abm.priors.priors import _sinkhorn

    t = np.exp(np.clip(theta, -30, 30)).reshape((k,) * n)
    for _ in range(100):  # very unequal cells need many sweeps; stop once the margins are uniform
        t = _sinkhorn(t)
        if max(np.abs(t.sum(axis=tuple(a for a in range(n) if a != axis)) * k - 1).max() for axis in range(n)) < 1e-12:
            break
    return (1 - floor) * t + floor / k ** n


#: where the counterexample search starts: alike agents (a Gaussian copula's cells, every correlation
#: 0.95), a cycle (A's top region where B is high, B's where C is high, C's where A is high), random
COUNTEREXAMPLE_STARTS = ("comonotone", "cyclic", "random")
#: the log cell masses the search moves in: beyond +-5 a cell is far below the floor's share anyway
_LOG_MASS_BOUND = 5.0


def _start_point(name: str, k: int, n: int, rng) -> np.ndarray:
    from abm.priors.priors import gaussian_checkerboard

    if name == "comonotone":
        corr = np.full((n, n), 0.95)
        np.fill_diagonal(corr, 1.0)
        x = np.log(np.clip(gaussian_checkerboard(k, corr), 1e-12, None)).ravel()
    elif name == "cyclic":
        q = np.meshgrid(*[(np.arange(k) + 0.5) / k - 0.5] * n, indexing="ij")
        x = (6.0 * sum(q[a] * q[(a + 1) % n] for a in range(n))).ravel()
    elif name == "random":
        x = rng.normal(0.0, 1.5, k ** n)
    else:
        raise TfdError(f"unknown start {name!r}; accepted: {', '.join(COUNTEREXAMPLE_STARTS)}")
    x = x - x.mean()
    return np.clip(x, -_LOG_MASS_BOUND * 0.98, _LOG_MASS_BOUND * 0.98)


def search_counterexample(n: int = 3, k: int = 4, evaluations: int = 2000, floor: float = 0.05,
                          starts=COUNTEREXAMPLE_STARTS, steps: int = 16, seed: int = 0, progress=None) -> dict:
    """Minimize the best minimum EF margin (max over orders and shares) over checkerboard copulas
    with uniform marginals whose every cell's density is at least ``floor`` times the independent
    one: CMA-ES (the ``cma`` package) on the log cell masses, ``evaluations`` copulas from each of
    ``starts`` (:data:`COUNTEREXAMPLE_STARTS`). Each copula's best margin is :func:`best_contiguous`
    on a share grid of step 1/``steps`` with one local optimization per order; each start's final
    copula is checked by the full search and certified in exact arithmetic. Returns the smallest
    checked margin, its copula, and one row per start."""
    import time

    import cma

    from abm.priors import parse_prior
    from abm.priors.priors import CheckerboardCopulaPrior

    marg = parse_prior("uniform").marginal(0)
    t0 = time.perf_counter()
    count = 0

    def best_margin(theta):
        nonlocal count
        count += 1
        prior = CheckerboardCopulaPrior([marg], _copula_from(np.asarray(theta), k, n, floor), "search")
        return best_contiguous(prior, steps=steps, refine=0, certify=False, starts=1).min_ef

    rows, best = [], None
    for index, name in enumerate(starts):
        began, before = time.perf_counter(), count
        x0 = _start_point(name, k, n, np.random.default_rng([seed, index]))
        cma_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0]) or 1  # cma reads 0 as "any"
        es = cma.CMAEvolutionStrategy(x0, 1.0, {"seed": cma_seed, "maxfevals": evaluations,
                                                "bounds": [-_LOG_MASS_BOUND, _LOG_MASS_BOUND], "verbose": -9})
        while not es.stop():
            X = es.ask()
            es.tell(X, [best_margin(x) for x in X])
        cells = _copula_from(np.asarray(es.result.xbest), k, n, floor)
        final = best_contiguous(CheckerboardCopulaPrior([marg], cells, f"found from the {name} start"))
        row = {"start": name, "reached": float(es.result.fbest), "checked": final.min_ef,
               "certified_positive": final.certified, "order": final.order, "shares": final.shares,
               "evaluations": count - before, "seconds": time.perf_counter() - began, "cells": cells}
        rows.append(row)
        if best is None or row["checked"] < best["checked"]:
            best = row
        if progress:
            progress(f"{name} start: smallest best margin {row['checked']:.5f} ({row['evaluations']} copulas)")
    return {"smallest_best_margin_search": best["reached"], "best_margin_checked": best["checked"],
            "certified_positive": best["certified_positive"], "order": best["order"], "shares": best["shares"],
            "cells": best["cells"], "start": best["start"], "k": k, "n": n, "floor": floor, "starts": list(starts),
            "evaluations": count, "seconds": time.perf_counter() - t0, "per_start": rows,
            "optimizer": "CMA-ES (cma) on log cell masses, inner search with one local optimization per order"}


def search_gaussian_counterexample(n: int = 3, k: int = 5, evaluations: int = 120, min_eigenvalue: float = 0.05,
                                   steps: int = 24, seed: int = 0) -> dict:
    """Minimize the best smallest EF margin over Gaussian correlation matrices (uniform marginals),
    each evaluated on its k^n checkerboard: scipy's differential evolution over the n(n-1)/2
    correlations. A matrix whose smallest eigenvalue is below ``min_eigenvalue`` is out of bounds
    (scored +1): that keeps every agent's quantile away from a function of the others'."""
    import time

    from scipy.optimize import differential_evolution

    from abm.priors import parse_prior
    from abm.priors.priors import CheckerboardCopulaPrior, gaussian_checkerboard

    marg = parse_prior("uniform").marginal(0)
    iu = np.triu_indices(n, 1)
    count = 0
    t0 = time.perf_counter()

    def corr_of(x):
        c = np.eye(n)
        c[iu] = x
        c[(iu[1], iu[0])] = x
        return c

    def score(x):
        nonlocal count
        c = corr_of(np.round(x, 6))
        if np.linalg.eigvalsh(c).min() < min_eigenvalue:
            return 1.0
        count += 1
        prior = CheckerboardCopulaPrior([marg], gaussian_checkerboard(k, c), "search")
        return best_contiguous(prior, steps=steps, refine=1, certify=False, starts=0).min_ef

    pop = max(5, evaluations // 20)
    res = differential_evolution(score, [(-0.99, 0.99)] * len(iu[0]), maxiter=max(1, evaluations // pop - 1),
                                 popsize=max(1, pop // len(iu[0])), seed=seed, polish=False, tol=0)
    c = corr_of(np.round(res.x, 6))
    final = best_contiguous(CheckerboardCopulaPrior([marg], gaussian_checkerboard(k, c), "found"), steps=3 * steps)
    return {"smallest_best_margin_search": float(res.fun), "best_margin_checked": final.min_ef,
            "certified_positive": final.certified, "corr": c.round(6).tolist(), "k": k,
            "min_eigenvalue": min_eigenvalue, "evaluations": count, "seconds": time.perf_counter() - t0,
            "optimizer": "scipy.optimize.differential_evolution over the correlations"}
