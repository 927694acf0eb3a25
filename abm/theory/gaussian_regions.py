"""Quantile-contiguous regions of a Gaussian copula, by quadrature (the open question after appendix B).

With Z ~ N(0, C) (C the copula's correlation matrix) and agent i's quantile q_i = Phi(Z_i), an
order sigma and shares r cut the cube into regions that are boxes in the standardized values of
the first n - 1 agents of the order: sigma(1) takes {Z_sigma(1) >= a_1}, a_1 = Phi^{-1}(1 - r_1);
sigma(j) takes {Z_sigma(k) < a_k for k < j, Z_sigma(j) >= a_j}, a_j set so the region has mass r_j;
the last agent takes the rest.

For uniform marginals v_i = loc_i + scale_i q_i, so V_i(R) = E[v_i 1{R}] / E[v_i] needs
E[Phi(Z_i) 1{Z_S in box}] over the box's coordinates S only: given Z_S = z, Z_i is normal with mean
m_i(z) and variance s_i^2, and E[Phi(Z_i) | z] = Phi(m_i(z) / sqrt(1 + s_i^2)) (a normal's
expectation of Phi). The integral over the box is a product Gauss-Legendre rule on the box cut at
+-L standard deviations: the integrand is analytic inside the box, so the rule converges
geometrically; the tail beyond L = 9 has mass below 1e-18.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

__all__ = ["region_values", "thresholds", "NODES", "CUT"]

#: Gauss-Legendre nodes per axis, and the cut of the infinite box sides (standard deviations)
NODES, CUT = 96, 9.0


def _rule(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(NODES)
    return (hi - lo) / 2 * x + (hi + lo) / 2, (hi - lo) / 2 * w


def _box(corr: np.ndarray, S: list[int], lows, highs) -> tuple[np.ndarray, np.ndarray]:
    """Points z (P, |S|) and weights (P,) integrating phi_S over the box (density included)."""
    axes = [_rule(max(lo, -CUT), min(hi, CUT)) for lo, hi in zip(lows, highs)]
    z = np.stack(np.meshgrid(*[a[0] for a in axes], indexing="ij"), axis=-1).reshape(-1, len(S))
    w = np.prod(np.stack(np.meshgrid(*[a[1] for a in axes], indexing="ij"), axis=-1).reshape(-1, len(S)), axis=1)
    C = corr[np.ix_(S, S)]
    inv = np.linalg.inv(C)
    density = np.exp(-0.5 * np.einsum("pi,ij,pj->p", z, inv, z)) / math.sqrt((2 * math.pi) ** len(S) * np.linalg.det(C))
    return z, w * density


def _expectations(corr: np.ndarray, S: list[int], lows, highs) -> np.ndarray:
    """[P(Z_S in box), E[Phi(Z_0) 1{box}], ..., E[Phi(Z_{n-1}) 1{box}]]."""
    n = corr.shape[0]
    z, w = _box(corr, S, lows, highs)
    inv = np.linalg.inv(corr[np.ix_(S, S)])
    out = [w.sum()]
    for i in range(n):
        if i in S:
            out.append(w @ ndtr(z[:, S.index(i)]))
            continue
        beta = inv @ corr[S, i]  # E[Z_i | z] = z . beta
        var = 1.0 - corr[i, S] @ beta
        out.append(w @ ndtr((z @ beta) / math.sqrt(1.0 + var)))
    return np.array(out)


def _survival(corr: np.ndarray, earlier: list[int], below: list[float], agent: int, t: float) -> float:
    """P(Z_k < a_k for k in ``earlier``, Z_agent >= t): a |earlier|-dimensional rule over the
    earlier coordinates of the conditional survival of Z_agent."""
    if not earlier:
        return float(ndtr(-t))
    z, w = _box(corr, earlier, [-np.inf] * len(earlier), below)
    beta = np.linalg.inv(corr[np.ix_(earlier, earlier)]) @ corr[earlier, agent]
    sd = math.sqrt(max(1.0 - corr[agent, earlier] @ beta, 0.0))
    return float(w @ ndtr((z @ beta - t) / sd))


def thresholds(corr: np.ndarray, order, shares) -> list[float]:
    """The standardized cuts a_1, ..., a_{n-1} of the regions (by position in ``order``)."""
    n = corr.shape[0]
    cuts: list[float] = []
    for pos in range(n - 1):
        agent, earlier = order[pos], list(order[:pos])
        target = float(shares[pos])
        if pos == 0:
            cuts.append(float(ndtri(1.0 - target)))
            continue
        room = _survival(corr, earlier, cuts, agent, -CUT * 2)  # the mass left to the later agents
        if target >= room:
            cuts.append(-CUT * 2)
            continue
        cuts.append(brentq(lambda t: _survival(corr, earlier, cuts, agent, t) - target, -CUT * 2, CUT * 2,
                           xtol=1e-14, rtol=1e-14))
    return cuts


def region_values(corr: np.ndarray, order, shares, linear) -> np.ndarray:
    """V[i, j] = V_i(R_j) for the Gaussian copula ``corr``, ``order`` and ``shares`` (by position),
    with uniform marginals ``linear[i] = (loc, scale)``."""
    corr = np.asarray(corr, dtype=float)
    n = corr.shape[0]
    cuts = thresholds(corr, order, shares)
    first = list(order[:n - 1])
    V = np.empty((n, n))
    for pos, agent_j in enumerate(order):
        if pos < n - 1:
            S, lows, highs = first[:pos + 1], [-np.inf] * pos + [cuts[pos]], cuts[:pos] + [np.inf]
        else:
            S, lows, highs = first, [-np.inf] * (n - 1), cuts
        e = _expectations(corr, S, lows, highs)
        for i in range(n):
            loc, scale = linear[i]
            V[i, agent_j] = (loc * e[0] + scale * e[1 + i]) / (loc + scale / 2)
    return V
