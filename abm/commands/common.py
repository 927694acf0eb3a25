"""Output helpers shared by the subcommands (their flags come from :mod:`abm.declare`)."""

from __future__ import annotations

import json

import numpy as np

from abm.jsonable import to_jsonable, write_results  # noqa: F401 (commands import them from here)
from abm.spec import split_top_level  # noqa: F401 (commands import it from here)


def emit(result: dict, as_json: bool, lines) -> None:
    """Print ``result`` as one JSON object, or the human-readable ``lines``."""
    if as_json:
        print(json.dumps(to_jsonable(result), indent=2))
    else:
        for line in lines:
            print(line)


def fmt(v) -> str:
    v = np.asarray(v, dtype=float)
    if v.ndim == 0:
        return f"{float(v):.6g}"
    return "(" + ", ".join(f"{x:.6g}" for x in v.ravel()) + ")"


def progress(args, total: int, desc: str, unit: str):
    """The progress bar of a long command, on stderr; off with --no-progress."""
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=True if args.no_progress else None)
