"""Argument types and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from abm.jsonable import to_jsonable, write_results  # noqa: F401 (commands import them from here)
from abm.spec import split_top_level  # noqa: F401 (commands import it from here)


def _integer(text: str, minimum: int, what: str) -> int:
    from abm import spec

    return spec.whole_text(text, what, minimum, error=argparse.ArgumentTypeError)


def positive_int(text: str) -> int:
    return _integer(text, 1, "the value")


def nonnegative_int(text: str) -> int:
    return _integer(text, 0, "the value")


def seed(text: str) -> int:
    return _integer(text, 0, "the seed")


def vector(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 0.29,0.71, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def add_instance_flags(p, items: int) -> None:
    """--agents, --items, --prior, --seed: the instances of a command that plays rounds
    (learn, evolve, tournament)."""
    p.add_argument("--agents", type=positive_int, default=2)
    p.add_argument("--items", type=positive_int, default=items)
    p.add_argument("--prior", default="uniform")
    p.add_argument("--seed", type=seed, default=0)


def add_output_flags(p, out_type, out_help: str) -> None:
    """--json, --out (of ``out_type``) and --no-progress of a command that writes results."""
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--out", type=out_type, help=out_help)
    p.add_argument("--no-progress", action="store_true")


def out_dir(text: str) -> str:
    """An argparse type for an output folder, checked as :func:`abm.options.check_folder` says."""
    from abm.errors import TfdError
    from abm.options import check_folder

    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    try:
        check_folder(text)
    except TfdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def in_file(text: str) -> str:
    """An argparse type for an input file: it must exist and be a file."""
    from pathlib import Path

    path = Path(text)
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; expected a file")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no file at {text!r}")
    return text


def _real(text: str, ok, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def unit_interval(text: str) -> float:
    return _real(text, lambda v: 0 < v < 1, "a number in (0, 1)")


def nonnegative(text: str) -> float:
    return _real(text, lambda v: v >= 0, "a nonnegative number")


def positive_float(text: str) -> float:
    return _real(text, lambda v: v > 0, "a positive number")


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


def mechanism(text: str) -> str:
    """An argparse type for ``--mechanism``: a mechanism in the one grammar, ``pick-r(r=[0.3, 0.7])``
    (:mod:`abm.mechanisms.grammar`), read and checked against its declaration before any work
    starts. The text is kept; commands build the mechanism from it with the prior."""
    from abm.errors import TfdError
    from abm.mechanisms import grammar

    try:
        grammar.read(text)
    except TfdError as exc:
        raise argparse.ArgumentTypeError(str(exc).splitlines()[0]) from None
    return text


MECHANISM_HELP = ("a mechanism with its parameters, e.g. pick-r, 'pick-r(r=[0.3, 0.7])', "
                  "'picking(picker=0, sizes=[3, 5])' or 'package.module:ClassName(threshold=0.7)' for your own "
                  "(tfd mechanisms lists them)")


def progress(args, total: int, desc: str, unit: str):
    """The progress bar of a long command, on stderr; off with --no-progress."""
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=True if args.no_progress else None)
