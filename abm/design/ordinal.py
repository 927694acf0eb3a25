"""The welfare-optimal truthful ordinal mechanism, as a linear or integer program.

A mechanism that sees only rankings is DSIC for every additive valuation consistent with the
ranking exactly when, for every agent, profile and misreport, the truthful bundle holds at least
as many of the agent's top-k items as the misreported one, for every k = 1..m (stochastic
dominance; in expectation for a randomized mechanism). With values v_1 > ... > v_m >= 0 the
agent's utility is sum_k (v_k - v_{k+1}) N_k, every coefficient nonnegative, which is why these
m counts are all that matter. Under an i.i.d. prior the item an agent ranks r-th is worth, in
expectation, the r-th largest of m draws (:func:`abm.design.profiles.order_statistic_means`),
so the expected welfare is linear in the allocation probabilities too.

* randomized (truthful in expectation): a linear program, solved on orbits of the item and agent
  permutations (:class:`~abm.design.profiles.CanonicalSpace`). Its incentive rows start with the
  adjacent swaps of each ranking; every other misreport is checked on the solution and the violated
  rows are added until none is (constraint generation: the optimum is that of the full program,
  and the dual of the last program bounds it from above);
* deterministic (equivalently, universally truthful): a 0/1 program on every profile, with no
  symmetry reduction, since deterministic optima need not be symmetric.

Every item is allocated (the testbed's mechanisms allocate all items; no disposal).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from abm.design.profiles import CanonicalSpace, FullSpace
from abm.design.program import Program

__all__ = ["objective", "feasibility_rows", "incentive_rows_canonical", "incentive_rows_full", "violations",
           "solve_ordinal", "OrdinalResult", "table_welfare", "is_truthful_table", "ordinal_work"]

#: A violation of an incentive row below this is the solver's feasibility tolerance, not a lie.
VIOLATION_TOL = 1e-7


def objective(space, mu: np.ndarray) -> np.ndarray:
    """Expected welfare coefficient of every variable ``x[p, j, i]``: P(p) mu[place of j for i]."""
    R = space.ranks  # (P, n, m)
    c = space.weight * mu[R]  # (P, n, m)
    return np.ascontiguousarray(c.transpose(0, 2, 1)).reshape(-1)


def feasibility_rows(space) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Each item of each profile goes to exactly one agent."""
    P, m, n = space.count, space.m, space.n
    rows = np.repeat(np.arange(P * m), n)
    cols = np.arange(P * m * n)
    A = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(P * m, space.n_vars))
    return A, np.ones(P * m), np.ones(P * m)


def _prefix_pairs(m: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, k-1) for every place t < k, k = 1..m: place t counts in the top-k row."""
    t, k = np.nonzero(np.arange(m)[:, None] <= np.arange(m)[None, :])
    return t, k


def incentive_rows_canonical(space: CanonicalSpace, misreports, only: dict | None = None) -> sp.csr_matrix:
    """Agent 0's stochastic-dominance rows on canonical profiles (truth: the identity ranking).

    Row (q, r, k): sum_{j<k} x[q, j, 0] - sum_{j<k} x[q', sigma[j], 0] >= 0, where q' is the class
    of the profile with agent 0 reporting ranking r and sigma renames its items. ``only`` maps a
    ranking index to ``(q indices, k-1 indices)`` to build just those rows."""
    m, Q = space.m, space.count
    t_all, k_all = _prefix_pairs(m)
    rows, cols, vals = [], [], []
    r0 = 0
    for r in misreports:
        q1, sigma = space.misreport(int(r))
        if only is None:
            qs = np.repeat(np.arange(Q), m)
            ks = np.tile(np.arange(m), Q)
        else:
            qs, ks = only[int(r)]
        local = np.arange(qs.size)
        # entries: for each selected row (q, k) and each place t <= k
        sel_t = [t_all[k_all == k] for k in range(m)]
        counts = np.array([s.size for s in sel_t])
        rep = np.repeat(local, counts[ks])
        t = np.concatenate([sel_t[k] for k in ks]) if ks.size else np.zeros(0, dtype=np.int64)
        q = qs[rep]
        rows += [r0 + rep, r0 + rep]
        cols += [space.var(q, t, 0), space.var(q1[q], sigma[t], 0)]
        vals += [np.ones(rep.size), -np.ones(rep.size)]
        r0 += qs.size
    if not rows:
        return sp.csr_matrix((0, space.n_vars))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(r0, space.n_vars))


def incentive_rows_full(space: FullSpace) -> sp.csr_matrix:
    """Every agent's stochastic-dominance rows on every profile and misreport."""
    P, n, m = space.count, space.n, space.m
    R = space.ranks
    inv = np.argsort(R, axis=2)  # inv[p, i, t]: the item agent i ranks in place t
    t_all, k_all = _prefix_pairs(m)
    rows, cols, vals = [], [], []
    r0 = 0
    p = np.arange(P)
    for i in range(n):
        own = (p // space.rk.count ** (n - 1 - i)) % space.rk.count
        for r in range(space.rk.count):
            keep = own != r
            ps = p[keep]
            p1 = space.replace(ps, i, r)
            local = np.arange(ps.size)
            for t, k in zip(t_all, k_all):
                j = inv[ps, i, t]
                rr = r0 + local * m + k
                rows += [rr, rr]
                cols += [space.var(ps, j, i), space.var(p1, j, i)]
                vals += [np.ones(ps.size), -np.ones(ps.size)]
            r0 += ps.size * m
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(r0, space.n_vars))


def on_orbits(A: sp.csr_matrix, labels: np.ndarray, n_orbits: int) -> sp.csr_matrix:
    """Rows over orbit variables (duplicates summed), rows that cancel to zero dropped."""
    A = A.tocoo()
    B = sp.csr_matrix((A.data, (A.row, labels[A.col])), shape=(A.shape[0], n_orbits))
    B.sum_duplicates()
    B.eliminate_zeros()
    return B[np.diff(B.indptr) > 0]


def unique_rows(A: sp.csr_matrix) -> sp.csr_matrix:
    """``A`` with repeated rows kept once (rows of one orbit coincide after symmetry reduction)."""
    A = sp.csr_matrix(A)
    A.sort_indices()
    seen, keep = set(), []
    ind, dat, ptr = A.indices, A.data, A.indptr
    for r in range(A.shape[0]):
        key = ind[ptr[r]:ptr[r + 1]].tobytes() + dat[ptr[r]:ptr[r + 1]].tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(r)
    return A[np.array(keep, dtype=np.int64)] if len(keep) < A.shape[0] else A


def violations(space: CanonicalSpace, x: np.ndarray, tol: float = VIOLATION_TOL) -> dict:
    """Agent 0's violated stochastic-dominance rows at ``x (Q, m, n)``, over every misreport:
    ``{ranking: (q indices, k-1 indices)}``."""
    X0 = x[:, :, 0]
    truth = np.cumsum(X0, axis=1)
    out = {}
    for r in range(space.rk.count):
        if r == space.rk.identity:
            continue
        q1, sigma = space.misreport(r)
        lie = np.cumsum(X0[q1][:, sigma], axis=1)
        qs, ks = np.nonzero(truth - lie < -tol)
        if qs.size:
            out[r] = (qs, ks)
    return out


class OrdinalResult:
    """A solved ordinal program: ``welfare`` (expected, float optimum), ``x`` on the space's variables
    ``(P, m, n)``, the program and its solution, and how it got there."""

    def __init__(self, space, mu, program, solution, x, rounds, labels):
        self.space, self.mu, self.program, self.solution = space, mu, program, solution
        self.x, self.rounds, self.labels = x, rounds, labels

    @property
    def welfare(self) -> float:
        return self.solution.objective


def ordinal_work(n: int, m: int, deterministic: bool) -> dict:
    """Sizes of the program before solving: variables and the incentive rows it starts with."""
    import math

    mf = math.factorial(m)
    if deterministic:
        P = mf ** n
        return {"profiles": P, "variables": P * m * n, "rows": P * m + n * P * (mf - 1) * m,
                "nonzeros": P * m * n + n * P * (mf - 1) * m * (m + 1)}
    Q = mf ** (n - 1)
    start = Q * (m - 1) * m
    return {"profiles": Q, "variables": Q * m * n, "rows": Q * m + start, "nonzeros": Q * m * n + start * (m + 1),
            "rows_if_all": Q * m + Q * (mf - 1) * m}


def solve_ordinal(n: int, m: int, mu: np.ndarray, deterministic: bool = False, time_limit: float = 3600.0,
                  progress=None, max_rounds: int = 50, start=None) -> OrdinalResult:
    """The welfare-optimal ordinal DSIC mechanism for n agents and m items (see module docstring).

    ``start``: the misreports (ranking indices) whose rows the LP starts with; default the adjacent
    swaps. Rows of every other misreport are added where the solution violates them."""
    say = progress or (lambda *_: None)
    if deterministic:
        space = FullSpace(n, m)
        c = objective(space, mu)
        F, flo, fhi = feasibility_rows(space)
        G = incentive_rows_full(space)
        G.sum_duplicates()
        G.eliminate_zeros()
        G = G[np.diff(G.indptr) > 0]
        A = sp.vstack([F, G], format="csr")
        lo = np.concatenate([flo, np.zeros(G.shape[0])])
        hi = np.concatenate([fhi, np.full(G.shape[0], np.inf)])
        say(f"integer program: {space.n_vars:,} binary variables, {A.shape[0]:,} rows")
        prog = Program(c, A, lo, hi, integer=True, time_limit=time_limit)
        sol = prog.solve()
        x = np.rint(sol.x).reshape(space.count, m, n) if np.isfinite(sol.x).all() else sol.x.reshape(space.count, m, n)
        return OrdinalResult(space, mu, prog, sol, x, 1, None)

    space = CanonicalSpace(n, m)
    labels = space.agent_orbits()
    _, labels = np.unique(labels, return_inverse=True)
    k = int(labels.max()) + 1
    c = np.bincount(labels, weights=objective(space, mu), minlength=k)
    F, flo, fhi = feasibility_rows(space)
    F = on_orbits(F, labels, k)
    # Feasibility rows of one orbit coincide: keep one of each.
    F = unique_rows(F)
    first = space.rk.adjacent if start is None else list(start)
    G = unique_rows(on_orbits(incentive_rows_canonical(space, first), labels, k))
    A = sp.vstack([F, G], format="csr")
    lo = np.concatenate([np.ones(F.shape[0]), np.zeros(G.shape[0])])
    hi = np.concatenate([np.ones(F.shape[0]), np.full(G.shape[0], np.inf)])
    say(f"linear program on orbits: {k:,} variables ({space.n_vars:,} before symmetry), {A.shape[0]:,} rows "
        "(adjacent swaps first)")
    prog = Program(c, A, lo, hi, integer=False, time_limit=time_limit)
    rounds, viol = 0, None
    while True:
        rounds += 1
        sol = prog.solve()
        if not sol.optimal:
            break
        x = sol.x[labels].reshape(space.count, m, n)
        viol = violations(space, x)
        added = sum(v[0].size for v in viol.values())
        say(f"round {rounds}: welfare {sol.objective:.10f}, {added:,} violated rows over all misreports")
        if not added or rounds >= max_rounds:
            break
        rows = unique_rows(on_orbits(incentive_rows_canonical(space, list(viol), only=viol), labels, k))
        prog.add_rows(rows, np.zeros(rows.shape[0]), np.full(rows.shape[0], np.inf))
        viol = None  # the next solution is checked afresh
    x = sol.x[labels].reshape(space.count, m, n)
    result = OrdinalResult(space, mu, prog, sol, x, rounds, labels)
    if sol.optimal and viol is None:
        viol = violations(space, x)
    result.complete = bool(sol.optimal and not viol)
    return result


def table_welfare(space, owner: np.ndarray, mu: np.ndarray) -> float:
    """Expected welfare of a deterministic mechanism given by ``owner (P, m)`` on ``space``'s profiles."""
    R = space.ranks
    place = np.take_along_axis(R, owner[:, None, :], axis=1)[:, 0, :]
    return float(mu[place].sum() * space.weight)


def is_truthful_table(space: FullSpace, owner: np.ndarray) -> tuple[bool, dict | None]:
    """Check every stochastic-dominance row of a deterministic table exactly (integer counts).
    Returns (truthful, first violation as {agent, profile, misreport, k} or None)."""
    P, n = space.count, space.n
    R = space.ranks
    p = np.arange(P)
    for i in range(n):
        mine = owner == i  # (P, m)
        place = R[:, i, :]
        own = (p // space.rk.count ** (n - 1 - i)) % space.rk.count
        # top-k counts under the truthful ranking, for the bundle got by truth and by each lie
        order = np.argsort(place, axis=1)
        truth_counts = np.cumsum(np.take_along_axis(mine, order, axis=1), axis=1)
        for r in range(space.rk.count):
            p1 = space.replace(p, i, r)
            lie_counts = np.cumsum(np.take_along_axis(mine[p1], order, axis=1), axis=1)
            bad = np.nonzero((lie_counts > truth_counts).any(axis=1) & (own != r))[0]
            if bad.size:
                b = int(bad[0])
                k = int(np.argmax(lie_counts[b] > truth_counts[b])) + 1
                return False, {"agent": i, "profile": b, "misreport": r, "k": k}
    return True, None
