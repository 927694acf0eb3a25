"""A small recursive-descent parser for prior specifications.

The grammar (text from users is parsed, never evaluated)::

    prior  := expr (';' expr)*
    expr   := NUMBER | list | NAME ['(' [arg (',' arg)*] ')']
    arg    := NAME '=' expr | expr
    list   := '[' [expr (',' expr)*] ']'
    STRING := a file name in single or double quotes, only as file=STRING (read as data, e.g.
              checkerboard(uniform, uniform, file='cells.npy'))

Examples: ``uniform``, ``beta(a=2, b=5)``, ``uniform; beta(a=2, b=5)``,
``truncate(norm(loc=0.5, scale=0.2), 0, 1)``, ``copula(uniform, rho=0.5)``,
``hard(p=0.01, delta=0.001)``, ``checkerboard(uniform, uniform, uniform, file='cells.npy')``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from abm.errors import PriorSpecError

__all__ = ["Call", "parse"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf\b)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
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
    """A distribution expression: a name with positional and keyword arguments."""

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


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            bad = text[pos:].lstrip()[:1] if text[pos:].strip() else ""
            raise PriorSpecError(
                f"prior spec {text!r}: unexpected character {bad!r} at position {pos}; "
                "accepted: distribution names, numbers, quoted file names, ( ) [ ] , = ;"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None, len(self.text))

    def fail(self, what: str):
        kind, value, pos = self.peek()
        found = "end of input" if kind is None else repr(value)
        raise PriorSpecError(f"prior spec {self.text!r}: expected {what} at position {pos}, found {found}")

    def take(self, value: str):
        kind, val, _ = self.peek()
        if kind != "punct" or val != value:
            self.fail(repr(value))
        self.i += 1

    def prior(self) -> list:
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

    def _expr(self):
        kind, value, at = self.peek()
        if self.depth > MAX_DEPTH:
            raise PriorSpecError(f"spec {self.text[:60]!r}{'...' if len(self.text) > 60 else ''} nests deeper than "
                                 f"{MAX_DEPTH} levels of calls and lists (at character {at}); at most {MAX_DEPTH} accepted")
        if kind == "number":
            self.i += 1
            return float(value)
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
        self.fail("a distribution name, a number or a list (quoted text is accepted only as file='...')")

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
                        raise PriorSpecError(f"prior spec {self.text!r}: argument {value!r} given twice")
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


def parse(text: str) -> list:
    """Parse a prior spec into a list of expressions, one per ';'-separated part."""
    if not isinstance(text, str):
        raise PriorSpecError(f"prior spec must be a string, got {type(text).__name__}")
    if not text.strip():
        raise PriorSpecError("prior spec is empty; accepted e.g. 'uniform' or 'beta(a=2, b=5)'")
    if len(text) > MAX_SPEC_LENGTH:
        raise PriorSpecError(f"prior spec is {len(text)} characters long; at most {MAX_SPEC_LENGTH} accepted")
    return _Parser(text).prior()
