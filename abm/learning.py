"""Repeated play: learners facing a mechanism round after round (``tfd learn``).

Each round is one step of :class:`~abm.model.AllocationModel`: fresh values from the prior
(the paper's stochastic model), reports through each agent's strategy, the allocation,
and then every learner's update (:mod:`strategies.learning`). The result is one tidy row
per (round, agent) and a summary: each learner's final distribution over its menu, its
time-average regret against the best fixed strategy in hindsight, its time-average gain
over truthful play (with a t interval), and welfare and envy-freeness early and late.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import strategies as strategy_registry
from abm.errors import TfdError
from abm.metrics import gain_interval
from abm.model import AllocationModel
from abm.sizes import check_fits

__all__ = ["LearningRun", "learn"]


@dataclass
class LearningRun:
    rounds: pd.DataFrame  # one row per (round, agent)
    summary: dict
    model: AllocationModel


def learn(mechanism="round-robin", learner="hedge", prior="uniform", n_agents: int = 2, n_items: int = 20,
          rounds: int = 1000, instances_per_round: int = 1, others="truthful", seed: int = 0,
          mechanism_params: dict | None = None, confidence: float = 0.99, progress=None, seat: int = 0) -> LearningRun:
    """Agent ``seat`` (0 by default) plays ``learner`` (a name, text spec or instance; ``"all:..."``
    makes every agent learn) against ``others``; returns the per-round rows and the summary."""
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise TfdError(f"rounds must be a positive integer, got {rounds!r}")
    everyone = isinstance(learner, str) and learner.startswith("all:")
    spec = learner[4:] if everyone else learner

    def make():
        s = strategy_registry.parse(spec) if isinstance(spec, str) else spec
        if not isinstance(s, strategy_registry.Learner):
            raise TfdError(f"{s!r} is not a learner; accepted: hedge, exp3 (e.g. 'hedge' or 'exp3(gamma=0.1)')")
        return s

    if isinstance(seat, bool) or not isinstance(seat, (int, np.integer)) or not 0 <= seat < n_agents:
        raise TfdError(f"the learner's seat must be an agent index in 0..{n_agents - 1}, got {seat!r}")
    plays = [make() if (everyone or i == seat) else others for i in range(n_agents)]
    # one tidy row per (round, agent), about 1 KB each in a list of dicts
    check_fits(1000.0 * rounds * n_agents, f"{rounds} rounds of {n_agents} agents", "use fewer --rounds")
    model = AllocationModel(mechanism=mechanism, prior=prior, n_agents=n_agents, n_items=n_items, strategies=plays,
                            instances_per_step=instances_per_round, mechanism_params=mechanism_params, rng=seed,
                            keep_rows=False)
    rows = []
    menus = {b.index: [repr(s) for s in b.strategy.menu] for b in model.bidders
             if isinstance(b.strategy, strategy_registry.Learner)}
    for t in range(rounds):
        model.step()
        last = model.last
        for b in model.bidders:
            row = {"round": t + 1, "agent": b.index, "strategy": type(b.strategy).__name__,
                   "utility": float(b.utility.mean()), "truthful_utility": float(b.truthful_utility.mean()),
                   "gain": float(b.gain.mean()), "max_instance_gain": float(b.gain.max()),
                   "min_instance_gain": float(b.gain.min()), "welfare_ratio": last["welfare_ratio"], "ef_rate": last["ef_rate"]}
            if isinstance(b.strategy, strategy_registry.Learner) and b.strategy.menu:
                p = b.strategy.distribution()
                row["regret"] = b.strategy.regret()
                row["top_strategy"] = menus[b.index][int(np.argmax(p))]
                row["top_probability"] = float(p.max())
            rows.append(row)
        if progress is not None:
            progress(1)
    frame = pd.DataFrame(rows)
    cut = max(1, rounds // 10)
    learners = {}
    for b in model.bidders:
        if not isinstance(b.strategy, strategy_registry.Learner):
            continue
        mine = frame[frame.agent == b.index]
        est = gain_interval(mine["gain"].to_numpy(), mine["min_instance_gain"].min(), mine["max_instance_gain"].max(),
                            confidence)
        gain, lo, hi = est.value, est.ci_low, est.ci_high
        p = b.strategy.distribution()
        learners[str(b.index)] = {
            "learner": b.strategy.name, "menu": [repr(s) for s in b.strategy.menu],
            "final_distribution": {repr(s): float(q) for s, q in zip(b.strategy.menu, p)},
            "time_average_regret": b.strategy.regret() if b.strategy.menu else None,
            "time_average_gain": gain, "gain_ci": [lo, hi],
            "largest_instance_gain": float(mine["max_instance_gain"].max()),
            "never_gained": bool(mine["max_instance_gain"].max() <= 0.0),
        }
        if hasattr(b.strategy, "theta"):
            learners[str(b.index)]["parameters"] = b.strategy.theta.tolist()
    early, late = frame[frame["round"] <= cut], frame[frame["round"] > rounds - cut]
    summary = {
        "mechanism": model.mechanism.name, "mechanism_params": model.mechanism.params, "prior": model.prior.spec,
        "n_agents": n_agents, "n_items": n_items, "rounds": rounds, "instances_per_round": instances_per_round,
        "seed": seed, "confidence": confidence, "learners": learners,
        "welfare_ratio_early": float(early["welfare_ratio"].mean()),
        "welfare_ratio_late": float(late["welfare_ratio"].mean()),
        "ef_rate_early": float(early["ef_rate"].mean()), "ef_rate_late": float(late["ef_rate"].mean()),
        "early_late_rounds": cut,
    }
    return LearningRun(frame, summary, model)
