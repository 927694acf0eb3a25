"""Misreport strategies and their registry.

>>> import strategies
>>> strategies.get("truthful")
Truthful()
>>> [s.name for s in strategies.available(stochastic=False)]

The protocol is in :mod:`strategies.base`. This package ships ``truthful``; the
misreport library arrives with the audit module.
"""

from __future__ import annotations

import inspect

from abm.errors import StrategyError
from strategies.base import BidContext, Strategy
from strategies.truthful import Truthful

__all__ = ["BidContext", "Strategy", "Truthful", "get", "available", "register", "names"]

_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


register(Truthful)


def names() -> list[str]:
    return sorted(_REGISTRY)


def available(**classifier_filters) -> list[type[Strategy]]:
    """Registered strategy classes whose classifier matches every filter, e.g. ``stochastic=False``."""
    out = []
    for name in sorted(_REGISTRY):
        cls = _REGISTRY[name]
        unknown = set(classifier_filters) - set(cls.classifier)
        if unknown:
            raise StrategyError(f"unknown classifier keys {sorted(unknown)}; accepted: {sorted(cls.classifier)}")
        if all(cls.classifier[k] == v for k, v in classifier_filters.items()):
            out.append(cls)
    return out


def get(name: str | Strategy, **params) -> Strategy:
    """Build the strategy registered as ``name``; a :class:`Strategy` instance passes through."""
    if isinstance(name, Strategy):
        return name
    key = str(name).strip().lower()
    if key not in _REGISTRY:
        raise StrategyError(f"unknown strategy {name!r}; accepted: {', '.join(names())}")
    cls = _REGISTRY[key]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise StrategyError(f"{key} does not take {', '.join(unknown)}; it takes {', '.join(sorted(accepted)) or 'no parameters'}")
    return cls(**params)
