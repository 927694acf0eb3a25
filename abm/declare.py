"""One declaration per parameter of a public entry point.

A parameter of a ``tfd`` command, of a Python function a user calls, or of a field on the
explorer's page is declared once, as an :class:`Option`: its name, its type and range (a
pydantic ``Annotated`` type), its default and its help. The command line's flags and help
(:meth:`Entry.add_arguments`, :meth:`Entry.read`), the functions' checks (:meth:`Entry.checked`),
the page's form and the reference pages are made from that declaration, so one bad value gets
one message wherever it is given::

    n_agents (--agents) must be an integer from 1 to 64, got 0

pydantic does the checking (its ``TypeAdapter`` over ``Annotated`` constraints); its errors are
turned into :class:`abm.errors.TfdError` here, at the boundary, worded from the declaration.
A text parameter with a grammar of its own (a prior, a mechanism, strategies) is checked by
that grammar's reader, whose message already names what it accepts.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable

import annotated_types as at
import numpy as np
from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError

from abm.errors import TfdError

__all__ = ["REQUIRED", "Accepts", "Option", "Entry", "whole", "real", "vector", "counts", "text", "switch", "choice",
           "InputError", "parameters"]

#: the default of a parameter that has none
REQUIRED = inspect.Parameter.empty


class InputError(TfdError):
    """A value outside its declaration."""


@dataclass(frozen=True)
class Accepts:
    """What a declared type accepts, in words: the end of every message about it."""

    words: str


@dataclass(frozen=True)
class FromText:
    """How text typed on the command line or the page becomes a value of the type."""

    read: Callable[[str], Any]


class _Refused(ValueError):
    """Raised inside a validator; the message is made from the declaration, not from this."""


def _number(value, integral: bool):
    if isinstance(value, (bool, np.bool_, str, bytes)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _Refused
    if integral and not isinstance(value, (int, np.integer)):
        raise _Refused
    if not integral and not math.isfinite(float(value)):
        raise _Refused
    return int(value) if integral else float(value)


def _bounds(minimum, maximum, open_low: bool, open_high: bool) -> list:
    out = []
    if minimum is not None:
        out.append(at.Gt(minimum) if open_low else at.Ge(minimum))
    if maximum is not None:
        out.append(at.Lt(maximum) if open_high else at.Le(maximum))
    return out


def _g(x) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _range_words(noun: str, minimum, maximum, open_low: bool, open_high: bool) -> str:
    if minimum is not None and maximum is not None:
        if open_low or open_high:
            return f"{noun} in {'(' if open_low else '['}{_g(minimum)}, {_g(maximum)}{')' if open_high else ']'}"
        return f"{noun} from {_g(minimum)} to {_g(maximum)}"
    if minimum is not None:
        if minimum == 0 and not open_low:
            return f"a nonnegative {noun.split(' ', 1)[1]}"
        if minimum == 0 and open_low or minimum == 1 and noun.endswith("integer") and not open_low:
            return f"a positive {noun.split(' ', 1)[1]}"
        return f"{noun} {'>' if open_low else '>='} {_g(minimum)}"
    if maximum is not None:
        return f"{noun} {'<' if open_high else '<='} {_g(maximum)}"
    return noun


def _read_int(text: str) -> int:
    return int(str(text).strip())


def _read_float(text: str) -> float:
    return float(str(text).strip())


def whole(minimum: int | None = None, maximum: int | None = None) -> Any:
    """An integer (not a bool, not a float) in [minimum, maximum]."""
    words = _range_words("an integer", minimum, maximum, False, False)
    return Annotated[int, BeforeValidator(lambda v: _number(v, True)), *_bounds(minimum, maximum, False, False),
                     Accepts(words), FromText(_read_int)]


def real(minimum: float | None = None, maximum: float | None = None, open_low: bool = False,
         open_high: bool = False) -> Any:
    """A finite real number (not a bool) in the interval the bounds give."""
    words = _range_words("a number", minimum, maximum, open_low, open_high)
    return Annotated[float, BeforeValidator(lambda v: _number(v, False)),
                     *_bounds(minimum, maximum, open_low, open_high), Accepts(words), FromText(_read_float)]


def _read_vector(text: str) -> list[float]:
    return [float(t) for t in str(text).split(",")]


def _vector(value, minimum, length) -> list[float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _Refused
    items = [_number(v, False) for v in value]
    if not items or (length is not None and len(items) != length):
        raise _Refused
    if minimum is not None and min(items) < minimum:
        raise _Refused
    return items


def vector(minimum: float | None = None, words: str = "a non-empty list of finite numbers, like 0.3,0.7") -> Any:
    """A non-empty list of finite numbers, each at least ``minimum``; on the command line, comma-separated."""
    return Annotated[list, BeforeValidator(lambda v: _vector(v, minimum, None)), Accepts(words),
                     FromText(_read_vector)]


def _counts(value, minimum):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _Refused
    items = [_number(v, True) for v in value]
    if not items or min(items) < minimum:
        raise _Refused
    return items


def counts(minimum: int = 1) -> Any:
    """A non-empty list of integers, each at least ``minimum``; on the command line, comma-separated."""
    return Annotated[list, BeforeValidator(lambda v: _counts(v, minimum)),
                     Accepts(f"a non-empty list of integers >= {minimum}, like 1,2,3"),
                     FromText(lambda t: [int(x) for x in str(t).split(",")])]


def text(check: Callable[[Any], object] | None = None, words: str = "a text",
         also: Callable[[Any], bool] | None = None) -> Any:
    """A string checked by ``check`` (a grammar's reader, which raises its own
    :class:`TfdError`), or, from Python, an object that ``also`` accepts (a prior, a mechanism),
    which ``check`` sees too."""

    def _text(value):
        if also is not None and also(value):
            return value
        # an empty text goes to the grammar's reader, which says what it expected
        if not isinstance(value, str) or (check is None and not value.strip()):
            raise _Refused
        return value

    validators = [BeforeValidator(_text)]
    if check is not None:
        validators.append(AfterValidator(lambda v: (check(v), v)[1]))
    return Annotated[Any, *validators, Accepts(words), FromText(str)]


def switch() -> Any:
    """A yes/no setting; a flag on the command line."""

    def _bool(value):
        if not isinstance(value, (bool, np.bool_)):
            raise _Refused
        return bool(value)

    return Annotated[bool, BeforeValidator(_bool), Accepts("True or False")]


def choice(*values: str) -> Any:
    """One of ``values``."""

    def _one(value):
        if not isinstance(value, str) or value not in values:
            raise _Refused
        return value

    return Annotated[str, BeforeValidator(_one), Accepts("one of " + ", ".join(values)), FromText(str)]


def _metadata(kind, cls):
    for item in getattr(kind, "__metadata__", ()):
        if isinstance(item, cls):
            return item
    return None


@functools.cache
def _adapter(kind) -> TypeAdapter:
    return TypeAdapter(kind)


@dataclass(frozen=True)
class Option:
    """One declared parameter: ``name`` its Python keyword, ``kind`` its checked type (made by
    :func:`whole`, :func:`real`, :func:`vector`, :func:`text`, :func:`switch`, :func:`choice`),
    ``default`` (``None``: unset, the entry point decides; :data:`REQUIRED`: must be given),
    ``help`` one line, ``flag`` its command-line flag (default ``--name`` with dashes)."""

    name: str
    kind: Any
    help: str
    default: Any = None
    flag: str | None = None
    nullable: bool = True  # None is accepted and means "unset"
    aliases: tuple = ()  # other flags for the same option
    positional: bool = False  # given on the command line without a flag
    repeat: bool = False  # the flag may be given again; the value is the list of what was given

    def __post_init__(self):
        if self.positional:
            object.__setattr__(self, "flag", "")
        elif self.flag is None:
            object.__setattr__(self, "flag", "--" + self.name.replace("_", "-"))

    @property
    def label(self) -> str:
        """How messages name the parameter: the Python keyword, and the flag where it is spelt otherwise
        (a parameter with no flag, ``flag=""``, as a strategy's, by its keyword alone)."""
        same = not self.flag or self.flag == "--" + self.name.replace("_", "-")
        return self.name if same else f"{self.name} ({self.flag})"

    @property
    def accepts(self) -> str:
        found = _metadata(self.kind, Accepts)
        return found.words if found else "a value of its type"

    @property
    def base(self) -> type:
        """The Python type the declaration checks (int, float, list, bool, or Any for a text)."""
        return getattr(self.kind, "__origin__", self.kind)

    @property
    def bounds(self) -> tuple:
        """(low, high, open_low, open_high) of a number, each None where unbounded."""
        low = high = None
        open_low = open_high = False
        for item in getattr(self.kind, "__metadata__", ()):
            if isinstance(item, (at.Ge, at.Gt)):
                low, open_low = (item.ge, False) if isinstance(item, at.Ge) else (item.gt, True)
            if isinstance(item, (at.Le, at.Lt)):
                high, open_high = (item.le, False) if isinstance(item, at.Le) else (item.lt, True)
        return low, high, open_low, open_high

    @property
    def is_switch(self) -> bool:
        return _metadata(self.kind, FromText) is None

    def refuse(self, shown) -> InputError:
        return InputError(f"{self.label} must be {self.accepts}, got {shown}")

    def check(self, value):
        """``value`` as the declaration reads it, or :class:`InputError` saying what is accepted."""
        if value is None and self.nullable and self.default is not REQUIRED:
            return None
        if self.repeat:
            if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
                raise InputError(f"{self.label} must be a non-empty list, each entry {self.accepts}, got "
                                 f"{_shown(value)}")
            return [self.with_(repeat=False).check(v) for v in value]
        try:
            return _adapter(self.kind).validate_python(value)
        except ValidationError as exc:
            cause = exc.errors()[0].get("ctx", {}).get("error")
            if isinstance(cause, TfdError):  # a grammar's reader refused it, in its own words
                raise cause from None
            raise self.refuse(_shown(value)) from None

    def read(self, typed: str):
        """Text from the command line or the page, read and checked."""
        reader = _metadata(self.kind, FromText)
        try:
            value = reader.read(typed)
        except (ValueError, TypeError, OverflowError):
            raise self.refuse(repr(typed)) from None
        try:
            return self.check(value)
        except InputError:
            raise self.refuse(repr(typed)) from None

    def with_(self, **changes) -> "Option":
        """The same declaration with ``changes`` (another default, help or range)."""
        return dataclasses.replace(self, **changes)


def _shown(value) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 60 else text_[:57] + "..."


@dataclass(frozen=True)
class Entry:
    """The declared parameters of one entry point (a command, a function, a page)."""

    name: str
    options: tuple[Option, ...]
    summary: str = ""
    _by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        for o in self.options:
            if o.name in self._by_name:
                raise ValueError(f"{self.name}: {o.name} declared twice")
            self._by_name[o.name] = o

    def __getitem__(self, name: str) -> Option:
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def add_arguments(self, parser, skip=()) -> None:
        """The command-line flags of the declared options: every flag reads text, and
        :meth:`read` checks it after parsing, with the message :meth:`Option.check` gives."""
        for o in self.options:
            if o.name in skip:
                continue
            shown = "" if o.default is None or o.default is REQUIRED or o.is_switch else f" (default {_default_text(o.default)})"
            if o.is_switch:
                parser.add_argument(o.flag, *o.aliases, dest=o.name, action="store_true", help=o.help)
            elif o.positional:
                parser.add_argument(o.name, help=o.help + shown, metavar=o.name.upper(),
                                    **({} if o.default is REQUIRED else {"nargs": "?", "default": None}))
            elif o.repeat:
                parser.add_argument(o.flag, *o.aliases, dest=o.name, action="append", default=None,
                                    help=o.help + " (repeatable)", metavar=o.flag.lstrip("-").upper().replace("-", "_"))
            else:
                parser.add_argument(o.flag, *o.aliases, dest=o.name, default=None, required=o.default is REQUIRED,
                                    help=o.help + shown, metavar=o.flag.lstrip("-").upper().replace("-", "_"))
        parser.set_defaults(_entry=self)

    def read(self, args) -> None:
        """Replace each declared flag's text in ``args`` (an argparse namespace) by its value."""
        for o in self.options:
            if not hasattr(args, o.name):
                continue
            given = getattr(args, o.name)
            if o.is_switch:
                setattr(args, o.name, bool(given))
            elif given is None:
                setattr(args, o.name, None if o.default is REQUIRED else o.default)
            elif o.repeat:
                setattr(args, o.name, [o.with_(repeat=False).read(g) for g in given])
            else:
                setattr(args, o.name, o.read(given))

    def check(self, **values) -> dict:
        """``values`` with each declared one checked."""
        return {k: (self._by_name[k].check(v) if k in self._by_name else v) for k, v in values.items()}

    def checked(self, func):
        """Decorator: check the declared parameters of every call of ``func``, by name."""
        signature = inspect.signature(func)

        @functools.wraps(func)
        def call(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if name in self._by_name:
                    bound.arguments[name] = self._by_name[name].check(value)
            return func(*bound.args, **bound.kwargs)

        call.entry = self
        return call


def parameters(error: type = TfdError, **kinds):
    """Decorator for a constructor (a strategy's ``__init__``): check the keywords named in
    ``kinds`` (each a type made by :func:`whole`, :func:`real`, ...) at every call, raising
    ``error`` with the declared message. The declaration stays readable as ``func.entry``."""

    def wrap(func):
        signature = inspect.signature(func)
        entry = Entry(func.__qualname__, tuple(
            Option(name, kind, "", default=signature.parameters[name].default, flag="") for name, kind in kinds.items()))
        checked = entry.checked(func)

        @functools.wraps(func)
        def call(*args, **kwargs):
            try:
                return checked(*args, **kwargs)
            except InputError as exc:
                raise error(str(exc)) from None

        call.entry = entry
        return call

    return wrap


def _default_text(value) -> str:
    if isinstance(value, list):
        return ",".join(f"{v:g}" for v in value)
    return str(value)
