"""Ranking (Algorithm 1): each item goes to the agent that ranks it highest."""

from __future__ import annotations

import numpy as np

from abm.mechanisms.base import Claim, Mechanism, MechanismInfo

__all__ = ["Ranking", "ranks"]


def ranks(bids: np.ndarray) -> np.ndarray:
    """rank(sigma_i, j) - 1 for every agent and item: 0 is the highest bid.

    Equal bids are ranked by lowest item index first. The common case (no equal bids
    within a row) costs one unstable ``argsort``, the floor this package benchmarks
    against; rows with equal bids are redone with a stable sort.
    """
    m = bids.shape[-1]
    order = np.argsort(bids, axis=-1)  # ascending
    out = np.empty(bids.shape, dtype=np.int64)
    descending_rank = np.arange(m - 1, -1, -1, dtype=np.int64)
    np.put_along_axis(out, order, np.broadcast_to(descending_rank, bids.shape), axis=-1)
    sorted_bids = np.take_along_axis(bids, order, axis=-1)
    tied_rows = (sorted_bids[..., 1:] == sorted_bids[..., :-1]).any(axis=-1)
    if tied_rows.any():
        idx = np.nonzero(tied_rows)
        stable = np.argsort(-bids[idx], axis=-1, kind="stable")
        fixed = np.empty(stable.shape, dtype=np.int64)
        np.put_along_axis(fixed, stable, np.broadcast_to(np.arange(m, dtype=np.int64), stable.shape), axis=-1)
        out[idx] = fixed
    return out


class Ranking(Mechanism):
    """Algorithm 1: item j goes to argmin_i rank(sigma_i, j), lowest agent index on ties.

    Bids are read as rankings only (ordinal). BIC under i.i.d. priors (Theorem 4.1),
    not DSIC.
    """

    info = MechanismInfo(
        name="ranking",
        summary="each item to the agent who ranks it highest (bids read as rankings)",
        claim=Claim.BIC_IID,
        ordinal=True,
        reference="Algorithm 1; Theorem 4.1",
        parameters={},
    )

    def _allocate(self, bids):
        return np.argmin(ranks(bids), axis=-2).astype(np.int64)
