"""Baselines the paper contrasts with: welfare maximization and round robin (both manipulable)."""

from __future__ import annotations

import numpy as np

from abm.mechanisms.base import BestResponse, Claim, Example, Mechanism, MechanismInfo, register
from abm.mechanisms.ranking import deadline_best_response, pick_index, preference_order, ranks

__all__ = ["WelfareMax", "RoundRobin"]


@register
class WelfareMax(Mechanism):
    """Each item to the highest bid, lowest agent index on ties.

    Maximizes reported welfare; not incentive compatible (section 4: an agent gains by
    exaggerating its bids).
    """

    info = MechanismInfo(
        name="welfare-max",
        summary="each item to the highest bid",
        claim=Claim.NONE,
        ordinal=False,
        reference="Section 2 (the benchmark max_A sw(A)); section 4",
        parameters={},
        example=Example(agents=3, items=5),
    )

    def prediction(self, prior, n_agents, n_items):
        return 1.0, "1: welfare maximization"

    def _allocate(self, bids):
        return np.argmax(bids, axis=-2).astype(np.int64)

    def best_response(self, values, bids, agent):
        """Bidding above every other bid wins any item, so the agent can take all it values."""
        values = np.asarray(values, dtype=float)
        P, n, m = bids.shape
        top = np.delete(bids, agent, axis=1).max(axis=1) if n > 1 else np.zeros((P, m))
        return BestResponse(np.where(values > 0, top + 1.0, 0.0), values.sum(axis=-1), np.ones(P, dtype=bool),
                            "structural: outbid the others on every valued item")

    def restrict(self, keep):
        return self


@register
class RoundRobin(Mechanism):
    """Round robin: agents 1, 2, ..., n, 1, 2, ... each take their favourite remaining item.

    Equal bids: lowest item index first. Picks are inherently sequential (each depends on
    all earlier ones). With many instances the m picks run as a loop whose every step
    covers all instances at once (each agent keeps a pointer into its preference list,
    advanced past taken items); with few instances a plain pointer loop per instance is
    faster. Both give the same allocation.
    """

    info = MechanismInfo(
        name="round-robin",
        summary="agents take turns picking their favourite remaining item",
        claim=Claim.NONE,
        ordinal=True,
        reference="Section 1.2 (Amanatidis et al.); manipulable (Aziz et al. 2017)",
        parameters={},
        example=Example(agents=3, items=6),
    )

    def instance_labels(self, bids, owner):
        """Agent i's k-th pick (k = 0, 1, ...) is turn k n + i: its won items in decreasing order
        of its own bid are its picks in order, each being its favourite of what remained."""
        n = bids.shape[0]
        return pick_index(bids, owner) * n + owner + 1, "pick number: round robin, agents 1..n in turn"

    #: from this many instances on, picks are vectorized across instances
    VECTORIZE_FROM = 16

    def _allocate_ranked(self, ranked):
        n, m = ranked.shape[-2:]
        prefs = ranked.order().reshape(-1, n, m)  # decreasing bids, lowest index first on ties
        if prefs.shape[0] >= self.VECTORIZE_FROM:
            owner = _round_robin_batch(prefs)
        else:
            owner = np.empty((prefs.shape[0], m), dtype=np.int64)
            for k in range(prefs.shape[0]):
                owner[k] = _round_robin(prefs[k].tolist(), n, m)
        return owner.reshape(ranked.shape[:-2] + (m,))

    #: branch-and-bound nodes HiGHS may explore for one (profile, agent) pair with three or more
    #: agents: a deterministic limit, so a pair is proven or not on every machine alike
    solver_node_limit = 20_000
    #: seconds one pair may take before the job is stopped (a guard, never part of a verdict)
    solver_time_guard = 600.0
    #: above this many items the program (about m^2 binaries) is not attempted: the pairs stay unproven
    solver_max_items = 40

    def best_response(self, values, bids, agent):
        """Two agents (Bouveret and Lang): the manipulator secures a set iff its j-th item in the
        other's order can still be taken in time, unit jobs with deadlines. Three or more
        (NP-complete, Aziz et al. 2017): an exact integer program per profile, proven
        optimal by HiGHS within :attr:`solver_node_limit` nodes (:mod:`abm.mechanisms.round_robin_milp`)."""
        P, n, m = bids.shape
        if n == 1:
            return deadline_best_response(values, np.full((P, m), m, dtype=np.int64), "structural: the only agent")
        if n == 2:
            other = 1 - agent
            position = ranks(bids[:, other, :])  # the other's order
            # The j-th pick (0-based) of agent 0 comes after j picks of agent 1, of agent 1 after
            # j + 1 picks of agent 0; the item at the other's position p is safe until then.
            deadline = position // 2 + 1 if agent == 0 else (position + 1) // 2
            return deadline_best_response(values, deadline, "structural: unit-job scheduling with deadlines "
                                                            "(Bouveret and Lang)")
        if m > self.solver_max_items:
            return BestResponse(np.asarray(values, dtype=float).copy(), np.full(P, np.nan), np.zeros(P, dtype=bool),
                                f"solver not attempted: m = {m} > {self.solver_max_items} items (about m^2 binaries); "
                                "unproven", kind="solver")
        from abm.mechanisms.round_robin_milp import round_robin_best_response

        return round_robin_best_response(values, bids, agent, self.solver_node_limit, self.solver_time_guard)

    def restrict(self, keep):
        return self


def _round_robin(prefs: list[list[int]], n: int, m: int) -> list[int]:
    taken = bytearray(m)
    ptr = [0] * n
    owner = [0] * m
    agent = 0
    for _ in range(m):
        p, j = prefs[agent], ptr[agent]
        while taken[p[j]]:
            j += 1
        item = p[j]
        taken[item] = 1
        ptr[agent] = j + 1
        owner[item] = agent
        agent = agent + 1 if agent + 1 < n else 0
    return owner


def _round_robin_batch(prefs: np.ndarray) -> np.ndarray:
    """All instances at once: ``prefs (B, n, m)`` preference lists -> ``owner (B, m)``."""
    B, n, m = prefs.shape
    base = np.arange(B, dtype=np.int64) * m  # flat offsets: 1-d takes beat multi-axis fancy indexing
    lists = [np.ascontiguousarray(prefs[:, a, :]).ravel() + np.repeat(base, m) for a in range(n)]
    taken = np.zeros(B * m, dtype=bool)
    owner = np.empty(B * m, dtype=np.int64)
    ptr = np.zeros((n, B), dtype=np.int64)
    for k in range(m):
        a = k % n
        j = ptr[a] + base
        item = lists[a].take(j)  # flat index of the item each instance's agent a wants
        busy = taken.take(item)
        while busy.any():  # skip items already taken (at most n m skips per instance in all)
            j += busy
            item = lists[a].take(j)
            busy = taken.take(item)
        taken[item] = True
        owner[item] = a
        ptr[a] = j - base + 1
    return owner.reshape(B, m)
