"""Allocation mechanisms as pure batched functions, and their registry.

>>> from abm import mechanisms
>>> mech = mechanisms.get("pick-r", r=[0.3, 0.7])
>>> owner = mech.allocate(bids)          # bids (..., n, m) -> owner (..., m)

``available()`` lists every registered mechanism's :class:`MechanismInfo`.
"""

from __future__ import annotations

import inspect

from abm.errors import MechanismError
from abm.mechanisms.base import Claim, Mechanism, MechanismInfo, check_bids
from abm.mechanisms.baselines import RoundRobin, WelfareMax
from abm.mechanisms.menus import Component, Composition, Exchange, Picking, random_composition
from abm.mechanisms.presets import PickCorrelated, PickEqualQuota, PickOptimal, PickTheorem37, PickUniversal
from abm.mechanisms.picking import QTS, PickR, SerialDictatorship, quotas, r_from_s, resolve_r, s_from_r
from abm.mechanisms.ranking import Ranking, ranks
from abm.mechanisms.weighted import WeightedRanking

__all__ = [
    "Claim", "Mechanism", "MechanismInfo", "check_bids", "get", "available", "register", "from_spec",
    "PickR", "SerialDictatorship", "QTS", "Ranking", "WelfareMax", "RoundRobin", "WeightedRanking",
    "Picking", "Exchange", "Composition", "Component", "random_composition",
    "PickOptimal", "PickTheorem37", "PickEqualQuota", "PickUniversal", "PickCorrelated",
    "quotas", "resolve_r", "s_from_r", "r_from_s", "ranks",
]

_REGISTRY: dict[str, type[Mechanism]] = {}
_ALIASES = {"pick": "pick-r", "qt": "qt-s", "sd": "serial-dictatorship", "rr": "round-robin",
            "max-welfare": "welfare-max"}


def register(cls: type[Mechanism]) -> type[Mechanism]:
    """Add a mechanism class to the registry under ``cls.info.name``."""
    _REGISTRY[cls.info.name] = cls
    return cls


for _cls in (PickR, QTS, Ranking, SerialDictatorship, RoundRobin, WelfareMax, WeightedRanking, Picking,
             Exchange, Composition, PickOptimal, PickTheorem37, PickEqualQuota, PickUniversal, PickCorrelated):
    register(_cls)


def available() -> list[MechanismInfo]:
    """Metadata of every registered mechanism, sorted by name."""
    return [_REGISTRY[k].info for k in sorted(_REGISTRY)]


def get(name: str, **params) -> Mechanism:
    """Build the mechanism registered as ``name`` with ``params``.

    Parameters a mechanism does not take are refused by name; ``prior`` is passed only
    to mechanisms that use it (QT-s), so callers may always supply it.
    """
    key = _ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if key not in _REGISTRY:
        raise MechanismError(f"unknown mechanism {name!r}; accepted: {', '.join(sorted(_REGISTRY))}")
    cls = _REGISTRY[key]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
    if "prior" not in accepted:
        params.pop("prior", None)
    params = {k: v for k, v in params.items() if v is not None or k in accepted}
    unknown = sorted(set(params) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted - {"prior"})) or "no parameters"
        raise MechanismError(f"{key} does not take {', '.join(unknown)}; it takes {takes}")
    return cls(**{k: v for k, v in params.items() if v is not None})


def from_spec(spec: dict) -> Mechanism:
    """Rebuild a mechanism from :meth:`Mechanism.spec` output (e.g. a saved witness)."""
    if not isinstance(spec, dict) or "name" not in spec:
        raise MechanismError(f"a mechanism spec is a dict with a 'name', got {spec!r}")
    params = {k: v for k, v in spec.items() if k != "name"}
    return get(spec["name"], **params)
