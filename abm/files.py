"""Result files are whole or absent, and a failed run leaves no folder behind.

Every result file is written under a temporary name beside its target and renamed once
complete (:func:`replacing`), so a reader never sees half a file. The command line runs each
command inside :func:`removed_on_failure`: if the command fails, the ``--out`` folder it created
is removed. An ``OSError`` while writing (no space, no permission, a folder in the way, a name
too long) is the environment's fault, not the input's and not a bug: the command line reports
it in one line naming the path and the reason (:func:`describe`) and exits with
:data:`EXIT_IO`, sysexits.h's EX_IOERR.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from pathlib import Path

__all__ = ["EXIT_IO", "describe", "removed_on_failure", "replacing", "write_text", "write_json", "write_frame",
           "save_figure"]

#: the CLI's exit status when a file cannot be written or read for a reason of the environment
EXIT_IO = 74


@contextlib.contextmanager
def naming(path):
    """An ``OSError`` raised inside without a file name (a write to an open handle, pyarrow's
    writer) is raised again naming ``path``, so the one line says which file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        code = exc.errno if exc.errno is not None else _errno_in(str(exc))
        raise OSError(code, exc.strerror or _REASONS.get(code) or str(exc), str(path)) from exc


def _errno_in(text: str) -> int | None:
    """pyarrow reports a full disk as text ("No space left on device"), without an errno."""
    for code in _REASONS:
        if os.strerror(code).lower() in text.lower():
            return code
    return None


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path`` (atomic on one
    file system), on failure remove it. Nothing half-written is ever at ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name[:200]}.{os.getpid()}.tmp")
    try:
        with naming(path):
            yield tmp
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text(path, text: str) -> Path:
    with replacing(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # a full disk is found here, not after the rename
    return Path(path)


def write_json(path, obj) -> Path:
    """``obj`` (already JSON-able) as indented JSON."""
    return write_text(path, json.dumps(obj, indent=2))


def write_frame(frame, path) -> Path:
    """A DataFrame as Parquet or CSV, by the suffix of ``path``."""
    with replacing(path) as tmp:
        if Path(path).suffix.lower() == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    return Path(path)


def save_figure(fig, path, **kwargs) -> Path:
    """A matplotlib figure as a PNG (the format is named, since the temporary name has no suffix)."""
    with replacing(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", **kwargs)
    return Path(path)


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` that does not exist yet (what a run would create)."""
    missing = None
    for p in [path, *path.parents]:
        try:
            if p.exists():
                break
        except OSError:  # a name too long to even look up: nothing to remove later
            return None
        missing = p
    return missing


@contextlib.contextmanager
def removed_on_failure(out, keep_on_interrupt: bool = False):
    """Run a command that writes into folder ``out``; if it fails, remove what it created of
    ``out`` (the folder and any parents it made). A folder that was there before is kept.
    ``keep_on_interrupt``: Ctrl-C keeps it (a batch sweep resumes from its parts)."""
    created = _first_missing(Path(out)) if out else None
    try:
        yield
    except KeyboardInterrupt:
        if not keep_on_interrupt:
            _remove(created)
        raise
    except BaseException:
        _remove(created)
        raise


def _remove(folder: Path | None) -> None:
    if folder is None:
        return
    with contextlib.suppress(OSError):
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        elif folder.exists() or folder.is_symlink():
            folder.unlink()


_REASONS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded",
            errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
            errno.EISDIR: "a folder is in the way", errno.ENOTDIR: "a file is in the way of a folder",
            errno.ENAMETOOLONG: "the name is too long", errno.EROFS: "the file system is read-only",
            errno.EEXIST: "something is already there"}


def describe(exc: OSError) -> str:
    """One line for an ``OSError``: what could not be done, where, and why."""
    # a rename (os.replace) names the temporary file first and the target second: say the target
    where = exc.filename2 if getattr(exc, "filename2", None) is not None else exc.filename
    reason = _REASONS.get(exc.errno) or exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    if where is not None:
        shown = str(where)
        shown = shown if len(shown) <= 120 else shown[:60] + "..." + shown[-40:]
        return f"cannot write or read {shown!r}: {reason}"
    return f"a file could not be written or read: {reason}"
