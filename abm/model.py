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
from abm.metrics import evaluate, truthful_utilities
from abm.recorder import Recorder
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
        # keep_rows: keep every row in memory (instance_frame, agent_frame); False keeps only the
        # running sums behind summary(). sink: called after each step with that step's tidy columns
        # (tfd simulate streams them to disk). Both belong to the recorder.
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
                   "use fewer items or agents, or fewer instances per step (--instances-per-step)")
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
        self.values: np.ndarray | None = None  # this step's draw, (batch, n, m)
        self.bids: np.ndarray | None = None  # this step's reports; the agents write their rows
        #: one recorder owns the rows, the streaming sink and the running moments behind summary()
        self.recorder = Recorder(self.n_agents, [b.label for b in self.bidders], lambda: self.parameters,
                                 keep_rows=keep_rows, sink=sink)
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
                "agent": "index",
                "strategy": lambda a: a.label,
                "mean_utility": lambda a: float(a.utility.mean()),
                "mean_truthful_utility": lambda a: float(a.truthful_utility.mean()),
                "mean_gain": lambda a: float(a.gain.mean()),
                "min_gain": lambda a: float(a.gain.min()),
                "max_gain": lambda a: float(a.gain.max()),
                "mean_items": lambda a: float(a.items.mean()),
                # a learner's state after the round (None for the others): what tfd learn tabulates
                "regret": lambda a: a.strategy.regret() if a.learns and a.strategy.menu else None,
                "top_strategy": lambda a: a.top_strategy(),
                "top_probability": lambda a: float(a.strategy.distribution().max())
                if a.learns and a.strategy.menu else None,
            },
        )

    @property
    def last(self) -> dict:
        """The latest step's means (what the DataCollector's model reporters read)."""
        return self.recorder.last

    @property
    def instances_done(self) -> int:
        return self.recorder.instances_done

    # -- the mechanism scheduler ---------------------------------------------------
    def step(self) -> None:
        # Mesa wraps step() and passes no arguments: run() sets a smaller last batch here.
        batch = self._next_batch or self.instances_per_step
        values = self.values = self.prior.sample(self.rng, self.n_agents, self.n_items, batch=batch)
        self.agents.do("observe", values)
        # When everyone tells the truth the reports are the values: no copy (memory at large m).
        everyone_truthful = all(b.strategy.is_truthful for b in self.bidders)
        bids = self.bids = values if everyone_truthful else np.empty(values.shape)
        # The scheduler collects ordinary reports first; clairvoyant agents then see the others'.
        self.agents.select(lambda a: not a.clairvoyant).do("step")
        self.agents.select(lambda a: a.clairvoyant).do("step")
        owner = allocation(self.mechanism, bids)
        if self.keep_instance:
            first = lambda a: a.reshape(-1, *a.shape[-2:])[0].copy()  # noqa: E731
            self.instance = {"values": first(values), "bids": first(bids),
                             "owner": owner.reshape(-1, self.n_items)[0].copy()}
        result = evaluate(values, owner)
        utility = result["utilities"]
        truthful = truthful_utilities(self.mechanism, values, bids, owner, utility,
                                      [b.index for b in self.bidders if not b.strategy.is_truthful])
        items = np.stack([(owner == i).sum(axis=-1) for i in range(self.n_agents)], axis=-1)
        for b in self.bidders:
            b.receive(utility[..., b.index], truthful[..., b.index], items[..., b.index])
        self.agents.select(lambda a: a.learns).do("learn", values, bids)
        self.recorder.add(self.steps, result, utility, truthful, items)
        self.datacollector.collect(self)
        self.values = self.bids = None  # a step's matrices are not kept (memory at large m)

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
        return self.recorder.instance_frame()

    def agent_frame(self) -> pd.DataFrame:
        """One row per (instance, agent): utility, truthful utility, gain, items received."""
        return self.recorder.agent_frame()

    def tidy_columns(self, extra: dict | None = None) -> dict:
        """Columns of one row per (instance, agent): the agent's outcome beside its instance's
        metrics and every parameter, as arrays (cheap to build; one DataFrame call away)."""
        return self.recorder.tidy_columns(extra)

    def summary(self, confidence: float = 0.95) -> dict:
        """Aggregates over every instance so far (:meth:`abm.recorder.Recorder.summary`), with the
        run's parameters."""
        return {**self.parameters, "mechanism_params": self.mechanism.params, **self.recorder.summary(confidence)}


def default_batch(n_agents: int, n_items: int, instances: int, budget: int = 2_000_000) -> int:
    """Instances per step so one step's value matrix holds about ``budget`` numbers."""
    return max(1, min(instances, budget // max(1, n_agents * n_items)))

