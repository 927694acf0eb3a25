"""Searching an agent's reports for a profitable deviation (the others' bids fixed).

* Exhaustive, for small m: an ordinal mechanism is shown the reported rankings only
  (:class:`abm.mechanisms.Rankings`), so all m! rankings cover every outcome. For cardinal mechanisms the
  2^m reports "high on a subset S, zero elsewhere" are a strong search, not a proof: they
  reach every outcome only of rules that compare bids or bundle sums with thresholds.
* Local search, otherwise: from the truth and random restarts, swap and insert moves on
  the ranking (ordinal) or flips of an item between high and zero plus multiplicative
  perturbations, shape moves and extreme moves (cardinal: one item far above the top, tied
  with the others' bid, or tiny). Each round proposes one move per profile and evaluates all
  profiles in one batched ``allocate`` call. The probes include extreme reports at every m.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from abm.metrics import utility_of_reports

__all__ = ["utility_of_reports", "exhaustive_reports", "exhaustive_best", "local_search", "high_bid", "probe_reports",
           "report_grid"]


def high_bid(mechanism, bids: np.ndarray) -> float:
    """A bid above every other bid and at the top of every prior's support (quantile 1)."""
    top = float(np.max(bids, initial=0.0))
    prior = getattr(mechanism, "prior", None)
    if prior is not None:
        n = bids.shape[-2]
        top = max(top, *(prior.marginal(i).support()[1] for i in range(n)))
    return top * 2 + 1.0


def exhaustive_reports(ordinal: bool, m: int, high: float) -> np.ndarray:
    """All m! strict rankings (complete for a mechanism shown to be ordinal), or else the 2^m
    reports "high on a subset, zero elsewhere" (a search, complete only for threshold rules)."""
    if ordinal:
        # Row k lists, for each item, its position in the k-th permutation; bid = m - position.
        positions = np.array(list(itertools.permutations(range(m))), dtype=float)
        return m - positions
    subsets = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(float)
    return subsets * high


def report_grid(m: int, top: np.ndarray) -> np.ndarray:
    """Every strict ranking (bids m - position) and every report over the levels
    {0, top/2, top, 3 top}: ``top (P,)`` -> ``(P, m! + 4^m, m)``. The ranking reports reach
    every outcome of an ordinal rule; the level reports every outcome of a rule that compares
    bids or bundle sums with each other or with thresholds at those levels."""
    rankings = m - np.array(list(itertools.permutations(range(m))), dtype=float)
    levels = np.array([0.0, 0.5, 1.0, 3.0])[np.array(list(itertools.product(range(4), repeat=m)))]
    top = np.asarray(top, dtype=float)[:, None, None]
    return np.concatenate([np.broadcast_to(rankings, (top.shape[0],) + rankings.shape), levels[None] * top], axis=1)


def exhaustive_best(mechanism, values: np.ndarray, bids: np.ndarray, agent: int, reports: np.ndarray):
    """Best report among ``reports (C, m)`` for one profile: (utility, report, evaluations)."""
    u = utility_of_reports(mechanism, values, bids, agent, reports)
    k = int(np.argmax(u))
    return float(u[k]), reports[k].copy(), reports.shape[0]


def probe_reports(values: np.ndarray, others: np.ndarray, high: float) -> np.ndarray:
    """Structured misreports that common flaws respond to, ``values (P, m)`` -> ``(P, C, m)``.

    Scaled truths (cardinal rules), "keep the top k, zero the rest" for k from one item to
    most (rules that read zeros or counts, including "most items zero"), the top items raised
    to the top bid, and the mirror images of both (the bottom k raised, the top k zeroed), coarse levels (ties at any cut), a flat report, the reversed ranking,
    reports that keep the order but change the shape (compressed by a large constant,
    spread by a power or an exponential, the top or the bottom quarter flattened), and
    reports aimed at the others' bids (``others (P, n-1, m)``): high where they bid highest
    or lowest. The truth is not among them.
    """
    from abm.mechanisms.ranking import preference_order, ranks

    P, m = values.shape
    order = preference_order(values)
    position = ranks(values)
    top = np.maximum(values.max(axis=-1, keepdims=True), np.finfo(float).tiny)
    out = [values * f for f in (0.0, 0.5, 2.0, 10.0)]
    for k in sorted({1, max(1, m // 4), max(1, (m + 1) // 2 - 1), max(1, m // 2), max(1, 3 * m // 4)}):
        out.append(np.where(position < k, values, 0.0))  # keep the top k
        out.append(np.where(position < k, high, values))  # raise the top k
        out.append(np.where(position >= m - k, high, values))  # raise the bottom k (their mirror images)
        out.append(np.where(position < k, 0.0, values))  # zero the top k
    for levels in (2, 3, 5):
        out.append(np.floor(values / top * (levels - 0.001)) / (levels - 1) * top)
    out.append(np.broadcast_to(values.mean(axis=-1, keepdims=True), (P, m)))
    out += shape_moves(values)
    out.append(np.take_along_axis(np.take_along_axis(values, order, axis=-1)[:, ::-1], position, axis=-1))  # reversed
    if others.shape[-2]:
        rival = others.max(axis=-2)
        rival_pos = ranks(rival)
        out.append(np.where(rival_pos < (m + 1) // 2, high, 0.0))  # contested items
        out.append(np.where(rival_pos >= m // 2, high, 0.0))  # items the others care least about
        out.append(np.where(rival_pos < (m + 1) // 2, values * 10.0, values))
    else:
        rival = np.zeros_like(values)
        rival_pos = position
    out += extreme_reports(values, rival, position, rival_pos)
    return np.stack(out, axis=1)


#: how far past the top bid an extreme report goes: a rule that reads a magnitude only past some
#: threshold (a bid a million times the others', say) is invisible to reports near the truth
EXTREME_FACTORS = (1e6, 1e12)


def extreme_reports(values: np.ndarray, rival: np.ndarray, position: np.ndarray, rival_pos: np.ndarray) -> list:
    """Reports where rare flaws hide, ``values (P, m)`` -> a list of ``(P, m)``: one or half of the
    items (the agent's favourites, or the others' favourites) raised to 10^6 and 10^12 times the top
    bid in sight, the truth scaled to tiny positive bids, zeros on all but the agent's or the others'
    favourite item, and exact ties with the others' highest bid (everywhere, and on the agent's
    favourite half only)."""
    P, m = values.shape
    top = np.maximum(np.maximum(values.max(axis=-1, keepdims=True), rival.max(axis=-1, keepdims=True)),
                     np.finfo(float).tiny)
    out = []
    for factor in EXTREME_FACTORS:
        huge = factor * top
        out.append(np.where(position < 1, huge, values))
        out.append(np.where(rival_pos < 1, huge, values))
        out.append(np.where(position < max(1, m // 2), huge, values))
        out.append(np.where(rival_pos < (m + 1) // 2, huge, values))
    out.append(values * 1e-300)
    out.append(np.where(values > 0, 5e-324, 0.0))  # the smallest positive double on every valued item
    out.append(np.where(position < 1, top, 0.0))
    out.append(np.where(rival_pos < 1, top, 0.0))
    out.append(rival.copy())
    out.append(np.where(position < (m + 1) // 2, rival, values))
    return out


def shape_moves(reports: np.ndarray) -> list[np.ndarray]:
    """Reports with the same order as ``reports (P, m)`` and another shape: compressed (a large
    constant added: nearly flat), spread (a power, an exponential), and with the top or the
    bottom quarter flattened to its cut (ties there, the rest kept)."""
    top = np.maximum(reports.max(axis=-1, keepdims=True), np.finfo(float).tiny)
    q_hi = np.quantile(reports, 0.75, axis=-1, keepdims=True)
    q_lo = np.quantile(reports, 0.25, axis=-1, keepdims=True)
    return [reports + 10.0 * top, reports + 1e3 * top, top * (reports / top) ** 8,
            top * np.expm1(30.0 * reports / top) / np.expm1(30.0),
            np.minimum(reports, q_hi), np.maximum(reports, q_lo)]


def _ranking_moves(order: np.ndarray, rng) -> np.ndarray:
    """One random swap or insert move per row of ``order (P, m)`` (item lists, best first)."""
    P, m = order.shape
    out = order.copy()
    a = rng.integers(0, m, P)
    b = rng.integers(0, m, P)
    swap = rng.random(P) < 0.5
    rows = np.arange(P)
    va, vb = out[rows, a], out[rows, b]
    out[rows[swap], a[swap]] = vb[swap]
    out[rows[swap], b[swap]] = va[swap]
    for r in np.nonzero(~swap)[0]:  # insert: move the item at a to position b (few rows, cheap)
        item = out[r, a[r]]
        rest = np.delete(out[r], a[r])
        out[r] = np.insert(rest, b[r], item)
    return out


def _bids_from_order(order: np.ndarray) -> np.ndarray:
    P, m = order.shape
    bids = np.empty((P, m))
    np.put_along_axis(bids, order, np.broadcast_to(np.arange(m, 0, -1, dtype=float), (P, m)), axis=-1)
    return bids


def local_search(mechanism, values: np.ndarray, bids: np.ndarray, agent: int, budget: int, rng,
                 restarts: int = 2, ordinal: bool | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Budgeted hill climbing for every profile at once.

    ``values (P, m)`` the agent's true values, ``bids (P, n, m)`` the profile's bids.
    ``ordinal``: search rankings (default: when the rule is shown rankings only) or else
    cardinal reports. Returns the best utility (P,), the best report (P, m) and the
    evaluations per profile.
    """
    if ordinal is None:
        from abm.mechanisms.base import shown_rankings_only

        ordinal = shown_rankings_only(mechanism)
    P, m = values.shape
    rounds_per_start = max(1, budget // (restarts + 1))
    best_u = np.full(P, -math.inf)
    best_b = values.copy()
    spent = 0
    for start in range(restarts + 1):
        if ordinal:
            order = np.argsort(-values, axis=-1, kind="stable") if start == 0 else \
                np.argsort(rng.random((P, m)), axis=-1)
            cur_b = _bids_from_order(order)
        else:
            high = high_bid(mechanism, bids)
            cur_b = values.copy() if start == 0 else (rng.random((P, m)) < 0.5) * high
        cur_u = utility_of_reports(mechanism, values, bids, agent, cur_b[:, None, :])[:, 0]
        spent += 1
        for _ in range(rounds_per_start):
            if ordinal:
                cand_order = _ranking_moves(order, rng)
                cand = _bids_from_order(cand_order)
            else:
                flip = rng.integers(0, m, P)
                cand = cur_b.copy()
                rows = np.arange(P)
                cand[rows, flip] = np.where(cand[rows, flip] > 0, 0.0, high)
                kind = rng.random(P)
                jitter = kind < 0.3  # sometimes a multiplicative perturbation instead
                cand[jitter] = cur_b[jitter] * np.exp(0.5 * rng.standard_normal((int(jitter.sum()), m)))
                reshape = (kind > 0.85) & (kind <= 0.93)  # or the same order in another shape (flatter, more spread)
                extreme = kind > 0.93  # or one item set where rare flaws hide (far above the top, tied, tiny)
                if extreme.any():
                    rows_x = np.nonzero(extreme)[0]
                    j = rng.integers(0, m, rows_x.size)
                    rival = np.delete(bids[rows_x], agent, axis=1).max(axis=1) if bids.shape[1] > 1 else \
                        np.zeros((rows_x.size, m))
                    top = np.maximum(np.maximum(cur_b[rows_x].max(axis=-1), rival.max(axis=-1)), np.finfo(float).tiny)
                    choice = np.stack([EXTREME_FACTORS[0] * top, EXTREME_FACTORS[1] * top, rival[np.arange(rows_x.size), j],
                                       np.full(rows_x.size, 1e-300)])
                    cand[rows_x, j] = choice[rng.integers(0, 4, rows_x.size), np.arange(rows_x.size)]
                if reshape.any():
                    moves = np.stack(shape_moves(cur_b[reshape]))  # (moves, rows, m)
                    pick = rng.integers(0, moves.shape[0], int(reshape.sum()))
                    cand[reshape] = moves[pick, np.arange(pick.size)]
            u = utility_of_reports(mechanism, values, bids, agent, cand[:, None, :])[:, 0]
            spent += 1
            better = u >= cur_u  # sideways moves too: flaws hide behind plateaus (zeros, ties)
            cur_u = np.where(better, u, cur_u)
            cur_b[better] = cand[better]
            if ordinal:
                order[better] = cand_order[better]
        improved = cur_u > best_u
        best_u = np.where(improved, cur_u, best_u)
        best_b[improved] = cur_b[improved]
    return best_u, best_b, spent
