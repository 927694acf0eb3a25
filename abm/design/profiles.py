"""Ranking profiles: enumeration, indexing and the symmetry that makes the programs small.

A ranking is stored as a *rank row* ``R`` of length m: ``R[j]`` is the place of item j in the
agent's order (0 is its favourite). A profile is one rank row per agent, ``(n, m)``.

Two spaces of profiles:

* :class:`FullSpace` -- every profile, indexed ``p = sum_i idx(R_i) (m!)^(n-1-i)``. The integer
  program runs here: a deterministic optimum need not be symmetric.
* :class:`CanonicalSpace` -- profiles up to renaming the items. Renaming items so that agent 0
  ranks item j in place j picks one profile of each class, and every class has exactly m!
  members (renamings act freely on agent 0's order), so the classes are equally likely under an
  i.i.d. prior. Agent permutations then merge variables into orbits (:meth:`agent_orbits`).
  A randomized optimum may be averaged over both groups without losing feasibility or
  welfare (the constraints and the i.i.d. objective are invariant), so solving on orbits loses
  nothing.
"""

from __future__ import annotations

import itertools
import math
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["Rankings", "FullSpace", "CanonicalSpace", "rank_rows"]


def rank_rows(bids: np.ndarray) -> np.ndarray:
    """Rank rows of bids ``(..., m)``: place of each item in decreasing bid order, equal bids by
    lowest item index first (the package's tie rule)."""
    from abm.mechanisms.ranking import ranks

    return ranks(np.asarray(bids, dtype=float))


class Rankings:
    """All m! rank rows of m items in lexicographic order, with a vectorized inverse index."""

    def __init__(self, m: int):
        if not 1 <= m <= 8:
            raise ValueError(f"rankings are enumerated for 1 to 8 items, got {m}")
        self.m = m
        self.rows = np.array(list(itertools.permutations(range(m))), dtype=np.int64).reshape(-1, m)
        self.count = self.rows.shape[0]
        self._radix = m ** np.arange(m, dtype=np.int64)
        table = np.full(m ** m, -1, dtype=np.int64)
        table[self.rows @ self._radix] = np.arange(self.count)
        self._table = table
        self.identity = int(self.index(np.arange(m)))

    def index(self, rows) -> np.ndarray:
        """Index of each rank row in ``rows (..., m)``."""
        return self._table[np.asarray(rows, dtype=np.int64) @ self._radix]

    @cached_property
    def inverse(self) -> np.ndarray:
        """``inverse[r, t]``: the item in place t of ranking r."""
        inv = np.empty_like(self.rows)
        np.put_along_axis(inv, self.rows, np.arange(self.m)[None, :], axis=1)
        return inv

    @cached_property
    def adjacent(self) -> np.ndarray:
        """Indices of the m-1 rankings one adjacent swap away from the identity."""
        out = []
        for t in range(self.m - 1):
            r = np.arange(self.m)
            r[[t, t + 1]] = r[[t + 1, t]]
            out.append(int(self.index(r)))
        return np.array(out, dtype=np.int64)


class FullSpace:
    """Every ranking profile of n agents over m items; variables ``x[p, j, i]`` at ``(p*m + j)*n + i``."""

    reduced = False

    def __init__(self, n: int, m: int):
        self.n, self.m = n, m
        self.rk = Rankings(m)
        self.count = self.rk.count ** n

    @cached_property
    def ranks(self) -> np.ndarray:
        """``(P, n, m)`` rank rows of every profile."""
        idx = np.indices((self.rk.count,) * self.n).reshape(self.n, -1).T
        return self.rk.rows[idx]

    @property
    def weight(self) -> float:
        """Probability of each profile under an i.i.d. prior."""
        return 1.0 / self.count

    def var(self, p, j, i):
        return (np.asarray(p) * self.m + j) * self.n + i

    @property
    def n_vars(self) -> int:
        return self.count * self.m * self.n

    def replace(self, p: np.ndarray, agent: int, ranking: int) -> np.ndarray:
        """Profile index with agent ``agent``'s ranking replaced by ranking index ``ranking``."""
        stride = self.rk.count ** (self.n - 1 - agent)
        own = (p // stride) % self.rk.count
        return p + (ranking - own) * stride


class CanonicalSpace:
    """Ranking profiles up to renaming items: agent 0 ranks item j in place j.

    Profile q stands for agents 1..n-1's rank rows, ``q = sum_{i>=1} idx(R_i) (m!)^(n-1-i)``.
    """

    reduced = True

    def __init__(self, n: int, m: int):
        self.n, self.m = n, m
        self.rk = Rankings(m)
        self.count = self.rk.count ** (n - 1)

    @cached_property
    def ranks(self) -> np.ndarray:
        """``(Q, n, m)`` rank rows of every canonical profile."""
        idx = np.indices((self.rk.count,) * (self.n - 1)).reshape(self.n - 1, -1).T
        out = np.empty((self.count, self.n, self.m), dtype=np.int64)
        out[:, 0, :] = np.arange(self.m)
        out[:, 1:, :] = self.rk.rows[idx]
        return out

    @property
    def weight(self) -> float:
        """Probability of each class (each holds m! of the (m!)^n equally likely profiles)."""
        return 1.0 / self.count

    def var(self, q, j, i):
        return (np.asarray(q) * self.m + j) * self.n + i

    @property
    def n_vars(self) -> int:
        return self.count * self.m * self.n

    def canonical(self, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For profiles ``ranks (B, n, m)``: their class ``q (B,)`` and the new name ``sigma (B, m)``
        of each item (``sigma[j] = ranks[0, j]``, so agent 0's order becomes the identity)."""
        sigma = ranks[:, 0, :]
        inv = np.empty_like(sigma)
        np.put_along_axis(inv, sigma, np.arange(self.m)[None, :], axis=1)
        renamed = np.take_along_axis(ranks[:, 1:, :], inv[:, None, :], axis=2)  # R'[i, t] = R[i, inv[t]]
        idx = self.rk.index(renamed)
        q = np.zeros(ranks.shape[0], dtype=np.int64)
        for i in range(self.n - 1):
            q = q * self.rk.count + idx[:, i]
        return q, sigma

    def misreport(self, ranking: int) -> tuple[np.ndarray, np.ndarray]:
        """Agent 0 (truth: the identity) reports ranking index ``ranking``, the others as in each
        class: the class of the reported profile and each item's name there, ``(Q,)`` and ``(m,)``."""
        # one renaming for every class: agent 0's report names the items the same way in all of them
        inv = self.rk.inverse[ranking]
        idx = self.rk.index(self.ranks[:, 1:, inv])  # R'[i, t] = R[i, inv[t]]
        q = np.zeros(self.count, dtype=np.int64)
        for i in range(self.n - 1):
            q = q * self.rk.count + idx[:, i]
        return q, self.rk.rows[ranking]

    def agent_orbits(self) -> np.ndarray:
        """Orbit id of every variable under agent permutations (items already quotiented)."""
        V = self.n_vars
        src, dst = [], []
        base = self.ranks
        q0 = np.arange(self.count)
        # the adjacent transpositions generate every permutation, so their components are the orbits
        for a in range(self.n - 1):
            tau = np.arange(self.n)
            tau[[a, a + 1]] = [a + 1, a]
            moved = np.empty_like(base)
            moved[:, tau, :] = base  # agent i's ranking goes to agent tau(i)
            q1, sigma = self.canonical(moved)
            j = np.arange(self.m)
            for i in range(self.n):
                src.append(self.var(q0[:, None], j[None, :], i).ravel())
                dst.append(self.var(q1[:, None], sigma, tau[i]).ravel())
        if not src:
            return np.arange(V)
        s, d = np.concatenate(src), np.concatenate(dst)
        graph = sp.coo_matrix((np.ones(s.size, dtype=np.int8), (s, d)), shape=(V, V))
        _, labels = connected_components(graph, directed=False)
        return labels.astype(np.int64)


def order_statistic_means(marginal, m: int) -> np.ndarray:
    """``mu[r]``: E[the (r+1)-th largest of m i.i.d. draws] = integral of F^{-1}(u) times the
    density of the (m-r)-th order statistic of m uniforms, u^(m-r-1) (1-u)^r m!/((m-r-1)! r!)."""
    from abm.theory.quantile import integrate_ppf

    out = np.empty(m)
    for r in range(m):
        k = m - r  # k-th smallest
        c = math.factorial(m) / (math.factorial(k - 1) * math.factorial(m - k))
        out[r] = integrate_ppf(marginal, 0.0, 1.0, weight=lambda u, k=k, c=c: c * u ** (k - 1) * (1 - u) ** (m - k))
    return out
