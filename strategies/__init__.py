"""Misreport strategies and their registry.

>>> import strategies
>>> strategies.get("truthful")
Truthful()
>>> [s.name for s in strategies.available(stochastic=False)]

The protocol is in :mod:`strategies.base`; own-value misreports in
:mod:`strategies.simple`; mechanism-, prior- and others-aware ones in
:mod:`strategies.informed`; transformers in :mod:`strategies.transformers`; learners,
which the Mesa model updates after every round, in :mod:`strategies.learning`.
"""

from __future__ import annotations

import inspect

from abm.errors import StrategyError, did_you_mean
from strategies.base import BidContext, Strategy
from strategies.informed import AlwaysTrade, ContestedFirst, ExPostBestResponse, InterimBestResponse, NeverTrade
from strategies.simple import (
    CardinalNoise, Exaggerate, InflateTopK, RandomPermutation, ReverseTail, Scale, Shade, SwapRanks,
)
from strategies.learning import DeadlineSchedule, Exp3, Hedge, Learner, ShadingCurve
from strategies.policy import ItemPolicy, SealedItemPolicy
from strategies.transformers import Mixed, Noisy, OnItems
from strategies.truthful import Truthful

__all__ = [
    "BidContext", "Strategy", "Truthful", "get", "available", "register", "names", "parse",
    "Scale", "Exaggerate", "Shade", "InflateTopK", "SwapRanks", "ReverseTail", "RandomPermutation", "CardinalNoise",
    "AlwaysTrade", "NeverTrade", "ContestedFirst", "ExPostBestResponse", "InterimBestResponse",
    "Noisy", "Mixed", "OnItems", "Learner", "Hedge", "Exp3", "ShadingCurve", "DeadlineSchedule",
    "ItemPolicy", "SealedItemPolicy",
]

_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


for _cls in (Truthful, Scale, Exaggerate, Shade, InflateTopK, SwapRanks, ReverseTail, RandomPermutation,
             CardinalNoise, AlwaysTrade, NeverTrade, ContestedFirst, ExPostBestResponse, InterimBestResponse,
             Noisy, Mixed, OnItems, Hedge, Exp3, ShadingCurve, DeadlineSchedule, ItemPolicy, SealedItemPolicy):
    register(_cls)


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
        raise StrategyError(f"unknown strategy {name!r}{did_you_mean(name, names())}; accepted: {', '.join(names())}")
    cls = _REGISTRY[key]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise StrategyError(f"{key} does not take {', '.join(unknown)}; it takes {', '.join(sorted(accepted)) or 'no parameters'}")
    return cls(**params)


def parse(text: str) -> Strategy:
    """A strategy from text: ``name`` or ``name(param=value, ...)`` with numeric values,
    e.g. ``scale(factor=3)`` or ``inflate-top-k(k=2)``. Parsed, never evaluated."""
    import re

    text = text.strip()
    match = re.fullmatch(r"([a-z][a-z0-9-]*)\s*(?:\((.*)\))?", text)
    if not match:
        raise StrategyError(f"cannot read strategy {text!r}; expected NAME or NAME(param=value, ...)")
    name, inside = match.group(1), match.group(2)
    params = {}
    if inside and inside.strip():
        for part in inside.split(","):
            key, eq, value = part.partition("=")
            if not eq or not re.fullmatch(r"[a-z_][a-z0-9_]*", key.strip()):
                raise StrategyError(f"cannot read parameter {part.strip()!r} of {name}; expected param=value")
            try:
                number = float(value)
            except ValueError:
                raise StrategyError(f"parameter {key.strip()} of {name} must be a number, got {value.strip()!r}") from None
            params[key.strip()] = int(number) if number.is_integer() and "." not in value else number
    return get(name, **params)
