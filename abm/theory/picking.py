"""Predictions for Pick-r and QT-s under i.i.d. priors (Lemma 3.6, Theorems 3.7 and 3.10).

In quantile space QT-s reaches agent i with probability reach_i = prod_{k<i} (1 - s_k)
and agent i keeps the item when its quantile is at least tau_i = 1 - s_i, so the
welfare per item is the integral of g_s(u) F^{-1}(u) with
g_s(u) = sum_i reach_i 1{u >= tau_i}. Everything here is built from that weight and
the integrals of :mod:`abm.theory.quantile`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from abm.errors import TfdError
from abm.shares import as_r, as_s, check_n as _check_n, resolve_r, s_from_r  # noqa: F401 (re-exported)
from abm.priors import Prior, parse_prior
from abm.theory.quantile import MARGIN_RTOL, expected_max, integrate_ppf, strictly_positive

__all__ = [
    "iid_marginal", "as_r", "as_s", "welfare_per_item", "alpha_pick_r", "alpha_qt_s", "ef_margins",
    "Theorem37Choice", "theorem_3_7_r", "Theorem310Choice", "theorem_3_10_r", "coupling_bound",
    "PROPOSITION_3_3_R", "envy_free_margins", "min_items_for_margin",
]

#: Proposition 3.3's share for agent 1: r = (2 - sqrt 2) / 2 (a parameter of the mechanism).
PROPOSITION_3_3_R = (2 - math.sqrt(2)) / 2


def iid_marginal(prior, n: int | None = None):
    """The common marginal of an i.i.d. prior; other priors are refused (sections 3 and 4 assume i.i.d.)."""
    prior = parse_prior(prior) if not isinstance(prior, Prior) else prior
    if n is not None:
        prior.check_agents(n)
    if not prior.is_iid:
        raise TfdError(f"this prediction assumes i.i.d. values (sections 3-4); {prior.spec!r} is not i.i.d.")
    return prior.marginal(0)


def welfare_per_item(marginal, s) -> float:
    """E[welfare of one item under QT-s] = sum_i reach_i times the integral of F^{-1} over [tau_i, 1]."""
    s = np.asarray(s, dtype=float)
    reach = np.concatenate([[1.0], np.cumprod(1.0 - s)[:-1]])
    return float(sum(c * integrate_ppf(marginal, 1.0 - si, 1.0) for c, si in zip(reach, s) if c > 0 and si > 0))


def alpha_qt_s(prior, s, n: int | None = None) -> float:
    """Lemma 3.6 part 2 / Proposition 3.8: QT-s welfare over E[max_i X_i] (exact for every m)."""
    s = as_s(s, n)
    marginal = iid_marginal(prior, s.size)
    return welfare_per_item(marginal, s) / expected_max(marginal, s.size)


def alpha_pick_r(prior, r, n: int | None = None) -> float:
    """Lemma 3.6 part 2: the ratio Pick-r reaches as m grows, that of QT-s with s from the lemma's map.

    alpha = sum_i r_i E[X | X >= F^{-1}(tau_i)] / E[max_i X_i].
    """
    return alpha_qt_s(prior, s_from_r(as_r(r, n)))


def ef_margins(prior, r, n: int | None = None) -> np.ndarray:
    """Lemma 3.6 part 3 as margins: M[i, j] = left side minus right side for the ordered pair (i, j).

    For i < j: r_i E[X | X >= F^{-1}(tau_i)] - r_j E[X | X <= F^{-1}(tau_i)];
    for i > j: r_i E[X | X >= F^{-1}(tau_i)] - r_j E[X]. Pick-r is envy-free with high
    probability iff every off-diagonal margin is positive. Each margin is also, exactly,
    agent i's expected per-item value for its own QT-s bundle minus for j's (appendix D).
    The diagonal is NaN.
    """
    r = as_r(r, n)
    marginal = iid_marginal(prior, r.size)
    s = s_from_r(r)
    n = r.size
    mean = integrate_ppf(marginal, 0.0, 1.0)
    own = np.array([integrate_ppf(marginal, 1 - si, 1.0) * ri / si if si > 0 else 0.0 for ri, si in zip(r, s)])
    below = [integrate_ppf(marginal, 0.0, 1 - si) / (1 - si) if si < 1 else 0.0 for si in s]
    out = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            if i < j:
                out[i, j] = own[i] - (r[j] * below[i] if r[j] > 0 else 0.0)
            elif i > j:
                out[i, j] = own[i] - r[j] * mean
    return out


def envy_free_margins(prior, r, n: int | None = None) -> bool:
    """Whether every off-diagonal margin of :func:`ef_margins` is strictly positive, within
    :data:`abm.theory.quantile.MARGIN_RTOL` of the prior's mean (so a rescaled prior gives the
    same answer, and an exact zero is not "positive" by rounding)."""
    r = as_r(r, n)
    marginal = iid_marginal(prior, r.size)
    margins = ef_margins(prior, r)
    off = margins[~np.eye(r.size, dtype=bool)]
    return bool(np.all(strictly_positive(off, integrate_ppf(marginal, 0.0, 1.0))))


def min_items_for_margin(margin: float, sd: float) -> int | None:
    """The smallest m at which an EF margin per item shows through the noise: the expected envy
    gap m * margin exceeds three standard deviations of the realized gap (at most 2 sd sqrt(m)),
    i.e. margin * sqrt(m) >= 6 sd. None when the margin is not positive."""
    if not margin > 0:
        return None
    return int(math.ceil((6.0 * sd / margin) ** 2))


def coupling_bound(n: int, m: int) -> float:
    """Lemma 3.6 part 1's order: Pick-r and QT-s differ on O(n^2 sqrt(m log m)) items (constant 1 here)."""
    n, m = _check_n(n), _check_n(m)
    return float(n**2 * math.sqrt(m * math.log(m))) if m > 1 else float(n**2)


@dataclass(frozen=True)
class Theorem37Choice:
    r: float
    case: str  # "envy-free" or "fallback"
    margin: float  # Lemma 3.6's EF margin of Pick-(2-sqrt2)/2 for agent 1 against agent 2
    alpha: float  # alpha of the chosen r as m grows
    reason: str
    margin_at_m: float | None = None  # smallest EF margin per item of the chosen r (None without m)
    min_items: int | None = None  # smallest m from which the chosen r's margin shows (see min_items_for_margin)
    finite_m: str = ""  # what holds at the given m, in words


def theorem_3_7_r(prior, m: int | None = None) -> Theorem37Choice:
    """Theorem 3.7 (appendix E): Pick-(2-sqrt2)/2 if its EF condition holds, else Pick-(1/2 - m^(-1/4)).

    The condition is r E[X | F(X) >= 1-r] > (1-r) E[X | F(X) < 1-r] at r = (2-sqrt2)/2; the
    other pair's condition holds because r < 1/2. It is strict: a margin within
    ``MARGIN_RTOL`` of the prior's mean fails it (uniform priors meet it with equality), so
    the branch is the same at every scale. ``m`` is needed in the second case; given, the
    choice also reports the chosen r's margin at that m and the smallest m from which
    that margin shows (the theorem itself is a statement as m grows).
    """
    marginal = iid_marginal(prior, 2)
    r0 = PROPOSITION_3_3_R
    mean = integrate_ppf(marginal, 0.0, 1.0)
    margin = integrate_ppf(marginal, 1 - r0, 1.0) - integrate_ppf(marginal, 0.0, 1 - r0)
    sd = marginal.std()
    if strictly_positive(margin, mean):
        return _with_finite_m(Theorem37Choice(
            r0, "envy-free", margin, alpha_pick_r(prior, [r0]),
            f"Pick-(2-sqrt2)/2 is envy-free w.h.p. (margin {margin:.6g} > 0); Proposition 3.3 gives the welfare"),
            prior, m, sd, lambda _m: r0)
    if m is None:
        raise TfdError("the EF condition of Pick-(2-sqrt2)/2 fails for this prior; Theorem 3.7 then uses "
                       "r = 1/2 - m^(-1/4): give the number of items m")
    m = _check_n(m)
    r = 0.5 - m ** -0.25
    if r < 0:
        raise TfdError(f"m = {m} is too small for r = 1/2 - m^(-1/4) to be a share")
    return _with_finite_m(Theorem37Choice(
        r, "fallback", margin, alpha_pick_r(prior, [r]),
        f"Pick-(2-sqrt2)/2 fails its strict EF condition (margin {margin:.6g}, not > 0 within {MARGIN_RTOL:g} "
        f"of the mean); Pick-(1/2 - m^-1/4) is EF w.h.p. as m grows and at least 7/8 - o(1) of the optimum"),
        prior, m, sd, lambda _m: 0.5 - _m ** -0.25)


def _with_finite_m(choice: Theorem37Choice, prior, m, sd: float, r_at) -> Theorem37Choice:
    """Add the chosen rule's EF margin at m and the smallest m from which it shows."""
    if m is None:
        return choice
    at_m = float(np.nanmin(ef_margins(prior, [r_at(m)])))
    spec = parse_prior(prior).spec if not isinstance(prior, Prior) else prior.spec
    hi = _first_m_that_shows(spec, choice.case, sd)
    holds = hi is not None and m >= hi
    text = (f"at m = {m}: smallest EF margin per item {at_m:+.4g}; "
            + (f"it shows from m = {hi} on (margin x sqrt(m) >= 6 sd), so EF w.h.p. is expected here"
               if holds else f"it shows only from m = {hi} on, so EF is not yet expected at this m"
               if hi is not None else "it never shows"))
    return Theorem37Choice(choice.r, choice.case, choice.margin, choice.alpha, choice.reason, at_m, hi, text)


@functools.lru_cache(maxsize=256)
def _first_m_that_shows(spec: str, case: str, sd: float) -> int | None:
    """The smallest m from which Theorem 3.7's chosen r has a visible EF margin (doubling, then
    bisection; the fallback's margin grows with m, the EF branch's is constant). Cached per prior:
    each step integrates the quantile function."""
    r0 = PROPOSITION_3_3_R

    def r_at(k: int) -> float:
        return r0 if case == "envy-free" else 0.5 - k ** -0.25

    def shows(k: int) -> bool:
        if r_at(k) <= 0:
            return False
        need = min_items_for_margin(float(np.nanmin(ef_margins(spec, [r_at(k)]))), sd)
        return need is not None and k >= need

    if case == "envy-free":
        return min_items_for_margin(float(np.nanmin(ef_margins(spec, [r0]))), sd)
    lo, hi = 1, 2
    while not shows(hi):
        lo, hi = hi, hi * 2
        if hi > 10**15:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if shows(mid) else (mid, hi)
    return hi


@dataclass(frozen=True)
class Theorem310Choice:
    eps: float
    r: np.ndarray
    margins: np.ndarray
    min_margin: float
    alpha: float


def theorem_3_10_r(prior, n: int, eps: float | None = None) -> Theorem310Choice:
    """Theorem 3.10's r = (1/n - eps, ..., 1/n - eps, 1/n + (n-1) eps).

    With ``eps`` unset, choose the eps in (0, 1/n) that maximizes the smallest EF margin
    of Lemma 3.6 (the pairs with j = n shrink as eps grows, the pairs with i = n grow),
    keeping alpha above 1/2; report that margin.
    """
    from scipy.optimize import minimize_scalar

    n = _check_n(n)
    if n == 1:
        return Theorem310Choice(0.0, np.array([1.0]), np.full((1, 1), np.nan), float("inf"),
                                alpha_pick_r(prior, [1.0], 1))

    def r_of(e):
        return np.array([1 / n - e] * (n - 1) + [1 / n + (n - 1) * e])

    def worst(e):
        return float(np.nanmin(ef_margins(prior, r_of(e))))

    if eps is None:
        best = minimize_scalar(lambda e: -worst(e), bounds=(1e-9, 1 / n - 1e-9), method="bounded",
                               options={"xatol": 1e-8})
        eps = float(best.x)
        while alpha_pick_r(prior, r_of(eps)) <= 0.5 and eps > 1e-9:
            eps /= 2
    elif not 0 < eps < 1 / n:
        raise TfdError(f"eps must lie in (0, 1/n) = (0, {1 / n:.6g}), got {eps}")
    margins = ef_margins(prior, r_of(eps))
    return Theorem310Choice(eps, r_of(eps), margins, float(np.nanmin(margins)), alpha_pick_r(prior, r_of(eps)))



