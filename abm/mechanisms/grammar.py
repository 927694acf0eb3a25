"""A mechanism as text: ``pick-r(r=[0.3, 0.7])``, read and written.

One form everywhere a mechanism is named: ``--mechanism`` of every command, the tournament's
list, sweep files, the explorer and :func:`abm.mechanisms.parse`. The text is parsed by the
testbed's one grammar (:func:`abm.spec.parse_mechanism`), never evaluated, and each value is
read by the kind its mechanism declares (:class:`abm.mechanisms.Param`), so ``r=[1/3, 2/3]``
reaches Pick-r as exact thirds and ``picker=1.5`` is refused where it is typed.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from abm.errors import MechanismError

__all__ = ["read", "text_of"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*")


def _number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, Fraction))


def _finite(v, where: str):
    if isinstance(v, float) and not math.isfinite(v):
        raise MechanismError(f"{where} must be finite, got {v}")
    return v


def _plain(v, where: str):
    """An undeclared parameter's value: numbers, lists, true/false, or text."""
    from abm.spec import Call

    if isinstance(v, Call):
        if v.args or v.kwargs:
            raise MechanismError(f"{where} is a number, a list, true/false or text, not a call ({v})")
        return {"true": True, "false": False}.get(v.name.lower(), v.name)
    if isinstance(v, list):
        return [_plain(x, where) for x in v]
    if isinstance(v, Fraction):
        return v
    return _finite(v, where)


def _as_kind(kind: str, v, where: str):
    """``v`` as parsed, read as the declared ``kind`` (:data:`abm.mechanisms.base.PARAM_KINDS`)."""
    from abm.spec import Call

    if kind == "object":
        raise MechanismError(f"{where} is given from Python only, not as text")
    if kind in ("vector", "shares"):
        values = v if isinstance(v, list) else [v]
        ok = (lambda x: _number(x)) if kind == "shares" else (lambda x: _number(x) and not isinstance(x, Fraction))
        if not values or not all(ok(x) for x in values):
            e = "[0.29, 0.71] or [1/3, 2/3]" if kind == "shares" else "[0, 2, 4]"
            raise MechanismError(f"{where} takes a list of numbers, e.g. {e}; got {_show(v)}")
        return [_finite(x, where) for x in values]
    if kind == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            raise MechanismError(f"{where} takes a whole number, got {_show(v)}")
        return v
    if kind == "float":
        if not _number(v):
            raise MechanismError(f"{where} takes a number, got {_show(v)}")
        return _finite(float(v), where)
    if kind == "bool":
        if not (isinstance(v, Call) and not v.args and not v.kwargs and v.name.lower() in ("true", "false")):
            raise MechanismError(f"{where} is true or false, got {_show(v)}")
        return v.name.lower() == "true"
    if kind == "text":
        if isinstance(v, str):
            return v
        if isinstance(v, Call) and not v.args and not v.kwargs:
            return v.name
        raise MechanismError(f"{where} takes text, a name or 'quoted', got {_show(v)}")
    return _plain(v, where)


def _show(v) -> str:
    from abm.spec import _fmt

    return _fmt(v) if not isinstance(v, Fraction) else str(v)


def read(text: str) -> tuple[str, dict]:
    """``(name, parameters)`` of a mechanism's text; every value read by its declared kind.

    >>> read("pick-r(r=[1/3, 2/3])")
    ('pick-r', {'r': [Fraction(1, 3), Fraction(2, 3)]})
    """
    from abm import mechanisms
    from abm.spec import parse_mechanism

    call = parse_mechanism(text, error=MechanismError)
    if call.args:
        raise MechanismError(f"mechanism {text!r}: give parameters by name, e.g. pick-r(r=[0.3, 0.7])")
    key, cls = mechanisms._resolve(call.name)
    declared = cls.info.parameters
    params = {}
    for name, value in call.kwargs.items():
        where = f"{key}: parameter {name}"
        params[name] = _as_kind(declared[name].kind, value, where) if name in declared else _plain(value, where)
    return call.name, params


def _value_text(v, exact: bool = False) -> str:
    """``exact``: a float share is written as the fraction it stands for (1/3, not 0.333...)."""
    if exact and isinstance(v, float) and len(repr(v)) > 8:
        from abm.shares import simplest_fraction

        f = simplest_fraction(v)
        if f.denominator <= 10_000:
            return str(f)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value_text(x, exact) for x in v) + "]"
    if isinstance(v, Fraction):
        return str(v)
    if isinstance(v, str):
        if re.fullmatch(r"[+-]?\d+/\d+", v) or _NAME.fullmatch(v):
            return v
        return "'" + v + "'" if "'" not in v else '"' + v + '"'
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    if hasattr(v, "tolist"):
        return _value_text(v.tolist(), exact)
    return str(v)


def text_of(name: str, params: dict, kinds: dict | None = None) -> str:
    """The text :func:`read` turns back into ``name`` with ``params`` (``None`` values left out);
    ``kinds`` (name -> declared kind) lets shares print as the fractions they are."""
    kinds = kinds or {}
    shown = {k: v for k, v in params.items() if v is not None and k != "prior"}
    if not shown:
        return name
    return f"{name}(" + ", ".join(f"{k}={_value_text(v, kinds.get(k) == 'shares')}" for k, v in shown.items()) + ")"
