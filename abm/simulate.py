"""Run a simulation through the Mesa model and shape its output (used by ``tfd simulate``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from abm import __version__
from abm.errors import TfdError
from abm.model import AllocationModel, default_batch

__all__ = ["simulate", "tidy_rows", "write_rows"]


def simulate(mechanism="pick-r", prior="uniform", n_agents=2, n_items=1000, instances=1000, seed=0,
             strategies="truthful", mechanism_params=None, instances_per_step=None, progress=None) -> AllocationModel:
    """Simulate ``instances`` instances and return the model (its frames and summary hold the results)."""
    if instances_per_step is None:
        instances_per_step = default_batch(n_agents, n_items, instances) if isinstance(instances, int) else 1
    model = AllocationModel(mechanism=mechanism, prior=prior, n_agents=n_agents, n_items=n_items,
                            strategies=strategies, instances_per_step=instances_per_step,
                            mechanism_params=mechanism_params, rng=seed)
    model.run(instances, progress=progress)
    return model


def tidy_rows(model: AllocationModel, seed) -> pd.DataFrame:
    """One row per (instance, agent): the agent's outcome beside its instance's metrics and every parameter."""
    return pd.DataFrame(model.tidy_columns({"seed": seed}))


def write_rows(frame: pd.DataFrame, path: str | Path, metadata: dict) -> Path:
    """Write ``frame`` as CSV or Parquet by the file's extension; Parquet keeps ``metadata``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise TfdError(f"--out must end in .csv or .parquet, got {str(path)!r}")
    if path.parent and not path.parent.exists():
        raise TfdError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"tfd"] = json.dumps({"version": __version__, **metadata}, default=str).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
    return path
