"""The DSIC audit: ex-post regret of every agent on profiles drawn from the prior.

For K profiles and each agent i, with the others truthful: the utility of the truth,
of each deviation, and the gain (best deviation minus truth). The report reads like
OpenSpiel's ``nash_conv`` (per-agent gains and their total) plus a confidence statement:
an exact binomial upper bound on the violation rate.

``exact`` is earned per (profile, agent) pair, never read off the mechanism's claim, and
only from sources the testbed stands behind (:mod:`abm.audit.trust`):

* ``exhaustive`` -- the rule is declared ordinal and runs through the testbed's ``allocate``,
  so it sees rankings only, and all m! strict rankings were tried;
* ``oracle`` -- a catalogue oracle on the exact code it was verified against, whose report,
  run through ``allocate``, earns exactly the structural optimum;
* ``solver`` -- the same, with the optimum certified by an integer-programming solver within a
  deterministic work limit (the same verdict on any machine).

An oracle that a user's rule ships is a ``claimed`` pair, never a proof: its report is tried,
and the full search runs on every pair it claims. A class that overrides ``allocate`` gets no
proof at all. The other deviations (strategies, probes with extreme reports, enumeration,
local search) run where no proof stands, and as a cross-check on a random sample of proven
pairs (``cross_check``): one that earns more than a proven or claimed optimum, or an oracle
report that misses its own optimum, is an implementation defect, reported, and leaves the pair
unproven.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import strategies as strategy_registry
from abm.results import SummaryResult
from abm import mechanisms as M
from abm.audit import witness as W
from abm.audit.parameters import DSIC
from abm.audit.properties import check_batching, check_ordinal
from abm.audit.search import exhaustive_reports, high_bid, local_search, probe_reports, utility_of_reports
from abm.audit.trust import basis as proof_basis
from abm.errors import MechanismError, TfdError
from abm.mechanisms.base import allocation, check_bids, check_owner
from abm.metrics import GAIN_TOL, Estimate, gain_scale, rate_from_count, utilities
from abm.priors import parse_prior

#: what each proof source is called in ``summary["proof"]``; ``claimed`` and ``none`` prove nothing
PROOF_KINDS = ("exhaustive", "oracle", "solver", "claimed", "none")
PROVEN = ("exhaustive", "oracle", "solver")

__all__ = ["DsicAudit", "dsic_audit", "default_strategies", "upper_bound", "trade_statistics"]


@dataclass
class DsicAudit(SummaryResult):
    """What :func:`dsic_audit` found, scipy.stats' way: typed fields for the headline numbers,
    the tidy ``frame`` (one row per profile, agent and deviation), the largest violation as a
    replayable ``witness`` (and ``shrunk``), and :meth:`to_dict` for the JSON ``tfd audit dsic``
    prints."""

    frame: pd.DataFrame
    summary: dict
    witness: W.Witness | None
    shrunk: W.Witness | None

    @property
    def exact(self) -> bool:
        """Every (profile, agent) pair proven (enumeration, a structural oracle or a solver)."""
        return bool(self.summary["exact"])

    @property
    def violations(self) -> int:
        return int(self.summary["violations"])

    @property
    def violation_rate(self) -> Estimate:
        """Violating pairs over pairs, with its two-sided Clopper-Pearson interval."""
        return rate_from_count(self.violations, int(self.summary["pairs"]), float(self.summary["confidence"]))

    @property
    def max_gain(self) -> float:
        return float(self.summary["max_gain"])

    @property
    def proven_fraction(self) -> float:
        return float(self.summary["proven_fraction"])


def default_strategies(mechanism, n_items: int) -> list:
    """The shipped non-clairvoyant misreports, plus trade stances where the mechanism has exchanges."""
    names = ["exaggerate", "shade", "inflate-top-k", "swap-ranks", "reverse-tail", "random-permutation",
             "cardinal-noise"]
    out = [strategy_registry.get(n) for n in names]
    if mechanism.exchange_parts(n_items):
        out += [strategy_registry.get("always-trade"), strategy_registry.get("never-trade")]
    return out


def upper_bound(violations: int, trials: int, confidence: float) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound on the violation rate
    (:func:`abm.metrics.rate_upper_bound`)."""
    from abm.metrics import rate_upper_bound

    return rate_upper_bound(violations, trials, confidence)


def trade_statistics(mechanism, values: np.ndarray, owner: np.ndarray | None = None) -> dict | None:
    """How often exchanges trade under truthful reports, and the welfare the trades add
    (``owner``: the truthful allocation, when the caller has it already)."""
    parts = mechanism.exchange_parts(values.shape[-1])
    if not parts:
        return None
    owner = allocation(mechanism, values) if owner is None else owner
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


def _chunk(n: int, m: int) -> int:
    """Profiles per block: about 2^22 values (32 MB), so the allocator recycles warm memory."""
    return max(1, (1 << 22) // (n * m))


def _slices(K: int, chunk: int) -> list[slice]:
    return [slice(a, min(a + chunk, K)) for a in range(0, K, chunk)]


@DSIC.checked
def dsic_audit(mechanism, prior="uniform", n_agents: int = 2, n_items: int = 6, profiles: int = 100,
               strategies="default", budget: int = 200, seed: int = 0, exhaustive_max_items: int = 8,
               confidence: float = 0.95, tol: float = GAIN_TOL, shrink: bool = True, progress=None,
               cross_check: int = 10) -> DsicAudit:
    """Audit ``mechanism`` for ex-post profitable deviations (see the module docstring).

    ``strategies`` is "default", a list of names/instances, or empty. ``budget`` caps the
    mechanism evaluations of the local search per (profile, agent). ``tol`` is relative to
    the agent's total value: a gain above it is a violation, a shortfall of an oracle
    report below its optimum beyond it is a defect. Profiles are drawn and audited in
    blocks of about 2^22 values, so memory stays flat in the number of profiles.

    The strategies and the search run on the pairs no proof covers; on ``cross_check`` pairs
    drawn at random they run even where a proof stands, and any deviation there that beats the
    proof is a defect (``cross_checked`` counts the proven pairs so checked).
    """
    prior = parse_prior(prior)
    if isinstance(mechanism, str):
        mechanism = M.get(mechanism, prior=prior)
    if not isinstance(mechanism, M.Mechanism):
        raise TfdError(f"mechanism must be a registered name or a Mechanism, got {type(mechanism).__name__}")
    mechanism.check_agents(n_agents)
    prior.check_agents(n_agents)
    seq = np.random.SeedSequence(seed)
    rngs = dict(zip(("values", "strategies", "search", "checks"), (np.random.default_rng(s) for s in seq.spawn(4))))
    K, n, m = int(profiles), int(n_agents), int(n_items)
    strats = default_strategies(mechanism, m) if strategies == "default" else [strategy_registry.get(s) for s in strategies]
    basis = proof_basis(mechanism)

    state = _AuditState(K, n, tol, f"none ({basis.note})")
    check_set = _cross_check_set(K, n, cross_check, rngs["checks"])
    blocks = _slices(K, _chunk(n, m))
    ordinal = None
    trade_parts = []
    for sl in blocks:
        values = prior.sample(rngs["values"], n, m, batch=sl.stop - sl.start)
        if ordinal is None:  # checked once, on the first block, before any work relies on it
            check_batching(mechanism, values)
            ordinal = check_ordinal(mechanism, values, rngs["checks"])
            if ordinal.declared and not ordinal.holds:
                raise MechanismError(ordinal.detail)
            # all m! rankings prove for a rule that sees rankings only; 2^m subset reports only search
            ordinal_fact = basis.enumeration and ordinal.holds
            enumerate_rankings = m <= exhaustive_max_items and ordinal_fact
            subset_search = m <= min(exhaustive_max_items, 16) and not ordinal_fact
        owner = _audit_block(mechanism, prior, values, sl, state, strats, basis.oracle, ordinal_fact, budget,
                             (enumerate_rankings, subset_search), rngs, progress, len(blocks), check_set)
        trades = trade_statistics(mechanism, values, owner)
        if trades:
            trade_parts.append((sl.stop - sl.start, trades))

    _cross_check(mechanism, prior, state, strats, ordinal_fact, budget, (enumerate_rankings, subset_search), rngs,
                 progress)
    frame = pd.concat(state.rows, ignore_index=True) if state.rows else pd.DataFrame()
    best_gain, truth_u, proof, best_source = state.best_gain, state.truth_u, state.proof, state.best_source
    gains = np.maximum(best_gain, 0.0)
    violated = state.violated
    n_viol, pairs = int(violated.sum()), K * n
    proven_pairs = int(np.isin(proof, PROVEN).sum())
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
        "evaluations": state.evaluations, "budget": budget,
        "exact": proven_pairs == pairs, "proven_pairs": proven_pairs, "proven_fraction": proven_pairs / pairs,
        "proof": {k: int((proof == k).sum()) for k in PROOF_KINDS},
        "proof_note": basis.note,
        "cross_checked": int(state.cross_checked.sum()), "searched_pairs": int(state.searched.sum()),
        "properties": {"ordinal": ordinal.describe()},
        "oracle": state.oracle_method,
        "defects": state.defects[:10], "defect_count": len(state.defects),
        "search": ("exhaustive" if enumerate_rankings else "subset search" if subset_search
                   else "local search" if budget > 0 else "none"),
        "best_deviations": pd.Series(best_source[violated]).value_counts().to_dict() if n_viol else {},
    }
    if trade_parts:
        total = sum(w for w, _ in trade_parts)
        summary["trades"] = {key: (trade_parts[0][1][key] if key == "exchange_components" else
                                   sum(w * t[key] for w, t in trade_parts) / total) for key in trade_parts[0][1]}
    witness = shrunk = None
    if n_viol and state.witness is not None:
        k, i, profile, report = state.witness
        witness = W.make(mechanism, profile, int(i), report, prior.spec,
                         note=f"profile {int(k)}, deviation {best_source[k, i]}")
        if shrink:
            shrunk = W.shrink(witness, tol, mechanism)
    return DsicAudit(frame, summary, witness, shrunk)


class _AuditState:
    """Per-pair bookkeeping across blocks: the best deviation found, the proven optimum, the proof.
    Rows are addressed by absolute profile index, so a block's searched subset records in place."""

    def __init__(self, K: int, n: int, tol: float, oracle_method: str):
        self.tol = tol
        self.rows: list[pd.DataFrame] = []
        self.truth_u = np.zeros((K, n))
        self.scale = np.ones((K, n))
        self.best_gain = np.full((K, n), -np.inf)
        self.best_u = np.full((K, n), -np.inf)
        self.best_source = np.full((K, n), "", dtype=object)
        self.optimum = np.full((K, n), np.nan)  # proven largest utility, where known
        self.claimed = np.full((K, n), np.nan)  # the largest utility a rule's own oracle claims, unproven
        self.proof = np.full((K, n), "none", dtype=object)
        self.searched = np.zeros((K, n), dtype=bool)  # the deviations beyond a proof were tried here
        self.cross_checked = np.zeros((K, n), dtype=bool)  # a proven pair the search also tried, in agreement
        self.defects: list[str] = []
        self.oracle_method = oracle_method
        self.evaluations = 0
        self.witness = None  # (profile index, agent, profile values, report) of the largest violation
        self.witness_gain = 0.0
        self.stash: list = []  # (agent, rows, profiles) of proven pairs awaiting their cross-check

    @property
    def violated(self) -> np.ndarray:
        return self.best_gain > self.tol * self.scale

    def record(self, rows, values, i, name, reports, u, evals, proves):
        """One deviation's utilities for agent i on the profiles ``rows`` (absolute indices; ``values``
        holds those profiles in that order). ``reports`` may be a function of the position in
        ``rows`` (computed only if a witness needs it)."""
        truth = self.truth_u[rows, i]
        gain = u - truth
        self.evaluations += int(np.sum(evals))
        self.rows.append(pd.DataFrame({"profile": rows, "agent": i, "deviation": name, "utility": u,
                                       "truthful_utility": truth, "gain": gain, "evaluations": evals,
                                       "exact": proves}))
        better = gain > self.best_gain[rows, i]
        self.best_gain[rows, i] = np.where(better, gain, self.best_gain[rows, i])
        self.best_u[rows, i] = np.where(better, u, self.best_u[rows, i])
        self.best_source[rows, i] = np.where(better, name, self.best_source[rows, i])
        k = int(np.argmax(gain))
        if gain[k] > self.tol * self.scale[rows[k], i] and gain[k] > self.witness_gain:
            report = reports(k) if callable(reports) else reports[k]
            self.witness_gain = float(gain[k])
            self.witness = (int(rows[k]), i, values[k].copy(), np.array(report, dtype=float))

    def prove(self, rows, i, value, kind):
        self.optimum[rows, i] = value
        self.proof[rows, i] = kind

    def unprove(self, rows, i):
        self.prove(rows, i, np.nan, "none")

    def claim(self, rows, i, value):
        """A rule's own oracle claims ``value`` is the optimum: recorded, never a proof."""
        self.claimed[rows, i] = value
        self.proof[rows, i] = "claimed"

    def defect(self, message: str):
        self.defects.append(message)


def _cross_check_set(K: int, n: int, count: int, rng) -> np.ndarray:
    """``count`` (profile, agent) pairs drawn uniformly without replacement: on those the search runs
    even where a proof stands, as a check of the proof (a mask of shape (K, n))."""
    mask = np.zeros(K * n, dtype=bool)
    mask[rng.choice(K * n, size=min(count, K * n), replace=False)] = True
    return mask.reshape(K, n)


def _audit_block(mechanism, prior, values, sl, state, strats, oracle, ordinal, budget, mode, rngs, progress,
                 n_blocks, check_set) -> np.ndarray:
    """Audit one block of profiles ``values (B, n, m)`` (rows ``sl`` of the whole audit); returns the
    truthful allocation. ``oracle``: "verified", "claimed" or "none" (:func:`abm.audit.trust.basis`);
    ``mode``: (enumerate all rankings, search all subset reports).

    A verified oracle proves first; every other deviation runs only where no proof stands, and
    on the pairs of ``check_set``, where it cross-checks the proof: once every pair is proven the
    search cannot change the verdict, so spending it everywhere buys nothing. A claimed oracle's
    report is one more deviation, and the search runs on every pair it claims.
    """
    B, n, m = values.shape
    tol = state.tol
    truthful_owner = allocation(mechanism, values)
    state.truth_u[sl] = utilities(values, truthful_owner)
    state.scale[sl] = gain_scale(values)
    rows_all = np.arange(sl.start, sl.stop)

    evaluate = _evaluator(mechanism)

    oracles = [None] * n
    if oracle != "none":
        oracles = mechanism.best_responses(values, values)

    for i in range(n):
        proven = np.zeros(B, dtype=bool)
        br, oracles[i] = oracles[i], None  # its reports are freed once checked
        if br is not None:
            state.oracle_method = br.method if oracle == "verified" else f"claimed by the rule: {br.method}"
            u = evaluate(values, state.truth_u[sl, i], i, br.reports)
            attained = np.abs(u - br.value) <= tol * state.scale[sl, i]  # NaN (no solution) fails too
            for k in np.nonzero(br.proven & ~attained)[0][:3]:  # an optimum claimed but not earned
                state.defect(f"implementation defect: agent {i}'s {br.kind} report in profile {sl.start + int(k)} "
                             f"earns {u[k]:.12g} through allocate, not the structural optimum {br.value[k]:.12g}")
            ok = br.proven & attained
            if oracle == "verified":
                proven = ok
                state.record(rows_all, values, i, br.kind, br.reports, u, np.ones(B, dtype=np.int64), proven)
                state.prove(rows_all[proven], i, br.value[proven], br.kind)
            else:
                state.record(rows_all, values, i, "claimed-oracle", br.reports, u, np.ones(B, dtype=np.int64),
                             np.zeros(B, dtype=bool))
                state.claim(rows_all[ok], i, br.value[ok])
        where = np.nonzero(~proven)[0]
        if where.size:
            _search_pairs(mechanism, prior, values if where.size == B else values[where], rows_all[where], i, state,
                          strats, ordinal, budget, mode, rngs, evaluate, proven[where], progress)
        later = np.nonzero(proven & check_set[sl, i])[0]
        if later.size:  # proven pairs to cross-check: searched together at the end, one batch per agent
            state.stash.append((i, rows_all[later], values[later].copy()))
        if progress is not None:
            progress(1 / n_blocks)
    return truthful_owner


def _evaluator(mechanism):
    """``evaluate(block, truth_u, i, reports)``: agent i's true utility when it alone reports
    ``reports`` against the profiles of ``block`` (this audit's own sample): agent i's row is
    swapped in and put back. The block was checked by allocate already, so a swapped-in row is
    checked alone, unless the mechanism redefines allocate itself (then it is called as it is)."""
    if type(mechanism).allocate is M.Mechanism.allocate:
        run = lambda b: check_owner(mechanism, mechanism._run(b), b.shape)  # noqa: E731
    else:
        run = lambda b: allocation(mechanism, b)  # noqa: E731

    def evaluate(block, truth_u, i, reports):
        truth = block[:, i, :]
        if np.array_equal(reports, truth):  # the truthful profile: allocated already
            return truth_u.copy()
        truth = truth.copy()
        check_bids(reports)
        block[:, i, :] = reports
        try:
            owner = run(block)
        finally:
            block[:, i, :] = truth
        return np.where(owner == i, truth, 0.0).sum(axis=-1)

    return evaluate


def _cross_check(mechanism, prior, state, strats, ordinal, budget, mode, rngs, progress):
    """Search the stashed proven pairs of the cross-check sample, one batch per agent (searching
    a few pairs per block would pay the per-call cost of every allocation once per block)."""
    evaluate = _evaluator(mechanism)
    for i in sorted({i for i, _, _ in state.stash}):
        parts = [(rows, block) for a, rows, block in state.stash if a == i]
        rows = np.concatenate([r for r, _ in parts])
        block = np.concatenate([b for _, b in parts])
        _search_pairs(mechanism, prior, block, rows, i, state, strats, ordinal, budget, mode, rngs, evaluate,
                      np.ones(rows.size, dtype=bool), progress)
    state.stash = []


def _search_pairs(mechanism, prior, block, rows, i, state, strats, ordinal, budget, mode, rngs, evaluate, was_proven,
                  progress):
    """Every deviation beyond the oracle for agent i on the profiles ``block`` (absolute ``rows``):
    the strategies, the probes, enumeration or subset search at small m, the local search; then
    the cross-check that nothing tried beats a proven optimum."""
    B, n, m = block.shape
    tol = state.tol
    enumerate_rankings, subset_search = mode
    v_i = block[:, i, :]
    scale = state.scale[rows, i]
    truth_u = state.truth_u[rows, i]
    ones, no = np.ones(B, dtype=np.int64), np.zeros(B, dtype=bool)
    state.searched[rows, i] = True
    for s in strats:
        ctx = strategy_registry.BidContext(agent=i, n_agents=n, rng=rngs["strategies"], prior=prior,
                                           mechanism=mechanism, others_bids=np.delete(block, i, axis=1))
        reports = s.bid(v_i, ctx)
        state.record(rows, block, i, repr(s), reports, evaluate(block, truth_u, i, reports), ones, no)
        if progress is not None:
            progress(0)  # a checkpoint: a caller may stop the audit here
    if not enumerate_rankings and budget > 0:
        probes = probe_reports(v_i, np.delete(block, i, axis=1), high_bid(mechanism, block))
        u, reports = _best_in_family(mechanism, block, i, probes)
        state.record(rows, block, i, "probes", reports, u, np.full(B, probes.shape[1]), no)
    if enumerate_rankings or subset_search:
        family = exhaustive_reports(ordinal, m, high_bid(mechanism, block))
        u, reports = _best_in_family(mechanism, block, i, family)
        name = "exhaustive" if enumerate_rankings else "subset-search"
        state.record(rows, block, i, name, reports, u, np.full(B, family.shape[0]), np.full(B, enumerate_rankings))
        if enumerate_rankings:
            optimum = state.optimum[rows, i]
            known = ~np.isnan(optimum)
            clash = known & (np.abs(u - optimum) > tol * scale)
            for k in np.nonzero(clash)[0][:3]:
                state.defect(f"implementation defect: enumeration finds {u[k]:.12g} for agent {i} in profile "
                             f"{int(rows[k])}, the oracle's optimum is {optimum[k]:.12g}")
            state.unprove(rows[clash], i)
            state.prove(rows[~known], i, u[~known], "exhaustive")
            claimed = state.claimed[rows, i]
            wrong = ~np.isnan(claimed) & (np.abs(u - claimed) > tol * scale)
            for k in np.nonzero(wrong)[0][:3]:
                state.defect(f"the rule's own oracle claims {claimed[k]:.12g} for agent {i} in profile "
                             f"{int(rows[k])}; enumeration of every ranking finds {u[k]:.12g}")
    if budget > 0 and not enumerate_rankings:
        if progress is not None:
            progress(0)
        u, reports, spent = local_search(mechanism, v_i, block, i, budget, rngs["search"], ordinal=ordinal)
        state.record(rows, block, i, "local-search", reports, u, np.full(B, spent), no)
    # Cross-check: nothing tried may beat a proven optimum.
    optimum, best_u = state.optimum[rows, i], state.best_u[rows, i]
    beaten = ~np.isnan(optimum) & (best_u > optimum + tol * scale)
    for k in np.nonzero(beaten)[0][:3]:
        state.defect(f"implementation defect: {state.best_source[rows[k], i]} earns {best_u[k]:.12g} for "
                     f"agent {i} in profile {int(rows[k])}, above the proven optimum {optimum[k]:.12g}")
    state.unprove(rows[beaten], i)
    claimed = state.claimed[rows, i]
    refuted = (state.proof[rows, i] == "claimed") & (best_u > claimed + tol * scale)
    for k in np.nonzero(refuted)[0][:3]:
        state.defect(f"the rule's own oracle claims {claimed[k]:.12g} is the most agent {i} can earn in profile "
                     f"{int(rows[k])}; {state.best_source[rows[k], i]} earns {best_u[k]:.12g}")
    state.unprove(rows[refuted], i)
    state.cross_checked[rows, i] = was_proven & np.isin(state.proof[rows, i], PROVEN)


def _best_in_family(mechanism, values, agent, family):
    """The best report of ``family`` for every profile, in memory-bounded chunks: ``family`` is
    ``(C, m)`` (the same for every profile) or ``(K, C, m)`` (one family per profile)."""
    K, n, m = values.shape
    per_profile = family.ndim == 3
    C = family.shape[-2]
    chunk = max(1, 4_000_000 // (C * n * m))
    u = np.empty(K)
    reports = np.empty((K, m))
    for start in range(0, K, chunk):
        sl = slice(start, min(start + chunk, K))
        size = sl.stop - sl.start
        fam = family[sl] if per_profile else np.broadcast_to(family, (size,) + family.shape)
        uu = utility_of_reports(mechanism, values[sl, agent, :], values[sl], agent, fam)
        best = np.argmax(uu, axis=-1)
        u[sl] = uu[np.arange(size), best]
        reports[sl] = fam[np.arange(size), best]
    return u, reports
