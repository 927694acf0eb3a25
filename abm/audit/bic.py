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
from abm.results import SummaryResult
from abm import mechanisms as M
from abm.metrics import Estimate, t_test, t_upper
from abm.spec import whole
from strategies.interim import candidate_reports, interim_utilities
from abm.errors import MechanismError, TfdError
from abm.mechanisms.base import allocation, shown_rankings_only
from abm.metrics import rate
from abm.priors import parse_prior
from abm.audit.parameters import BIC
from abm.audit.properties import check_ordinal

__all__ = ["BicAudit", "HEADLINE", "above", "bic_audit", "candidate_reports", "interim_utilities",
           "win_probability_by_rank"]


def win_probability_by_rank(mechanism, prior, n: int, m: int, agent: int, draws: int, rng,
                            confidence: float = 0.95) -> pd.DataFrame:
    """p_t: how often the truthful agent wins the item it ranks at position t (1 = top)."""
    values = prior.sample(rng, n, m, batch=draws)
    owner = allocation(mechanism, values)
    order = np.argsort(-values[:, agent, :], axis=-1, kind="stable")
    won = np.take_along_axis(owner == agent, order, axis=-1)
    rows = []
    for t in range(m):
        est = rate(won[:, t], confidence)
        rows.append({"agent": agent, "position": t + 1, "p": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high,
                     "draws": draws})
    return pd.DataFrame(rows)


@dataclass
class BicAudit(SummaryResult):
    """What :func:`bic_audit` found: typed fields for the headline numbers, the tidy ``frame``
    (one row per agent and deviation: mean gain, interval, p-value), ``p_t`` (the chance of
    winning the item ranked t) and :meth:`to_dict` for the JSON ``tfd audit bic`` prints."""

    frame: pd.DataFrame  # one row per (agent, deviation): mean gain, interval, p-value
    summary: dict
    p_t: pd.DataFrame | None

    @property
    def max_expected_gain(self) -> Estimate:
        """The largest mean interim gain over (agent, deviation), with its two-sided t-interval at
        the Bonferroni-adjusted level (the number of deviations tested)."""
        s = self.summary
        return Estimate(float(s["max_expected_gain"]), float(s["ci_low"]), float(s["ci_high"]), int(s["types"]),
                        float(s["confidence"]), "t-interval over types, Bonferroni-adjusted")

    @property
    def significant(self) -> bool:
        """Some deviation's gain is significant after the correction for the number tested."""
        return bool(self.summary["significant"])

    @property
    def p_value(self) -> float:
        return float(self.summary["p_value"])


#: The per-type best response: chosen among many reports on one set of draws, evaluated on fresh ones.
HEADLINE = "best-response (selected, fresh draws)"


#: Rankings built from p_t (estimated on their own draws): every rank by its estimated chance of
#: winning, and only the adjacent swaps whose increase in p_t is significant (z > 3), which keeps
#: the truthful order wherever p_t's noise would scramble it.
REARRANGEMENTS = ["rank-rearrangement (all ranks by p_t)", "rank-rearrangement (significant adjacent swaps)"]


def _significant_adjacent_swaps(p: np.ndarray, draws: int, z: float = 3.0) -> np.ndarray:
    """Ranks in order, with rank t + 1 moved ahead of t where p[t + 1] exceeds p[t] by z standard errors."""
    se = np.sqrt(np.maximum(p * (1 - p), 1.0 / draws) / draws)
    order = np.arange(p.size)
    t = 0
    while t < p.size - 1:
        if p[t + 1] - p[t] > z * np.hypot(se[t], se[t + 1]):
            order[t], order[t + 1] = order[t + 1], order[t]
            t += 2
        else:
            t += 1
    return order


def _p_t_increase(p_t: pd.DataFrame, draws: int, confidence: float) -> dict:
    """The largest increase of p_t between two ranks t < s, as a one-sided z-test corrected over
    every pair and agent (Bonferroni). For an ordinal rule whose items are exchangeable under the
    prior, the interim utility of a ranking is sum_t v_(t) p_t; BIC holds iff p_t never increases,
    and a significant p_s > p_t means moving the item at rank t to rank s pays every type."""
    best = {"z": -np.inf}
    tests = 0
    for agent, g in p_t.groupby("agent"):
        p = g.sort_values("position")["p"].to_numpy()
        se = np.sqrt(np.maximum(p * (1 - p), 1.0 / draws) / draws)
        z = (p[None, :] - p[:, None]) / np.hypot(se[:, None], se[None, :])  # z[t, s]: p_s - p_t
        z = np.where(np.triu(np.ones_like(z, dtype=bool), 1), z, -np.inf)
        tests += p.size * (p.size - 1) // 2
        t, u = np.unravel_index(np.argmax(z), z.shape)
        if z[t, u] > best["z"]:
            best = {"agent": int(agent), "from_rank": int(t) + 1, "to_rank": int(u) + 1, "z": float(z[t, u]),
                    "p_from": float(p[t]), "p_to": float(p[u])}
    p_value = float(min(1.0, st.norm.sf(best["z"]) * max(tests, 1)))
    return {**best, "p_value_corrected": p_value, "significant": bool(p_value < 1 - confidence), "pairs": tests}


def _headline(frame: pd.DataFrame) -> dict:
    """The per-type best response of the agent where it gains most, with its corrected upper bound."""
    rows = frame[frame.deviation == HEADLINE]
    top = rows.loc[rows["mean_gain"].idxmax()]
    return {"agent": int(top["agent"]), "deviation": HEADLINE, "mean_gain": float(top["mean_gain"]),
            "ci_low": float(top["ci_low"]), "ci_high": float(top["ci_high"]),
            "upper_corrected": float(top["upper_corrected"]), "p_value_corrected": float(top["p_value_corrected"])}


def above(frame: pd.DataFrame, threshold: float) -> int:
    """How many deviations' corrected upper bounds reach ``threshold``."""
    return int((frame["upper_corrected"] >= threshold).sum())


@BIC.checked
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
        whole(v, f"number of {label}")
    if types < 2:
        raise TfdError("the BIC audit needs at least 2 types for its intervals")
    mechanism.check_agents(n_agents)
    prior.check_agents(n_agents)
    from abm.audit.dsic import default_strategies

    strats = default_strategies(mechanism, n_items) if strategies == "default" else [strategy_registry.get(s) for s in strategies]
    seq = np.random.SeedSequence(seed)
    rng_types, rng_select, rng_eval, rng_strat, rng_pt, rng_check = (np.random.default_rng(s) for s in seq.spawn(6))
    n, m = n_agents, n_items
    check = check_ordinal(mechanism, prior.sample(rng_check, n, m, batch=12), rng_check)
    if check.declared and not check.holds:
        raise MechanismError(check.detail)
    ordinal = shown_rankings_only(mechanism)
    left_out = []
    if ordinal:  # a report that keeps the ranking cannot change an ordinal outcome: nothing to test
        left_out = [repr(s) for s in strats if s.classifier.get("keeps_ranking")]
        strats = [s for s in strats if not s.classifier.get("keeps_ranking")]
    # p_t on its own draws (the selection set of the rank rearrangement): for an ordinal rule with
    # items exchangeable under the prior, the interim utility of a ranking is sum_t v_(t) p_t, so
    # the best ranking puts the most valuable items at the ranks most likely to win.
    p_t = None
    if ordinal:
        p_t = pd.concat([win_probability_by_rank(mechanism, prior, n, m, i, p_t_draws, rng_pt, confidence)
                         for i in range(n)], ignore_index=True)
    rows, per_type = [], []
    for i in range(n):
        own = prior.sample(rng_types, n, m, batch=types)[:, i, :]
        names = [repr(s) for s in strats] + (REARRANGEMENTS if ordinal else [])
        gains = {name: np.empty(types) for name in names}
        chosen_gain = np.empty(types)
        rank_orders = []
        if ordinal:
            p = p_t[p_t.agent == i].sort_values("position")["p"].to_numpy()
            rank_orders = [np.argsort(-p, kind="stable"), _significant_adjacent_swaps(p, p_t_draws)]
        for k in range(types):
            if progress is not None:
                progress(0)  # a checkpoint: a caller may stop the audit here
            v = own[k]
            ctx = strategy_registry.BidContext(agent=i, n_agents=n, rng=rng_strat, prior=prior, mechanism=mechanism)
            named = [v] + [s.bid(v, ctx) for s in strats]
            for best_ranks in rank_orders:
                report = np.empty(m)
                report[np.argsort(-v, kind="stable")] = m - best_ranks  # k-th best item at the k-th best rank
                named.append(report)
            named = np.stack(named)
            cands = np.concatenate([candidate_reports(v), named[len(strats) + 1:]])
            # Selection: the best candidate on one set of draws ...
            u_sel = interim_utilities(mechanism, prior, n, i, v, cands, samples, rng_select)
            best = int(np.argmax(u_sel.mean(axis=1)))
            # ... evaluated, with the named deviations, on fresh draws (common to all of them).
            u = interim_utilities(mechanism, prior, n, i, v, np.concatenate([named, cands[best:best + 1]]), samples,
                                  rng_eval).mean(axis=1)
            for j, name in enumerate(names):
                gains[name][k] = u[1 + j] - u[0]
            chosen_gain[k] = u[-1] - u[0]
        for name, g in list(gains.items()) + [(HEADLINE, chosen_gain)]:
            mean, lo, hi, pv = t_test(g, confidence)
            se = float(g.std(ddof=1) / math.sqrt(g.size))
            per_type.append(g)
            rows.append({"agent": i, "deviation": name, "mean_gain": mean, "ci_low": lo, "ci_high": hi,
                         "p_value": pv, "types": types, "samples": samples, "se": se})
        if progress is not None:
            progress(1)
    frame = pd.DataFrame(rows)
    tests = len(frame)
    frame["p_value_corrected"] = np.minimum(1.0, frame["p_value"] * tests)  # Bonferroni
    # One-sided upper bound on each deviation's expected gain at the Bonferroni-corrected level.
    adj = 1 - (1 - confidence) / tests
    frame["upper_corrected"] = [t_upper(g, adj) for g in per_type]
    top_row = int(np.argmax(frame["mean_gain"].to_numpy()))
    top = frame.iloc[top_row]
    # The max's two-sided interval at the Bonferroni-adjusted level.
    _, top_low, top_high, _ = t_test(per_type[top_row], adj)
    increase = _p_t_increase(p_t, p_t_draws, confidence) if p_t is not None else None
    monotone = None if increase is None else not increase["significant"]
    summary = {
        "mechanism": mechanism.name, "mechanism_params": mechanism.params, "claim": mechanism.info.claim,
        "prior": prior.spec, "n_agents": n, "n_items": m, "types": types, "samples": samples, "seed": seed,
        "deviations_tested": tests, "max_expected_gain": float(top["mean_gain"]),
        "max_deviation": f"agent {int(top['agent'])}: {top['deviation']}",
        "ci_low": float(top_low), "ci_high": float(top_high),
        "p_value": float(frame["p_value_corrected"].min()), "confidence": confidence,
        "significant": bool(frame["p_value_corrected"].min() < 1 - confidence),
        "p_t_non_increasing": monotone, "p_t_increase": increase,
        "headline": _headline(frame), "max_upper_corrected": float(frame["upper_corrected"].max()),
        "left_out": left_out,
        "left_out_note": ("reports that keep the ranking cannot change an ordinal mechanism's outcome"
                          if left_out else ""),
    }
    return BicAudit(frame, summary, p_t)
