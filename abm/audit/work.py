"""How long an audit will take, estimated before it starts, and the refusal of one that would
run past its limit. The CLI and the explorer's audit panel share it.

Units are item-evaluations: one (profile, agent) pair costs m items per allocation tried.
About 1.5e7 of them a second on the 2-core development VM (Pick-r, m = 10^4). A DSIC pair
tries the strategies, about 30 probes and the local-search budget, unless a structural
oracle proves it: then it costs the oracle's allocation and only the cross-check sample is
searched. A BIC type tries the strategies and about 30 candidates.
"""

from __future__ import annotations

from abm.sizes import check_work

__all__ = ["ITEM_EVALUATIONS_PER_SECOND", "estimate_seconds", "check_audit_work"]

ITEM_EVALUATIONS_PER_SECOND = 1.5e7


def _structural_oracle(mechanism, n_agents: int, n_items: int) -> bool:
    """Whether the mechanism's oracle is bound to its rule and structural (not a solver), asked on
    one small profile (a solver's oracle, such as round robin's for three or more agents, costs
    far more than an allocation, so it is estimated like a search)."""
    import numpy as np

    from abm.audit.trust import basis
    from abm.errors import TfdError

    if basis(mechanism).oracle != "verified":
        return False
    m = min(n_items, 6)
    values = np.random.default_rng(0).random((1, n_agents, m))
    try:
        br = mechanism.best_response(values[:, 0, :], values, 0)
    except TfdError:  # the rule cannot run on a small profile (a menu, a fixed partition): assume the worst
        return False
    return br is not None and br.kind == "oracle"


def estimate_seconds(kind: str, mechanism, n_agents: int, n_items: int, profiles: int, budget: int = 0,
                     n_strategies: int = 9, cross_check: int = 10) -> float:
    """Estimated run time of a ``kind`` ("dsic" or "bic") audit, in seconds here."""
    per_pair = budget + 30 + n_strategies
    pairs = float(profiles) * n_agents
    if kind.lower() == "dsic" and _structural_oracle(mechanism, n_agents, n_items):
        # proven pairs cost their oracle's allocations; the search runs on the cross-check sample
        units = pairs * n_items * 3 + min(cross_check, pairs) * n_items * per_pair
    else:
        units = pairs * n_items * per_pair
    return units / ITEM_EVALUATIONS_PER_SECOND


def check_audit_work(kind: str, mechanism, n_agents: int, n_items: int, profiles: int, budget: int = 0,
                     n_strategies: int = 9, cross_check: int = 10, limit_seconds: float = 1800,
                     hint: str = "use fewer profiles or items, a smaller budget, or no strategies") -> float:
    """Refuse (a one-line :class:`~abm.errors.TfdError`) an audit estimated past ``limit_seconds``;
    returns the estimate."""
    seconds = estimate_seconds(kind, mechanism, n_agents, n_items, profiles, budget, n_strategies, cross_check)
    check_work(seconds, 1.0, f"this {kind.upper()} audit ({n_agents} agents x {n_items} items)", hint,
               limit_seconds=limit_seconds)
    return seconds
