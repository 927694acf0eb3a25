"""The general learner as a line of the DSIC audit (``tfd audit dsic --learn``).

For each agent, the item policy (:mod:`strategies.policy`) is trained on the mechanism in
repeated play, the others truthful, with the audit's prior and sizes. It is then run on
fresh profiles: the policy it plays, CMA-ES's final mean and a population drawn from its
final distribution, each profile keeping its best report. A report that gains is a lie,
replayed through the mechanism and shrunk like any witness.

This is evidence, never proof: a learner that finds nothing shows only that its family and
training did not find a lie. What it adds is reach where the search is weak: large m, rules
with no oracle, lies that need a coordinated change of many bids.
"""

from __future__ import annotations

import zlib

import numpy as np

import strategies as strategy_registry
from abm.audit import witness as W
from abm.metrics import GAIN_TOL, gain_counts, utility_of_reports

__all__ = ["learned_lies", "ROUNDS", "INSTANCES_PER_ROUND"]

#: training budget per agent: rounds x instances per round (one CMA-ES generation per 64 instances)
ROUNDS, INSTANCES_PER_ROUND = 200, 64
#: extra candidates drawn from CMA-ES's final distribution, besides the policy played and the mean
DRAWN = 16


def learned_lies(mechanism, prior, n_agents: int, n_items: int, profiles: int = 100, seed: int = 0,
                 rounds: int = ROUNDS, instances_per_round: int = INSTANCES_PER_ROUND, tol: float = GAIN_TOL,
                 shrink: bool = True, progress=None) -> dict:
    """Train the general learner per agent and report the lies its policies find on ``profiles``
    fresh profiles. Returns the summary (``"witness"``/``"shrunk"`` hold :class:`Witness` objects
    or None)."""
    from abm.learning import learn
    from abm.mechanisms.base import allocation
    from abm.metrics import utilities
    from abm.priors import parse_prior

    prior = parse_prior(prior)
    n, m = int(n_agents), int(n_items)
    base = int(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(b"learned-lies"),)).generate_state(1)[0])
    rng = np.random.default_rng(base)
    values = prior.sample(rng, n, m, batch=int(profiles))
    truth = utilities(values, allocation(mechanism, values))
    gains = np.zeros((values.shape[0], n))
    reports = np.empty(values.shape)
    per_agent = []
    for i in range(n):
        run = learn(mechanism, "item-policy", prior, n, m, rounds, instances_per_round, seed=base + 1 + i, seat=i)
        policy = run.model.bidders[i].strategy
        thetas = policy.final_candidates(DRAWN)
        ctx = strategy_registry.BidContext(agent=i, n_agents=n, rng=rng, prior=prior, mechanism=mechanism,
                                           others_bids=np.delete(values, i, axis=1))
        family = policy.reports_of(values[:, i, :], ctx, thetas)  # (P, C, m)
        u = utility_of_reports(mechanism, values[:, i, :], values, i, family)
        best = np.argmax(u, axis=-1)
        gains[:, i] = u[np.arange(u.shape[0]), best] - truth[:, i]
        reports[:, i, :] = family[np.arange(u.shape[0]), best]
        found = gain_counts(gains[:, i], values[:, i, :], tol)
        per_agent.append({"agent": i, "lies": int(found.sum()), "mean_gain": float(np.maximum(gains[:, i], 0).mean()),
                          "max_gain": float(gains[:, i].max()), "policy_changes": policy.promotions,
                          "generations": policy.generations})
        if progress is not None:
            progress(1)
    found = np.stack([gain_counts(gains[:, i], values[:, i, :], tol) for i in range(n)], axis=1)
    summary = {
        "learner": "item-policy", "evidence": "evidence, never proof: lies found by a trained policy, each "
        "replayed through the mechanism; finding none proves nothing",
        "expresses": strategy_registry.ItemPolicy.expresses,
        "rounds": rounds, "instances_per_round": instances_per_round, "profiles": int(profiles),
        "violations": int(found.sum()), "pairs": int(found.size), "max_gain": float(max(gains.max(), 0.0)),
        "per_agent": per_agent, "witness": None, "shrunk": None,
    }
    if found.any():
        k, i = np.unravel_index(np.argmax(np.where(found, gains, -np.inf)), gains.shape)
        w = W.make(mechanism, values[k], int(i), reports[k, i], prior.spec,
                   note=f"general learner (item-policy), profile {int(k)}")
        if gain_counts(w.gain, values[k, i], tol):  # replayed: the lie still pays
            summary["witness"] = w
            summary["shrunk"] = W.shrink(w, tol, mechanism) if shrink else None
    return summary
