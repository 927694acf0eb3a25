"""What an ordinal rule sees of the reports: each agent's canonical strict ranking, no magnitudes.

A mechanism that declares itself ordinal (``info.ordinal``) is ordinal by construction: the
base class's ``allocate`` never passes it the bids, only a :class:`Rankings` of them. The
canonical ranking of a report orders the items by decreasing bid, lowest item index first
among equal bids (the package's tie rule), so two reports with the same canonical ranking are
the same input to the rule, and the m! strict rankings reach every outcome any report can:
enumerating them is a proof, not a sample.

Rankings answer ordinal questions only -- the order, each item's position, the canonical bids
``m - position``, an agent's top k among the items not yet taken -- each computed once, on
demand, so a rule that needs only the top k of what is left (Pick-r) pays a partition, not a
sort, and a rule that sorts (Ranking, round robin) sorts once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Rankings"]


class Rankings:
    """The canonical strict rankings of reports of shape ``(..., n, m)``.

    A rule declared ordinal receives one of these in ``_allocate_ranked``. Every answer is a
    function of the rankings alone: a rule that keeps to these methods cannot read magnitudes.
    """

    __slots__ = ("_bids", "_order", "_position", "shape")

    def __init__(self, bids: np.ndarray):
        self._bids = bids
        self._order = None
        self._position = None
        self.shape = bids.shape

    def order(self) -> np.ndarray:
        """``(..., n, m)`` int64: each agent's items, best first (ties: lowest item index)."""
        if self._order is None:
            from abm.mechanisms.ranking import preference_order

            self._order = preference_order(self._bids)
        return self._order

    def position(self) -> np.ndarray:
        """``(..., n, m)``: item j's place in agent i's ranking, 0 for its top item."""
        if self._position is None:
            from abm.mechanisms.ranking import _inverse

            m = self.shape[-1]
            self._position = _inverse(self.order().reshape(-1, m)).reshape(self.shape)
        return self._position

    def agent_position(self, agent: int) -> np.ndarray:
        """``(..., m)``: one agent's positions, computed for that agent's row only (a rule that
        visits agents one at a time never holds the ``(..., n, m)`` table)."""
        if self._position is not None:
            return self._position[..., agent, :]
        from abm.mechanisms.ranking import ranks

        return ranks(self._bids[..., agent:agent + 1, :])[..., 0, :]

    def bids(self) -> np.ndarray:
        """The canonical bids ``m - position`` (floats 1..m): reports with these rankings and no other
        information, for rules written on bids."""
        return (self.shape[-1] - self.position()).astype(float)

    def top_remaining(self, agent: int, taken: np.ndarray, k: int, masked=None, scratch=None) -> np.ndarray:
        """``(..., m)`` mask of agent ``agent``'s k best items among those not ``taken`` (ties: lowest
        item index first, as in its canonical ranking), in linear time per row."""
        from abm.mechanisms.picking import top_remaining

        return top_remaining(self._bids[..., agent, :], taken, k, masked, scratch)

    def agents(self, order) -> Rankings:
        """The rankings of the agents ``order`` (a list of agent indices), in that order."""
        out = Rankings(self._bids[..., list(order), :])
        if self._order is not None:
            out._order = self._order[..., list(order), :]
        return out
