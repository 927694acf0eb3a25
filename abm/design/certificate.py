"""Upper bounds certified in exact rational arithmetic from a linear program's dual.

For ``max c.x  s.t.  lo <= A x <= hi,  0 <= x <= 1`` and any row multipliers y, every feasible x has

    c.x = y.(A x) + (c - A^T y).x  <=  sum_r (y_r hi_r if y_r > 0 else y_r lo_r)  +  sum_j max(0, (c - A^T y)_j)

(weak duality, with the variable bounds absorbing whatever the rounded duals leave infeasible).
The solver's float duals are rounded to a grid of 2^-bits, a multiplier whose row has no bound on
the side its sign needs is set to zero, and the right-hand side is evaluated with Python integers:
every float in c, A, lo and hi is a dyadic rational, so nothing is rounded. The certified bound is a
little above the float optimum; the gap is reported.

The bound is for the program as built: its coefficients are the floats the testbed computed
(order-statistic integrals, level probabilities), each taken as the exact rational it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

__all__ = ["DualCertificate", "certify", "check", "exact_bound"]


@dataclass
class DualCertificate:
    """``duals``: integer multipliers, y = duals / 2^bits; ``bound``: the exact bound they prove."""

    duals: list
    bits: int
    bound: Fraction
    primal: float

    @property
    def gap(self) -> float:
        return float(self.bound) - self.primal

    def summary(self) -> dict:
        return {"certified_upper_bound": float(self.bound) if float(self.bound) >= self.bound else
                math.nextafter(float(self.bound), math.inf),
                "certified_upper_bound_exact": f"{self.bound.numerator}/{self.bound.denominator}",
                "float_optimum": self.primal, "certificate_gap": self.gap, "dual_grid_bits": self.bits}


def _exponent(values: np.ndarray) -> int:
    """Smallest e with every value times 2^e an integer (floats are dyadic rationals)."""
    e = 0
    for v in np.unique(np.asarray(values, dtype=float)):
        if v != 0 and math.isfinite(v):
            e = max(e, int(v.as_integer_ratio()[1]).bit_length() - 1)
    return e


def _ints(values: np.ndarray, e: int) -> np.ndarray:
    scaled = np.ldexp(np.asarray(values, dtype=float), e)  # exact: a power-of-two scaling
    return np.array([int(v) for v in scaled.tolist()], dtype=object)


def exact_bound(c, A, lo, hi, duals, bits: int) -> Fraction:
    """The bound proved by integer multipliers ``duals`` (y = duals / 2^bits), in exact arithmetic."""
    A = sp.csc_matrix(A)
    Y = np.array([int(d) for d in duals], dtype=object)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    side = np.where(Y > 0, hi, lo)  # the bound a multiplier of that sign needs
    used = Y != 0
    if not np.all(np.isfinite(side[used].astype(float))):
        raise ValueError("a multiplier sits on a row side with no bound; it proves nothing")
    eb = _exponent(side[used])
    row_term = Fraction(int(sum((_ints(side[used], eb) * Y[used]).tolist(), 0)), 1 << (bits + eb))
    ea, ec = _exponent(A.data), _exponent(c)
    D = max(ec, ea + bits)
    aint = _ints(A.data, ea)
    prod = aint * Y[A.indices] if A.nnz else np.zeros(0, dtype=object)
    aty = np.zeros(A.shape[1], dtype=object)
    nonempty = np.diff(A.indptr) > 0
    if prod.size:
        sums = np.add.reduceat(prod, A.indptr[:-1][nonempty])
        aty[nonempty] = sums
    # d_j = c_j - (A^T y)_j over the common denominator 2^D
    d = _ints(c, D) - aty * (1 << (D - ea - bits))
    positive = int(sum(v for v in d.tolist() if v > 0))
    return row_term + Fraction(positive, 1 << D)


def certify(program, solution, bits: int = 40) -> DualCertificate:
    """Round the solver's duals (HiGHS minimizes -c, so y = -row_dual) and prove a bound with them."""
    if solution.row_dual is None:
        raise ValueError("the solver returned no dual solution; nothing to certify")
    y = -np.asarray(solution.row_dual, dtype=float)
    lo, hi = program.lo, program.hi
    y = np.where((y > 0) & ~np.isfinite(hi), 0.0, y)
    y = np.where((y < 0) & ~np.isfinite(lo), 0.0, y)
    duals = [int(v) for v in np.rint(np.ldexp(y, bits)).tolist()]
    bound = exact_bound(program.c, program.A, lo, hi, duals, bits)
    return DualCertificate(duals=duals, bits=bits, bound=bound, primal=solution.objective)


def check(program, certificate: DualCertificate) -> bool:
    """Recompute the bound from the certificate's multipliers: it must not exceed the bound claimed,
    and the float optimum must not exceed it either."""
    try:
        proved = exact_bound(program.c, program.A, program.lo, program.hi, certificate.duals, certificate.bits)
    except ValueError:
        return False
    return proved <= certificate.bound and Fraction(certificate.primal) <= certificate.bound * (1 + Fraction(1, 10**9))
