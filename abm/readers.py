"""JSON and YAML from outside the program, read strictly.

Files a user may have edited (witnesses, a batch folder's metadata and manifest, sweep files,
saved lab summaries) and environment variables the testbed reads are checked here: a key
written twice is refused (Python's ``json`` and YAML's loader would keep the last one, silently),
JSON's ``NaN`` and ``Infinity`` are refused, only a regular file of bounded size is opened (a
FIFO or a device would block or never end), and nesting is bounded.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from abm.errors import TfdError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "json_text", "json_file", "environment_int", "refuse_duplicate_keys"]

#: the largest file read as JSON (a witness, a manifest of many parts)
MAX_BYTES = 64 << 20
#: the deepest nesting of lists and objects accepted
MAX_DEPTH = 64


def _pairs(what: str, error: type):
    def hook(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise error(f"{what}: key {key!r} is written twice; write each key once")
            seen[key] = value
        return seen

    return hook


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings, counted before parsing (json recurses per level)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def json_text(text: str, what: str, error: type = TfdError):
    """``text`` parsed as strict JSON, or ``error`` saying what was wrong with ``what``."""
    if _depth(text) > MAX_DEPTH:
        raise error(f"{what} nests deeper than {MAX_DEPTH} levels; it is not a file the testbed wrote")

    def constant(name):
        raise error(f"{what}: {name} is not a JSON number; numbers must be finite")

    try:
        return json.loads(text, object_pairs_hook=_pairs(what, error), parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise error(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None


def json_file(path, what: str, error: type = TfdError, max_bytes: int = MAX_BYTES):
    """The JSON in the regular file ``path``, read strictly (:func:`json_text`)."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"no {what} at {str(path)!r}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{str(path)!r} is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{str(path)!r} is not a regular file (a pipe or a device?), so it is not a {what}")
    if info.st_size > max_bytes:
        raise error(f"{str(path)!r} is {info.st_size:,} bytes, more than a {what} holds (at most {max_bytes:,})")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise error(f"{str(path)!r} is not UTF-8 text, so it is not a {what}") from None
    return json_text(text, f"{what} {str(path)!r}", error)


def environment_int(name: str, minimum: int = 1, error: type = TfdError) -> int | None:
    """An integer environment variable (a test hook, say), checked as a command-line integer is;
    None when unset or empty."""
    from abm.spec import whole_text

    text = os.environ.get(name, "").strip()
    if not text:
        return None
    return whole_text(text, f"environment variable {name}", minimum, error=error)


def refuse_duplicate_keys(loader_class, error: type):
    """A YAML loader class (a SafeLoader subclass) that refuses a mapping key written twice."""

    class Strict(loader_class):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hashable = key in seen
                except TypeError:
                    raise error(f"line {key_node.start_mark.line + 1}: a mapping key must be text or a number") from None
                if hashable:
                    raise error(f"line {key_node.start_mark.line + 1}: key {key!r} is written twice; write each key once")
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    Strict.__name__ = f"Strict{loader_class.__name__}"
    return Strict

