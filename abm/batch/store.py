"""The result folder: a partitioned Parquet dataset written atomically, plus metadata.

``DIR/runs/part-FIRST-LAST.parquet`` holds the rows of runs FIRST..LAST; it is written to
a hidden temporary name and renamed, so a crash never leaves half a file. Right after the
rename, ``DIR/manifest.json`` records the part's row count, size and SHA-256. A part counts
as finished only when the manifest lists it and the file on disk still matches: resuming
skips those and re-runs every other chunk, naming the parts it found damaged (truncated,
overwritten, or never recorded). ``DIR/metadata.json`` keeps the package version, the
sweep, the base seed, the chunk size and the time. Load everything with
``pandas.read_parquet("DIR/runs")``.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pandas as pd

from abm import files
from abm import __version__
from abm.batch.sweep import Sweep, SweepError
from abm.errors import TfdError

__all__ = ["ResultStore", "verified_parts"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    from abm import readers

    if not path.exists():
        return {}
    try:
        data = readers.json_file(path, "batch manifest")
    except TfdError:
        return {}  # unreadable, a pipe, too deep, a key twice: nothing is verified, every chunk runs again
    return data if isinstance(data, dict) else {}


def verified_parts(folder) -> tuple[list[Path], list[str]]:
    """(parts that verify against the manifest, names of part files on disk that do not).

    A part verifies when ``manifest.json`` lists it with the file's size and SHA-256. A file
    named like a part that the manifest does not list, or whose bytes changed, is damaged.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    good, damaged = [], []
    for p in sorted((folder / "runs").glob("part-*.parquet")):
        entry = manifest.get(p.stem)
        ok = (isinstance(entry, dict) and entry.get("bytes") == p.stat().st_size
              and entry.get("sha256") == _sha256(p))
        (good if ok else damaged).append(p if ok else p.name)
    return good, damaged


class ResultStore:
    """The result folder of one sweep, locked while this process writes to it.

    The lock is an ``fcntl.flock`` on ``DIR/.lock``: a second writer is refused at once with
    a clear message (and the lock dies with its process, so a crash leaves none behind).
    ``resume`` requires the folder's ``metadata.json`` to name the same sweep and chunk size.
    Use as a context manager; on an error before any part is written, what this store made
    is removed again.
    """

    def __init__(self, folder, sweep: Sweep, chunk_size: int | None, csv: bool = False, resume: bool = False,
                 default_chunk_size: int = 1):
        self.folder = Path(folder)
        self.parts = self.folder / "runs"
        self.csv = self.folder / "csv" if csv else None
        self.sweep, self.resume = sweep, resume
        self._requested_chunk, self._default_chunk = chunk_size, default_chunk_size
        self._made: list[Path] = []
        self._lock = None
        self.wrote = False

    # -- opening: checks first, then the lock, then what is missing --------------------------
    def __enter__(self) -> "ResultStore":
        folder, meta_path = self.folder, self.folder / "metadata.json"
        if folder.exists() and not folder.is_dir():
            raise SweepError(f"--out {str(folder)!r} is a file; give a folder")
        for sub in (self.parts, self.csv):
            if sub is not None and sub.exists() and not sub.is_dir():
                raise SweepError(f"{str(sub)!r} is a file where the results' folder should be; choose another --out")
        try:  # one atomic step: two writers started together cannot both think they made it
            folder.mkdir(parents=True)
            self._made.append(folder)
        except FileExistsError:
            if not folder.is_dir():
                raise SweepError(f"--out {str(folder)!r} is a file; give a folder") from None
        self._acquire()
        try:
            self._check(meta_path)
            for sub in (self.parts, self.csv):
                if sub is not None and not sub.exists():
                    sub.mkdir()
                    self._made.append(sub)
            # a half-written part from a crash (only a writer holding the lock gets here)
            for stale in list(self.parts.glob(".*.tmp")) + (list(self.csv.glob(".*.tmp")) if self.csv else []):
                stale.unlink()
            if not meta_path.exists():
                self._write_json(meta_path, {"version": __version__, "sweep": self.sweep.to_dict(),
                                             "seed": self.sweep.seed, "chunk_size": self.chunk_size,
                                             "runs": self.sweep.size(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
                self._made.append(meta_path)
        except BaseException:
            self.__exit__(None, None, None, failed=True)
            raise
        return self

    def _acquire(self) -> None:
        import fcntl

        lock_path = self.folder / ".lock"
        existed = lock_path.exists()
        self._lock = open(lock_path, "a+")
        if not existed:
            self._made.append(lock_path)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            self._made = []  # the folder is the other writer's now, even if this process made it
            raise SweepError(f"another tfd batch run is writing to {str(self.folder)!r}; wait for it to finish or "
                             "choose another --out") from None

    def _check(self, meta_path: Path) -> None:
        if meta_path.exists():
            from abm import readers

            try:
                meta = readers.json_file(meta_path, "batch metadata file", SweepError)
            except SweepError as exc:
                raise SweepError(f"{exc}; this folder cannot be resumed") from None
            if not isinstance(meta, dict):
                raise SweepError(f"{str(meta_path)!r} is not a JSON object, so it is not a tfd batch metadata file; "
                                 "this folder cannot be resumed")
            if not self.resume:
                raise SweepError(f"{str(self.folder)!r} already holds results; use --resume to finish them, "
                                 "or choose another --out")
            if meta.get("sweep") != self.sweep.to_dict():
                raise SweepError(f"{str(self.folder)!r} holds a different sweep; --resume needs the same sweep file "
                                 "and options")
            saved = int(meta.get("chunk_size", 0))
            if self._requested_chunk is not None and self._requested_chunk != saved:
                raise SweepError(f"{str(self.folder)!r} was written with --chunk-size {saved}; resume with the same, "
                                 "or leave it out")
            self.chunk_size = saved
            return
        holds = [p for p in (self.parts, self.csv) if p is not None and p.exists() and any(p.iterdir())]
        if self.resume:
            raise SweepError(f"{str(self.folder)!r} has no metadata.json, so there is nothing to resume "
                             + ("(it holds parts of an unknown sweep)" if holds else "(run without --resume)"))
        if holds:
            raise SweepError(f"{str(self.folder)!r} is not empty; choose another --out")
        self.chunk_size = self._requested_chunk or self._default_chunk

    def __exit__(self, exc_type, exc, tb, failed=None) -> None:
        failed = exc_type is not None if failed is None else failed
        if failed and not self.wrote:
            for path in reversed(self._made):  # leave nothing this run made behind
                if path.is_dir():
                    for child in path.iterdir():
                        child.unlink()
                    path.rmdir()
                else:
                    path.unlink(missing_ok=True)
            self._made = []
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    @staticmethod
    def _write_json(path: Path, data: dict) -> None:
        files.write_json(path, data)

    @staticmethod
    def part_name(first: int, last: int) -> str:
        return f"part-{first:08d}-{last:08d}"

    def done(self) -> set[str]:
        """Names of the parts that verify against the manifest; :attr:`damaged` lists the others."""
        good, self.damaged = verified_parts(self.folder)
        self._manifest = {p.stem: _read_manifest(self.folder)[p.stem] for p in good}
        return set(self._manifest)

    def write(self, first: int, last: int, frame: pd.DataFrame) -> None:
        name = self.part_name(first, last)
        if self.csv:
            files.write_frame(frame, self.csv / f"{name}.csv")
        final = files.write_frame(frame, self.parts / f"{name}.parquet")  # temporary names hold the pid
        # last: the manifest entry marks the chunk done (a crash before it re-runs the chunk)
        manifest = getattr(self, "_manifest", None)
        if manifest is None:
            manifest = self._manifest = {}
        manifest[name] = {"rows": int(len(frame)), "bytes": final.stat().st_size, "sha256": _sha256(final)}
        self._write_json(self.folder / "manifest.json", manifest)
        self.wrote = True
