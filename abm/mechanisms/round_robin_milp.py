"""Exact best response in round robin with three or more agents, as an integer program.

Finding the best manipulation of round robin is NP-complete for n >= 3 (Aziz, Bouveret,
Lang and Mackenzie 2017), so no greedy oracle exists; a solver proves the optimum.

Model (one profile, manipulator a): the turns t = 0, 1, ... go to agent t mod n, and
only the turns up to a's last one matter. Binary x[t, j] = "item j is picked at turn t".

* every turn picks one item: sum_j x[t, j] = 1;
* every item is picked at most once: sum_t x[t, j] <= 1;
* another agent k picks greedily by its reported order: at k's turn t, for every item j,
  either j was picked before t or k picks j or an item k ranks above j:
  sum_{j' >=_k j} x[t, j'] + sum_{t' < t} x[t', j] >= 1.
* a picks freely; maximize a's true value of its picks.

Any pick sequence of a's that is feasible here is what a report earns that ranks those
picks first, in turn order (induction over the turns), so the optimum is the best
response's value. The LP relaxation is solved first: when its optimum is integral it is
already a proof (no integer point can beat the relaxation), which happens in about 40%
of random profiles at m = 20. Otherwise HiGHS's branch and cut runs with a zero relative
gap (through ``highspy``: faster than the build bundled with scipy, and its output can be
silenced).

The verdict must not depend on the machine: the solver's work is bounded by a node limit
(deterministic: HiGHS explores the same tree on any machine, busy or idle), and a pair whose
solve reaches it is returned unproven, with the best sequence found, everywhere alike. A wall
clock limit remains only as a guard for the job: a solve that reaches it stops the audit
with :class:`SolverTimeGuard` instead of turning into a verdict.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
import scipy.sparse as sp

from abm.errors import TfdError
from abm.mechanisms.base import BestResponse
from abm.mechanisms.ranking import preference_order, ranks

__all__ = ["SolverTimeGuard", "round_robin_best_response", "solve_one"]


#: how far below the solver's bound a returned sequence may be worth and still be proven optimal,
#: relative to the agent's total value: the audit's own gain tolerance (abm.metrics.GAIN_TOL)
PROOF_SLACK = 1e-9


class SolverTimeGuard(TfdError):
    """A solve ran past the job's wall-clock guard: the job stops (no verdict rests on time)."""


def _model(position: np.ndarray, n: int, agent: int):
    """Constraint matrix and bounds for one profile; ``position[k, j]``: item j's place in k's order."""
    m = position.shape[1]
    last = agent + n * ((m - 1 - agent) // n)  # the manipulator's last turn
    T = last + 1
    var = np.arange(T * m).reshape(T, m)
    rows, cols, data, lo, hi = [], [], [], [], []
    r = 0
    # one pick per turn
    rows.append(np.repeat(np.arange(T), m)); cols.append(var.ravel()); data.append(np.ones(T * m))  # noqa: E702
    lo += [1.0] * T; hi += [1.0] * T  # noqa: E702
    r += T
    # each item at most once
    rows.append(r + np.tile(np.arange(m), T)); cols.append(var.ravel()); data.append(np.ones(T * m))  # noqa: E702
    lo += [0.0] * m; hi += [1.0] * m  # noqa: E702
    r += m
    # greedy picks of the other agents
    for t in range(T):
        k = t % n
        if k == agent:
            continue
        at_or_above = position[k][None, :] <= position[k][:, None]  # [j, j']: j' ranked at or above j by k
        jj, jp = np.nonzero(at_or_above)
        rows.append(r + jj); cols.append(var[t, jp]); data.append(np.ones(jj.size))  # noqa: E702
        if t:
            before_t = np.repeat(np.arange(m), t)
            rows.append(r + before_t); cols.append(var[:t, :].T.ravel()); data.append(np.ones(before_t.size))  # noqa: E702
        lo += [1.0] * m; hi += [np.inf] * m  # noqa: E702
        r += m
    A = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(r, T * m))
    mine = np.array([t % n == agent for t in range(T)])
    return A, np.array(lo), np.array(hi), T, mine


@contextlib.contextmanager
def _native_stdout_silenced():
    """HiGHS prints its banner from C++ straight to file descriptor 1 when a solver is created,
    whatever its options, which would corrupt ``--json`` output: point that descriptor at
    /dev/null meanwhile."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real descriptor 1 (embedded interpreters): nothing to guard
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _picks(x: np.ndarray, T: int, m: int, mine: np.ndarray) -> list[int]:
    x = np.rint(x).reshape(T, m).astype(bool)
    return [int(np.argmax(x[t])) for t in range(T) if mine[t]]


def solve_one(values: np.ndarray, position: np.ndarray, agent: int, node_limit: int, time_guard: float):
    """(picks in turn order, proven, how) for one profile: ``values (m,)``, ``position (n, m)``.
    ``node_limit`` bounds the branch and bound (a pair that reaches it is unproven on any machine);
    ``time_guard`` seconds stop the job (:class:`SolverTimeGuard`)."""
    import highspy

    n, m = position.shape
    if agent >= m:
        return [], True, "no turn"
    A, lo, hi, T, mine = _model(position, n, agent)
    # The solver's tolerances are absolute, so it sees the values in units of the largest one: the
    # optimal picks do not depend on the scale of the values, and neither may the proof.
    unit = max(float(np.max(values, initial=0.0)), np.finfo(float).tiny)
    cost = -(mine[:, None] * (values / unit)[None, :]).ravel()  # HiGHS minimizes

    def solver(integer: bool):
        with _native_stdout_silenced():
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_max_nodes", int(node_limit))
        h.setOptionValue("time_limit", float(time_guard))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = T * m, A.shape[0]
        lp.col_cost_ = cost
        lp.col_lower_, lp.col_upper_ = np.zeros(T * m), np.ones(T * m)
        lp.row_lower_, lp.row_upper_ = lo, np.where(np.isfinite(hi), hi, highspy.kHighsInf)
        Ac = A.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = Ac.indptr, Ac.indices, Ac.data
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * (T * m)
        h.passModel(lp)
        h.run()
        guard(h)
        return h

    def guard(h):
        if h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
            raise SolverTimeGuard(f"the round-robin solver ran past its {time_guard:g} s guard on one profile "
                                  f"(m = {m}, {n} agents): the job is stopped, not judged; audit fewer items")

    def worth(x) -> float:  # the manipulator's value of the sequence the solver returned, computed here (in units)
        return float(-(cost * np.rint(x)).sum())

    # The solver's bound is exact only up to its feasibility tolerance; the audit counts a gain only
    # above GAIN_TOL times the agent's total value, so a returned point within that much of the bound
    # is optimal for every verdict the audit can give, at any scale of the values.
    slack = PROOF_SLACK * max(float(values.sum()), np.finfo(float).tiny) / unit

    def feasible(x) -> bool:  # the rounded point satisfies every constraint, checked here, exactly
        r = A @ np.rint(x)
        return bool(np.all(r >= lo) and np.all(r <= hi))

    h = solver(integer=False)  # the LP relaxation first
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        x = np.asarray(h.getSolution().col_value)
        if (np.all(np.abs(x - np.rint(x)) <= 1e-6) and feasible(x)
                and worth(x) >= -h.getInfo().objective_function_value - slack):
            return _picks(x, T, m, mine), True, "LP relaxation integral"
    # Branch and cut, warm from the LP. A pair is proven only when the sequence returned is worth
    # the bound the solver proved, as computed here: HiGHS 1.16, re-run as a MIP on the object that
    # solved the LP, can report the optimal objective with the column values of a worse point. On
    # such a mismatch the MIP is solved again on a fresh model.
    h.changeColsIntegrality(T * m, np.arange(T * m, dtype=np.int32), np.full(T * m, highspy.HighsVarType.kInteger))
    h.run()
    guard(h)

    def outcome(h):  # (columns or None, proven, the solver says optimal)
        optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        sol = h.getSolution()
        if not sol.value_valid:
            return None, False, optimal
        x = np.asarray(sol.col_value)
        return x, optimal and feasible(x) and worth(x) >= -h.getInfo().mip_dual_bound - slack, optimal

    x, proven, optimal = outcome(h)
    if optimal and not proven:  # the stale columns: solve again on a fresh model
        x, proven, optimal = outcome(solver(integer=True))
    if x is None:
        return None, False, "no solution within the node limit"
    return _picks(x, T, m, mine), proven, "branch and cut" if proven else "branch and cut, stopped at the node limit"


def round_robin_best_response(values, bids, agent: int, node_limit: int, time_guard: float) -> BestResponse:
    """Per profile: solve the program, then report the solver's picks first, in turn order."""
    values = np.asarray(values, dtype=float)
    P, n, m = bids.shape
    position = ranks(bids)
    reports = np.empty((P, m))
    value = np.zeros(P)
    proven = np.zeros(P, dtype=bool)
    for p in range(P):
        picks, ok, _ = solve_one(values[p], position[p], agent, node_limit, time_guard)
        if picks is None:  # no feasible point within the limit: fall back to the truth, unproven
            reports[p], proven[p] = values[p], False
            value[p] = np.nan
            continue
        taken = set(picks)
        rest = [j for j in preference_order(values[p]) if j not in taken]
        order = picks + [int(j) for j in rest]
        reports[p, order] = np.arange(m, 0, -1, dtype=float)
        chosen = np.zeros(m, dtype=bool)
        chosen[picks] = True
        value[p] = np.where(chosen, values[p], 0.0).sum()
        proven[p] = ok
    return BestResponse(reports, value, proven, "solver: integer program over pick sequences, "
                        f"HiGHS (highspy) with zero gap within {node_limit:,} nodes", kind="solver")
