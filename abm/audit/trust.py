"""What a proof may rest on, decided from the code, never from a declaration.

The DSIC audit proves a (profile, agent) pair only from sources the testbed can stand behind:

* **enumeration** of the m! strict rankings, for a rule declared ordinal whose ``allocate`` is the
  testbed's: such a rule is shown rankings only (:class:`abm.mechanisms.Rankings`), so the
  rankings cover every report by construction;
* a **catalogue oracle** (a structural best response, or round robin's integer program), running
  on the exact code it was verified against. :func:`fingerprint` hashes the source of every
  method and helper the rule and its oracle reach from the mechanism's class (its constructor,
  ``_allocate``, ``_allocate_ranked``, ``best_response``, ``best_responses``, what they call,
  transitively, and the class constants they read) plus its ``ordinal`` declaration;
  :data:`VERIFIED` (``verified_oracles.json`` beside this module) holds the fingerprints of the
  catalogue's oracles that passed :func:`abm.audit.catalogue.verify_oracle` (every strict
  ranking, or every report over four levels, against the oracle at the example's size), and the
  test suite fails when the catalogue's code and that file disagree. Any edit to what a rule or
  its oracle runs -- a subclass's helper, a generated mutant, a method replaced on the object --
  changes the fingerprint, and the oracle proves nothing until it is verified again.

Any other oracle (one a user's rule ships, or a catalogue oracle on edited code) is a
**claim**: the audit evaluates its report, cross-checks every pair it claims with the full
search, and never counts it as a proof. A class that overrides ``allocate`` gets no proof of
any kind: the testbed's checks and its ordinal transform do not run there.
"""

from __future__ import annotations

import dataclasses
import dis
import functools
import hashlib
import importlib
import inspect
import json
import types
from dataclasses import dataclass
from pathlib import Path

from abm.mechanisms.base import Mechanism, shown_rankings_only

__all__ = ["Basis", "VERIFIED", "basis", "fingerprint", "verified_path"]

#: the methods a mechanism's rule and oracle start from
ROOTS = ("__init__", "_allocate", "_allocate_ranked", "best_response", "best_responses", "check_agents")
#: constants whose value is part of the fingerprint (class attributes a rule or oracle reads)
_CONSTANT = (int, float, str, bool, tuple, frozenset, type(None))


def verified_path() -> Path:
    return Path(__file__).with_name("verified_oracles.json")


def _load_verified() -> dict:
    try:
        return json.loads(verified_path().read_text())["fingerprints"]
    except (OSError, ValueError, KeyError):  # no file or a damaged one: nothing is verified
        return {}


#: fingerprint -> the catalogue class whose oracle was verified on that code
VERIFIED: dict = _load_verified()


def _project(obj) -> bool:
    """Code whose source the fingerprint covers: anything not from the standard library or an
    installed third-party package (numpy's functions are not the rule's to change)."""
    module = getattr(obj, "__module__", None) or ""
    top = module.split(".")[0]
    return top in ("abm", "strategies", "scenarios") or not _installed(top)


@functools.lru_cache(maxsize=None)
def _installed(top: str) -> bool:
    import sys

    if top in sys.stdlib_module_names or top in ("builtins", ""):
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    origin = (spec.origin or "") if spec else ""
    return "site-packages" in origin or "dist-packages" in origin


def _code_objects(code: types.CodeType):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _code_objects(c)


class _Unhashable(Exception):
    """Code without source (generated at run time): nothing can be verified about it."""


class _Walk:
    def __init__(self, cls: type):
        self.cls = cls
        self.parts: dict[str, str] = {}
        self.seen: set[int] = set()

    def method(self, name: str) -> None:
        try:
            raw = inspect.getattr_static(self.cls, name)
        except AttributeError:
            return
        owner = next((c for c in self.cls.__mro__ if name in vars(c)), None)
        if owner is Mechanism or owner is object:
            return  # the framework's own methods: not the rule's
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        if isinstance(raw, property):
            for f in (raw.fget, raw.fset):
                if f is not None:
                    self.function(f, f"{self.cls.__name__}.{name}")
            return
        if isinstance(raw, functools.partial):
            raw = raw.func
        if isinstance(raw, types.FunctionType):
            self.function(raw, f"method {name}")
        elif isinstance(raw, _CONSTANT):
            self.parts[f"class constant {name}"] = repr(raw)

    def function(self, fn, label: str) -> None:
        fn = inspect.unwrap(fn)
        if id(fn) in self.seen or not isinstance(fn, types.FunctionType):
            return
        self.seen.add(id(fn))
        try:
            source = inspect.getsource(fn)
        except (OSError, TypeError):
            raise _Unhashable(label) from None
        if not fn.__code__.co_filename.endswith(".py"):
            raise _Unhashable(label)  # exec'd text (a generated mutant) under a file's name
        self.parts[f"function {fn.__module__}.{fn.__qualname__}"] = source
        for k, closure in enumerate(fn.__closure__ or ()):
            self.value(getattr(closure, "cell_contents", None), f"{fn.__qualname__} cell {k}")
        for code in _code_objects(fn.__code__):
            module = None
            for ins in dis.get_instructions(code):
                if ins.opname == "IMPORT_NAME":
                    module = ins.argval
                elif ins.opname == "IMPORT_FROM" and module:
                    try:
                        self.value(getattr(importlib.import_module(module), ins.argval), f"{module}.{ins.argval}")
                    except (ImportError, AttributeError):
                        pass
            for name in code.co_names:
                self.method(name)
                if name in fn.__globals__:
                    self.value(fn.__globals__[name], f"{fn.__module__}.{name}")

    def value(self, obj, label: str) -> None:
        if isinstance(obj, _CONSTANT) or type(obj).__module__ == "numpy" and not callable(obj):
            self.parts[f"constant {label}"] = repr(obj)
        elif isinstance(obj, types.FunctionType) and _project(obj):
            self.function(obj, label)
        elif isinstance(obj, type) and _project(obj) and id(obj) not in self.seen:
            self.seen.add(id(obj))
            if obj is Mechanism:
                return
            try:
                self.parts[f"class {obj.__module__}.{obj.__qualname__}"] = inspect.getsource(obj)
            except (OSError, TypeError):
                raise _Unhashable(f"class {obj.__qualname__}") from None
            for v in vars(obj).values():
                if isinstance(v, (staticmethod, classmethod)):
                    v = v.__func__
                if isinstance(v, types.FunctionType):
                    if inspect.unwrap(v).__code__.co_filename == "<string>" and dataclasses.is_dataclass(obj):
                        continue  # generated from the fields, which the class's source holds
                    self.function(v, f"{obj.__qualname__}")


def fingerprint(mechanism) -> str | None:
    """A hash of the code ``mechanism``'s rule and oracle run (see the module docstring), or None
    when some of it has no source to hash or a method is replaced on the object."""
    cls = type(mechanism)
    if any(callable(v) and hasattr(cls, k) for k, v in vars(mechanism).items()):
        return None
    walk = _Walk(cls)
    try:
        for name in ROOTS:
            walk.method(name)
    except _Unhashable:
        return None
    h = hashlib.sha256(f"ordinal={bool(mechanism.info.ordinal)}".encode())
    for key in sorted(walk.parts):
        h.update(b"\0" + key.encode() + b"\0" + walk.parts[key].encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Basis:
    """What the audit may prove a mechanism's pairs by: ``enumeration`` (ordinal by construction),
    ``oracle`` ("verified", "claimed" or "none") and a line saying why, for the report."""

    enumeration: bool
    oracle: str
    note: str


def _verified(mechanism) -> tuple[bool, str]:
    fp = fingerprint(mechanism)
    if fp is None:
        return False, f"{type(mechanism).__name__}'s code has no source to verify (or a method is replaced on the object)"
    if fp not in VERIFIED:
        return False, (f"{type(mechanism).__module__}.{type(mechanism).__qualname__}'s rule and oracle are not the code "
                       "any catalogue oracle was verified against")
    for part in mechanism.submechanisms():
        ok, why = _verified(part)
        if not ok:
            return False, f"a part: {why}"
    return True, f"catalogue oracle verified on this code ({VERIFIED[fp]})"


def basis(mechanism) -> Basis:
    """The proof sources open to ``mechanism`` in an audit (see the module docstring)."""
    cls = type(mechanism)
    if cls.allocate is not Mechanism.allocate or "allocate" in vars(mechanism):
        return Basis(False, "none", f"no proof of any kind: {cls.__name__} overrides allocate, so the testbed's "
                                    "checks and its ordinal transform do not run there")
    enumeration = shown_rankings_only(mechanism)
    if _definer_is_base(cls, "best_response"):
        return Basis(enumeration, "none", "no structural oracle")
    ok, why = _verified(mechanism)
    if ok:
        return Basis(enumeration, "verified", why)
    return Basis(enumeration, "claimed", f"its oracle is a claim, cross-checked on every pair: {why}")


def _definer_is_base(cls: type, attribute: str) -> bool:
    return next(c for c in cls.__mro__ if attribute in vars(c)) is Mechanism
