"""Allocation mechanisms as pure batched functions, and their registry.

>>> from abm import mechanisms
>>> mech = mechanisms.parse("pick-r(r=[0.3, 0.7])")   # the text every command reads
>>> mech = mechanisms.get("pick-r", r=[0.3, 0.7])     # the same, from Python
>>> owner = mech.allocate(bids)          # bids (..., n, m) -> owner (..., m)
>>> mechanisms.text(mech)
'pick-r(r=[0.3, 0.7])'

``available()`` lists every registered mechanism's :class:`MechanismInfo`.

A mechanism is one module in this package: a :class:`Mechanism` subclass decorated with
:func:`register`, whose :class:`MechanismInfo` declares its parameters (:class:`Param`) and an
:class:`Example`. Every module here is imported when the package is, so registering is all it
takes to appear in ``tfd mechanisms``, every command's ``--mechanism``, the explorer and the
contract tests; ``CONTRIBUTING.md`` says what else a mechanism may answer.

Bring your own mechanism: any :class:`Mechanism` subclass can be audited from Python;
``get("package.module:ClassName", ...)`` imports one by path (the CLI's
``--mechanism 'package.module:ClassName(threshold=0.7)'``),
and a separate package can register mechanisms by name under the entry-point group
``tfd.mechanisms`` (``name = "package.module:ClassName"``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from importlib import metadata

from abm.errors import MechanismError, did_you_mean
from abm.mechanisms.base import (REGISTRY, BestResponse, Claim, Example, Mechanism, MechanismInfo, Param, check_bids,
                                 register)
from abm.mechanisms.rankings import Rankings
from abm.mechanisms.baselines import RoundRobin, WelfareMax
from abm.mechanisms.menus import Component, Composition, Exchange, Picking, random_composition
from abm.mechanisms.presets import (PickContiguous, PickCorrelated, PickEqualQuota, PickOptimal, PickTheorem37,
                                    PickUniversal)
from abm.mechanisms.picking import QTS, PickR, SerialDictatorship, quotas, r_from_s, resolve_r, s_from_r
from abm.mechanisms.ranking import Ranking, ranks
from abm.mechanisms.weighted import WeightedRanking

__all__ = [
    "BestResponse", "Claim", "Example", "Mechanism", "MechanismInfo", "Param", "Rankings", "check_bids", "get", "available",
    "register", "get_class", "from_spec", "spec_name", "parse", "text", "ENTRY_POINT_GROUP",
    "PickR", "SerialDictatorship", "QTS", "Ranking", "WelfareMax", "RoundRobin", "WeightedRanking",
    "Picking", "Exchange", "Composition", "Component", "random_composition",
    "PickOptimal", "PickTheorem37", "PickEqualQuota", "PickUniversal", "PickCorrelated", "PickContiguous",
    "quotas", "resolve_r", "s_from_r", "r_from_s", "ranks",
]

# Import every module of the package: each registers its mechanisms with @register.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

_ALIASES = {"pick": "pick-r", "qt": "qt-s", "sd": "serial-dictatorship", "rr": "round-robin",
            "max-welfare": "welfare-max"}


ENTRY_POINT_GROUP = "tfd.mechanisms"
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*")


def _entry_points() -> dict:
    return {ep.name.lower(): ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _load_class(target: str, where: str) -> type[Mechanism]:
    """Import ``package.module:ClassName`` and check that it is a Mechanism subclass."""
    if not _IMPORT_PATH.fullmatch(target):
        raise MechanismError(f"{where}: {target!r} is not an import path; expected package.module:ClassName")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MechanismError(f"{where}: cannot import module {module_name!r} ({exc}); is it on PYTHONPATH?") from None
    except Exception as exc:  # the user's own module failed while importing: its error, named, not ours
        syntax = isinstance(exc, SyntaxError)
        where_in = f" ({exc.filename}, line {exc.lineno})" if syntax else ""
        first = (exc.msg if syntax else str(exc).splitlines()[0] if str(exc) else "no message")
        raise MechanismError(f"{where}: importing your module {module_name!r} raised {type(exc).__name__}: "
                             f"{first}{where_in}; fix the module and try again") from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Mechanism)):
        raise MechanismError(f"{where}: {target!r} is not a subclass of abm.mechanisms.Mechanism")
    # a factory (its __new__ builds another mechanism, as abm.design:Designed does) has its rule there;
    # one that redefines allocate itself is judged by the owner checks on what it returns
    if inspect.isabstract(cls) or (cls._allocate is Mechanism._allocate
                                   and cls._allocate_ranked is Mechanism._allocate_ranked
                                   and cls.allocate is Mechanism.allocate and cls.__new__ is Mechanism.__new__):
        raise MechanismError(f"{where}: {target!r} defines no allocation rule; a mechanism implements "
                             "_allocate(bids) or, when ordinal, _allocate_ranked(rankings)")
    return cls


def _resolve(name: str) -> tuple[str, type[Mechanism]]:
    text = str(name).strip()
    if ":" in text:
        return text, _load_class(text, "--mechanism")
    key = _ALIASES.get(text.lower(), text.lower())
    if key in REGISTRY:
        return key, REGISTRY[key]
    eps = _entry_points()
    if key in eps:
        return key, _load_class(eps[key].value, f"entry point {key!r} of group {ENTRY_POINT_GROUP}")
    accepted = sorted(REGISTRY) + sorted(set(eps) - set(REGISTRY))
    raise MechanismError(f"unknown mechanism {name!r}{did_you_mean(name, accepted)}; accepted: {', '.join(accepted)}, "
                         "or package.module:ClassName for your own")


def spec_name(mechanism: Mechanism) -> str:
    """The name :func:`from_spec` rebuilds ``mechanism`` from: its registry name when its class
    is the one registered (here or by entry point), else its import path."""
    cls = type(mechanism)
    key = cls.info.name
    if key and REGISTRY.get(key) is cls:
        return key
    ep = _entry_points().get(key.lower()) if key else None
    if ep is not None and ep.value == f"{cls.__module__}:{cls.__qualname__}":
        return key
    return f"{cls.__module__}:{cls.__qualname__}"


def available() -> list[MechanismInfo]:
    """Metadata of every registered mechanism, sorted by name (entry points included)."""
    infos = {k: cls.info for k, cls in REGISTRY.items()}
    for key, ep in _entry_points().items():
        if key not in infos:
            try:
                infos[key] = _load_class(ep.value, f"entry point {key!r}").info
            except MechanismError:
                continue  # a broken plug-in does not hide the others; get() reports it by name
    return [infos[k] for k in sorted(infos)]


def get_class(name: str) -> type[Mechanism]:
    """The class registered (or imported, or plugged in) as ``name``; its ``info`` says what it takes."""
    return _resolve(name)[1]


def get(name: str, **params) -> Mechanism:
    """Build the mechanism registered as ``name`` with ``params``.

    ``name`` may carry its parameters in the one grammar, ``get("pick-r(r=[0.3, 0.7])")``
    (:func:`parse`); a parameter given both ways is refused. Parameters a mechanism does not
    take are refused by name; ``prior`` is passed only to mechanisms that use it (QT-s), so
    callers may always supply it.
    """
    if not isinstance(name, str):
        raise MechanismError(f"a mechanism is named by text, e.g. 'pick-r(r=[0.3, 0.7])', got {type(name).__name__}")
    if "(" in name:
        from abm.mechanisms import grammar

        name, written = grammar.read(name)
        twice = sorted(set(written) & {k for k, v in params.items() if v is not None})
        if twice:
            raise MechanismError(f"{name}: parameter {twice[0]} is given twice (in the text and as an argument)")
        params = {**params, **written}
    key, cls = _resolve(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    if "prior" not in accepted:
        params.pop("prior", None)
    params = {k: v for k, v in params.items() if v is not None or k in accepted}
    unknown = sorted(set(params) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted - {"prior"})) or "no parameters"
        raise MechanismError(f"{key} does not take {', '.join(unknown)}; it takes {takes}")
    try:
        return cls(**{k: v for k, v in params.items() if v is not None})
    except MechanismError:
        raise
    except (TypeError, ValueError) as exc:
        raise MechanismError(f"{key}: bad parameters {params!r}: {exc}") from None


def parse(text: str, **extra) -> Mechanism:
    """The mechanism a text names, ``parse("pick-r(r=[0.3, 0.7])")``: the form of every command's
    ``--mechanism``, the tournament's list, sweep files and the explorer (:mod:`abm.mechanisms.grammar`).
    ``extra``: what the caller supplies besides the text (``prior=`` for QT-s)."""
    return get(text, **extra)


def text(mechanism: Mechanism) -> str:
    """The text :func:`parse` rebuilds ``mechanism`` from: ``pick-r(r=[0.3, 0.7])``."""
    from abm.mechanisms import grammar

    spec = mechanism.spec()
    kinds = {k: p.kind for k, p in type(mechanism).info.parameters.items()}
    return grammar.text_of(spec.pop("name"), spec, kinds)


def from_spec(spec: dict) -> Mechanism:
    """Rebuild a mechanism from :meth:`Mechanism.spec` output (e.g. a saved witness)."""
    if not isinstance(spec, dict) or "name" not in spec:
        raise MechanismError(f"a mechanism spec is a dict with a 'name', got {spec!r}")
    params = {k: v for k, v in spec.items() if k != "name"}
    return get(spec["name"], **params)
