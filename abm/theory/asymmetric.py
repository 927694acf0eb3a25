"""Non-identical and correlated priors: Bai-Golz weights (appendix A), cake-cutting thresholds (appendix B)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from abm.errors import TfdError
from abm.priors import Prior, parse_prior
from abm.theory.quantile import integrate_ppf

__all__ = ["BaiGolz", "win_probabilities", "bai_golz_weights", "AppendixB", "appendix_b_thresholds"]


def _prior(prior) -> Prior:
    return prior if isinstance(prior, Prior) else parse_prior(prior)


def _agents(prior: Prior, n: int | None) -> int:
    n = prior.n_agents if prior.n_agents is not None else n
    if n is None:
        raise TfdError(f"prior {prior.spec!r} fits any number of agents; give n")
    return int(n)


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def win_probabilities(prior, weights, n: int | None = None) -> np.ndarray:
    """P(agent i has the highest weighted value w_i v_i) for each i, independent marginals.

    P_i = integral over u of prod_{k != i} F_k(w_i F_i^{-1}(u) / w_k). The integrand has a
    kink wherever w_i F_i^{-1}(u) / w_k crosses an end of agent k's support, so [0, 1] is
    split at those quantiles and each piece integrated by 64-point Gauss-Legendre,
    vectorized (exact to about 1e-12 on smooth pieces).
    """
    prior = _prior(prior)
    n = _agents(prior, n)
    w = np.asarray(weights, dtype=float)
    margs = [prior.marginal(i) for i in range(n)]
    out = np.empty(n)
    for i in range(n):
        cuts = {0.0, 1.0}
        for k in range(n):
            if k != i:
                for end in margs[k].support():
                    u = float(margs[i].cdf(w[k] * end / w[i]))
                    if 0 < u < 1:
                        cuts.add(u)
        cuts = np.array(sorted(cuts))
        lo, hi = cuts[:-1, None], cuts[1:, None]
        u = (lo + hi) / 2 + (hi - lo) / 2 * _NODES  # (pieces, 64)
        x = w[i] * np.asarray(margs[i].ppf(u), dtype=float)
        f = np.ones_like(u)
        for k in range(n):
            if k != i:
                f *= np.asarray(margs[k].cdf(x / w[k]), dtype=float)
        out[i] = float(((hi - lo)[:, 0] / 2 * (f @ _WEIGHTS)).sum())
    return out


@dataclass(frozen=True)
class BaiGolz:
    weights: np.ndarray  # normalized to mean 1
    win_probabilities: np.ndarray
    residual: float  # max_i |P_i - 1/n|


def bai_golz_weights(prior, n: int | None = None) -> BaiGolz:
    """Appendix A: weights w with P(agent i has the highest w_i v_i) = 1/n for every i.

    Root finding (scipy's ``root``) on the log-weights of agents 2..n with w_1 fixed;
    the probabilities sum to 1, so agent 1's equation then holds too. Needs independent
    marginals (``uniform; beta(a=2, b=5)``); an i.i.d. prior gives equal weights.
    """
    prior = _prior(prior)
    if type(prior).__name__ == "GaussianCopulaPrior":
        raise TfdError("Bai-Golz weights assume independent agents (appendix A); got a copula prior")
    n = _agents(prior, n)
    if n == 1:
        return BaiGolz(np.ones(1), np.ones(1), 0.0)

    def equations(logw):
        p = win_probabilities(prior, np.exp(np.concatenate([[0.0], logw])), n)
        return p[1:] - 1.0 / n

    # Start from weights that equalize means: a good guess when the shapes are alike.
    means = np.array([prior.marginal(i).mean() for i in range(n)])
    x0 = np.log(means[0] / means[1:])
    sol = optimize.root(equations, x0, method="hybr", options={"xtol": 1e-12})
    w = np.exp(np.concatenate([[0.0], sol.x]))
    w = w / w.mean()
    p = win_probabilities(prior, w, n)
    residual = float(np.abs(p - 1.0 / n).max())
    if not np.isfinite(residual) or residual > 1e-6:
        raise TfdError(f"no Bai-Golz weights found for {prior.spec!r} (residual {residual:.3g}); "
                       "appendix A needs interval supports with bounded densities")
    return BaiGolz(w, p, residual)


@dataclass(frozen=True)
class AppendixB:
    tau: np.ndarray  # tau_i: the quantile above which agent i holds half its expected value
    picker: int  # the agent with the largest tau picks first
    share: float  # (1 - tau_picker) + eps: the fraction of items the picker takes
    eps: float


def appendix_b_thresholds(prior, eps: float = 0.01, n: int | None = None) -> AppendixB:
    """Appendix B (two agents, values correlated across agents): tau_i with
    E[v 1{F_i(v) >= tau_i}] = E[v] / 2; the agent with the larger tau_i picks first and
    takes a (1 - tau_i) + eps fraction of the items (its favourites), the other the rest.
    """
    prior = _prior(prior)
    n = _agents(prior, n if n is not None else 2)
    if n != 2:
        raise TfdError(f"appendix B's picking rule is for two agents, got {n}")
    if not 0 <= eps < 1:
        raise TfdError(f"eps must lie in [0, 1), got {eps}")
    tau = np.empty(2)
    for i in range(2):
        m = prior.marginal(i)
        half = 0.5 * integrate_ppf(m, 0.0, 1.0)
        tau[i] = optimize.brentq(lambda t, m=m, half=half: integrate_ppf(m, t, 1.0) - half, 0.0, 1.0, xtol=1e-13)
    picker = int(np.argmax(tau))
    share = min(1.0, 1.0 - tau[picker] + eps)
    return AppendixB(tau, picker, share, eps)
