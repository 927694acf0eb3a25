"""Maximum-weight scheduling of unit jobs with deadlines: the core of the ranking-type oracles.

Ranking, weighted ranking and two-agent round robin share one structure: with the
others' reports fixed, the agent wins item j iff it ranks j before a deadline D_j that
the others' reports set, so its best response is a schedule of unit jobs.

Job j may occupy one slot in 0..D_j - 1; a set of jobs is feasible iff, for every t, at
most t of them have D_j <= t (nested capacities, a laminar matroid), so the greedy by
decreasing weight is optimal. Each accepted job takes the latest free slot before its
deadline, found with a union-find over slots.

The greedy is sequential in the jobs, so the loop here runs over the m jobs in weight
order while every numpy operation covers all P instances at once (the union-find uses
path halving, which vectorizes): O(m) Python steps for any number of instances.
"""

from __future__ import annotations

import numpy as np

__all__ = ["schedule_deadlines", "report_from_slots", "scheduled_value"]


def schedule_deadlines(weights: np.ndarray, deadlines: np.ndarray) -> np.ndarray:
    """Slots of a maximum-weight feasible schedule, per instance.

    ``weights`` and ``deadlines`` have shape ``(..., m)``; returns ``slot`` of the same shape
    with ``slot[j]`` in ``0..D_j - 1``, or -1 when job j is left out. Jobs with weight <= 0
    are left out; equal weights: lower job index first.
    """
    w = np.asarray(weights, dtype=float)
    shape = w.shape
    m = shape[-1]
    w = w.reshape(-1, m)
    d = np.minimum(np.asarray(deadlines, dtype=np.int64).reshape(-1, m), m)
    P = w.shape[0]
    rows = np.arange(P)
    order = np.argsort(-w, axis=-1, kind="stable")
    parent = np.tile(np.arange(m + 1, dtype=np.int64), (P, 1))  # parent[t]: a free slot <= t (1-based; 0 = none)
    slot = np.full((P, m), -1, dtype=np.int64)
    for k in range(m):
        j = order[:, k]
        x = np.maximum(d[rows, j], 0)
        while True:  # find the root (the latest free slot at or before the deadline), halving paths
            px = parent[rows, x]
            if (px == x).all():
                break
            ppx = parent[rows, px]
            parent[rows, x] = ppx
            x = np.where(px == x, x, ppx)
        ok = (w[rows, j] > 0) & (x > 0)
        slot[rows[ok], j[ok]] = x[ok] - 1
        parent[rows[ok], x[ok]] = x[ok] - 1
    return slot.reshape(shape)


def report_from_slots(slots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A report ranking the scheduled items at their slots and every other item after them.

    ``slots`` and ``values`` are ``(P, m)`` (slot -1: not scheduled, ranked after the
    scheduled ones by decreasing value). The bid of an item is m minus its position, so
    the report is strict: no tie-breaking rule is involved.
    """
    P, m = values.shape
    key_sched = np.where(slots >= 0, slots, m).astype(float)
    rank_value = np.empty((P, m))
    np.put_along_axis(rank_value, np.argsort(-values, axis=-1, kind="stable"),
                      np.broadcast_to(np.arange(m, dtype=float), (P, m)), axis=-1)
    order = np.lexsort((rank_value, key_sched), axis=-1)
    bids = np.empty((P, m))
    np.put_along_axis(bids, order, np.broadcast_to(np.arange(m, 0, -1, dtype=float), (P, m)), axis=-1)
    return bids


def scheduled_value(slots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Total value of the scheduled jobs, per instance: the structural optimum of a schedule."""
    return np.where(slots >= 0, values, 0.0).sum(axis=-1)
