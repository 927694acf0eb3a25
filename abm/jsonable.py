"""JSON for results: numpy arrays and scalars become lists and numbers, NaN becomes null.

A library module (the audit's report writer and the CLI both use it), so no library code
imports the command layer.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["to_jsonable"]


def to_jsonable(obj):
    """Numpy arrays and scalars to lists and floats (NaN becomes null)."""
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_results(out, frames: dict, summary: dict, plot=None) -> dict:
    """Write ``frames`` (name -> DataFrame) as Parquet, ``summary.json`` and ``plot(path)`` (a
    PNG) into folder ``out``; returns the summary with where it was written."""
    from pathlib import Path

    from abm import files

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        files.write_frame(frame, out / f"{name}.parquet")
    files.write_json(out / "summary.json", to_jsonable(summary))
    if plot is not None:
        plot(out)
    return {**summary, "written": str(out)}

