"""Run a simulation through the Mesa model and shape its output (used by ``tfd simulate``)."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from abm import __version__
from abm.errors import TfdError
from abm import options as o
from abm.declare import Entry
from abm.metrics import Estimate
from abm.model import AllocationModel, default_batch

__all__ = ["simulate", "SimulationResult", "RowWriter", "SIMULATE"]

#: the declared parameters of :func:`simulate` (and of ``tfd simulate``)
SIMULATE = Entry("simulate", (o.MECHANISM, o.PRIOR, o.AGENTS, o.ITEMS, o.INSTANCES, o.SEED, o.STRATEGIES,
                              o.INSTANCES_PER_STEP, o.CONFIDENCE),
                 "simulate a mechanism on random instances through the Mesa model")


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` measured, scipy.stats' way: the welfare ratio E[sw]/E[opt] and the
    EF, EF1 and PROP rates as :class:`abm.metrics.Estimate` at ``confidence``, each agent's mean
    gain over truthful play, the Mesa ``model`` (its frames hold the tidy rows) and
    :meth:`to_dict` for the JSON ``tfd simulate`` prints."""

    model: AllocationModel = field(repr=False)
    confidence: float = 0.95

    @functools.cached_property
    def _estimates(self) -> dict:
        return self.model.recorder.estimates(self.confidence)

    @property
    def welfare_ratio(self) -> Estimate:
        return self._estimates["welfare_ratio"]

    @property
    def ef_rate(self) -> Estimate:
        return self._estimates["ef"]

    @property
    def ef1_rate(self) -> Estimate:
        return self._estimates["ef1"]

    @property
    def prop_rate(self) -> Estimate:
        return self._estimates["prop"]

    @functools.cached_property
    def agent_gains(self) -> list:
        """Each agent's mean gain over truthful play, with its interval."""
        return self.model.recorder.agent_gains(self.confidence)

    @property
    def instances(self) -> int:
        return self.welfare_ratio.n

    def at(self, confidence: float) -> "SimulationResult":
        """The same run with its intervals at another confidence level."""
        return SimulationResult(self.model, o.CONFIDENCE.check(confidence))

    def to_dict(self) -> dict:
        """JSON-ready data: the keys ``tfd simulate --json`` prints (its parameters, the estimates
        with their intervals, each agent's means)."""
        return self.model.summary(self.confidence)


@SIMULATE.checked
def simulate(mechanism="pick-r", prior="uniform", n_agents=2, n_items=1000, instances=1000, seed=0,
             strategies="truthful", mechanism_params=None, instances_per_step=None, progress=None,
             keep_rows=True, sink=None, confidence=0.95) -> SimulationResult:
    """Simulate ``instances`` instances through the Mesa model; the result's estimates are at
    ``confidence``. ``keep_rows=False`` keeps only the running sums (no per-instance frames);
    ``sink`` receives each step's rows."""
    if instances_per_step is None:
        instances_per_step = default_batch(n_agents, n_items, instances) if isinstance(instances, int) else 1
    model = AllocationModel(mechanism=mechanism, prior=prior, n_agents=n_agents, n_items=n_items,
                            strategies=strategies, instances_per_step=instances_per_step,
                            mechanism_params=mechanism_params, rng=seed, keep_rows=keep_rows, sink=sink)
    model.run(instances, progress=progress)
    return SimulationResult(model, confidence)


class RowWriter:
    """Streams tidy rows, step by step, to a .csv or .parquet file: written under a temporary
    name beside the target and renamed by :meth:`close`, so a failed run leaves no file and
    memory holds one step's rows at a time. Parquet keeps ``metadata`` (JSON, key ``tfd``)."""

    def __init__(self, path, metadata: dict | None = None, constants: dict | None = None):
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in (".csv", ".parquet"):
            raise TfdError(f"--out must end in .csv or .parquet, got {str(self.path)!r}")
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.metadata = {"version": __version__, **(metadata or {})}
        self.constants = dict(constants or {})  # columns with one value for every row (e.g. the seed)
        self._writer = None
        self._csv = None
        self.rows = 0

    def write(self, columns: dict) -> None:
        from abm.files import naming

        with naming(self.path):
            self._write(columns)

    def _write(self, columns: dict) -> None:
        frame = pd.DataFrame(columns)
        for k, v in self.constants.items():
            frame[k] = v
        if self.suffix == ".csv":
            if self._csv is None:
                self._csv = open(self.tmp, "w", newline="")
                frame.to_csv(self._csv, index=False)
            else:
                frame.to_csv(self._csv, index=False, header=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._writer is None:
                meta = dict(table.schema.metadata or {})
                meta[b"tfd"] = json.dumps(self.metadata, default=str).encode()
                self._schema = table.schema.with_metadata(meta)
                self._writer = pq.ParquetWriter(self.tmp, self._schema)
            self._writer.write_table(table.cast(self._schema))
        self.rows += len(frame)

    def close(self) -> Path:
        from abm.files import naming

        with naming(self.path):
            return self._close()

    def _close(self) -> Path:
        if self._csv is not None:
            self._csv.close()
        if self._writer is not None:
            self._writer.close()
        if not self.tmp.exists():  # nothing was written: an empty file with no rows
            pd.DataFrame().to_csv(self.tmp, index=False) if self.suffix == ".csv" else pd.DataFrame().to_parquet(self.tmp)
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        for handle in (self._csv, self._writer):
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # noqa: BLE001 - cleaning up after a failure already being reported
                pass
        self.tmp.unlink(missing_ok=True)
