"""The audits' parameters, declared once (:mod:`abm.declare`) for :func:`abm.audit.dsic_audit`,
:func:`abm.audit.bic_audit` and ``tfd audit dsic|bic``. A NaN tolerance would make every
comparison false (no violation, ever), a negative one would call a gain of 0 a violation, so
both are refused before any work."""

from __future__ import annotations

from abm import declare as d
from abm import options as o
from abm.errors import TfdError
from abm.metrics import GAIN_TOL

__all__ = ["DSIC", "BIC", "AUDIT_STRATEGIES"]


def _audit_strategies(value) -> None:
    """"default" (the shipped misreports), "none", a comma list, or from Python a list of names
    and Strategy objects (empty: none)."""
    import strategies

    from abm.spec import split_top_level

    if isinstance(value, str):
        if value.strip().lower() in ("default", "none"):
            return
        value = split_top_level(value)
        if not value or any(not s.strip() for s in value):
            raise TfdError("strategies must be 'default', 'none' or strategies separated by commas, none empty")
    for s in value:
        if isinstance(s, str):
            strategies.parse(s)
        elif not isinstance(s, strategies.Strategy):
            raise TfdError(f"strategies must be names or Strategy objects, got {type(s).__name__}")


def _strategy_list(value) -> bool:
    import strategies

    return isinstance(value, (list, tuple)) or isinstance(value, strategies.Strategy)


AUDIT_STRATEGIES = d.Option(
    "strategies", d.text(_audit_strategies, "'default', 'none' or strategies separated by commas",
                         also=_strategy_list),
    "the misreports to try, e.g. 'exaggerate,swap-ranks'; 'default' the shipped ones, 'none' none", default="default")

PROFILES = d.Option("profiles", d.whole(1), "profiles drawn from the prior", default=100)
BUDGET = d.Option("budget", d.whole(0), "local-search evaluations per (profile, agent)", default=200)
CROSS_CHECK = d.Option("cross_check", d.whole(0),
                       "proven (profile, agent) pairs, drawn at random, on which the strategies and the search run "
                       "anyway as a check of the proof (the search runs on every unproven pair)", default=10)
EXHAUSTIVE_MAX_ITEMS = d.Option("exhaustive_max_items", d.whole(0),
                                "enumerate every ranking (or subset report) up to this many items", default=8)
TOL = d.Option("tol", d.real(0), "the gain tolerance, relative to the agent's total value", default=GAIN_TOL)
SHRINK = d.Option("shrink", d.switch(), "shrink a witness to its fewest agents and items", default=True)
TYPES = d.Option("types", d.whole(1), "own-value draws (types) per agent", default=60, flag="--profiles",
                 aliases=("--types",))
SAMPLES = d.Option("samples", d.whole(1), "draws of the others per type", default=200)
P_T_DRAWS = d.Option("p_t_draws", d.whole(1), "draws for the win probabilities by rank", default=4000)

_SIZES = (o.MECHANISM.with_(default=d.REQUIRED), o.PRIOR, o.AGENTS, o.ITEMS.with_(default=6))

#: :func:`abm.audit.dsic_audit`
DSIC = d.Entry("dsic_audit", _SIZES + (PROFILES, AUDIT_STRATEGIES, BUDGET, o.SEED, EXHAUSTIVE_MAX_ITEMS, o.CONFIDENCE,
                                       TOL, SHRINK, CROSS_CHECK), "ex-post regret on profiles drawn from the prior")
#: :func:`abm.audit.bic_audit`
BIC = d.Entry("bic_audit", (*_SIZES[:3], o.ITEMS.with_(default=8), TYPES, SAMPLES, AUDIT_STRATEGIES, o.SEED,
                            o.CONFIDENCE, P_T_DRAWS), "interim regret: expected gains over the others' values")
