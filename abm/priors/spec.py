"""Prior specifications, read by the testbed's one grammar (:mod:`abm.spec`).

Text from users is parsed, never evaluated. A prior is one expression, or one per agent
separated by ';'. Examples: ``uniform``, ``beta(a=2, b=5)``, ``uniform; beta(a=2, b=5)``,
``truncate(norm(loc=0.5, scale=0.2), 0, 1)``, ``copula(uniform, rho=0.5)``,
``hard(p=0.01, delta=0.001)``, ``checkerboard(uniform, uniform, uniform, file='cells.npy')``.
"""

from __future__ import annotations

from abm import spec
from abm.errors import PriorSpecError
from abm.spec import Call

__all__ = ["Call", "parse"]


def parse(text: str) -> list:
    """Parse a prior spec into a list of expressions, one per ';'-separated part (numbers as floats)."""
    return spec.parse(text, what="prior spec", error=PriorSpecError, example="'uniform' or 'beta(a=2, b=5)'")
