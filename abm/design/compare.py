"""The mechanisms the optimum is measured against, evaluated on the same profiles and objective.

* the best **Pick-r** (Definition 3.4) over every order of the agents and every quota vector:
  quota serial dictatorship, the picking sequence ``a^k1 b^k2 ...`` (an agent taking its top k
  items at once takes what it would take in k turns in a row). DSIC for every additive valuation;
* the best **picking sequence** of any shape (round robin is one). Not truthful in general:
  the welfare truthfulness gives up, not a lower bound on the truthful optimum;
* for two agents, the best **picking-exchange** rule (section 3.1) whose parts are ordinal:
  the items split into components, each a picking part (one agent takes its top k of the part)
  or a one-for-one exchange. Components are independent under an i.i.d. prior, so the best
  composition is a recursion over the size of the first component.

Every welfare here is :func:`abm.design.ordinal.table_welfare` of an allocation table, the same
objective the programs optimize. Picking sequences never read item names, so they are evaluated on
one profile per class of item renamings (:class:`~abm.design.profiles.CanonicalSpace`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from abm.design.ordinal import table_welfare
from abm.design.profiles import CanonicalSpace, FullSpace, rank_rows

__all__ = ["sequence_owner", "pick_r_sequence", "best_pick_r", "best_picking_sequence", "best_picking_exchange",
           "Compared", "compositions"]


@dataclass
class Compared:
    welfare: float
    description: str
    detail: dict


def sequence_owner(ranks: np.ndarray, sequence) -> np.ndarray:
    """Owners under a picking sequence: at each turn its agent takes its favourite remaining item
    (by the rank rows ``ranks (P, n, m)``, ties as ranked). Returns ``(P, m)``."""
    P, n, m = ranks.shape
    owner = np.full((P, m), -1, dtype=np.int64)
    taken = np.zeros((P, m), dtype=bool)
    rows = np.arange(P)
    big = m + 1
    for a in sequence:
        j = np.argmin(np.where(taken, big, ranks[:, a, :]), axis=1)
        owner[rows, j] = a
        taken[rows, j] = True
    return owner


def compositions(m: int, n: int):
    """Every quota vector: n nonnegative integers summing to m."""
    for cuts in itertools.combinations(range(m + n - 1), n - 1):
        parts, prev = [], -1
        for c in cuts + (m + n - 1,):
            parts.append(c - prev - 1)
            prev = c
        yield tuple(parts)


def pick_r_sequence(order, quotas) -> list:
    """The picking sequence of quota serial dictatorship: ``order[0]`` k_0 times, then ``order[1]``..."""
    return [a for a, k in zip(order, quotas) for _ in range(k)]


def best_pick_r(n: int, m: int, mu: np.ndarray, space: CanonicalSpace | None = None) -> Compared:
    """The best Pick-r over every agent order and quota vector."""
    space = space or CanonicalSpace(n, m)
    best = None
    seen = set()
    for order in itertools.permutations(range(n)):
        for quotas in compositions(m, n):
            seq = tuple(pick_r_sequence(order, quotas))
            if seq in seen:
                continue
            seen.add(seq)
            w = table_welfare(space, sequence_owner(space.ranks, seq), mu)
            if best is None or w > best.welfare + 1e-12:
                best = Compared(w, f"Pick-r: agents in order {list(order)} with quotas {list(quotas)}",
                                {"order": list(order), "quotas": list(quotas), "sequence": list(seq)})
    best.detail["candidates"] = len(seen)
    return best


def best_picking_sequence(n: int, m: int, mu: np.ndarray, space: CanonicalSpace | None = None) -> Compared:
    """The best picking sequence of any shape (n^m of them)."""
    space = space or CanonicalSpace(n, m)
    best = None
    for seq in itertools.product(range(n), repeat=m):
        w = table_welfare(space, sequence_owner(space.ranks, seq), mu)
        if best is None or w > best.welfare + 1e-12:
            best = Compared(w, f"picking sequence {''.join(str(a) for a in seq)}", {"sequence": list(seq)})
    best.detail["candidates"] = n ** m
    return best


def _exchange_welfare(mu2: np.ndarray) -> float:
    """A one-for-one exchange on two items (agent 0 endowed with item 0), run by the testbed's own
    :class:`~abm.mechanisms.Exchange` on rank-valued bids of every profile."""
    from abm.mechanisms import Exchange

    space = FullSpace(2, 2)
    bids = (2 - space.ranks).astype(float)  # a consistent value for each ranking
    owner = Exchange(endowment=[0]).allocate(bids)
    assert np.array_equal(rank_rows(bids), space.ranks)
    return table_welfare(space, owner, mu2)


def best_picking_exchange(m: int, marginal) -> Compared:
    """The best two-agent ordinal picking-exchange rule on m items (see the module docstring)."""
    from abm.design.profiles import order_statistic_means

    part = {}
    for c in range(1, m + 1):
        mu_c = order_statistic_means(marginal, c)
        sp_c = CanonicalSpace(2, c)
        options = []
        for picker in (0, 1):
            for k in range(c + 1):
                seq = [picker] * k + [1 - picker] * (c - k)
                options.append((table_welfare(sp_c, sequence_owner(sp_c.ranks, seq), mu_c),
                                f"agent {picker} picks its top {k} of {c}"))
        if c == 2:
            options.append((_exchange_welfare(mu_c), "one-for-one exchange of 2"))
        part[c] = max(options, key=lambda o: o[0])
    best = {0: (0.0, [])}
    for size in range(1, m + 1):
        best[size] = max(((best[size - c][0] + part[c][0], best[size - c][1] + [part[c][1]])
                          for c in range(1, size + 1)), key=lambda o: o[0])
    w, parts = best[m]
    return Compared(w, "picking-exchange: " + "; ".join(parts), {"components": parts})
