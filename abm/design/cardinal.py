"""The welfare-optimal truthful mechanism on a discrete value domain: an upper bound for every DSIC rule.

Each agent's value for each item is one of k levels ``v`` drawn with probabilities ``probs``,
independently over agents and items; a *type* is the agent's vector of m levels (k^m of them).
A mechanism maps a profile of reported types to an allocation ``x[p, j, i]``; it is DSIC on this
domain when for every agent, true type t, report t' and others' types,

    sum_j v[t_j] x[(t, others), j, i]  >=  sum_j v[t_j] x[(t', others), j, i].

A mechanism truthful on all values is truthful on the levels, so the program's optimum bounds the
welfare of every DSIC mechanism (cardinal or ordinal, bossy or not) on this prior. A coarse domain
admits more truthful rules (with two levels, welfare maximization with a fixed tie-break already
is one), so the bound can be loose; with three or more levels intensities matter.

Symmetry: the constraints and the i.i.d. objective are invariant under renaming items (all agents'
types at once) and agents, so a randomized optimum may be averaged over both; the program runs on
orbits of variables (connected components of the generators' action), with agent 0's rows for one
true type per item orbit (its levels in increasing order).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from abm.design.ordinal import on_orbits, feasibility_rows, unique_rows
from abm.design.profiles import rank_rows
from abm.design.program import Program

__all__ = ["LevelSpace", "solve_cardinal", "cardinal_work", "level_welfare", "level_sequence_owner", "is_truthful_levels"]


class LevelSpace:
    """Every profile of level types: ``types (K, m)`` level indices, profile ``p = sum_i t_i K^(n-1-i)``."""

    def __init__(self, n: int, m: int, levels, probs):
        self.n, self.m = n, m
        self.levels = np.asarray(levels, dtype=float)
        self.probs = np.asarray(probs, dtype=float)
        self.k = self.levels.size
        self.types = np.array(list(itertools.product(range(self.k), repeat=m)), dtype=np.int64).reshape(-1, m)
        self.K = self.types.shape[0]
        self.count = self.K ** n
        self._radix = self.k ** np.arange(m - 1, -1, -1)

    def type_index(self, levels_idx: np.ndarray) -> np.ndarray:
        return np.asarray(levels_idx) @ self._radix

    @property
    def profile_types(self) -> np.ndarray:
        """``(P, n)``: each agent's type index in every profile."""
        return np.indices((self.K,) * self.n).reshape(self.n, -1).T

    @property
    def values(self) -> np.ndarray:
        """``(P, n, m)`` values of every profile."""
        return self.levels[self.types[self.profile_types]]

    @property
    def probability(self) -> np.ndarray:
        """``(P,)`` probability of every profile."""
        pt = self.probs[self.types].prod(axis=1)  # (K,)
        out = np.ones(1)
        for _ in range(self.n):
            out = np.outer(out, pt).reshape(-1)
        return out

    def var(self, p, j, i):
        return (np.asarray(p) * self.m + j) * self.n + i

    @property
    def n_vars(self) -> int:
        return self.count * self.m * self.n

    def profile(self, tt: np.ndarray) -> np.ndarray:
        p = np.zeros(tt.shape[0], dtype=np.int64)
        for i in range(self.n):
            p = p * self.K + tt[:, i]
        return p

    def orbits(self) -> np.ndarray:
        """Orbit id of every variable under item and agent permutations."""
        V, P, m, n = self.n_vars, self.count, self.m, self.n
        tt = self.profile_types
        p0 = np.arange(P)
        src, dst = [], []
        for a in range(m - 1):  # swap items a, a+1 in every agent's type
            sw = np.arange(m)
            sw[[a, a + 1]] = [a + 1, a]
            tmap = self.type_index(self.types[:, sw])
            p1 = self.profile(tmap[tt])
            for j in range(m):
                for i in range(n):
                    src.append(self.var(p0, j, i))
                    dst.append(self.var(p1, sw[j], i))
        for a in range(n - 1):  # swap agents a, a+1
            sw = np.arange(n)
            sw[[a, a + 1]] = [a + 1, a]
            p1 = self.profile(tt[:, sw])
            for j in range(m):
                for i in range(n):
                    src.append(self.var(p0, j, i))
                    dst.append(self.var(p1, j, sw[i]))
        if not src:
            return np.arange(V)
        s, d = np.concatenate(src), np.concatenate(dst)
        _, labels = connected_components(sp.coo_matrix((np.ones(s.size, dtype=np.int8), (s, d)), shape=(V, V)),
                                         directed=False)
        return labels.astype(np.int64)


def _objective(space: LevelSpace) -> np.ndarray:
    c = space.probability[:, None, None] * space.values  # (P, n, m)
    return np.ascontiguousarray(c.transpose(0, 2, 1)).reshape(-1)


def _incentive_rows(space: LevelSpace, symmetric: bool) -> sp.csr_matrix:
    n, K = space.n, space.K
    tt = space.profile_types
    agents = [0] if symmetric else range(n)
    truths = (np.nonzero(np.all(np.diff(space.types, axis=1) >= 0, axis=1))[0] if symmetric
              else np.arange(K))
    rows, cols, vals = [], [], []
    r0 = 0
    for i in agents:
        for t in truths:
            v = space.levels[space.types[t]]
            if not np.any(v):
                continue
            here = np.nonzero(tt[:, i] == t)[0]  # profiles where agent i's type is t
            for t1 in range(K):
                if t1 == t:
                    continue
                lied = tt[here].copy()
                lied[:, i] = t1
                p1 = space.profile(lied)
                local = r0 + np.arange(here.size)
                for j in np.nonzero(v)[0]:
                    rows += [local, local]
                    cols += [space.var(here, j, i), space.var(p1, j, i)]
                    vals += [np.full(here.size, v[j]), np.full(here.size, -v[j])]
                r0 += here.size
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(r0, space.n_vars))


def cardinal_work(n: int, m: int, k: int, deterministic: bool) -> dict:
    """Sizes of the program before solving."""
    from math import comb

    K = k ** m
    P = K ** n
    if deterministic:
        rows = n * P * (K - 1)
        return {"profiles": P, "variables": P * m * n, "rows": P * m + rows, "nonzeros": P * m * n + rows * 2 * m}
    reps = comb(m + k - 1, m)
    rows = reps * (K - 1) * K ** (n - 1)
    return {"profiles": P, "variables": P * m * n, "rows": P * m + rows, "nonzeros": P * m * n + rows * 2 * m}


class CardinalResult:
    def __init__(self, space, program, solution, x, labels):
        self.space, self.program, self.solution, self.x, self.labels = space, program, solution, x, labels
        self.complete = solution.optimal

    @property
    def welfare(self) -> float:
        return self.solution.objective


def solve_cardinal(n: int, m: int, levels, probs, deterministic: bool = False, time_limit: float = 3600.0,
                   progress=None) -> CardinalResult:
    """The welfare-optimal DSIC mechanism on the level domain (randomized: LP on orbits; deterministic:
    a 0/1 program on every profile)."""
    say = progress or (lambda *_: None)
    space = LevelSpace(n, m, levels, probs)
    c = _objective(space)
    F, _, _ = feasibility_rows(space)
    G = _incentive_rows(space, symmetric=not deterministic)
    if deterministic:
        labels, k = np.arange(space.n_vars), space.n_vars
    else:
        labels = np.unique(space.orbits(), return_inverse=True)[1]
        k = int(labels.max()) + 1
        c = np.bincount(labels, weights=c, minlength=k)
    F = unique_rows(on_orbits(F, labels, k))
    G = unique_rows(on_orbits(G, labels, k))
    A = sp.vstack([F, G], format="csr")
    lo = np.concatenate([np.ones(F.shape[0]), np.zeros(G.shape[0])])
    hi = np.concatenate([np.ones(F.shape[0]), np.full(G.shape[0], np.inf)])
    kind = "integer program" if deterministic else "linear program on orbits"
    say(f"{kind}: {k:,} variables ({space.n_vars:,} before symmetry), {A.shape[0]:,} rows")
    prog = Program(c, A, lo, hi, integer=deterministic, time_limit=time_limit)
    sol = prog.solve()
    x = sol.x[labels].reshape(space.count, m, n)
    if deterministic and np.isfinite(x).all():
        x = np.rint(x)
    return CardinalResult(space, prog, sol, x, labels)


def level_welfare(space: LevelSpace, owner: np.ndarray) -> float:
    """Expected welfare of a deterministic rule given by ``owner (P, m)`` on every level profile."""
    vals = space.values
    got = np.take_along_axis(vals, owner[:, None, :], axis=1)[:, 0, :].sum(axis=1)
    return float(space.probability @ got)


def level_sequence_owner(space: LevelSpace, sequence) -> np.ndarray:
    """A picking sequence on level values, equal values ranked by lowest item index (the package's rule)."""
    from abm.design.compare import sequence_owner

    return sequence_owner(rank_rows(space.values), sequence)


def is_truthful_levels(space: LevelSpace, owner: np.ndarray, exact_levels=None) -> tuple[bool, dict | None]:
    """Every incentive constraint of a deterministic table on the level domain, in exact arithmetic
    (levels as the rationals ``exact_levels``, default the floats' exact values)."""
    lv = [Fraction(x) for x in (exact_levels if exact_levels is not None else space.levels.tolist())]
    den = math.lcm(*(f.denominator for f in lv))
    ints = np.array([int(f * den) for f in lv], dtype=object)
    tt = space.profile_types
    for i in range(space.n):
        for t in range(space.K):
            here = np.nonzero(tt[:, i] == t)[0]
            v = ints[space.types[t]]
            truth = (owner[here] == i).astype(object) @ v
            for t1 in range(space.K):
                if t1 == t:
                    continue
                lied = tt[here].copy()
                lied[:, i] = t1
                got = (owner[space.profile(lied)] == i).astype(object) @ v
                bad = np.nonzero(got > truth)[0]
                if bad.size:
                    return False, {"agent": i, "profile": int(here[bad[0]]), "true_type": int(t), "report": int(t1)}
    return True, None
