"""Batch runs at scale: sweeps, reproducible per-run seeds, streaming Parquet, resume, Dask.

>>> from abm.batch import Sweep, run_sweep
>>> run_sweep(Sweep(mechanisms=[{"name": "ranking"}], items=[100, 1000]), "out", executor="processes")
>>> import pandas as pd; rows = pd.read_parquet("out/runs")
"""

from __future__ import annotations

from abm.batch.executors import EXECUTORS, execute
from abm.batch.run import run_chunk, run_rows, run_seed
from abm.batch.store import ResultStore, verified_parts
from abm.batch.sweep import Run, Sweep, SweepError, load_sweep

__all__ = ["EXECUTORS", "STOP_AFTER_VARIABLE", "ResultStore", "Run", "Sweep", "SweepError", "execute", "inspect", "load_sweep", "run_chunk",
           "run_rows", "run_seed", "run_sweep"]


#: Fault injection for tests (never set by users): ``K`` SIGKILLs the writer right after its K-th
#: part is recorded, ``K:pause`` stops it there holding the folder's lock. A crash or a second
#: writer then lands at a known place, not wherever a timer happened to fire.
STOP_AFTER_VARIABLE = "TFD_BATCH_STOP_AFTER"


def _stop_hook():
    """The writer's after-part hook from :data:`STOP_AFTER_VARIABLE` (a no-op when unset)."""
    import os

    text = os.environ.get(STOP_AFTER_VARIABLE, "")
    if not text:
        return lambda written: None
    count, _, how = text.partition(":")
    from abm.spec import whole_text

    # read as every integer from outside is, so a typo is a one-line refusal, not a crash
    k = whole_text(count, f"environment variable {STOP_AFTER_VARIABLE} (K or K:pause)", 1, error=SweepError)
    if how not in ("", "pause"):
        raise SweepError(f"environment variable {STOP_AFTER_VARIABLE} is K or K:pause, got {text!r}")

    def hook(written: int) -> None:
        if written != k:
            return
        import signal
        import sys
        import time

        if how == "pause":
            print(f"tfd batch: paused after {k} parts", file=sys.stderr, flush=True)
            while True:  # holds the lock until the test kills it
                time.sleep(3600)
        os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _chunks(runs, size):
    for start in range(0, len(runs), size):
        yield runs[start:start + size]


def run_sweep(sweep: Sweep, out, executor: str = "serial", workers: int = 2, scheduler: str | None = None,
              resume: bool = False, csv: bool = False, chunk_size: int | None = None, progress=None,
              connect_timeout: float = 10.0) -> dict:
    """Run every run of ``sweep`` not yet in ``out``, streaming each chunk's rows to disk.

    Returns counts: runs in the sweep, runs skipped (already on disk), runs executed.
    """
    from dataclasses import asdict

    runs = sweep.runs()
    default = max(1, min(200, len(runs) // (8 * max(workers, 1)) or 1))  # ~8 chunks per worker, <= 200 runs
    with ResultStore(out, sweep, chunk_size, csv=csv, resume=resume, default_chunk_size=default) as store:
        done = store.done()
        todo, skipped = [], 0
        for chunk in _chunks(runs, store.chunk_size):
            first, last = chunk[0].run, chunk[-1].run
            if store.part_name(first, last) in done:
                skipped += len(chunk)
                continue
            todo.append(([asdict(r) for r in chunk], sweep.seed))
        if progress is not None and skipped:
            progress(skipped)
        executed, written, after_part = 0, 0, _stop_hook()
        for (chunk, _), frame in execute(run_chunk, todo, executor, workers, scheduler, connect_timeout):
            store.write(chunk[0]["run"], chunk[-1]["run"], frame)
            executed += len(chunk)
            written += 1
            after_part(written)
            if progress is not None:
                progress(len(chunk))
    return {"runs": len(runs), "skipped": skipped, "executed": executed, "out": str(out),
            "rerun_damaged": list(store.damaged)}


def inspect(folder) -> dict:
    """Summarize a result folder: runs done of the total, rows, and the parameter values covered."""
    from pathlib import Path

    import pyarrow.dataset as ds

    folder = Path(folder)
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        raise SweepError(f"{str(folder)!r} is not a batch result folder (no metadata.json)")
    from abm import readers

    meta = readers.json_file(meta_path, "tfd batch metadata file", SweepError)
    if not isinstance(meta, dict):
        raise SweepError(f"{str(meta_path)!r} is not a JSON object, so it is not a tfd batch metadata file")
    parts, damaged = verified_parts(folder)
    out = {"folder": str(folder), "version": meta.get("version"), "seed": meta.get("seed"),
           "created": meta.get("created"), "runs_total": meta.get("runs"), "parts": len(parts), "damaged": damaged}
    if not parts:
        return {**out, "runs_done": 0, "rows": 0, "covered": {}}
    import pyarrow as pa

    columns = ["run", "mechanism", "prior", "n_agents", "n_items", "strategies"]
    try:
        table = ds.dataset([str(p) for p in parts], format="parquet").to_table(columns=columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SweepError(f"{str(folder)!r}: the manifest vouches for parts that are not the testbed's result "
                         f"tables ({first[:160]}); it is not a tfd batch result folder") from None
    frame = table.to_pandas()
    covered = {c: sorted(frame[c].unique().tolist()) for c in ("mechanism", "prior", "n_agents", "n_items", "strategies")}
    done, total = int(frame["run"].nunique()), meta.get("runs")
    if not (isinstance(total, int) and not isinstance(total, bool) and 0 <= done <= total):
        raise SweepError(f"{str(folder)!r}: its metadata says {total!r} runs but its parts hold {done}; the folder "
                         "was edited or mixed with another sweep's, so it is not counted")
    return {**out, "runs_done": done, "rows": int(len(frame)), "covered": covered}
