"""The strategy protocol, modelled on Axelrod's players.

A strategy turns an agent's private values into bids. It has a ``name``, keeps its
parameters in its ``repr``, and declares in ``classifier`` what information it uses
(own values, the prior, the mechanism, others' bids -- "clairvoyant"), whether it
is random, and whether its report always ranks the items as the values do
("keeps_ranking": such a report cannot change an ordinal mechanism's outcome).
Strategies never touch the Mesa model: what they may know arrives in a
:class:`BidContext`, and randomness only through ``context.rng``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from abm.errors import StrategyError

__all__ = ["BidContext", "Strategy"]


@dataclass
class BidContext:
    """What an agent may know when it bids.

    ``values`` passed to :meth:`Strategy.bid` are the agent's own; the rest is here.
    ``others_bids`` is filled only for clairvoyant strategies.
    """

    agent: int
    n_agents: int
    rng: np.random.Generator
    prior: Any = None
    mechanism: Any = None
    others_bids: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


class Strategy:
    """Base class. Subclasses set ``name`` and ``classifier`` and implement ``_bid``."""

    name: str = "strategy"
    classifier: dict = {
        "uses_own_values": True,
        "uses_prior": False,
        "uses_mechanism": False,
        "clairvoyant": False,
        "stochastic": False,
        "keeps_ranking": False,
    }

    @property
    def params(self) -> dict:
        return {}

    def bid(self, values: np.ndarray, context: BidContext) -> np.ndarray:
        """Bids for private ``values`` of shape ``(..., m)``; returns the same shape."""
        values = np.asarray(values, dtype=float)
        bids = np.asarray(self._bid(values, context), dtype=float)
        if bids.shape != values.shape:
            raise StrategyError(f"{self!r} returned bids of shape {bids.shape} for values of shape {values.shape}")
        return bids

    def _bid(self, values: np.ndarray, context: BidContext) -> np.ndarray:
        raise NotImplementedError

    @property
    def is_truthful(self) -> bool:
        return False

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.params == other.params

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self.params)))


#: every registered strategy class by its ``name``; filled by :func:`register` as the modules of
#: this package are imported (the package imports all of them, as the mechanisms' package does)
REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: add ``cls`` to :data:`REGISTRY` under ``cls.name``. A second class under a
    name already taken is refused, so two strategies can never shadow each other silently."""
    taken = REGISTRY.get(cls.name)
    if taken is not None and taken.__qualname__ != cls.__qualname__:
        raise StrategyError(f"strategy name {cls.name!r} is taken by {taken.__module__}.{taken.__qualname__}; "
                            f"give {cls.__module__}.{cls.__qualname__} another name")
    REGISTRY[cls.name] = cls
    return cls
