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
from abm import declare as d
from abm import options as o
from abm.declare import Entry, Option
from abm.errors import TfdError
from abm.metrics import gain_interval
from abm.model import AllocationModel
from abm.sizes import check_fits
from abm.spec import whole

__all__ = ["LearningRun", "learn", "share_of_best", "frozen_gain"]

#: profiles on which a trained learner is compared with the exact best response
SHARE_PROFILES = 200
#: above this many items a best response that needs the solver is not attempted after training
SHARE_SOLVER_ITEMS = 12


@dataclass
class LearningRun:
    rounds: pd.DataFrame  # one row per (round, agent)
    summary: dict
    model: AllocationModel


def _learner(value) -> None:
    spec = value[4:] if isinstance(value, str) and value.startswith("all:") else value
    if isinstance(spec, str):
        strategy_registry.parse(spec)


#: the declared parameters of :func:`learn` (and of ``tfd learn``)
LEARN = Entry("learn", (
    o.MECHANISM.with_(default="round-robin"),
    Option("learner", d.text(_learner, "a learner such as hedge or 'exp3(gamma=0.2)', or all:LEARNER",
                             also=lambda v: isinstance(v, strategy_registry.Strategy)),
           "agent 0's learner: hedge, exp3, shading-curve, deadline-schedule, item-policy (the general learner, which "
           "sees the others' reports), item-policy-sealed, or with parameters, e.g. 'exp3(gamma=0.2)'; prefix 'all:' "
           "to make every agent learn", default="hedge"),
    o.PRIOR, o.AGENTS, o.ITEMS.with_(default=20),
    Option("rounds", d.whole(1), "rounds of play", default=1000),
    o.INSTANCES_PER_STEP.with_(name="instances_per_round", flag="--instances-per-step", default=1,
                               help="instances allocated per round of play (a model step)"),
    o.STRATEGIES.with_(name="others", flag="--others", help="strategy of the agents that do not learn"),
    o.SEED, o.CONFIDENCE.with_(default=0.99)), "repeated play: what learning agents come to report under a mechanism")


@LEARN.checked
def learn(mechanism="round-robin", learner="hedge", prior="uniform", n_agents: int = 2, n_items: int = 20,
          rounds: int = 1000, instances_per_round: int = 1, others="truthful", seed: int = 0,
          mechanism_params: dict | None = None, confidence: float = 0.99, progress=None, seat: int = 0) -> LearningRun:
    """Agent ``seat`` (0 by default) plays ``learner`` (a name, text spec or instance; ``"all:..."``
    makes every agent learn) against ``others``; returns the per-round rows and the summary."""
    everyone = isinstance(learner, str) and learner.startswith("all:")
    spec = learner[4:] if everyone else learner

    def make():
        s = strategy_registry.parse(spec) if isinstance(spec, str) else spec
        if not isinstance(s, strategy_registry.Learner):
            raise TfdError(f"{s!r} is not a learner; accepted: hedge, exp3 (e.g. 'hedge' or 'exp3(gamma=0.1)')")
        return s

    whole(seat, "the learner's seat (an agent index)", 0, n_agents - 1)
    plays = [make() if (everyone or i == seat) else others for i in range(n_agents)]
    # one tidy row per (round, agent), about 1 KB each in a list of dicts
    check_fits(1000.0 * rounds * n_agents, f"{rounds} rounds of {n_agents} agents", "use fewer --rounds")
    model = AllocationModel(mechanism=mechanism, prior=prior, n_agents=n_agents, n_items=n_items, strategies=plays,
                            instances_per_step=instances_per_round, mechanism_params=mechanism_params, rng=seed,
                            keep_rows=False)
    for _ in range(rounds):
        model.step()
        if progress is not None:
            progress(1)
    frame = rounds_frame(model)
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
        learners[str(b.index)]["expresses"] = getattr(b.strategy, "expresses", "")
        if hasattr(b.strategy, "theta"):
            learners[str(b.index)]["parameters"] = b.strategy.theta.tolist()
        if not everyone:
            learners[str(b.index)]["best_response"] = share_of_best(model, b, seed)
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


def rounds_frame(model: AllocationModel) -> pd.DataFrame:
    """One row per (round, agent) from the model's Mesa DataCollector: the agent's mean utility,
    truthful utility and gain, its smallest and largest gain on one instance, the round's welfare
    ratio and EF rate, and for a learner its regret and the strategy it plays most."""
    dc = model.datacollector
    agents = dc.get_agent_vars_dataframe().reset_index()
    rounds = dc.get_model_vars_dataframe()[["welfare_ratio", "ef_rate"]]
    rounds.index = np.arange(1, len(rounds) + 1)  # one collection per step, steps 1, 2, ...
    kinds = {b.index: type(b.strategy).__name__ for b in model.bidders}
    frame = pd.DataFrame({
        "round": agents["Step"].to_numpy().astype(np.int64), "agent": agents["agent"].to_numpy(),
        "strategy": agents["agent"].map(kinds).to_numpy(), "utility": agents["mean_utility"].to_numpy(),
        "truthful_utility": agents["mean_truthful_utility"].to_numpy(), "gain": agents["mean_gain"].to_numpy(),
        "max_instance_gain": agents["max_gain"].to_numpy(), "min_instance_gain": agents["min_gain"].to_numpy(),
    })
    frame["welfare_ratio"] = rounds["welfare_ratio"].reindex(frame["round"]).to_numpy()
    frame["ef_rate"] = rounds["ef_rate"].reindex(frame["round"]).to_numpy()
    if agents["regret"].notna().any():  # learners' columns, empty for the others
        for column in ("regret", "top_strategy", "top_probability"):
            frame[column] = agents[column].to_numpy()
    return frame.sort_values(["round", "agent"], kind="stable").reset_index(drop=True)


def frozen_gain(strategy, mechanism, prior, values, agent: int, truth, rng) -> np.ndarray:
    """Per-profile gain over the truth ``truth (P,)`` of ``strategy``, as it stands, in ``agent``'s
    seat of ``values (P, n, m)``, the others truthful (it sees their reports if clairvoyant)."""
    from abm.mechanisms.base import allocation
    from abm.metrics import utilities

    ctx = strategy_registry.BidContext(agent=agent, n_agents=values.shape[1], rng=rng, prior=prior,
                                       mechanism=mechanism, others_bids=np.delete(values, agent, axis=1)
                                       if strategy.classifier.get("clairvoyant") else None)
    bids = values.copy()
    bids[:, agent, :] = strategy.bid(values[:, agent, :], ctx)
    return utilities(values, allocation(mechanism, bids))[:, agent] - truth


def share_of_best(model: AllocationModel, bidder, seed: int) -> dict:
    """The trained learner (frozen) against the exact ex-post best response, the others truthful,
    on fresh profiles: the share of the best response's mean gain it reaches. Only where an exact
    best response exists: a structural oracle bound to the rule, or the solver at small m."""
    from abm.audit.trust import basis
    from abm.mechanisms.base import allocation
    from abm.metrics import utilities

    mech, i = model.mechanism, bidder.index
    proof = basis(mech)
    if proof.oracle != "verified":
        return {"available": False, "why": f"no exact best response: {proof.note}"}
    rng = np.random.default_rng([seed, 7, i])
    values = model.prior.sample(rng, model.n_agents, model.n_items, batch=SHARE_PROFILES)
    probe = mech.best_response(values[:2, i, :], values[:2], i)
    if probe is None:
        return {"available": False, "why": "the mechanism has no best-response oracle"}
    if probe.kind == "solver" and model.n_items > SHARE_SOLVER_ITEMS:
        return {"available": False, "why": f"the exact best response needs the solver, not run after training "
                                           f"above m = {SHARE_SOLVER_ITEMS}"}
    br = mech.best_response(values[:, i, :], values, i)
    if not np.all(br.proven):
        return {"available": False, "why": "the solver did not prove every profile"}
    truth = utilities(values, allocation(mech, values))[:, i]
    gain = frozen_gain(bidder.strategy, mech, model.prior, values, i, truth, rng)
    best = np.asarray(br.value) - truth
    out = {"available": True, "profiles": SHARE_PROFILES, "method": br.method, "best_gain": float(best.mean()),
           "learner_gain": float(gain.mean())}
    out["share"] = float(gain.mean() / best.mean()) if best.mean() > 0 else None
    return out
