"""Exact ex-post best responses (the others' bids fixed), one per mechanism that has one.

* Ranking (Algorithm 1): agent i wins item j iff it puts j at a position before the
  deadline set by the others' best rank of j (and the tie rule), so its best response
  is unit-job scheduling with deadlines (:mod:`abm.audit.schedule`).
* Welfare maximization: bid above everyone on every item with positive value.
* QT-s: accept every valued item that reaches you (bid at the top of the support).
* Round robin with two agents (Bouveret and Lang): the manipulator can secure a set S iff
  the j-th item of S in the other agent's order sits at a position allowing it to be
  taken first; again unit jobs with deadlines. With more agents the problem is
  NP-complete (Aziz, Bouveret, Lang, Mackenzie 2017): no oracle, the audit searches.
* DSIC mechanisms (Pick-r, serial dictatorship, picking, exchange, compositions,
  the Pick-r presets): the truth.

``best_response(mechanism, values, bids, agent)`` returns the report for one instance
(``values`` is the agent's true values ``(m,)``, ``bids`` all reports ``(n, m)``), or
None when no exact oracle exists.
"""

from __future__ import annotations

import numpy as np

from abm import mechanisms as M
from abm.audit.schedule import schedule_deadlines
from abm.mechanisms.ranking import ranks

__all__ = ["best_response", "best_responses", "has_oracle", "ORACLE_NOTES"]

_TRUTHFUL = (M.PickR, M.Picking, M.Exchange, M.Composition, M.PickOptimal, M.PickTheorem37,
             M.PickEqualQuota, M.PickUniversal, M.PickCorrelated)

ORACLE_NOTES = {
    "ranking": "exact: unit-job scheduling with deadlines",
    "welfare-max": "exact: outbid the others on every valued item",
    "qt-s": "exact: accept every valued item that reaches you",
    "round-robin": "exact for two agents (Bouveret and Lang); NP-complete for more (Aziz et al. 2017): search only",
    "DSIC": "exact: the truth",
}


def has_oracle(mechanism, n_agents: int) -> bool:
    if isinstance(mechanism, M.RoundRobin):
        return n_agents == 2
    return isinstance(mechanism, (M.Ranking, M.WelfareMax, M.QTS) + _TRUTHFUL)


def _ranking_report(slots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Bids ranking scheduled items at their slots and the rest after them, by value.

    ``slots`` and ``values`` are ``(P, m)``; the bid of an item is m minus its position.
    """
    P, m = values.shape
    # Sort key: scheduled items by slot, then unscheduled ones by decreasing value (lowest index first).
    key_sched = np.where(slots >= 0, slots, m).astype(float)
    rank_value = np.empty((P, m))
    np.put_along_axis(rank_value, np.argsort(-values, axis=-1, kind="stable"),
                      np.broadcast_to(np.arange(m, dtype=float), (P, m)), axis=-1)
    order = np.lexsort((rank_value, key_sched), axis=-1)
    bids = np.empty((P, m))
    np.put_along_axis(bids, order, np.broadcast_to(np.arange(m, 0, -1, dtype=float), (P, m)), axis=-1)
    return bids


def best_responses(mechanism, values: np.ndarray, bids: np.ndarray, agent: int) -> np.ndarray | None:
    """Exact best responses for P instances at once: ``values (P, m)``, ``bids (P, n, m)`` -> ``(P, m)``,
    or None when the mechanism has no exact oracle."""
    values = np.asarray(values, dtype=float)
    bids = np.asarray(bids, dtype=float)
    P, n, m = bids.shape
    if isinstance(mechanism, _TRUTHFUL):
        return values.copy()
    if isinstance(mechanism, M.WelfareMax):
        top = np.delete(bids, agent, axis=1).max(axis=1) if n > 1 else np.zeros((P, m))
        return np.where(values > 0, top + 1.0, 0.0)
    if isinstance(mechanism, M.QTS):
        # Accept every valued item that reaches you: bid the top of your prior's support.
        high = 2.0 * mechanism.prior.marginal(agent).support()[1] + 1.0
        return np.where(values > 0, high, 0.0)
    if isinstance(mechanism, M.Ranking):
        if n == 1:
            return values.copy()
        rank = ranks(bids)
        others = np.delete(rank, agent, axis=1)
        best = others.min(axis=1)
        # The lowest agent index wins ties: agent i also wins at position == best when every
        # other agent holding that rank has a higher index.
        who = np.delete(np.arange(n), agent)[np.argmin(others, axis=1)]
        deadline = best + (agent < who)
        return _ranking_report(schedule_deadlines(values, deadline), values)
    if isinstance(mechanism, M.RoundRobin) and n == 2:
        other = 1 - agent
        position = np.empty((P, m), dtype=np.int64)
        np.put_along_axis(position, np.argsort(-bids[:, other, :], axis=-1, kind="stable"),
                          np.broadcast_to(np.arange(m), (P, m)), axis=-1)  # the other's order
        # The manipulator's j-th pick (0-based) comes after j picks of the other if it picks
        # first, after j + 1 otherwise; an item at the other's position p is safe until then.
        deadline = position // 2 + 1 if agent == 0 else (position + 1) // 2
        return _ranking_report(schedule_deadlines(values, deadline), values)
    return None


def best_response(mechanism, values: np.ndarray, bids: np.ndarray, agent: int) -> np.ndarray | None:
    """Exact best response for one instance: ``values (m,)``, ``bids (n, m)`` -> ``(m,)`` or None."""
    out = best_responses(mechanism, np.asarray(values, dtype=float)[None], np.asarray(bids, dtype=float)[None], agent)
    return None if out is None else out[0]
