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

import importlib
import inspect
import pkgutil

from abm.errors import StrategyError, did_you_mean
from strategies.base import REGISTRY, BidContext, Strategy, register
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

_REGISTRY = REGISTRY

# every module of the package is imported, so a class marked @register is never left out
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


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
    """A strategy from text, read by the testbed's one grammar (:mod:`abm.spec`): ``name`` or
    ``name(param=value, ...)``, where a value is a number, a list ``[...]`` or a strategy itself,
    e.g. ``scale(factor=3)``, ``noisy(strategy=scale(factor=3), p=0.2)``,
    ``mixed(strategies=[truthful, shade], probabilities=[0.3, 0.7])``. Parsed, never evaluated."""
    from abm import spec

    return _build(spec.parse_one(str(text), what="strategy", error=StrategyError, example="'truthful'"), str(text))


def _build(expr, text: str):
    """A parsed expression as a strategy (a name or a call) or a parameter value (numbers, lists)."""
    from abm.spec import Call

    if isinstance(expr, list):
        return [_build(e, text) for e in expr]
    if not isinstance(expr, Call):
        return expr
    if expr.args:
        raise StrategyError(f"strategy {text!r}: give {expr.name}'s parameters by name, e.g. scale(factor=3)")
    params = {}
    for key, value in expr.kwargs.items():
        if isinstance(value, Call) and value.name.lower() not in _REGISTRY:
            raise StrategyError(f"strategy {text!r}: parameter {key} of {expr.name} is a number, a list or a "
                                f"strategy, got {value.name!r}")
        params[key] = _build(value, text)
    return get(expr.name, **params)
