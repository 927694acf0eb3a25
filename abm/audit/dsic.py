"""The DSIC audit: ex-post regret of every agent on profiles drawn from the prior.

For K profiles and each agent i, with the others truthful: the utility of the truth,
of each deviation, and the gain (best deviation minus truth). Deviations come from the
chosen strategies, the exact best-response oracle where the mechanism has one, an
exhaustive outcome-complete family when m is small, and otherwise a budgeted local
search. A violation (gain above a relative tolerance) comes with a witness, shrunk.
The report reads like OpenSpiel's ``nash_conv`` (per-agent gains and their total) plus
a confidence statement: an exact binomial upper bound on the violation rate, which still
bounds the rate when no violation was found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats as st

import strategies as strategy_registry
from abm import mechanisms as M
from abm.audit import witness as W
from abm.audit.oracles import ORACLE_NOTES, best_responses, has_oracle
from abm.audit.search import exhaustive_reports, high_bid, local_search, utility_of_reports
from abm.errors import TfdError
from abm.metrics import utilities
from abm.priors import parse_prior

__all__ = ["DsicAudit", "dsic_audit", "default_strategies", "upper_bound", "trade_statistics"]


@dataclass
class DsicAudit:
    frame: pd.DataFrame
    summary: dict
    witness: W.Witness | None
    shrunk: W.Witness | None


def default_strategies(mechanism) -> list:
    """The shipped non-clairvoyant misreports, plus trade stances for exchanges."""
    names = ["exaggerate", "shade", "inflate-top-k", "swap-ranks", "reverse-tail", "random-permutation",
             "cardinal-noise"]
    out = [strategy_registry.get(n) for n in names]
    if isinstance(mechanism, (M.Exchange, M.Composition)):
        out += [strategy_registry.get("always-trade"), strategy_registry.get("never-trade")]
    return out


def upper_bound(violations: int, trials: int, confidence: float) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound on a binomial rate."""
    if trials == 0:
        return 1.0
    if violations >= trials:
        return 1.0
    return float(st.beta.ppf(confidence, violations + 1, trials - violations))


def _exchange_parts(mechanism, m):
    if isinstance(mechanism, M.Exchange):
        return [(np.arange(m), mechanism)]
    if isinstance(mechanism, M.Composition):
        return [(np.asarray(c.items), c.mechanism) for c in mechanism.exchanges()]
    return []


def trade_statistics(mechanism, values: np.ndarray) -> dict | None:
    """How often exchanges trade under truthful reports, and the welfare the trades add."""
    parts = _exchange_parts(mechanism, values.shape[-1])
    if not parts:
        return None
    owner = mechanism.allocate(values)
    no_trade = owner.copy()
    trades = []
    for items, ex in parts:
        sub = values[..., items]
        trades.append(ex.trades(sub))
        S = ex.endowed(items.size)
        no_trade[..., items] = np.where(S, 0, 1)
    pick = lambda o: np.take_along_axis(values, o[:, None, :], axis=1)[:, 0, :].sum(-1)  # noqa: E731
    added = pick(owner) - pick(no_trade)
    return {"exchange_components": len(parts), "trade_rate": float(np.mean(trades)),
            "mean_welfare_added_by_trades": float(added.mean()),
            "share_of_welfare_from_trades": float(added.sum() / max(pick(owner).sum(), 1e-300))}


def dsic_audit(mechanism, prior="uniform", n_agents: int = 2, n_items: int = 6, profiles: int = 100,
               strategies="default", budget: int = 200, seed: int = 0, exhaustive_max_items: int = 8,
               confidence: float = 0.95, tol: float = 1e-9, shrink: bool = True, progress=None) -> DsicAudit:
    """Audit ``mechanism`` for ex-post profitable deviations (see the module docstring).

    ``strategies`` is "default", a list of names/instances, or empty. ``budget`` caps the
    mechanism evaluations of the local search per (profile, agent).
    """
    prior = parse_prior(prior)
    if isinstance(mechanism, str):
        mechanism = M.get(mechanism, prior=prior)
    for label, v in (("profiles", profiles), ("agents", n_agents), ("items", n_items)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise TfdError(f"number of {label} must be a positive integer, got {v!r}")
    if budget < 0:
        raise TfdError(f"budget must be nonnegative, got {budget}")
    mechanism.check_agents(n_agents)
    prior.check_agents(n_agents)
    seq = np.random.SeedSequence(seed)
    rng_values, rng_strategies, rng_search = (np.random.default_rng(s) for s in seq.spawn(3))
    values = prior.sample(rng_values, n_agents, n_items, batch=profiles)
    K, n, m = values.shape
    truth_u = utilities(values, mechanism.allocate(values))
    strats = default_strategies(mechanism) if strategies == "default" else [strategy_registry.get(s) for s in strategies]
    oracle = has_oracle(mechanism, n)
    truthful_oracle = mechanism.info.claim == "DSIC"  # the oracle is the truth: still search, to show nothing is found
    exhaustive = m <= exhaustive_max_items
    family = exhaustive_reports(mechanism, m, high_bid(mechanism, values)) if exhaustive else None

    rows = []
    best_gain = np.full((K, n), -np.inf)
    best_report = values.copy()
    best_source = np.full((K, n), "", dtype=object)
    exact = np.zeros((K, n), dtype=bool)
    evaluations = 0

    def record(i, name, reports, u, evals, is_exact):
        nonlocal evaluations
        gain = u - truth_u[:, i]
        evaluations += int(np.sum(evals))
        rows.append(pd.DataFrame({"profile": np.arange(K), "agent": i, "deviation": name, "utility": u,
                                  "truthful_utility": truth_u[:, i], "gain": gain, "evaluations": evals,
                                  "exact": is_exact}))
        better = gain > best_gain[:, i]
        best_gain[better, i] = gain[better]
        best_report[better, i] = reports[better]
        best_source[better, i] = name
        if is_exact:
            exact[:, i] = True

    for i in range(n):
        others = np.delete(values, i, axis=1)
        for s in strats:
            ctx = strategy_registry.BidContext(agent=i, n_agents=n, rng=rng_strategies, prior=prior,
                                               mechanism=mechanism, others_bids=others)
            reports = s.bid(values[:, i, :], ctx)
            u = utility_of_reports(mechanism, values[:, i, :], values, i, reports[:, None, :])[:, 0]
            record(i, repr(s), reports, u, np.ones(K, dtype=np.int64), False)
        if oracle:
            reports = best_responses(mechanism, values[:, i, :], values, i)
            u = utility_of_reports(mechanism, values[:, i, :], values, i, reports[:, None, :])[:, 0]
            record(i, "oracle", reports, u, np.ones(K, dtype=np.int64), True)
        if exhaustive:
            chunk = max(1, 4_000_000 // (family.shape[0] * n * m))
            u = np.empty(K)
            reports = np.empty((K, m))
            for start in range(0, K, chunk):
                sl = slice(start, min(start + chunk, K))
                uu = utility_of_reports(mechanism, values[sl, i, :], values[sl], i,
                                        np.broadcast_to(family, (uu_len := sl.stop - sl.start,) + family.shape))
                best = np.argmax(uu, axis=-1)
                u[sl] = uu[np.arange(uu_len), best]
                reports[sl] = family[best]
            record(i, "exhaustive", reports, u, np.full(K, family.shape[0]), True)
        elif budget > 0 and not (oracle and not truthful_oracle):  # an exact non-trivial oracle cannot be beaten
            u, reports, spent = local_search(mechanism, values[:, i, :], values, i, budget, rng_search)
            record(i, "local-search", reports, u, np.full(K, spent), False)
        if progress is not None:
            progress(1)

    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    gains = np.maximum(best_gain, 0.0)
    scale = np.maximum(1.0, np.abs(truth_u))
    violated = best_gain > tol * scale
    n_viol, pairs = int(violated.sum()), K * n
    relative = gains / np.where(truth_u > 0, truth_u, np.nan)
    summary = {
        "mechanism": mechanism.name, "mechanism_params": mechanism.params, "claim": mechanism.info.claim,
        "prior": prior.spec, "n_agents": n, "n_items": m, "profiles": K, "pairs": pairs, "seed": seed,
        "max_gain": float(gains.max()), "mean_gain": float(gains.mean()),
        "per_agent_mean_gain": gains.mean(axis=0).tolist(), "total_mean_gain": float(gains.mean(axis=0).sum()),
        "max_relative_gain": float(np.nanmax(relative)) if np.isfinite(relative).any() else 0.0,
        "mean_relative_gain": float(np.nanmean(relative)) if np.isfinite(relative).any() else 0.0,
        "violations": n_viol, "violation_rate": n_viol / pairs,
        "violation_rate_upper": upper_bound(n_viol, pairs, confidence), "confidence": confidence,
        "evaluations": evaluations, "budget": budget, "exact": bool(exact.all()),
        "search": "exhaustive" if exhaustive else ("local search" if budget > 0 else "none"),
        "oracle": ORACLE_NOTES.get(mechanism.name, ORACLE_NOTES["DSIC"] if oracle else "none"),
        "best_deviations": pd.Series(best_source[violated]).value_counts().to_dict() if n_viol else {},
    }
    if isinstance(mechanism, M.RoundRobin) and n > 2:
        summary["oracle"] = ORACLE_NOTES["round-robin"]
    trades = trade_statistics(mechanism, values)
    if trades:
        summary["trades"] = trades
    witness = shrunk = None
    if n_viol:
        k, i = np.unravel_index(np.argmax(np.where(violated, best_gain, -np.inf)), best_gain.shape)
        witness = W.make(mechanism, values[k], int(i), best_report[k, i], prior.spec,
                         note=f"profile {int(k)}, deviation {best_source[k, i]}")
        if shrink:
            shrunk = W.shrink(witness, tol)
    return DsicAudit(frame, summary, witness, shrunk)
