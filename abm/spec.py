"""The one grammar for text from users: priors, strategies and mechanism parameters.

Everything a user types that names a thing with parameters is read here, and parsed, never
evaluated. The command line, the explorer, sweep files and saved witnesses all come through
this module, so a spec means the same wherever it is written.

The grammar::

    specs  := expr (';' expr)*            a prior: one expression per agent (or one for all)
    expr   := NUMBER | list | NAME ['(' [arg (',' arg)*] ')']
    arg    := NAME '=' expr | expr
    list   := '[' [expr (',' expr)*] ']'
    NAME   := letters, digits and '_', with inner hyphens (inflate-top-k)
    STRING := a file name in quotes, read only as file=STRING (checkerboard(..., file='cells.npy'))

Examples: ``beta(a=2, b=5)``, ``uniform; truncexpon(b=3)``, ``scale(factor=3)``,
``noisy(strategy=scale(factor=3), p=0.2)``, ``mixed(strategies=[truthful, shade], probabilities=[0.3, 0.7])``.

A mechanism is one expression of the same grammar, ``pick-r(r=[0.3, 0.7])``, which may also hold
exact fractions, quoted text and an import path as its name (:func:`parse_mechanism`); its values
are read by the kinds the mechanism declares (:mod:`abm.mechanisms.grammar`). Whole numbers are
checked by one function, :func:`whole`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from abm.errors import TfdError

__all__ = ["Call", "MAX_DEPTH", "MAX_SPEC_LENGTH", "parse", "parse_one", "parse_mechanism", "split_top_level", "real", "whole", "whole_text"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<fraction>[+-]?\d+/\d+)
      | (?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*)
      | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf\b)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)
      | (?P<string>'[^'\n]*'|"[^"\n]*")
      | (?P<punct>[()\[\],;=])
    )""",
    re.VERBOSE,
)

MAX_SPEC_LENGTH = 10_000
#: Calls and lists nest at most this deep (``mixture([truncate(norm(...)), ...])`` is 3):
#: deeper text is refused before any recursion or sampling runs away.
MAX_DEPTH = 8


@dataclass(frozen=True)
class Call:
    """An expression: a name with positional and keyword arguments (``beta(a=2, b=5)``)."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        parts = [_fmt(a) for a in self.args] + [f"{k}={_fmt(v)}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})" if parts else self.name


def _fmt(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, str):  # a file name, quoted as it was given
        return "'" + value + "'" if "'" not in value else '"' + value + '"'
    if isinstance(value, float):
        # integers print as integers, up to where float64 still holds every integer
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value)


class _Parser:
    def __init__(self, text: str, what: str, error: type, whole_numbers: bool, mechanism: bool = False):
        self.text, self.what, self.error, self.whole_numbers = text, what, error, whole_numbers
        # a mechanism's text may also hold exact fractions (shares), quoted text (a parameter that is
        # text) and an import path as its name (package.module:ClassName)
        self.mechanism = mechanism
        self.tokens = self._tokenize(text)
        self.i = 0
        self.depth = 0

    def _tokenize(self, text: str) -> list[tuple[str, str, int]]:
        tokens, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                bad = text[pos:].lstrip()[:1] if text[pos:].strip() else ""
                raise self.error(f"{self.what} {text!r}: unexpected character {bad!r} at position {pos}; "
                                 "accepted: names, numbers, quoted file names, ( ) [ ] , = ;")
            kind = match.lastgroup
            tokens.append((kind, match.group(kind), match.start(kind)))
            pos = match.end()
        return tokens

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text))

    def fail(self, what: str):
        kind, value, pos = self.peek()
        found = "end of input" if kind is None else repr(value)
        raise self.error(f"{self.what} {self.text!r}: expected {what} at position {pos}, found {found}")

    def take(self, value: str):
        kind, val, _ = self.peek()
        if kind != "punct" or val != value:
            self.fail(repr(value))
        self.i += 1

    def specs(self) -> list:
        exprs = [self.expr()]
        while self.peek()[1] == ";":
            self.i += 1
            exprs.append(self.expr())
        if self.peek()[0] is not None:
            self.fail("';' or end of input")
        return exprs

    def expr(self):
        self.depth += 1
        try:
            return self._expr()
        finally:
            self.depth -= 1

    def _number(self, text: str):
        value = float(text)
        if self.whole_numbers and value.is_integer() and not re.search(r"[.eEn]", text):
            return int(text)
        return value

    def _expr(self):
        kind, value, at = self.peek()
        if self.depth > MAX_DEPTH:
            raise self.error(f"spec {self.text[:60]!r}{'...' if len(self.text) > 60 else ''} nests deeper than "
                             f"{MAX_DEPTH} levels of calls and lists (at character {at}); at most {MAX_DEPTH} accepted")
        if kind == "number":
            self.i += 1
            return self._number(value)
        if kind == "fraction" and self.mechanism:
            from fractions import Fraction

            self.i += 1
            try:
                return Fraction(value)
            except ZeroDivisionError:
                raise self.error(f"{self.what} {self.text!r}: {value} divides by zero (at position {at})") from None
        if kind == "string" and self.mechanism and self.depth > 1:
            self.i += 1
            return value[1:-1]
        if kind == "path" and self.mechanism and self.depth == 1:
            self.i += 1
            return self.call(value)
        if kind == "punct" and value == "[":
            self.i += 1
            items = []
            if self.peek()[1] != "]":
                items.append(self.expr())
                while self.peek()[1] == ",":
                    self.i += 1
                    items.append(self.expr())
            self.take("]")
            return items
        if kind == "name":
            self.i += 1
            return self.call(value)
        if self.mechanism:
            self.fail("a name, a number, a fraction like 1/3, a list or 'quoted text'")
        if kind in ("fraction", "path"):
            self.fail("a name, a number or a list (fractions like 1/3 and import paths like package.module:Class "
                      "are accepted only in a mechanism's text)")
        self.fail("a name, a number or a list (quoted text is accepted only as file='...')")

    def call(self, name: str) -> Call:
        args, kwargs = [], {}
        if self.peek()[1] != "(":
            return Call(name)
        self.i += 1
        if self.peek()[1] != ")":
            while True:
                kind, value, _ = self.peek()
                nxt = self.tokens[self.i + 1][1] if self.i + 1 < len(self.tokens) else None
                if kind == "name" and nxt == "=":
                    if value in kwargs:
                        raise self.error(f"{self.what} {self.text!r}: argument {value!r} given twice")
                    self.i += 2
                    after = self.peek()
                    if value == "file" and after[0] == "string":  # the one place quoted text is read
                        self.i += 1
                        kwargs[value] = after[1][1:-1]
                    else:
                        kwargs[value] = self.expr()
                else:
                    if kwargs:
                        self.fail("keyword argument (positional arguments come first)")
                    args.append(self.expr())
                if self.peek()[1] != ",":
                    break
                self.i += 1
        self.take(")")
        return Call(name, tuple(args), kwargs)


def _checked(text, what: str, error: type, example: str) -> str:
    if not isinstance(text, str):
        raise error(f"{what} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise error(f"{what} is empty; accepted e.g. {example}")
    if len(text) > MAX_SPEC_LENGTH:
        raise error(f"{what} is {len(text)} characters long; at most {MAX_SPEC_LENGTH} accepted")
    return text


def parse(text: str, *, what: str = "spec", error: type = TfdError, example: str = "'uniform'",
          whole_numbers: bool = False) -> list:
    """``text`` as a list of expressions, one per ';'-separated part (numbers, lists, :class:`Call`).
    ``whole_numbers``: integer literals stay ints (strategy and mechanism parameters); priors read
    every number as a float. Errors are ``error``, worded with ``what``."""
    return _Parser(_checked(text, what, error, example), what, error, whole_numbers).specs()


def parse_one(text: str, *, what: str = "spec", error: type = TfdError, example: str = "'truthful'",
              whole_numbers: bool = True) -> object:
    """One expression (no ';'): a strategy, say, ``noisy(strategy=scale(factor=3), p=0.2)``."""
    exprs = parse(text, what=what, error=error, example=example, whole_numbers=whole_numbers)
    if len(exprs) != 1:
        raise error(f"{what} {text!r}: expected one expression, found {len(exprs)} separated by ';'")
    return exprs[0]


def parse_mechanism(text: str, *, error: type = TfdError) -> Call:
    """A mechanism with its parameters, ``pick-r(r=[0.3, 0.7])``, as one :class:`Call`: the grammar of
    priors and strategies, with exact fractions (``r=[1/3, 2/3]``), quoted text for a parameter
    that is text (``designed(path='lab/n3m4.json')``) and an import path as the name
    (``my_rules:Threshold(threshold=0.7)``). :func:`abm.mechanisms.parse` reads the values by the
    kinds the mechanism declares."""
    example = "'pick-r' or 'pick-r(r=[0.3, 0.7])'"
    text = _checked(text, "mechanism", error, example)
    exprs = _Parser(text, "mechanism", error, True, mechanism=True).specs()
    if len(exprs) != 1 or not isinstance(exprs[0], Call):
        raise error(f"mechanism {text!r}: expected one name with optional parameters, e.g. {example}")
    return exprs[0]


def split_top_level(text: str) -> list[str]:
    """Split at commas outside parentheses and brackets:
    'scale(factor=3),truthful' -> ['scale(factor=3)', 'truthful']."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [s.strip() for s in out + [cur] if s.strip()]


def whole(value, what: str, minimum: int = 1, maximum: int | None = None, error: type = TfdError) -> int:
    """``value`` as an int if it is a whole number (not a bool, not a float) from ``minimum`` to
    ``maximum``; else ``error`` saying what ``what`` accepts. The one integer check of the testbed."""
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if ok and value >= minimum and (maximum is None or value <= maximum):
        return int(value)
    if maximum is not None:
        wanted = f"an integer from {minimum} to {maximum}"
    else:
        wanted = {1: "a positive integer", 0: "a nonnegative integer"}.get(minimum, f"an integer >= {minimum}")
    raise error(f"{what} must be {wanted}, got {value!r}")


def whole_text(text, what: str, minimum: int = 1, maximum: int | None = None, error: type = TfdError) -> int:
    """A whole number typed as text (``"12"``, ``" 7 "``, ``"+3"``), checked by :func:`whole`. Text
    that is not an integer gets ``error`` saying what ``what`` accepts (a superscript digit, say,
    which ``str.isdigit`` accepts and ``int`` refuses)."""
    try:
        value = int(str(text).strip())
    except ValueError:
        wanted = {1: "a positive integer", 0: "a nonnegative integer"}.get(minimum, f"an integer >= {minimum}")
        raise error(f"{what} must be {wanted}, got {str(text)!r}") from None
    return whole(value, what, minimum, maximum, error)


def real(value, what: str, minimum: float | None = 0.0, maximum: float | None = None, open_ends: bool = False,
         error: type = TfdError) -> float:
    """``value`` as a float if it is a finite real number (not a bool) within [``minimum``,
    ``maximum``] (the open interval with ``open_ends``); else ``error`` saying what ``what`` accepts.
    NaN, infinities and complex numbers are refused: a NaN tolerance would silence every comparison."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    x = float(value) if ok else float("nan")
    inside = ok and np.isfinite(x)
    if inside and minimum is not None:
        inside = x > minimum if open_ends else x >= minimum
    if inside and maximum is not None:
        inside = x < maximum if open_ends else x <= maximum
    if inside:
        return x
    lo = "" if minimum is None else (f"> {minimum:g}" if open_ends else f">= {minimum:g}")
    hi = "" if maximum is None else (f"< {maximum:g}" if open_ends else f"<= {maximum:g}")
    bounds = " and ".join(b for b in (lo, hi) if b)
    raise error(f"{what} must be a finite number{' ' + bounds if bounds else ''}, got {value!r}")
