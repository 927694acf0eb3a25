"""The Mesa model: each step is one round of the mechanism scheduler.

A step draws a batch of instances from the prior with ``model.rng``, lets every
:class:`~abm.agents.Bidder` observe its private values and report bids through its
strategy, allocates with the mechanism, and records welfare, fairness and each
agent's gain from deviating (its utility minus what it would have got by bidding
truthfully against the same bids of the others).
"""

from __future__ import annotations

import copy

import mesa
import numpy as np
import pandas as pd

import strategies as strategy_registry
from abm import mechanisms
from abm.agents import Bidder
from abm.sizes import check_step
from abm.errors import TfdError
from abm.mechanisms.base import allocation
from abm.metrics import (RunningMoments, evaluate, mean_from_moments, rate_from_count, ratio_from_moments,
                         utilities, utility_of_reports)
from abm.priors import parse_prior

__all__ = ["AllocationModel", "default_batch"]


def _positive_int(value, label: str) -> int:
    from abm.spec import whole

    return whole(value, label)


class AllocationModel(mesa.Model):
    """Agents with private values bid; the mechanism allocates; metrics are collected.

    Parameters
    ----------
    mechanism : name or :class:`~abm.mechanisms.Mechanism` (default ``"pick-r"``)
    mechanism_params : parameters for a named mechanism, e.g. ``{"r": [0.3, 0.7]}``
    prior : spec or :class:`~abm.priors.Prior` (default ``"uniform"``)
    n_agents, n_items : sizes of each instance
    strategies : one strategy (name or instance) for everyone, or one per agent
    instances_per_step : instances allocated per step (a vectorized batch)
    rng : seed or Generator, as for :class:`mesa.Model` (so ``mesa.batch_run`` works)
    """

    def __init__(
        self,
        mechanism="pick-r",
        prior="uniform",
        n_agents: int = 2,
        n_items: int = 100,
        strategies="truthful",
        instances_per_step: int = 1,
        mechanism_params: dict | None = None,
        rng=None,
        keep_rows: bool = True,
        sink=None,
        keep_instance: bool = False,
    ):
        super().__init__(rng=rng)
        #: keep every row in memory (instance_frame, agent_frame); False keeps only the running
        #: sums behind summary(), so memory does not grow with the number of instances
        self.keep_rows = bool(keep_rows)
        #: called after each step with that step's tidy columns (tfd simulate streams them to disk)
        self.sink = sink
        #: keep a copy of each step's first instance (values, bids, owner) in ``self.instance``, for
        #: pictures of one allocation (tfd explore); off by default: at large m it is a second value matrix
        self.keep_instance = bool(keep_instance)
        self.instance: dict | None = None
        self.n_agents = _positive_int(n_agents, "number of agents")
        self.n_items = _positive_int(n_items, "number of items")
        self.instances_per_step = _positive_int(instances_per_step, "instances per step")
        self.prior = parse_prior(prior)
        self.prior.check_agents(self.n_agents)
        check_step(self.n_agents, self.n_items, self.instances_per_step,
                   "use fewer items or agents, or fewer instances per step (--batch)")
        if isinstance(mechanism, mechanisms.Mechanism):
            self.mechanism = mechanism
        else:
            self.mechanism = mechanisms.get(mechanism, prior=self.prior, **(mechanism_params or {}))
        self.mechanism.check_agents(self.n_agents)

        if isinstance(strategies, (str, strategy_registry.Strategy)):
            strategies = [strategies] * self.n_agents
        strategies = list(strategies)
        if len(strategies) != self.n_agents:
            raise TfdError(f"got {len(strategies)} strategies for {self.n_agents} agents; give one, or one per agent")
        chosen = [strategy_registry.parse(s) if isinstance(s, str) else strategy_registry.get(s) for s in strategies]
        seen = set()
        for k, s in enumerate(chosen):
            if id(s) in seen and isinstance(s, strategy_registry.Learner):
                chosen[k] = copy.deepcopy(s)  # one learner object given twice: each agent learns on its own
            seen.add(id(chosen[k]))
        if sum(bool(s.classifier.get("clairvoyant")) for s in chosen) > 1:
            raise TfdError("at most one agent may play a clairvoyant strategy (one that reads the others' reports): "
                           "two would each need the other's report first")
        self.bidders: list[Bidder] = [Bidder(self, index=i, strategy=s) for i, s in enumerate(chosen)]

        self._next_batch: int | None = None
        self._instances: list[dict] = []
        self._agent_rows: list[dict] = []
        self._welfare_moments = RunningMoments(2)  # (welfare, optimal welfare) per instance
        self._counts = {"ef": 0, "ef1": 0, "prop": 0}
        self._agent_moments = [RunningMoments(3) for _ in range(self.n_agents)]  # utility, gain, items
        self.instances_done = 0
        self.last: dict = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "instances": lambda m: m.last["instances"],
                "mean_welfare": lambda m: m.last["mean_welfare"],
                "mean_optimal_welfare": lambda m: m.last["mean_optimal_welfare"],
                "welfare_ratio": lambda m: m.last["welfare_ratio"],
                "ef_rate": lambda m: m.last["ef_rate"],
                "ef1_rate": lambda m: m.last["ef1_rate"],
                "prop_rate": lambda m: m.last["prop_rate"],
            },
            agent_reporters={
                "strategy": lambda a: a.label,
                "mean_utility": lambda a: float(a.utility.mean()),
                "mean_truthful_utility": lambda a: float(a.truthful_utility.mean()),
                "mean_gain": lambda a: float(a.gain.mean()),
                "mean_items": lambda a: float(a.items.mean()),
            },
        )

    # -- the mechanism scheduler ---------------------------------------------------
    def step(self) -> None:
        # Mesa wraps step() and passes no arguments: run() sets a smaller last batch here.
        batch = self._next_batch or self.instances_per_step
        values = self.prior.sample(self.rng, self.n_agents, self.n_items, batch=batch)
        self.agents.do("observe", values)
        # The scheduler collects ordinary reports first; clairvoyant agents then see the others'.
        # When everyone tells the truth the reports are the values: no copy (memory at large m).
        everyone_truthful = all(b.strategy.is_truthful for b in self.bidders)
        bids = values if everyone_truthful else np.empty(values.shape)
        for b in self.bidders:
            if everyone_truthful:
                b.bids = values[..., b.index, :]  # a view: n reports need no n copies
            elif not b.clairvoyant:
                bids[..., b.index, :] = b.report()
        for b in self.bidders:
            if b.clairvoyant:
                bids[..., b.index, :] = b.report(np.delete(bids, b.index, axis=-2))
        owner = allocation(self.mechanism, bids)
        if self.keep_instance:
            first = lambda a: a.reshape(-1, *a.shape[-2:])[0].copy()  # noqa: E731
            self.instance = {"values": first(values), "bids": first(bids),
                             "owner": owner.reshape(-1, self.n_items)[0].copy()}
        result = evaluate(values, owner)
        utility = result["utilities"]
        truthful = utility.copy()
        for b in self.bidders:
            if not b.strategy.is_truthful:  # what b would have got by telling the truth
                lie = bids[..., b.index, :].copy()  # swap one row in place: no second (n, m) copy
                bids[..., b.index, :] = values[..., b.index, :]
                try:
                    honest_owner = allocation(self.mechanism, bids)
                finally:
                    bids[..., b.index, :] = lie
                # the same bundle is the same utility, bit for bit: a gain is exactly 0 there,
                # not a rounding difference between two ways of summing
                same = ((honest_owner == b.index) == (owner == b.index)).all(axis=-1)
                truthful[..., b.index] = np.where(same, utility[..., b.index],
                                                  utilities(values, honest_owner)[..., b.index])
        items = np.stack([(owner == i).sum(axis=-1) for i in range(self.n_agents)], axis=-1)
        for b in self.bidders:
            b.receive(utility[..., b.index], truthful[..., b.index], items[..., b.index])
        for b in self.bidders:
            if isinstance(b.strategy, strategy_registry.Learner):
                self._teach(b, values, bids)
        self._record(result, utility, truthful, items, batch)
        self.datacollector.collect(self)

    def _teach(self, bidder, values, bids) -> None:
        """Tell a learner what each strategy of its menu would have earned this round against the
        others' actual reports (one vectorized allocation for the whole menu), as rewards in
        [0, 1]: utility over the agent's total value in that instance."""
        learner, i = bidder.strategy, bidder.index
        own = values[..., i, :].reshape(-1, self.n_items)
        others = np.delete(bids.reshape(-1, self.n_agents, self.n_items), i, axis=-2)
        context = strategy_registry.BidContext(agent=i, n_agents=self.n_agents, rng=self.rng, prior=self.prior,
                                               mechanism=self.mechanism,
                                               others_bids=others if bidder.clairvoyant else None)
        reports = learner.candidates(own, context)  # (B, C, m)
        won = utility_of_reports(self.mechanism, own, bids.reshape(-1, self.n_agents, self.n_items), i, reports)
        rewards = won / np.maximum(own.sum(axis=-1, keepdims=True), np.finfo(float).tiny)
        learner.update(rewards, np.asarray(learner.last_arms).reshape(-1))

    def _record(self, result, utility, truthful, items, batch):
        first = self.instances_done
        self.instances_done += batch
        ids = np.arange(first, first + batch)
        self._welfare_moments.add(np.stack([result["welfare"], result["optimal_welfare"]], axis=-1))
        for key in self._counts:
            self._counts[key] += int(np.count_nonzero(result[key]))
        for b in self.bidders:
            self._agent_moments[b.index].add(np.stack(
                [utility[..., b.index], utility[..., b.index] - truthful[..., b.index], items[..., b.index]], axis=-1))
        if not (self.keep_rows or self.sink is not None):
            self._last(result, batch)
            return
        instance_rows = [{
            "step": np.full(batch, self.steps),
            "instance": ids,
            "welfare": result["welfare"],
            "optimal_welfare": result["optimal_welfare"],
            "ef": result["ef"],
            "ef1": result["ef1"],
            "prop": result["prop"],
        }]
        agent_rows = []
        for b in self.bidders:
            agent_rows.append({
                "step": np.full(batch, self.steps),
                "instance": ids,
                "agent": np.full(batch, b.index),
                "strategy": np.full(batch, b.label, dtype=object),
                "utility": utility[..., b.index],
                "truthful_utility": truthful[..., b.index],
                "gain": utility[..., b.index] - truthful[..., b.index],
                "items": items[..., b.index],
            })
        if self.keep_rows:
            self._instances += instance_rows
            self._agent_rows += agent_rows
        if self.sink is not None:
            self.sink(self._tidy(instance_rows, agent_rows))
        self._last(result, batch)

    def _last(self, result, batch) -> None:
        self.last = {
            "instances": batch,
            "mean_welfare": float(result["welfare"].mean()),
            "mean_optimal_welfare": float(result["optimal_welfare"].mean()),
            "welfare_ratio": float(result["welfare"].sum() / result["optimal_welfare"].sum()),
            "ef_rate": float(result["ef"].mean()),
            "ef1_rate": float(result["ef1"].mean()),
            "prop_rate": float(result["prop"].mean()),
        }

    def run(self, instances: int, progress=None) -> None:
        """Allocate ``instances`` instances in steps of ``instances_per_step``.

        ``progress`` is an optional callable receiving the number of instances done per step.
        """
        remaining = _positive_int(instances, "number of instances")
        while remaining:
            batch = min(self.instances_per_step, remaining)
            self._next_batch = batch
            try:
                self.step()
            finally:
                self._next_batch = None
            remaining -= batch
            if progress is not None:
                progress(batch)

    # -- tidy output ---------------------------------------------------------------
    @property
    def parameters(self) -> dict:
        """Every parameter of the run, as columns for tidy output."""
        return {
            "mechanism": self.mechanism.name,
            "mechanism_params": repr(self.mechanism.params),
            "prior": self.prior.spec,
            "n_agents": self.n_agents,
            "n_items": self.n_items,
        }

    def instance_frame(self) -> pd.DataFrame:
        """One row per instance, every parameter a column."""
        return self._frame(self._instances)

    def agent_frame(self) -> pd.DataFrame:
        """One row per (instance, agent): utility, truthful utility, gain, items received."""
        return self._frame(self._agent_rows)

    def tidy_columns(self, extra: dict | None = None) -> dict:
        """Columns of one row per (instance, agent): the agent's outcome beside its instance's
        metrics and every parameter, as arrays (cheap to build; one DataFrame call away)."""
        if not self._agent_rows:
            raise TfdError("no rows were kept: build the model with keep_rows=True (the default) to get frames")
        return self._tidy(self._instances, self._agent_rows, extra)

    def _tidy(self, instance_chunks, agent_chunks, extra: dict | None = None) -> dict:
        n = self.n_agents
        agents = {k: np.concatenate([c[k] for c in agent_chunks]) for k in agent_chunks[0]}
        per_instance = {k: np.concatenate([np.tile(c[k], n) for c in instance_chunks])
                        for k in ("welfare", "optimal_welfare", "ef", "ef1", "prop")}
        cols = {**agents, **per_instance}
        size = cols["instance"].size
        for k, v in {**self.parameters, **(extra or {})}.items():
            cols[k] = np.full(size, v, dtype=object if isinstance(v, str) else None)
        return cols

    def _frame(self, chunks) -> pd.DataFrame:
        if not chunks:
            return pd.DataFrame()
        cols = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        frame = pd.DataFrame(cols)
        for k, v in self.parameters.items():
            frame[k] = v
        return frame

    def summary(self, confidence: float = 0.95) -> dict:
        """Aggregates over every instance so far, from running sums (no stored rows needed):
        the ratio of expectations and the EF rates with intervals, and each agent's means."""
        moments = self._welfare_moments
        ratio = ratio_from_moments(moments, confidence, upper=1.0)  # sw <= optimum
        out = {
            **self.parameters,
            "mechanism_params": self.mechanism.params,
            "instances": int(moments.n),
            "welfare_ratio": ratio.value,
            "welfare_ratio_ci": [ratio.ci_low, ratio.ci_high],
            "mean_welfare": float(moments.mean[0]),
            "mean_optimal_welfare": float(moments.mean[1]),
        }
        for key, count in self._counts.items():
            est = rate_from_count(count, moments.n, confidence)
            out[f"{key}_rate"] = est.value
            out[f"{key}_rate_ci"] = [est.ci_low, est.ci_high]
        out["agents"] = []
        for b in self.bidders:
            m = self._agent_moments[b.index]
            gain = mean_from_moments(m, 1, confidence)
            out["agents"].append({"agent": b.index, "strategy": b.label, "mean_utility": float(m.mean[0]),
                                  "mean_gain": float(m.mean[1]), "mean_gain_ci": [gain.ci_low, gain.ci_high],
                                  "mean_items": float(m.mean[2])})
        out["confidence"] = confidence
        return out


def default_batch(n_agents: int, n_items: int, instances: int, budget: int = 2_000_000) -> int:
    """Instances per step so one step's value matrix holds about ``budget`` numbers."""
    return max(1, min(instances, budget // max(1, n_agents * n_items)))

