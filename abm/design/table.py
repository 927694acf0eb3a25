"""Designed deterministic mechanisms as :class:`~abm.mechanisms.Mechanism` objects: a table of owners.

* :class:`OrdinalTable` -- one row per ranking profile (every agent's strict ranking, ties in bids
  broken by lowest item index, the package's rule). Declares ``ordinal``, so the DSIC audit
  enumerates every ranking of each agent and earns ``exact`` without trusting the program that
  produced the table.
* :class:`LevelTable` -- one row per profile of level types (:mod:`abm.design.cardinal`). A bid is
  read as the highest level at or below it (the lowest level below all): every report acts as some
  level report, so a table truthful on the levels stays truthful for values on the levels.

Neither can name a rule on fewer items (``restrict`` returns None): a table is defined at its size.
"""

from __future__ import annotations

import numpy as np

from abm.design.profiles import Rankings, rank_rows
from abm.errors import MechanismError
from abm.mechanisms.base import Claim, Mechanism, MechanismInfo

__all__ = ["OrdinalTable", "LevelTable"]


class _Table(Mechanism):
    def __init__(self, owner, n_agents: int, n_items: int, source: str = ""):
        owner = np.asarray(owner)
        if owner.ndim != 2 or owner.shape[1] != n_items:
            raise MechanismError(f"a designed table needs one owner per item, shape (profiles, {n_items}); "
                                 f"got {owner.shape}")
        if owner.size and not (owner.min() >= 0 and owner.max() < n_agents):
            raise MechanismError(f"a designed table names owners outside 0..{n_agents - 1}")
        self.owner = owner.astype(np.int64)
        self.n_agents, self.n_items, self.source = int(n_agents), int(n_items), source

    @property
    def params(self) -> dict:
        return {"source": self.source} if self.source else {}

    #: tables up to this many entries are written into their spec (a witness file then rebuilds them)
    INLINE_ENTRIES = 50_000

    def spec(self) -> dict:
        """By its lab folder when it was loaded from one, else the table itself (small tables only)."""
        if self.source:
            return {"name": "abm.design:Designed", "path": self.source}
        if self.owner.size > self.INLINE_ENTRIES:
            raise MechanismError(f"this designed table ({self.owner.size:,} owners) was not loaded from a lab "
                                 "folder; save it with abm.design.save and load it with abm.design.load to name it")
        cls = type(self)
        return {"name": f"{cls.__module__}:{cls.__qualname__}", "owner": self.owner.tolist(),
                "n_agents": self.n_agents, "n_items": self.n_items, **self._extra_spec()}

    def _extra_spec(self) -> dict:
        return {}

    def check_agents(self, n_agents: int) -> None:
        if n_agents != self.n_agents:
            raise MechanismError(f"this designed mechanism is a table for {self.n_agents} agents; bids have {n_agents}")

    def _check_items(self, m: int) -> None:
        if m != self.n_items:
            raise MechanismError(f"this designed mechanism is a table for {self.n_items} items; bids have {m} "
                                 f"(design one for {m} items with tfd design --items {m})")

    def restrict(self, keep):
        return None


class OrdinalTable(_Table):
    """A deterministic ordinal mechanism given by its owners on every ranking profile."""

    info = MechanismInfo(name="designed", summary="a mechanism computed by tfd design: a table over profiles",
                         claim=Claim.NONE, ordinal=True, reference="tfd design (the optimal truthful mechanism lab)",
                         parameters={"path": "a folder written by tfd design --deterministic"})

    def __init__(self, owner, n_agents: int, n_items: int, source: str = ""):
        super().__init__(owner, n_agents, n_items, source)
        self._rk = Rankings(n_items)
        if self.owner.shape[0] != self._rk.count ** n_agents:
            raise MechanismError(f"an ordinal table for {n_agents} agents and {n_items} items has "
                                 f"{self._rk.count ** n_agents} rows, got {self.owner.shape[0]}")

    def _allocate(self, bids):
        self._check_items(bids.shape[-1])
        idx = self._rk.index(rank_rows(bids))  # (..., n)
        p = np.zeros(idx.shape[:-1], dtype=np.int64)
        for i in range(self.n_agents):
            p = p * self._rk.count + idx[..., i]
        return self.owner[p]


class LevelTable(_Table):
    """A deterministic mechanism on a level domain, given by its owners on every profile of level types."""

    info = MechanismInfo(name="designed-levels", summary="a mechanism computed by tfd design on value levels",
                         claim=Claim.NONE, ordinal=False, reference="tfd design --levels",
                         parameters={"path": "a folder written by tfd design --levels ... --deterministic"})

    def __init__(self, owner, n_agents: int, n_items: int, levels, source: str = ""):
        super().__init__(owner, n_agents, n_items, source)
        self.levels = np.asarray(levels, dtype=float)
        k = self.levels.size
        if self.owner.shape[0] != (k ** n_items) ** n_agents:
            raise MechanismError(f"a level table for {n_agents} agents, {n_items} items and {k} levels has "
                                 f"{(k ** n_items) ** n_agents} rows, got {self.owner.shape[0]}")
        self._radix = k ** np.arange(n_items - 1, -1, -1)

    def _extra_spec(self) -> dict:
        return {"levels": self.levels.tolist()}

    def _allocate(self, bids):
        self._check_items(bids.shape[-1])
        lv = np.clip(np.searchsorted(self.levels, bids, side="right") - 1, 0, self.levels.size - 1)
        t = lv @ self._radix  # (..., n)
        K = self.levels.size ** self.n_items
        p = np.zeros(t.shape[:-1], dtype=np.int64)
        for i in range(self.n_agents):
            p = p * K + t[..., i]
        return self.owner[p]
