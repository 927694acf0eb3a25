"""Baselines the paper contrasts with: welfare maximization and round robin (both manipulable)."""

from __future__ import annotations

import numpy as np

from abm.mechanisms.base import Claim, Mechanism, MechanismInfo

__all__ = ["WelfareMax", "RoundRobin"]


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
    )

    def _allocate(self, bids):
        return np.argmax(bids, axis=-2).astype(np.int64)


class RoundRobin(Mechanism):
    """Round robin: agents 1, 2, ..., n, 1, 2, ... each take their favourite remaining item.

    Equal bids: lowest item index first. Picks are inherently sequential (each depends
    on all earlier ones), so this runs one pointer per agent over its preference list in
    a plain loop: O(n m) pointer moves per instance after one sort per agent.
    """

    info = MechanismInfo(
        name="round-robin",
        summary="agents take turns picking their favourite remaining item",
        claim=Claim.NONE,
        ordinal=True,
        reference="Section 1.2 (Amanatidis et al.); manipulable (Aziz et al. 2017)",
        parameters={},
    )

    def _allocate(self, bids):
        n, m = bids.shape[-2:]
        prefs = np.argsort(-bids, axis=-1, kind="stable").reshape(-1, n, m)
        owner = np.empty((prefs.shape[0], m), dtype=np.int64)
        for k in range(prefs.shape[0]):
            owner[k] = _round_robin(prefs[k].tolist(), n, m)
        return owner.reshape(bids.shape[:-2] + (m,))


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
