"""Argument types and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np


def _integer(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def seed(text: str) -> int:
    return _integer(text, 0, "a nonnegative integer seed")


def vector(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 0.29,0.71, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


def parameter(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` for a mechanism parameter: VALUE is a number, comma-separated numbers
    (a vector), true/false, or else kept as text. Parsed, never evaluated."""
    key, eq, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not eq or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY a parameter name, got {text!r}")
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    try:
        numbers = [float(t) for t in value.split(",")]
    except ValueError:
        return key, value
    if not all(math.isfinite(v) for v in numbers):
        raise argparse.ArgumentTypeError(f"parameter {key} must be finite, got {value!r}")
    numbers = [int(v) if v.is_integer() and "." not in t and "e" not in t.lower() else v
               for v, t in zip(numbers, value.split(","))]
    return key, numbers if "," in value else numbers[0]


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


def split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses: 'scale(factor=3),truthful' -> ['scale(factor=3)', 'truthful']."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [s.strip() for s in out + [cur] if s.strip()]


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
