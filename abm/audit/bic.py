"""The BIC audit: interim regret, E over the others' values of (deviation - truth).

For sampled own values v_i, each candidate deviation's utility is averaged over draws of
the others' values from the prior, the same draws for every candidate (common random
numbers). Two kinds of deviation are tested:

* each named deviation (a strategy), with a one-sided t-test of "mean gain > 0" across
  independent own-value types, then the largest with a Bonferroni correction;
* the per-type best response: chosen among many candidate reports on one set of draws
  (selection) and evaluated on fresh draws (evaluation), so picking the best of many does
  not look profitable by luck.

For ordinal mechanisms it also estimates p_t, the probability of winning the item put at
rank position t (Theorem 4.1's proof: truth is optimal when p_t is non-increasing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats as st

import strategies as strategy_registry
from abm import mechanisms as M
from abm.metrics import utility_of_reports
from strategies.interim import candidate_reports, interim_utilities
from abm.errors import TfdError
from abm.metrics import rate
from abm.priors import parse_prior

__all__ = ["BicAudit", "bic_audit", "candidate_reports", "interim_utilities", "win_probability_by_rank"]


def win_probability_by_rank(mechanism, prior, n: int, m: int, agent: int, draws: int, rng,
                            confidence: float = 0.95) -> pd.DataFrame:
    """p_t: how often the truthful agent wins the item it ranks at position t (1 = top)."""
    values = prior.sample(rng, n, m, batch=draws)
    owner = mechanism.allocate(values)
    order = np.argsort(-values[:, agent, :], axis=-1, kind="stable")
    won = np.take_along_axis(owner == agent, order, axis=-1)
    rows = []
    for t in range(m):
        est = rate(won[:, t], confidence)
        rows.append({"agent": agent, "position": t + 1, "p": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high,
                     "draws": draws})
    return pd.DataFrame(rows)


@dataclass
class BicAudit:
    frame: pd.DataFrame  # one row per (agent, deviation): mean gain, interval, p-value
    summary: dict
    p_t: pd.DataFrame | None


def _t_summary(per_type: np.ndarray, confidence: float):
    k = per_type.size
    mean = float(per_type.mean())
    se = float(per_type.std(ddof=1) / math.sqrt(k)) if k > 1 else float("inf")
    if se == 0:
        p = 0.0 if mean > 0 else 1.0
        return mean, mean, mean, p
    tcrit = st.t.ppf(0.5 + confidence / 2, k - 1)
    p = float(st.t.sf(mean / se, k - 1))  # one-sided: H1 mean gain > 0
    return mean, mean - tcrit * se, mean + tcrit * se, p


def bic_audit(mechanism, prior="uniform", n_agents: int = 2, n_items: int = 8, types: int = 60,
              samples: int = 200, strategies="default", seed: int = 0, confidence: float = 0.95,
              p_t_draws: int = 4000, progress=None) -> BicAudit:
    """Audit ``mechanism`` for interim profitable deviations (see the module docstring).

    ``types`` own-value draws per agent; ``samples`` draws of the others for each type, used
    twice (a selection set and a fresh evaluation set for the per-type best response).
    """
    prior = parse_prior(prior)
    if type(prior).__name__ == "GaussianCopulaPrior":
        raise TfdError("the BIC audit draws the others independently of the agent: it needs independent "
                       "agents, not a copula prior")
    if isinstance(mechanism, str):
        mechanism = M.get(mechanism, prior=prior)
    for label, v in (("types", types), ("samples", samples), ("agents", n_agents), ("items", n_items)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise TfdError(f"number of {label} must be a positive integer, got {v!r}")
    if types < 2:
        raise TfdError("the BIC audit needs at least 2 types for its intervals")
    mechanism.check_agents(n_agents)
    prior.check_agents(n_agents)
    from abm.audit.dsic import default_strategies

    strats = default_strategies(mechanism, n_items) if strategies == "default" else [strategy_registry.get(s) for s in strategies]
    seq = np.random.SeedSequence(seed)
    rng_types, rng_select, rng_eval, rng_strat, rng_pt = (np.random.default_rng(s) for s in seq.spawn(5))
    n, m = n_agents, n_items
    rows = []
    for i in range(n):
        own = prior.sample(rng_types, n, m, batch=types)[:, i, :]
        gains = {repr(s): np.empty(types) for s in strats}
        chosen_gain = np.empty(types)
        for k in range(types):
            v = own[k]
            ctx = strategy_registry.BidContext(agent=i, n_agents=n, rng=rng_strat, prior=prior, mechanism=mechanism)
            named = np.stack([v] + [s.bid(v, ctx) for s in strats])
            cands = candidate_reports(v)
            # Selection: the best candidate on one set of draws ...
            u_sel = interim_utilities(mechanism, prior, n, i, v, cands, samples, rng_select)
            best = int(np.argmax(u_sel.mean(axis=1)))
            # ... evaluated, with the named deviations, on fresh draws (common to all of them).
            u = interim_utilities(mechanism, prior, n, i, v, np.concatenate([named, cands[best:best + 1]]), samples,
                                  rng_eval).mean(axis=1)
            for j, s in enumerate(strats):
                gains[repr(s)][k] = u[1 + j] - u[0]
            chosen_gain[k] = u[-1] - u[0]
        for name, g in list(gains.items()) + [("best-response (selected, fresh draws)", chosen_gain)]:
            mean, lo, hi, p = _t_summary(g, confidence)
            rows.append({"agent": i, "deviation": name, "mean_gain": mean, "ci_low": lo, "ci_high": hi,
                         "p_value": p, "types": types, "samples": samples})
        if progress is not None:
            progress(1)
    frame = pd.DataFrame(rows)
    tests = len(frame)
    frame["p_value_corrected"] = np.minimum(1.0, frame["p_value"] * tests)  # Bonferroni
    top = frame.loc[frame["mean_gain"].idxmax()]
    # The max's interval at the Bonferroni-adjusted level, from the same per-type gains' t-interval width.
    adj = 1 - (1 - confidence) / tests
    width = (top["ci_high"] - top["ci_low"]) / 2
    k = types
    scale = st.t.ppf(0.5 + adj / 2, k - 1) / st.t.ppf(0.5 + confidence / 2, k - 1)
    p_t = None
    monotone = None
    if "ordinal" in mechanism.properties:
        p_t = pd.concat([win_probability_by_rank(mechanism, prior, n, m, i, p_t_draws, rng_pt, confidence)
                         for i in range(n)], ignore_index=True)
        # Non-increasing unless some later position is significantly more likely than an earlier one.
        monotone = True
        for _, g in p_t.groupby("agent"):
            lo, hi = g["ci_low"].to_numpy(), g["ci_high"].to_numpy()
            later_low = np.maximum.accumulate(lo[::-1])[::-1]
            if (later_low[1:] > hi[:-1]).any():
                monotone = False
    summary = {
        "mechanism": mechanism.name, "mechanism_params": mechanism.params, "claim": mechanism.info.claim,
        "prior": prior.spec, "n_agents": n, "n_items": m, "types": types, "samples": samples, "seed": seed,
        "deviations_tested": tests, "max_expected_gain": float(top["mean_gain"]),
        "max_deviation": f"agent {int(top['agent'])}: {top['deviation']}",
        "ci_low": float(top["mean_gain"] - scale * width), "ci_high": float(top["mean_gain"] + scale * width),
        "p_value": float(frame["p_value_corrected"].min()), "confidence": confidence,
        "significant": bool(frame["p_value_corrected"].min() < 1 - confidence),
        "p_t_non_increasing": monotone,
    }
    return BicAudit(frame, summary, p_t)
