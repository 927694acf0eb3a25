"""The result folder: a partitioned Parquet dataset written atomically, plus metadata.

``DIR/runs/part-FIRST-LAST.parquet`` holds the rows of runs FIRST..LAST; it is written to
a hidden temporary name and renamed, so a crash never leaves half a file. A part on disk
is a finished chunk: resuming skips it. ``DIR/metadata.json`` keeps the package version,
the sweep, the base seed, the chunk size and the time. Load everything with
``pandas.read_parquet("DIR/runs")``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd

from abm import __version__
from abm.batch.sweep import Sweep, SweepError

__all__ = ["ResultStore"]


class ResultStore:
    def __init__(self, folder, sweep: Sweep, chunk_size: int, csv: bool = False, resume: bool = False):
        self.folder = Path(folder)
        self.parts = self.folder / "runs"
        self.csv = self.folder / "csv" if csv else None
        meta_path = self.folder / "metadata.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if not resume:
                raise SweepError(f"{str(self.folder)!r} already holds results; use --resume to finish them, "
                                 "or choose another --out")
            if meta.get("sweep") != sweep.to_dict():
                raise SweepError(f"{str(self.folder)!r} holds a different sweep; resume needs the same one")
            chunk_size = int(meta["chunk_size"])
        elif self.parts.exists() and any(self.parts.iterdir()) and not resume:
            raise SweepError(f"{str(self.folder)!r} is not empty; choose another --out")
        self.chunk_size = chunk_size
        self.parts.mkdir(parents=True, exist_ok=True)
        if self.csv:
            self.csv.mkdir(parents=True, exist_ok=True)
        for stale in list(self.parts.glob(".*.tmp")) + (list(self.csv.glob(".*.tmp")) if self.csv else []):
            stale.unlink()  # a half-written part from a crash
        if not meta_path.exists():
            self._write_json(meta_path, {"version": __version__, "sweep": sweep.to_dict(), "seed": sweep.seed,
                                         "chunk_size": chunk_size, "runs": len(sweep.runs()),
                                         "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    @staticmethod
    def _write_json(path: Path, data: dict) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, path)

    @staticmethod
    def part_name(first: int, last: int) -> str:
        return f"part-{first:08d}-{last:08d}"

    def done(self) -> set[str]:
        return {p.stem for p in self.parts.glob("part-*.parquet")}

    def write(self, first: int, last: int, frame: pd.DataFrame) -> None:
        name = self.part_name(first, last)
        tmp = self.parts / f".{name}.parquet.tmp"
        frame.to_parquet(tmp, index=False)
        if self.csv:
            ctmp = self.csv / f".{name}.csv.tmp"
            frame.to_csv(ctmp, index=False)
            os.replace(ctmp, self.csv / f"{name}.csv")
        os.replace(tmp, self.parts / f"{name}.parquet")  # last: the parquet part marks the chunk done
