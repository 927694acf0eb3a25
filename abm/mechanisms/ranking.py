"""Ranking (Algorithm 1): each item goes to the agent that ranks it highest."""

from __future__ import annotations

import numpy as np

from abm.mechanisms.base import BestResponse, Claim, Example, Mechanism, MechanismInfo, register
from abm.mechanisms.schedule import report_from_slots, schedule_deadlines, scheduled_value

__all__ = ["Ranking", "preference_order", "pick_index", "ranks", "deadline_best_response"]

_ABS = np.int64(0x7FFF_FFFF_FFFF_FFFF)  # clears the sign bit, so -0.0 keys like +0.0
_TOP = np.int64(0x7FF0_0000_0000_0000)  # bit pattern of +inf: above every finite bid


def preference_order(bids: np.ndarray) -> np.ndarray:
    """Items by decreasing bid, lowest item index first among equal bids: ``(..., m)`` int64.

    For nonnegative finite doubles the bit pattern read as an integer is monotone in the
    value, so each bid becomes one int64 key: its top value bits (inverted, for a
    descending order) above the item index. Sorting those keys costs a fraction of an
    ``argsort`` (vectorized integer sort) and orders equal bids by index for free. Keys
    whose value bits agree after truncation (bids equal to about ten significant digits)
    are then put in exact order, by full value and then index; these runs are rare and short.
    """
    m = bids.shape[-1]
    index_bits = max(1, (m - 1).bit_length())
    if index_bits > 40:  # too few value bits left: fall back to the stable sort
        return np.argsort(-bids, axis=-1, kind="stable")
    rows = np.ascontiguousarray(bids, dtype=float).reshape(-1, m)
    keys = rows.view(np.int64) & _ABS
    keys >>= index_bits
    np.subtract(_TOP >> index_bits, keys, out=keys)
    keys <<= index_bits
    keys |= np.arange(m, dtype=np.int64)
    keys.sort(axis=-1)
    collide = (keys[:, 1:] ^ keys[:, :-1]) < (np.int64(1) << index_bits)
    keys &= (np.int64(1) << index_bits) - 1  # keys now hold item indices
    if collide.any():
        _order_runs(keys, rows, collide)
    return keys.reshape(bids.shape)


def _order_runs(order: np.ndarray, rows: np.ndarray, collide: np.ndarray) -> None:
    """Sort each run of truncated-equal neighbours by exact value (descending), then index."""
    in_run = np.zeros(order.shape, dtype=bool)
    in_run[:, 1:] |= collide
    in_run[:, :-1] |= collide
    r, p = np.nonzero(in_run)  # row-major: runs are contiguous in this listing
    continues = np.zeros(r.size, dtype=bool)
    inner = p > 0
    continues[inner] = collide[r[inner], p[inner] - 1]
    run = np.cumsum(~continues)
    items = order[r, p]
    sequence = np.lexsort((items, -rows[r, items], run))
    order[r, p] = items[sequence]


def ranks(bids: np.ndarray) -> np.ndarray:
    """rank(sigma_i, j) - 1 for every agent and item (0 is the highest bid); ties as in :func:`preference_order`."""
    order = preference_order(bids).reshape(-1, bids.shape[-1])
    return _inverse(order).reshape(bids.shape)


def _inverse(order: np.ndarray) -> np.ndarray:
    """Inverse permutation of each row: out[r, order[r, t]] = t.

    Scatters in blocks of about 2^20 entries so the flat-index temporaries stay small and
    cache-resident; the number of blocks depends on the data size, not on the batch shape.
    """
    rows, m = order.shape
    dtype = np.int32 if m < 2**31 else np.int64
    out = np.empty((rows, m), dtype=dtype)
    block = max(1, (1 << 20) // m)
    positions = np.tile(np.arange(m, dtype=dtype), min(block, rows))
    offsets = (np.arange(min(block, rows), dtype=np.int64) * m)[:, None]
    for start in range(0, rows, block):
        stop = min(start + block, rows)
        k = stop - start
        flat = order[start:stop] + offsets[:k]
        np.put(out[start:stop], flat, positions[: k * m])
    return out


def pick_index(bids: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """k (0-based) for each item of one instance ``bids (n, m)``: the item is the (k+1)-th of its
    owner's won items in decreasing order of the owner's bid (ties: lowest item index first). In a
    rule where each pick takes the picker's favourite remaining item, this is its pick number."""
    n, m = bids.shape
    k = np.empty(m, dtype=np.int64)
    order = preference_order(bids[None])[0]
    for i in range(n):
        won = order[i][owner[order[i]] == i]
        k[won] = np.arange(won.size)
    return k


@register
class Ranking(Mechanism):
    """Algorithm 1: item j goes to argmin_i rank(sigma_i, j), lowest agent index on ties.

    Bids are read as rankings only (ordinal); equal bids of one agent are ranked by
    lowest item index first. BIC under i.i.d. priors (Theorem 4.1), not DSIC.
    """

    info = MechanismInfo(
        name="ranking",
        summary="each item to the agent who ranks it highest (bids read as rankings)",
        claim=Claim.BIC_IID,
        ordinal=True,
        reference="Algorithm 1; Theorem 4.1",
        parameters={},
        example=Example(agents=3, items=6),
    )

    def prediction(self, prior, n_agents, n_items):
        if not prior.is_iid:
            return None, "no prediction: Theorem 4.1 needs an i.i.d. prior"
        return 1.0, "1 - o(1): Theorem 4.1"

    def instance_labels(self, bids, owner):
        label, caption = super().instance_labels(bids, owner)
        return label, caption + ": Ranking gives it to whoever ranks it first"

    def _allocate_ranked(self, ranked):
        # one agent's ranks at a time (each agent's ranking depends on its own row only), so the
        # temporaries are (..., m), never the (..., n, m) rank table: memory at large n m
        best = ranked.agent_position(0)
        owner = np.zeros(best.shape, dtype=np.int64)
        for i in range(1, ranked.shape[-2]):  # strict <: the lowest agent index keeps ties
            rank_i = ranked.agent_position(i)
            better = rank_i < best
            owner[better] = i
            np.minimum(best, rank_i, out=best)
        return owner

    def best_response(self, values, bids, agent):
        """Agent i wins item j iff it ranks j before the deadline the others' best rank of j
        sets (at that rank too when every other agent holding it has a higher index), so the
        best response is unit-job scheduling with deadlines."""
        P, n, m = bids.shape
        if n == 1:
            deadline = np.full((P, m), m, dtype=np.int64)
        else:
            others = np.delete(ranks(bids), agent, axis=1)
            best = others.min(axis=1)
            who = np.delete(np.arange(n), agent)[np.argmin(others, axis=1)]  # lowest index holding it
            deadline = best + (agent < who)
        return deadline_best_response(values, deadline, "structural: unit-job scheduling with deadlines "
                                                         "set by the others' best ranks")

    def restrict(self, keep):
        return self


def deadline_best_response(values, deadline, method: str) -> BestResponse:
    """Best response when the agent wins item j iff it ranks j at a position below ``deadline[j]``."""
    values = np.asarray(values, dtype=float)
    slots = schedule_deadlines(values, deadline)
    return BestResponse(report_from_slots(slots, values), scheduled_value(slots, values),
                        np.ones(values.shape[0], dtype=bool), method)
