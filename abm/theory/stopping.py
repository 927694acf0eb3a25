"""The optimal Pick-r for a prior: the i.i.d. optimal stopping rule (Proposition 3.8).

Backward induction on continuation values, V_n = E[X] and V_k = E[max(X, V_{k+1})]:
stop at step k < n iff X >= V_{k+1}. In quantile space the rule is QT-s with
s_k = 1 - F(V_{k+1}), and by Proposition 3.8 its welfare ratio is V_1 / E[max_i X_i],
the best any Pick-r reaches as m grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.shares import r_from_s
from abm.theory.picking import _check_n, iid_marginal
from abm.theory.quantile import expected_max, integrate_ppf

__all__ = ["OptimalStopping", "optimal_pick_r", "expected_max_with"]


def expected_max_with(marginal, c: float) -> float:
    """E[max(X, c)] = c F(c) + integral of F^{-1} over [F(c), 1]."""
    tau = float(np.clip(marginal.cdf(c), 0.0, 1.0))
    return c * tau + integrate_ppf(marginal, tau, 1.0)


@dataclass(frozen=True)
class OptimalStopping:
    values: np.ndarray  # V_1..V_n: expected reward of the optimal rule started at step k
    s: np.ndarray  # QT-s thresholds of the rule (s_n = 1)
    r: np.ndarray  # the equivalent Pick-r shares (Lemma 3.6's map, inverted)
    alpha: float  # V_1 / E[max_i X_i]
    expected_max: float


def optimal_pick_r(prior, n: int) -> OptimalStopping:
    """Proposition 3.8: the optimal stopping rule for n i.i.d. draws as thresholds s and shares r."""
    n = _check_n(n)
    marginal = iid_marginal(prior, n)
    values = np.empty(n)
    values[-1] = integrate_ppf(marginal, 0.0, 1.0)
    for k in range(n - 2, -1, -1):
        values[k] = expected_max_with(marginal, values[k + 1])
    s = np.ones(n)
    for k in range(n - 1):
        s[k] = 1.0 - float(np.clip(marginal.cdf(values[k + 1]), 0.0, 1.0))
    emax = expected_max(marginal, n)
    return OptimalStopping(values, s, r_from_s(s), float(values[0] / emax), emax)
