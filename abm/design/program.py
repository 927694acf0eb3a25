"""A linear or mixed-integer program ``max c.x  s.t.  lo <= A x <= hi,  0 <= x <= 1`` solved by HiGHS.

One small wrapper for both domains: it builds the model once, can add rows and re-solve from the
previous basis (constraint generation), and returns the primal solution with the row duals that
:mod:`abm.design.certificate` turns into an exact bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from abm.mechanisms.round_robin_milp import _native_stdout_silenced

__all__ = ["Program", "Solution"]


@dataclass
class Solution:
    x: np.ndarray
    objective: float
    status: str
    optimal: bool
    row_dual: np.ndarray | None
    seconds: float
    mip_gap: float | None = None
    info: dict = field(default_factory=dict)


class Program:
    """``max c.x`` over ``0 <= x <= 1`` with rows ``lo <= A x <= hi`` (``np.inf`` for no bound)."""

    def __init__(self, c: np.ndarray, A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray, integer: bool = False,
                 time_limit: float = 3600.0):
        import highspy

        self.c = np.asarray(c, dtype=float)
        self.A = sp.csr_matrix(A)
        self.lo, self.hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        self.integer = integer
        with _native_stdout_silenced():
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        # No "threads" option: HiGHS keeps one scheduler per process, and a Highs object asking for a
        # thread count other than the one it started with refuses to run (status "Not Set").
        if integer:
            h.setOptionValue("mip_rel_gap", 0.0)
            h.setOptionValue("mip_abs_gap", 0.0)
        else:
            # Interior point, then crossover to a vertex with its duals: on the lab's LPs (n = 3, m = 5
            # ordinal; n = 3, m = 3 three-level cardinal) 1.5-4.5x faster than dual simplex here, and its
            # duals certify tighter bounds.
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", "on")
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        V = self.c.size
        lp.num_col_, lp.num_row_ = V, self.A.shape[0]
        lp.col_cost_ = -self.c  # HiGHS minimizes
        lp.col_lower_, lp.col_upper_ = np.zeros(V), np.ones(V)
        lp.row_lower_ = np.where(np.isfinite(self.lo), self.lo, -inf)
        lp.row_upper_ = np.where(np.isfinite(self.hi), self.hi, inf)
        Ac = self.A.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = Ac.indptr, Ac.indices, Ac.data
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * V
        h.passModel(lp)
        self._h = h
        self._hs = highspy

    @property
    def rows(self) -> int:
        return self.A.shape[0]

    def add_rows(self, A: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> None:
        """Append rows; the next :meth:`solve` starts from the current basis."""
        A = sp.csr_matrix(A)
        if A.shape[0] == 0:
            return
        inf = self._hs.kHighsInf
        lo_h = np.where(np.isfinite(lo), lo, -inf)
        hi_h = np.where(np.isfinite(hi), hi, inf)
        self._h.addRows(A.shape[0], lo_h, hi_h, A.nnz, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
                        A.data.astype(float))
        self.A = sp.vstack([self.A, A], format="csr")
        self.lo, self.hi = np.concatenate([self.lo, lo]), np.concatenate([self.hi, hi])

    def solve(self) -> Solution:
        h, hs = self._h, self._hs
        t0 = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - t0
        status = h.getModelStatus()
        if status in (hs.HighsModelStatus.kNotset, hs.HighsModelStatus.kLoadError, hs.HighsModelStatus.kModelError,
                      hs.HighsModelStatus.kPresolveError, hs.HighsModelStatus.kSolveError,
                      hs.HighsModelStatus.kPostsolveError):
            raise RuntimeError(f"HiGHS did not solve the lab's program: status {h.modelStatusToString(status)!r}")
        sol = h.getSolution()
        optimal = status == hs.HighsModelStatus.kOptimal
        x = np.asarray(sol.col_value) if sol.value_valid else np.full(self.c.size, np.nan)
        duals = np.asarray(sol.row_dual) if (sol.dual_valid and not self.integer) else None
        gap = None
        if self.integer:
            gap = float(h.getInfo().mip_gap)
        return Solution(x=x, objective=float(self.c @ x) if sol.value_valid else float("nan"),
                        status=h.modelStatusToString(status), optimal=optimal, row_dual=duals, seconds=seconds,
                        mip_gap=gap)
