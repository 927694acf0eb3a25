"""The DSIC audit: ex-post regret of every agent on profiles drawn from the prior.

For K profiles and each agent i, with the others truthful: the utility of the truth,
of each deviation, and the gain (best deviation minus truth). The report reads like
OpenSpiel's ``nash_conv`` (per-agent gains and their total) plus a confidence statement:
an exact binomial upper bound on the violation rate.

``exact`` is earned per (profile, agent) pair, never read off the mechanism's claim. A
pair is proven when the largest utility any report can earn is known:

* ``exhaustive`` -- the mechanism declares ``"ordinal"``, the declaration held on the
  audited object (:mod:`abm.audit.properties`), and all m! strict rankings were tried;
* ``oracle`` -- the mechanism's structural best response (:meth:`Mechanism.best_response`,
  bound to the rule ``allocate`` runs), whose report, run through ``allocate``, earns
  exactly the structural optimum;
* ``solver`` -- the same, with the optimum certified by an integer-programming solver.

Every other deviation tried (strategies, enumeration, local search) is a cross-check: one
that earns more than a proven optimum, or an oracle report that misses its own optimum,
is an implementation defect, reported, and leaves the pair unproven.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats as st

import strategies as strategy_registry
from abm import mechanisms as M
from abm.audit import witness as W
from abm.audit.properties import check_ordinal
from abm.audit.search import exhaustive_reports, high_bid, local_search, utility_of_reports
from abm.errors import TfdError
from abm.mechanisms.base import oracle_binding
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
    if mechanism.exchange_parts(mechanism_items(mechanism)):
        out += [strategy_registry.get("always-trade"), strategy_registry.get("never-trade")]
    return out


def upper_bound(violations: int, trials: int, confidence: float) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound on a binomial rate."""
    if trials == 0:
        return 1.0
    if violations >= trials:
        return 1.0
    return float(st.beta.ppf(confidence, violations + 1, trials - violations))


def mechanism_items(mechanism) -> int:
    """A number of items to ask ``exchange_parts`` about (compositions fix theirs)."""
    return int(getattr(mechanism, "n_items", 0) or max([*getattr(mechanism, "endowment", [])] + [0]) + 1)


def trade_statistics(mechanism, values: np.ndarray) -> dict | None:
    """How often exchanges trade under truthful reports, and the welfare the trades add."""
    parts = mechanism.exchange_parts(values.shape[-1])
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


def _scale(values_i: np.ndarray) -> np.ndarray:
    """Per-pair scale for tolerances: the agent's total value (rescaling a prior rescales it)."""
    return np.maximum(values_i.sum(axis=-1), np.finfo(float).tiny)


def dsic_audit(mechanism, prior="uniform", n_agents: int = 2, n_items: int = 6, profiles: int = 100,
               strategies="default", budget: int = 200, seed: int = 0, exhaustive_max_items: int = 8,
               confidence: float = 0.95, tol: float = 1e-9, shrink: bool = True, progress=None) -> DsicAudit:
    """Audit ``mechanism`` for ex-post profitable deviations (see the module docstring).

    ``strategies`` is "default", a list of names/instances, or empty. ``budget`` caps the
    mechanism evaluations of the local search per (profile, agent). ``tol`` is relative to
    the agent's total value: a gain above it is a violation, a shortfall of an oracle
    report below its optimum beyond it is a defect.
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
    rng_values, rng_strategies, rng_search, rng_checks = (np.random.default_rng(s) for s in seq.spawn(4))
    values = prior.sample(rng_values, n_agents, n_items, batch=profiles)
    K, n, m = values.shape
    truth_u = utilities(values, mechanism.allocate(values))
    strats = default_strategies(mechanism) if strategies == "default" else [strategy_registry.get(s) for s in strategies]

    ordinal = check_ordinal(mechanism, values, rng_checks)
    bound, binding_note = oracle_binding(mechanism)
    enumerate_rankings = m <= exhaustive_max_items and ordinal.holds
    subset_search = m <= exhaustive_max_items and not ordinal.holds and m <= 16

    rows = []
    best_gain = np.full((K, n), -np.inf)
    best_u = np.full((K, n), -np.inf)
    best_report = values.copy()
    best_source = np.full((K, n), "", dtype=object)
    optimum = np.full((K, n), np.nan)  # proven largest utility, where known
    proof = np.full((K, n), "none", dtype=object)
    defects: list[str] = []
    oracle_method = f"none ({binding_note})"
    evaluations = 0

    def record(i, name, reports, u, evals, proves):
        nonlocal evaluations
        gain = u - truth_u[:, i]
        evaluations += int(np.sum(evals))
        rows.append(pd.DataFrame({"profile": np.arange(K), "agent": i, "deviation": name, "utility": u,
                                  "truthful_utility": truth_u[:, i], "gain": gain, "evaluations": evals,
                                  "exact": proves}))
        better = gain > best_gain[:, i]
        best_gain[better, i] = gain[better]
        best_u[better, i] = u[better]
        best_report[better, i] = reports[better]
        best_source[better, i] = name

    for i in range(n):
        v_i = values[:, i, :]
        scale = _scale(v_i)
        for s in strats:
            ctx = strategy_registry.BidContext(agent=i, n_agents=n, rng=rng_strategies, prior=prior,
                                               mechanism=mechanism, others_bids=np.delete(values, i, axis=1))
            reports = s.bid(v_i, ctx)
            u = utility_of_reports(mechanism, v_i, values, i, reports[:, None, :])[:, 0]
            record(i, repr(s), reports, u, np.ones(K, dtype=np.int64), np.zeros(K, dtype=bool))
        if bound:
            br = mechanism.best_response(v_i, values, i)
            if br is not None:
                oracle_method = br.method
                u = utility_of_reports(mechanism, v_i, values, i, br.reports[:, None, :])[:, 0]
                attained = np.abs(u - br.value) <= tol * scale  # NaN (no solution) fails too
                for k in np.nonzero(~attained)[0][:3]:
                    defects.append(f"implementation defect: agent {i}'s {br.kind} report in profile {int(k)} earns "
                                   f"{u[k]:.12g} through allocate, not the structural optimum {br.value[k]:.12g}")
                proven = br.proven & attained
                record(i, br.kind, br.reports, u, np.ones(K, dtype=np.int64), proven)
                optimum[proven, i] = br.value[proven]
                proof[proven, i] = br.kind
        if enumerate_rankings or subset_search:
            family = exhaustive_reports(ordinal.holds, m, high_bid(mechanism, values))
            u, reports = _best_in_family(mechanism, values, i, family)
            name = "exhaustive" if enumerate_rankings else "subset-search"
            record(i, name, reports, u, np.full(K, family.shape[0]), np.full(K, enumerate_rankings))
            if enumerate_rankings:
                known = ~np.isnan(optimum[:, i])
                clash = known & (np.abs(u - optimum[:, i]) > tol * scale)
                for k in np.nonzero(clash)[0][:3]:
                    defects.append(f"implementation defect: enumeration finds {u[k]:.12g} for agent {i} in profile "
                                   f"{int(k)}, the oracle's optimum is {optimum[k, i]:.12g}")
                proof[clash, i] = "none"
                ok = ~clash
                optimum[ok, i] = u[ok]
                proof[ok & ~known, i] = "exhaustive"
        if budget > 0 and not enumerate_rankings:
            u, reports, spent = local_search(mechanism, v_i, values, i, budget, rng_search, ordinal=ordinal.holds)
            record(i, "local-search", reports, u, np.full(K, spent), np.zeros(K, dtype=bool))
        # Cross-check: nothing tried may beat a proven optimum.
        beaten = ~np.isnan(optimum[:, i]) & (best_u[:, i] > optimum[:, i] + tol * scale)
        for k in np.nonzero(beaten)[0][:3]:
            defects.append(f"implementation defect: {best_source[k, i]} earns {best_u[k, i]:.12g} for agent {i} in "
                           f"profile {int(k)}, above the proven optimum {optimum[k, i]:.12g}")
        proof[beaten, i] = "none"
        optimum[beaten, i] = np.nan
        if progress is not None:
            progress(1)

    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    gains = np.maximum(best_gain, 0.0)
    violated = best_gain > tol * _scale(values)
    n_viol, pairs = int(violated.sum()), K * n
    proven_pairs = int((proof != "none").sum())
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
        "evaluations": evaluations, "budget": budget,
        "exact": proven_pairs == pairs, "proven_pairs": proven_pairs, "proven_fraction": proven_pairs / pairs,
        "proof": {k: int((proof == k).sum()) for k in ("exhaustive", "oracle", "solver", "none")},
        "properties": {"ordinal": ordinal.describe()},
        "oracle": oracle_method, "defects": defects,
        "search": ("exhaustive" if enumerate_rankings else "subset search" if subset_search
                   else "local search" if budget > 0 else "none"),
        "best_deviations": pd.Series(best_source[violated]).value_counts().to_dict() if n_viol else {},
    }
    trades = trade_statistics(mechanism, values)
    if trades:
        summary["trades"] = trades
    witness = shrunk = None
    if n_viol:
        k, i = np.unravel_index(np.argmax(np.where(violated, best_gain, -np.inf)), best_gain.shape)
        witness = W.make(mechanism, values[k], int(i), best_report[k, i], prior.spec,
                         note=f"profile {int(k)}, deviation {best_source[k, i]}")
        if shrink:
            shrunk = W.shrink(witness, tol, mechanism)
    return DsicAudit(frame, summary, witness, shrunk)


def _best_in_family(mechanism, values, agent, family):
    """The best report of ``family (C, m)`` for every profile, in memory-bounded chunks."""
    K, n, m = values.shape
    chunk = max(1, 4_000_000 // (family.shape[0] * n * m))
    u = np.empty(K)
    reports = np.empty((K, m))
    for start in range(0, K, chunk):
        sl = slice(start, min(start + chunk, K))
        size = sl.stop - sl.start
        uu = utility_of_reports(mechanism, values[sl, agent, :], values[sl], agent,
                                np.broadcast_to(family, (size,) + family.shape))
        best = np.argmax(uu, axis=-1)
        u[sl] = uu[np.arange(size), best]
        reports[sl] = family[best]
    return u, reports
