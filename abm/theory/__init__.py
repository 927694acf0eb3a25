"""The paper's predictions as functions of a prior, n and the mechanism's parameters."""

from __future__ import annotations

import numpy as np

from abm.errors import TfdError
from abm.mechanisms.picking import resolve_r, s_from_r
from abm.priors import parse_prior
from abm.theory.quantile import expected_max, integrate_ppf, partial_expectation

__all__ = ["alpha_pick_r", "expected_max", "integrate_ppf", "partial_expectation"]


def alpha_pick_r(prior, r) -> float:
    """Lemma 3.6 part 2: the welfare ratio Pick-r (and QT-s) reaches as m grows.

    alpha = sum_i r_i E[X | X >= F^{-1}(tau_i)] / E[max_i X_i], tau_i = 1 - s_i, with s
    from Lemma 3.6's map. In quantile space r_i E[X | F(X) >= tau_i] equals
    (r_i / s_i) times the integral of F^{-1} over [tau_i, 1]. Needs an i.i.d. prior.
    """
    prior = parse_prior(prior)
    if not prior.is_iid:
        raise TfdError(f"alpha of Pick-r is defined for i.i.d. priors (Lemma 3.6); {prior.spec!r} is not i.i.d.")
    r = np.atleast_1d(np.asarray(r, dtype=float))
    n = r.size if r.size > 1 else 2
    r = resolve_r(r, n)
    s = s_from_r(r)
    marginal = prior.marginal(0)
    numerator = sum(
        ri / si * partial_expectation(marginal, 1.0 - si) for ri, si in zip(r, s) if ri > 0 and si > 0
    )
    return numerator / expected_max(marginal, n)
