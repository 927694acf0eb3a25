"""One allocated instance as a table for the explorer's picture.

Items are ordered by quantile: by the highest quantile F_i(v_ij) any agent has for the
item (so the most coveted items come first), and each (agent, item) cell carries the
agent's quantile, value and bid, whether it owns the item, and a label that says why. The
rule decides its labels (:meth:`abm.mechanisms.Mechanism.instance_labels`): sequential pickers
-- Pick-r (Definition 3.4) and round robin -- give each won item its place in the picking
sequence; every other rule the owner's rank of it (1 = the owner's top bid), which for Ranking
(Algorithm 1) is the position that beat the others' deadlines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def instance_table(mechanism, prior, values: np.ndarray, bids: np.ndarray, owner: np.ndarray) -> pd.DataFrame:
    """One row per (agent, item): position (items by highest quantile), quantile, value, bid,
    owner, the label of the owner's cell, and the caption of what the labels mean."""
    values, bids, owner = np.asarray(values, float), np.asarray(bids, float), np.asarray(owner)
    n, m = values.shape
    q = prior.quantiles(values[None])[0]
    position = np.empty(m, dtype=np.int64)
    position[np.lexsort((np.arange(m), -q.max(axis=0)))] = np.arange(m)
    label, caption = mechanism.instance_labels(bids, owner)
    label = np.asarray(label)
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
