"""One allocated instance as a table for the explorer's picture.

Items are ordered by quantile: by the highest quantile F_i(v_ij) any agent has for the
item (so the most coveted items come first), and each (agent, item) cell carries the
agent's quantile, value and bid, whether it owns the item, and a label that says why:

* sequential pickers -- Pick-r (Definition 3.4) and round robin -- label each won item with
  its place in the picking sequence. Both are read off the allocation: an agent's won
  items, in decreasing order of its own bid, are its 1st, 2nd, ... picks (each pick is its
  favourite remaining item), and Pick-r's agent i picks after the quotas t_1..t_{i-1},
  round robin's k-th pick of agent i is turn k n + i;
* every other rule labels a won item with the owner's rank of it (1 = the owner's top
  bid), which for Ranking (Algorithm 1) is the position that beat the others' deadlines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from abm import mechanisms as M
from abm.explore.prediction import is_pick_r
from abm.mechanisms.ranking import preference_order


def _own_pick_index(bids: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """k (0-based) for each item: the item is the (k+1)-th of its owner's won items by the owner's bid."""
    n, m = bids.shape
    k = np.empty(m, dtype=np.int64)
    order = preference_order(bids[None])[0]  # (n, m): each agent's items by decreasing bid, ties by index
    for i in range(n):
        won = order[i][owner[order[i]] == i]
        k[won] = np.arange(won.size)
    return k


def picking_sequence(mechanism, bids: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, str] | None:
    """(1-based place of each item in the picking sequence, a caption), or None for rules
    that do not pick in sequence."""
    n, m = bids.shape
    k = _own_pick_index(bids, owner)
    if isinstance(mechanism, M.RoundRobin):
        return k * n + owner + 1, "pick number: round robin, agents 1..n in turn"
    if is_pick_r(mechanism):
        t = mechanism.quotas(n, m)
        start = np.concatenate([[0], np.cumsum(t)[:-1]])
        return start[owner] + k + 1, "pick number: Pick-r, agent i takes its t_i favourite remaining items"
    return None


def instance_table(mechanism, prior, values: np.ndarray, bids: np.ndarray, owner: np.ndarray) -> pd.DataFrame:
    """One row per (agent, item): position (items by highest quantile), quantile, value, bid,
    owner, the label of the owner's cell, and the caption of what the labels mean."""
    values, bids, owner = np.asarray(values, float), np.asarray(bids, float), np.asarray(owner)
    n, m = values.shape
    q = prior.quantiles(values[None])[0]
    position = np.empty(m, dtype=np.int64)
    position[np.lexsort((np.arange(m), -q.max(axis=0)))] = np.arange(m)
    seq = picking_sequence(mechanism, bids, owner)
    if seq is not None:
        label, caption = seq
    else:
        rank = np.empty((n, m), dtype=np.int64)
        order = preference_order(bids[None])[0]
        rank[np.arange(n)[:, None], order] = np.arange(1, m + 1)
        label = rank[owner, np.arange(m)]
        caption = "owner's rank of the item (1 = its top bid)" + (
            ": Ranking gives it to whoever ranks it first" if isinstance(mechanism, (M.Ranking, M.WeightedRanking))
            else "")
    agents = np.repeat(np.arange(n), m)
    items = np.tile(np.arange(m), n)
    owns = owner[items] == agents
    return pd.DataFrame({
        "agent": agents + 1, "item": items + 1, "position": position[items] + 1,
        "quantile": q.ravel(), "value": values.ravel(), "bid": bids.ravel(),
        "owner": owner[items] + 1, "owns": owns,
        "label": np.where(owns, label[items].astype(str), ""),
        "caption": caption,
    })
