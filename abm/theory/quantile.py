"""Integrals of a marginal's quantile function, the language of the paper's proofs.

Section 3.1 writes every expectation in quantile space: E[X 1{F(X) >= tau}] is the
integral of F^{-1} over [tau, 1], and E[max of n draws] is the integral of
n u^{n-1} F^{-1}(u). Each marginal computes these exactly
(:meth:`abm.priors.Marginal.integrate_quantile`): in value space where it has a density,
otherwise in quantile space split at the jumps of F^{-1} (the atoms of Theorem 3.1's
hard instance), so each piece is smooth and ``quad`` is exact to its tolerance.
"""

from __future__ import annotations

__all__ = ["integrate_ppf", "partial_expectation", "expected_max", "MARGIN_RTOL", "strictly_positive"]

#: A margin within this fraction of the prior's mean counts as zero. The paper's conditions
#: are strict inequalities ("> 0"); a margin that is zero in exact arithmetic comes out as
#: +-1e-16 after quadrature, with a sign that depends on the prior's scale. Within the
#: tolerance the strict inequality fails, whatever the rounding said.
MARGIN_RTOL = 1e-9


def strictly_positive(margin, scale: float):
    """``margin > 0`` as the paper's strict inequalities demand, robust to rounding: the margin
    must exceed ``MARGIN_RTOL`` times ``scale`` (the prior's mean, so rescaling the prior
    rescales both sides). Works elementwise on arrays; NaN is not positive."""
    import numpy as np

    return np.asarray(margin) > MARGIN_RTOL * abs(float(scale))


def integrate_ppf(marginal, lo: float, hi: float, weight=None) -> float:
    """Integral over [lo, hi] of weight(u) F^{-1}(u) du."""
    if hi <= lo:
        return 0.0
    return marginal.integrate_quantile(lo, hi, weight)


def partial_expectation(marginal, tau: float) -> float:
    """E[X 1{F(X) >= tau}] = integral of F^{-1} over [tau, 1]."""
    return integrate_ppf(marginal, float(tau), 1.0)


def expected_max(marginal, n: int) -> float:
    """E[max of n i.i.d. draws] = integral of n u^{n-1} F^{-1}(u) du over [0, 1]."""
    return integrate_ppf(marginal, 0.0, 1.0, weight=lambda u: n * u ** (n - 1))
