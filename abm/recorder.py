"""The one recorder of an :class:`~abm.model.AllocationModel`: everything a step leaves behind.

Each step hands it the instances' metrics and every agent's utility, truthful utility and
items. It keeps, in one place:

* the running moments behind :meth:`summary` (so memory does not grow with the instances);
* the tidy rows, when asked to keep them (:meth:`instance_frame`, :meth:`agent_frame`);
* the streaming sink (``tfd simulate --out`` writes each step's rows as they come);
* ``last``: the latest step's means, which the model's Mesa ``DataCollector`` reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from abm.errors import TfdError
from abm.metrics import RunningMoments, mean_from_moments, rate_from_count, ratio_from_moments

__all__ = ["Recorder"]

FAIRNESS = ("ef", "ef1", "prop")


class Recorder:
    """What an allocation model records: ``parameters`` (a callable giving the run's parameters as
    columns), ``labels`` (each agent's strategy text), ``keep_rows`` and ``sink`` as in the model."""

    def __init__(self, n_agents: int, labels: list[str], parameters, keep_rows: bool = True, sink=None):
        self.n_agents = n_agents
        self.labels = labels
        self.parameters = parameters
        self.keep_rows = bool(keep_rows)
        self.sink = sink
        self.instances_done = 0
        self.last: dict = {}
        self._instances: list[dict] = []
        self._agent_rows: list[dict] = []
        self._welfare = RunningMoments(2)  # (welfare, optimal welfare) per instance
        self._counts = {key: 0 for key in FAIRNESS}
        self._agents = [RunningMoments(3) for _ in range(n_agents)]  # utility, gain, items

    def add(self, step: int, result: dict, utility, truthful, items) -> None:
        """One step's outcome: ``result`` from :func:`abm.metrics.evaluate`, and ``utility``,
        ``truthful`` and ``items`` of shape ``(batch, n)``."""
        batch = result["welfare"].size
        first = self.instances_done
        self.instances_done += batch
        self._welfare.add(np.stack([result["welfare"], result["optimal_welfare"]], axis=-1))
        for key in FAIRNESS:
            self._counts[key] += int(np.count_nonzero(result[key]))
        gain = utility - truthful
        for i in range(self.n_agents):
            self._agents[i].add(np.stack([utility[..., i], gain[..., i], items[..., i]], axis=-1))
        self._latest(result, batch)
        if not (self.keep_rows or self.sink is not None):
            return
        ids = np.arange(first, first + batch)
        steps = np.full(batch, step)
        instance_rows = [{"step": steps, "instance": ids, "welfare": result["welfare"],
                          "optimal_welfare": result["optimal_welfare"], **{k: result[k] for k in FAIRNESS}}]
        agent_rows = [{"step": steps, "instance": ids, "agent": np.full(batch, i),
                       "strategy": np.full(batch, self.labels[i], dtype=object), "utility": utility[..., i],
                       "truthful_utility": truthful[..., i], "gain": gain[..., i], "items": items[..., i]}
                      for i in range(self.n_agents)]
        if self.keep_rows:
            self._instances += instance_rows
            self._agent_rows += agent_rows
        if self.sink is not None:
            self.sink(self._tidy(instance_rows, agent_rows))

    def _latest(self, result, batch) -> None:
        self.last = {
            "instances": batch,
            "mean_welfare": float(result["welfare"].mean()),
            "mean_optimal_welfare": float(result["optimal_welfare"].mean()),
            "welfare_ratio": float(result["welfare"].sum() / result["optimal_welfare"].sum()),
            **{f"{k}_rate": float(result[k].mean()) for k in FAIRNESS},
        }

    # -- tidy output ---------------------------------------------------------------
    def instance_frame(self) -> pd.DataFrame:
        return self._frame(self._instances)

    def agent_frame(self) -> pd.DataFrame:
        return self._frame(self._agent_rows)

    def tidy_columns(self, extra: dict | None = None) -> dict:
        if not self._agent_rows:
            raise TfdError("no rows were kept: build the model with keep_rows=True (the default) to get frames")
        return self._tidy(self._instances, self._agent_rows, extra)

    def _tidy(self, instance_chunks, agent_chunks, extra: dict | None = None) -> dict:
        n = self.n_agents
        agents = {k: np.concatenate([c[k] for c in agent_chunks]) for k in agent_chunks[0]}
        per_instance = {k: np.concatenate([np.tile(c[k], n) for c in instance_chunks])
                        for k in ("welfare", "optimal_welfare", *FAIRNESS)}
        cols = {**agents, **per_instance}
        size = cols["instance"].size
        for k, v in {**self.parameters(), **(extra or {})}.items():
            cols[k] = np.full(size, v, dtype=object if isinstance(v, str) else None)
        return cols

    def _frame(self, chunks) -> pd.DataFrame:
        if not chunks:
            return pd.DataFrame()
        frame = pd.DataFrame({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]})
        for k, v in self.parameters().items():
            frame[k] = v
        return frame

    def estimates(self, confidence: float = 0.95) -> dict:
        """The welfare ratio E[sw]/E[opt] (delta-method interval, capped at 1) and each fairness
        rate (Clopper-Pearson), as :class:`abm.metrics.Estimate`, keyed welfare_ratio, ef, ef1, prop."""
        out = {"welfare_ratio": ratio_from_moments(self._welfare, confidence, upper=1.0)}  # sw <= optimum
        for key, count in self._counts.items():
            out[key] = rate_from_count(count, self._welfare.n, confidence)
        return out

    def agent_gains(self, confidence: float = 0.95) -> list:
        """Each agent's mean gain over truthful play, as an :class:`abm.metrics.Estimate`."""
        return [mean_from_moments(m, 1, confidence) for m in self._agents]

    def summary(self, confidence: float = 0.95) -> dict:
        """Aggregates over every instance so far, from the running sums: the ratio of expectations
        and the EF rates with intervals, and each agent's means."""
        found = self.estimates(confidence)
        ratio = found.pop("welfare_ratio")
        out = {"instances": int(self._welfare.n), "welfare_ratio": ratio.value,
               "welfare_ratio_ci": [ratio.ci_low, ratio.ci_high], "mean_welfare": float(self._welfare.mean[0]),
               "mean_optimal_welfare": float(self._welfare.mean[1])}
        for key, est in found.items():
            out[f"{key}_rate"] = est.value
            out[f"{key}_rate_ci"] = [est.ci_low, est.ci_high]
        out["agents"] = []
        for i, (m, gain) in enumerate(zip(self._agents, self.agent_gains(confidence))):
            out["agents"].append({"agent": i, "strategy": self.labels[i], "mean_utility": float(m.mean[0]),
                                  "mean_gain": float(m.mean[1]), "mean_gain_ci": [gain.ci_low, gain.ci_high],
                                  "mean_items": float(m.mean[2])})
        out["confidence"] = confidence
        return out
