"""The audits' own parameters, checked before any work: a NaN tolerance would make every
comparison false (no violation, ever), a negative one would call a gain of 0 a violation."""

from __future__ import annotations

from abm.spec import real, whole

__all__ = ["check_audit_parameters"]

#: name -> (check, what it accepts): counts positive, sizes and budgets nonnegative, tolerances
#: finite and nonnegative, confidences strictly between 0 and 1, seeds nonnegative integers
_CHECKS = {
    "profiles": lambda v: whole(v, "profiles (the number of profiles)"),
    "types": lambda v: whole(v, "types (the number of types per agent)"),
    "samples": lambda v: whole(v, "samples (per type)"),
    "n_agents": lambda v: whole(v, "n_agents (the number of agents)"),
    "n_items": lambda v: whole(v, "n_items (the number of items)"),
    "budget": lambda v: whole(v, "budget (evaluations per pair)", minimum=0),
    "cross_check": lambda v: whole(v, "cross_check (a number of pairs)", minimum=0),
    "exhaustive_max_items": lambda v: whole(v, "exhaustive_max_items", minimum=0),
    "seed": lambda v: whole(v, "seed", minimum=0),
    "tol": lambda v: real(v, "tol (the gain tolerance, relative to the agent's total value)", minimum=0.0),
    "confidence": lambda v: real(v, "confidence", minimum=0.0, maximum=1.0, open_ends=True),
    "alpha": lambda v: real(v, "alpha (the significance level)", minimum=0.0, maximum=1.0, open_ends=True),
}


def check_audit_parameters(**params) -> None:
    """Raise :class:`abm.errors.TfdError` naming the first parameter out of its range."""
    for name, value in params.items():
        _CHECKS[name](value)
