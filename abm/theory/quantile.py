"""Integrals of a marginal's quantile function, the language of the paper's proofs.

Section 3.1 writes every expectation in quantile space: E[X 1{F(X) >= tau}] is the
integral of F^{-1} over [tau, 1], and E[max of n draws] is the integral of
n u^{n-1} F^{-1}(u). Integrals are split at the marginal's quantile breakpoints (the
jumps of F^{-1} for priors with atoms, such as Theorem 3.1's hard instance), so each
piece is smooth and ``quad`` is exact to its tolerance.
"""

from __future__ import annotations


from scipy.integrate import quad

__all__ = ["integrate_ppf", "partial_expectation", "expected_max"]

_QUAD = dict(limit=200, epsabs=1e-13, epsrel=1e-12)


def integrate_ppf(marginal, lo: float, hi: float, weight=None) -> float:
    """Integral over [lo, hi] of weight(u) F^{-1}(u) du, split at the breakpoints."""
    if hi <= lo:
        return 0.0
    if hasattr(marginal, "integrate_quantile"):
        return marginal.integrate_quantile(lo, hi, weight)
    cuts = [lo, *[b for b in getattr(marginal, "quantile_breakpoints", ()) if lo < b < hi], hi]
    if weight is None:
        f = lambda u: float(marginal.ppf(u))  # noqa: E731
    else:
        f = lambda u: float(weight(u) * marginal.ppf(u))  # noqa: E731
    return float(sum(quad(f, a, b, **_QUAD)[0] for a, b in zip(cuts, cuts[1:])))


def partial_expectation(marginal, tau: float) -> float:
    """E[X 1{F(X) >= tau}] = integral of F^{-1} over [tau, 1]."""
    return integrate_ppf(marginal, float(tau), 1.0)


def expected_max(marginal, n: int) -> float:
    """E[max of n i.i.d. draws] = integral of n u^{n-1} F^{-1}(u) du over [0, 1]."""
    return integrate_ppf(marginal, 0.0, 1.0, weight=lambda u: n * u ** (n - 1))



