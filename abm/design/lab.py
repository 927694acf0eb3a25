"""The lab: solve for the optimal truthful mechanism at each size, certify it, compare, explain, save.

:func:`design` runs one domain and one program for m = 1..M items (the smaller sizes are cheap
and give the ratio-against-m picture), and returns a :class:`Lab`. Everything compared is
evaluated by the same objective on the same profiles as the program's optimum.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from abm.results import SummaryResult
from abm import declare as d
from abm import files
from abm import options as shared
from abm.design import cardinal as C
from abm.design import compare as K
from abm.design import ordinal as O
from abm.design.certificate import certify, check
from abm.design.profiles import FullSpace, order_statistic_means
from abm.errors import MechanismError, TfdError

__all__ = ["Lab", "design", "design_work", "save", "load", "explain", "hard_levels", "discretize"]

#: A gap below this fraction of E[max welfare] is rounding, not a better mechanism.
GAP_RTOL = 1e-9


@dataclass
class Lab(SummaryResult):
    """What :func:`design` found: the optimal truthful mechanism's welfare against the best
    Pick-r and sequences, per size (``ratios``), the optimal mechanism's ``table``, typed fields
    for the headline numbers and :meth:`to_dict` for the JSON ``tfd design`` prints."""

    summary: dict
    ratios: pd.DataFrame
    table: pd.DataFrame | None
    mechanism: object | None = None
    results: dict = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        """The solver proved optimality at the largest size."""
        return bool(self.summary["optimal"])

    @property
    def optimum_ratio(self) -> float:
        """E[welfare of the optimal truthful mechanism] / E[max welfare] at the largest size."""
        return float(self.summary["optimum_ratio"])

    @property
    def gap(self) -> float:
        """Optimum minus the best compared rule's welfare at the largest size."""
        return float(self.summary["gap"])

    @property
    def gap_positive(self) -> bool:
        return bool(self.summary["gap_positive"])


def hard_levels(p: float = 0.1) -> tuple[list[float], list[float]]:
    """Theorem 3.1's hard instance without its noise: values 0, 1 and (1-q)/p with probabilities
    1-q-p, q and p, q = 2 - sqrt(2) (read off :class:`abm.priors.HardInstance`)."""
    from abm.priors import HardInstance

    h = HardInstance(p=p, delta=0.5)
    return h.atoms.tolist(), h.weights.tolist()


def discretize(prior, k: int) -> tuple[list[float], list[float]]:
    """``k`` equally likely levels standing for an i.i.d. prior: the conditional mean of each of k
    equal-probability quantile cells, k times the integral of F^{-1} over [i/k, (i+1)/k]."""
    from abm.priors import parse_prior
    from abm.theory.quantile import integrate_ppf

    p = parse_prior(prior)
    if not p.is_iid:
        raise TfdError(f"--discretize needs an i.i.d. prior, got {prior!r}")
    if not isinstance(k, int) or k < 2:
        raise TfdError(f"--discretize needs at least 2 levels, got {k!r}")
    mg = p.marginal(0)
    levels = [k * integrate_ppf(mg, i / k, (i + 1) / k) for i in range(k)]
    if not all(b > a for a, b in zip(levels, levels[1:])):
        raise TfdError(f"{prior} has cells of equal conditional mean at {k} levels (an atom spans several); "
                       "use fewer levels or give --levels and --probs")
    return levels, [1.0 / k] * k


# ---------------------------------------------------------------------------------------- sizes
#: Fitted on the 2-core development VM (seconds; only the order of magnitude matters for refusals):
#: the LP (interior point) takes about 5e-8 rows^1.6 seconds, the 0/1 program grows like variables^3.
def _seconds(work: dict, integer: bool) -> float:
    if integer:
        return 0.5 + 0.93 * (work["variables"] / 1944) ** 3
    return 0.5 + 5e-8 * work["rows"] ** 1.6 + 2e-6 * work["nonzeros"]


def design_work(n: int, m: int, domain: str, deterministic: bool, k: int = 3) -> dict:
    """Size, estimated seconds and bytes of the program at the largest size."""
    work = (O.ordinal_work(n, m, deterministic) if domain == "ordinal" else C.cardinal_work(n, m, k, deterministic))
    work["seconds"] = _seconds(work, deterministic)
    # the rows, and the orbit graph (n - 1 generators, two int64 ends per variable and generator)
    work["bytes"] = 150.0 * work["nonzeros"] + 80.0 * work["variables"] + 40.0 * work["variables"] * n
    return work


def check_design_work(n: int, m: int, domain: str, deterministic: bool, k: int = 3, limit_seconds: float = 3600):
    """Refuse, in one line, a size estimated past memory or ``limit_seconds``."""
    from abm.sizes import check_fits, check_work

    if domain == "ordinal" and m > 8:
        raise TfdError(f"the ordinal lab enumerates rankings of at most 8 items, got --items {m}")
    if n > MAX_AGENTS:
        raise TfdError(f"the lab keeps one array axis per agent, at most {MAX_AGENTS}; got --agents {n:,}")
    try:
        work = design_work(n, m, domain, deterministic, k)
    except (OverflowError, MemoryError):  # the count itself passes float's range: far past any machine
        raise TfdError(f"the program for {n:,} agents and {m:,} items has more variables than a float can count; "
                       "use fewer --items or --agents") from None
    what = (f"the {'0/1' if deterministic else 'linear'} program for {n} agents and {m} items "
            f"({domain} domain{'' if domain == 'ordinal' else f', {k} levels'}: {work['variables']:,} variables, "
            f"{work['rows']:,} rows)")
    hint = "use fewer --items or --agents" + (", or drop --deterministic" if deterministic else "") + (
        ", or fewer --levels" if domain == "cardinal" else "")
    check_fits(work["bytes"], what, hint)
    check_work(work["seconds"], 1.0, what, hint, limit_seconds=limit_seconds)
    return work


# ---------------------------------------------------------------------------------------- solve
def _ordinal_size(n, m, marginal, deterministic, time_limit, say):
    mu = order_statistic_means(marginal, m)
    from abm.theory import expected_max

    emax = m * expected_max(marginal, n)
    t0 = time.perf_counter()
    res = O.solve_ordinal(n, m, mu, deterministic=deterministic, time_limit=time_limit, progress=say)
    seconds = time.perf_counter() - t0
    row = {"m": m, "program": "0/1 program (deterministic)" if deterministic else "LP (randomized)",
           "status": res.solution.status, "optimal": bool(res.solution.optimal), "seconds": seconds,
           "variables": int(res.program.c.size), "rows": int(res.program.rows), "rounds": res.rounds,
           "e_max_welfare": emax, "optimum": res.welfare}
    if not deterministic and res.solution.optimal:
        cert = certify(res.program, res.solution)
        row.update(certified_upper_bound=float(cert.summary()["certified_upper_bound"]),
                   certified_upper_bound_exact=cert.summary()["certified_upper_bound_exact"],
                   certificate_gap=cert.gap, certificate_checks=check(res.program, cert),
                   all_misreports_hold=bool(getattr(res, "complete", False)))
        res.certificate = cert
    if deterministic and res.solution.optimal:
        owner = np.argmax(res.x, axis=2)
        ok, bad = O.is_truthful_table(res.space, owner)
        row.update(mip_gap=res.solution.mip_gap, incentive_rows_hold_exactly=ok,
                   exact_welfare=O.table_welfare(res.space, owner, mu))
        res.owner = owner
        if not ok:
            row["first_violation"] = json.dumps(bad)
    pr = K.best_pick_r(n, m, mu)
    seq = K.best_picking_sequence(n, m, mu)
    row.update(best_pick_r=pr.welfare, best_pick_r_rule=pr.description, best_pick_r_sequence=pr.detail["sequence"],
               best_sequence=seq.welfare,
               best_sequence_rule=seq.description)
    full = FullSpace(n, m) if math.factorial(m) ** n <= 200_000 else None
    if full is not None:
        row["best_sequence_truthful"] = O.is_truthful_table(full, K.sequence_owner(full.ranks, seq.detail["sequence"]))[0]
    if n == 2:
        pe = K.best_picking_exchange(m, marginal)
        row.update(best_picking_exchange=pe.welfare, best_picking_exchange_rule=pe.description)
    return row, res


def _cardinal_size(n, m, levels, probs, deterministic, time_limit, say):
    t0 = time.perf_counter()
    res = C.solve_cardinal(n, m, levels, probs, deterministic=deterministic, time_limit=time_limit, progress=say)
    seconds = time.perf_counter() - t0
    space = res.space
    emax = float(space.probability @ space.values.max(axis=1).sum(axis=1))
    row = {"m": m, "program": "0/1 program (deterministic)" if deterministic else "LP (randomized)",
           "status": res.solution.status, "optimal": bool(res.solution.optimal), "seconds": seconds,
           "variables": int(res.program.c.size), "rows": int(res.program.rows), "rounds": 1,
           "e_max_welfare": emax, "optimum": res.welfare}
    if not deterministic and res.solution.optimal:
        cert = certify(res.program, res.solution)
        row.update(certified_upper_bound=float(cert.summary()["certified_upper_bound"]),
                   certified_upper_bound_exact=cert.summary()["certified_upper_bound_exact"],
                   certificate_gap=cert.gap, certificate_checks=check(res.program, cert), all_misreports_hold=True)
        res.certificate = cert
    if deterministic and res.solution.optimal:
        owner = np.argmax(res.x, axis=2)
        ok, bad = C.is_truthful_levels(space, owner)
        row.update(mip_gap=res.solution.mip_gap, incentive_rows_hold_exactly=ok,
                   exact_welfare=C.level_welfare(space, owner))
        res.owner = owner
        if not ok:
            row["first_violation"] = json.dumps(bad)
    best_pr, best_seq = None, None
    for order in itertools.permutations(range(n)):
        for quotas in K.compositions(m, n):
            seq = K.pick_r_sequence(order, quotas)
            w = C.level_welfare(space, C.level_sequence_owner(space, seq))
            if best_pr is None or w > best_pr[0] + 1e-12:
                best_pr = (w, f"Pick-r: agents in order {list(order)} with quotas {list(quotas)}", seq)
    for seq in itertools.product(range(n), repeat=m):
        w = C.level_welfare(space, C.level_sequence_owner(space, seq))
        if best_seq is None or w > best_seq[0] + 1e-12:
            best_seq = (w, f"picking sequence {''.join(map(str, seq))}", seq)
    row.update(best_pick_r=best_pr[0], best_pick_r_rule=best_pr[1], best_pick_r_sequence=best_pr[2],
               best_sequence=best_seq[0],
               best_sequence_rule=best_seq[1],
               best_sequence_truthful=C.is_truthful_levels(space, C.level_sequence_owner(space, best_seq[2]))[0])
    return row, res


#: solver statuses that say a program had no optimum, which a valid input never gives
NO_OPTIMUM = ("Empty", "Infeasible", "Unbounded", "Primal infeasible or unbounded")
#: the lab keeps one array axis per agent, and numpy arrays have at most 64 axes
MAX_AGENTS = 64

#: the declared parameters of :func:`design` (and of ``tfd design``)
DESIGN = d.Entry("design", (
    shared.AGENTS.with_(kind=d.whole(2, MAX_AGENTS), default=3,
                   help="number of agents n (with one agent there is nothing to divide)"),
    shared.ITEMS.with_(default=4, help="solve for m = 1..ITEMS"),
    shared.PRIOR.with_(help="an i.i.d. prior spec (ordinal domain)"),
    d.Option("domain", d.choice("ordinal", "cardinal"),
             "ordinal: mechanisms that see rankings; cardinal: mechanisms on value levels", default="ordinal"),
    d.Option("deterministic", d.switch(),
             "the 0/1 program on every profile instead of the LP on symmetry orbits", default=False),
    d.Option("levels", d.vector(0.0), "cardinal domain: value levels, e.g. 0,1,5"),
    d.Option("probs", d.vector(0.0), "cardinal domain: the levels' probabilities (default equal)"),
    d.Option("sizes", d.counts(1), "the item counts solved (default 1..n_items)"),
    d.Option("time_limit", d.real(0, open_low=True), "solver seconds per size", default=3600.0),
    d.Option("audit_profiles", d.whole(1), "profiles of the DSIC audit run on a deterministic optimum",
             default=200),
    shared.SEED), "the welfare-optimal truthful mechanism, certified and compared with the best Pick-r")


@DESIGN.checked
def design(n_agents: int = 3, n_items: int = 4, prior: str = "uniform", domain: str = "ordinal",
           deterministic: bool = False, levels=None, probs=None, sizes=None, time_limit: float = 3600.0,
           progress=None, audit_profiles: int = 200, seed: int = 0) -> Lab:
    """The optimal truthful mechanism for ``n_agents`` and each m in ``sizes`` (default 1..n_items).

    ``domain="ordinal"``: mechanisms that see rankings, under the i.i.d. ``prior``;
    ``domain="cardinal"``: mechanisms on the value ``levels`` drawn with ``probs``.
    ``deterministic``: the 0/1 program (no symmetry reduction) instead of the LP on orbits.
    """
    say = progress or (lambda *_: None)
    sizes = list(range(1, n_items + 1)) if sizes is None else sorted(set(sizes))
    if domain == "cardinal":
        levels, probs, prior_spec = _check_levels(levels, probs, n_agents * max(sizes))
        k = len(levels)
        marginal = None
    else:
        from abm.priors import parse_prior

        parsed = parse_prior(prior)
        if not parsed.is_iid:
            raise TfdError(f"the lab's welfare objective needs an i.i.d. prior (agents and items alike), got "
                           f"{prior!r}; accepted: one marginal, e.g. uniform or beta(a=2, b=5)")
        marginal, prior_spec, k = parsed.marginal(0), str(parsed), 0
    check_design_work(n_agents, max(sizes), domain, deterministic, k or 3)
    rows, results = [], {}
    t_all = time.perf_counter()
    for m in sizes:
        say(f"m = {m}: solving")
        if domain == "ordinal":
            row, res = _ordinal_size(n_agents, m, marginal, deterministic, time_limit, say)
        else:
            row, res = _cardinal_size(n_agents, m, levels, probs, deterministic, time_limit, say)
        if row["status"] in NO_OPTIMUM:
            # every program here is feasible (the equal lottery satisfies every incentive row) and
            # bounded, so "no optimum" is the solver's tolerances meeting coefficients too far apart
            raise TfdError(f"the solver found no optimum at m = {m} (HiGHS status {row['status']}): the levels' and "
                           "probabilities' products span more orders of magnitude than its tolerances allow; "
                           "give levels and probabilities closer together")
        for key in ("certified_upper_bound", "certified_upper_bound_exact", "certificate_gap", "certificate_checks",
                    "all_misreports_hold", "mip_gap", "incentive_rows_hold_exactly"):
            row.setdefault(key, None)
        emax = row["e_max_welfare"]
        for key in ("optimum", "certified_upper_bound", "best_pick_r", "best_sequence", "best_picking_exchange"):
            if row.get(key) is not None:
                row[key + "_ratio"] = row[key] / emax
        row["gap"] = row["optimum"] - row["best_pick_r"]
        bound = row["certified_upper_bound"]
        row["gap_upper_bound"] = None if bound is None else bound - row["best_pick_r"]
        row.setdefault("certified_upper_bound_ratio", None)
        row["gap_positive"] = bool(row["optimal"] and row["gap"] > GAP_RTOL * emax)
        say(f"m = {m}: optimum {row['optimum_ratio']:.6f} of E[max welfare], best Pick-r "
            f"{row['best_pick_r_ratio']:.6f} ({row['status']}, {row['seconds']:.1f} s)")
        rows.append(row)
        results[m] = res
    ratios = pd.DataFrame(rows)
    top = rows[-1]
    res = results[sizes[-1]]
    mechanism, table, explanation, audit = None, None, None, None
    if deterministic and top["optimal"]:
        mechanism = _mechanism(domain, res, n_agents, sizes[-1], levels)
        if top["gap_positive"]:
            explanation = explain(res, domain, n_agents, sizes[-1], top["best_pick_r_sequence"])
        audit = _audit(mechanism, domain, n_agents, sizes[-1], prior_spec, audit_profiles, seed)
    table = _table_frame(domain, res, deterministic)
    summary = {
        "agents": n_agents, "items": sizes[-1], "sizes": sizes, "domain": domain, "prior": prior_spec,
        "levels": levels, "probs": probs,
        "program": top["program"],
        "symmetry": ("none: the 0/1 program runs on every profile (deterministic optima need not be symmetric)"
                     if deterministic else "item and agent permutations (solved on orbits)"),
        "optimum": top["optimum"], "optimum_ratio": top["optimum_ratio"],
        "certified_upper_bound": top.get("certified_upper_bound"),
        "certified_upper_bound_exact": top.get("certified_upper_bound_exact"),
        "certificate_gap": top.get("certificate_gap"), "certificate_checks": top.get("certificate_checks"),
        "e_max_welfare": top["e_max_welfare"],
        "comparisons": {key: {"welfare": top.get(key), "ratio": top.get(key + "_ratio"),
                              "rule": top.get(key + "_rule")}
                        for key in ("best_pick_r", "best_sequence", "best_picking_exchange") if key in top},
        "best_sequence_truthful": top.get("best_sequence_truthful"),
        "gap": top["gap"], "gap_upper_bound": top.get("gap_upper_bound"), "gap_positive": top["gap_positive"],
        "status": top["status"], "optimal": top["optimal"], "mip_gap": top.get("mip_gap"),
        "incentive_rows_hold_exactly": top.get("incentive_rows_hold_exactly"),
        "seconds": time.perf_counter() - t_all, "seconds_at_largest": top["seconds"],
        "variables": top["variables"], "rows": top["rows"],
        "explanation": explanation, "audit": audit,
        "verdict": _verdict(rows, domain),
    }
    return Lab(summary, ratios, table, mechanism, results)


#: nonzero value levels the exact certificate scales to integers: within this range of 1
LEVEL_RANGE = 1e50
#: the smallest probability of one profile (a product of one level's probability per agent and
#: item) that the exact certificate can scale to an integer without passing float's range
SMALLEST_PROFILE_PROBABILITY = 1e-100


def _check_levels(levels, probs, draws: int = 1):
    """The cardinal domain's levels and probabilities, refused unless they give a program with an
    optimum the certificate can prove: real, finite, nonnegative levels whose nonzero ones lie
    within [1/LEVEL_RANGE, LEVEL_RANGE] (results are ratios, unchanged by rescaling), and
    probabilities whose smallest, raised to the ``draws`` (agents x items) of one profile, stays
    above :data:`SMALLEST_PROFILE_PROBABILITY`."""
    from abm.priors.marginals import Levels
    from abm.spec import real

    if levels is None:
        raise TfdError("the cardinal domain needs value levels, e.g. --levels 0,1,5 --probs 0.6,0.3,0.1")
    for name, given in (("levels", levels), ("probs", probs)):
        if given is not None and (isinstance(given, (str, bytes)) or not hasattr(given, "__iter__")):
            raise TfdError(f"{name} must be a list of numbers, e.g. [0, 1, 5], got {given!r}")
    lv = [real(v, "each value level", minimum=0.0) for v in levels]
    pr = [1.0 / len(lv)] * len(lv) if probs is None else [real(p, "each level's probability", 0.0, 1.0)
                                                          for p in probs]
    for v in lv:
        if v != 0 and not 1 / LEVEL_RANGE <= v <= LEVEL_RANGE:
            raise TfdError(f"value level {v:g} is outside [{1 / LEVEL_RANGE:g}, {LEVEL_RANGE:g}] (0 is also accepted); "
                           "the lab's results are ratios, unchanged by rescaling, so rescale the levels")
    positive = [p for p in pr if p > 0]
    if positive and min(positive) ** draws < SMALLEST_PROFILE_PROBABILITY:
        raise TfdError(f"probability {min(positive):g} makes a profile of {draws} draws (agents x items) as unlikely "
                       f"as {min(positive):g}^{draws}, below the {SMALLEST_PROFILE_PROBABILITY:g} the exact "
                       "certificate can scale; drop that level or give it more probability")
    # full precision: the audit samples this spec, and the table reads bids against the exact levels
    spec = f"levels(values=[{', '.join(repr(v) for v in lv)}], probs=[{', '.join(repr(p) for p in pr)}])"
    try:
        Levels(lv, pr, spec)
    except Exception as exc:  # PriorSpecError: say it as the lab's input
        raise TfdError(str(exc).replace("levels(values=", "--levels/--probs: levels(values=", 1)) from None
    if min(lv) < 0:
        raise TfdError(f"--levels must be nonnegative values, got {lv}")
    return lv, pr, spec


def _verdict(rows: list, domain: str) -> str:
    solved = [r for r in rows if r["optimal"]]
    if not solved:
        return "no size solved to optimality; nothing can be said"
    positive = [r["m"] for r in solved if r["gap_positive"]]
    ms = ", ".join(str(r["m"]) for r in solved)
    if positive:
        deterministic = "deterministic" in solved[-1]["program"]
        return (f"a truthful {domain} mechanism beats every Pick-r at m = {', '.join(map(str, positive))} "
                + ("(see the explanation and the audit)" if deterministic else
                   "(a randomized optimum; rerun with --deterministic for a table the lab explains and audits)"))
    how = ("within rounding; the upper bound certified from the dual" if "LP" in solved[-1]["program"]
           else "proven optimal with a zero gap, every incentive row checked exactly")
    return (f"no gap: at m = {ms} the optimal truthful {domain} mechanism earns what the best Pick-r earns "
            f"({how}). Evidence for tightness at these sizes only: small m is not the asymptotic ratio")


# ---------------------------------------------------------------------------------------- export
def _mechanism(domain, res, n, m, levels):
    from abm.design.table import LevelTable, OrdinalTable

    if domain == "ordinal":
        return OrdinalTable(res.owner, n, m)
    return LevelTable(res.owner, n, m, levels)


def _table_frame(domain, res, deterministic) -> pd.DataFrame:
    space = res.space
    n, m = space.n, space.m
    cols = {}
    if domain == "ordinal":
        R = space.ranks
        order = np.argsort(R, axis=2)
        for i in range(n):
            cols[f"agent{i}_ranking"] = [">".join(map(str, o)) for o in order[:, i, :].tolist()]
    else:
        tt = space.profile_types
        for i in range(n):
            cols[f"agent{i}_levels"] = [",".join(f"{space.levels[t]:g}" for t in row)
                                        for row in space.types[tt[:, i]].tolist()]
    frame = pd.DataFrame({"profile": np.arange(space.count), **cols})
    if deterministic and hasattr(res, "owner"):
        for j in range(m):
            frame[f"item{j}"] = res.owner[:, j]
    else:
        for j in range(m):
            for i in range(n):
                frame[f"x_item{j}_agent{i}"] = res.x[:, j, i]
    return frame


def explain(res, domain: str, n: int, m: int, best_pick_r_sequence) -> dict:
    """What a deterministic winner does that Pick-r does not: the profiles where its allocation differs
    from the best Pick-r's, those where it is no Pick-r's allocation at all (over every order and quota
    vector), whether the split between two agents depends on a third agent's report (bossiness), and
    the exact incentive check that keeps it truthful."""
    space, owner = res.space, res.owner

    def seq_owner(seq):
        return (K.sequence_owner(space.ranks, seq) if domain == "ordinal" else C.level_sequence_owner(space, seq))

    best = seq_owner(best_pick_r_sequence)
    unlike = np.ones(space.count, dtype=bool)
    for o in itertools.permutations(range(n)):
        for q in K.compositions(m, n):
            unlike &= np.any(owner != seq_owner(K.pick_r_sequence(o, q)), axis=1)
    differs = np.any(owner != best, axis=1)
    # the profile where the winner gains most welfare over the best Pick-r
    worth = (res.mu[space.ranks] if domain == "ordinal" else space.values)  # (P, n, m)
    welfare = lambda o: np.take_along_axis(worth, o[:, None, :], axis=1)[:, 0, :].sum(axis=1)  # noqa: E731
    gain = welfare(owner) - welfare(best)
    example = int(np.argmax(gain)) if differs.any() else None
    out = {"profiles": int(space.count), "profiles_unlike_best_pick_r": int(differs.sum()),
           "profiles_unlike_every_pick_r": int(unlike.sum()), "bossy_pairs": _bossy(space, owner, domain),
           "why_truthful": "every incentive row holds on every profile and misreport, checked by enumeration "
                           "in exact integer arithmetic"}
    if example is not None:
        if domain == "ordinal":
            shown = [">".join(map(str, np.argsort(space.ranks[example, i]))) for i in range(n)]
        else:
            shown = [",".join(f"{v:g}" for v in space.values[example, i]) for i in range(n)]
        out["example"] = {"profile": example, "reports": shown, "owner": owner[example].tolist(),
                          "best_pick_r_owner": best[example].tolist(), "welfare_gain": float(gain[example])}
    return out


def _bossy(space, owner, domain) -> int:
    """Profiles and agents k where k's report changes how the others split the items while k's own bundle
    stays the same (n >= 3: the split between two agents depends on a third's report)."""
    n = space.n
    if n < 3:
        return 0
    count = 0
    if domain == "ordinal":
        p = np.arange(space.count)
        for k in range(n):
            for r in range(space.rk.count):
                p1 = space.replace(p, k, r)
                same_k = np.all((owner == k) == (owner[p1] == k), axis=1)
                count += int(np.sum(same_k & np.any(owner != owner[p1], axis=1)))
    else:
        tt = space.profile_types
        for k in range(n):
            for t1 in range(space.K):
                lied = tt.copy()
                lied[:, k] = t1
                p1 = space.profile(lied)
                same_k = np.all((owner == k) == (owner[p1] == k), axis=1)
                count += int(np.sum(same_k & np.any(owner != owner[p1], axis=1)))
    return count


def _audit(mechanism, domain, n, m, prior_spec, profiles, seed) -> dict:
    """The project's own DSIC audit of the exported table, independent of the program."""
    from abm.audit.dsic import dsic_audit

    a = dsic_audit(mechanism, prior=prior_spec, n_agents=n, n_items=m, profiles=profiles, seed=seed,
                   strategies=[], budget=50 if domain == "cardinal" else 0, shrink=False, cross_check=0)
    s = a.summary
    keep = ("exact", "proven_pairs", "pairs", "violations", "max_gain", "proof", "search")
    out = {k: s[k] for k in keep if k in s}
    out["note"] = ("ordinal table: every ranking of every agent enumerated on each audited profile"
                   if domain == "ordinal" else
                   "level table: searched, not proven by the audit (the lab's own exact check enumerates "
                   "every level profile)")
    return out


# ---------------------------------------------------------------------------------------- files
def save(lab: Lab, out) -> Path:
    """Write ``summary.json``, ``ratios.parquet``, ``mechanism.parquet`` and ``ratio.png`` into ``out``."""
    from abm.jsonable import write_results

    frames = {"ratios": lab.ratios}
    if lab.table is not None:
        frames["mechanism"] = lab.table
    write_results(out, frames, lab.summary, plot=lambda folder: plot(lab, Path(folder) / "ratio.png"))
    return Path(out)


def plot(lab: Lab, path) -> None:
    """The ratio to E[max welfare] against m for each mechanism class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = lab.ratios
    fig, ax = plt.subplots(figsize=(6, 4))
    label = "optimal truthful (" + ("0/1 program" if "deterministic" in lab.summary["program"] else "LP") + ")"
    ax.plot(r["m"], r["optimum_ratio"], "o-", label=label, zorder=3)
    ax.plot(r["m"], r["best_pick_r_ratio"], "s--", label="best Pick-r")
    ax.plot(r["m"], r["best_sequence_ratio"], "^:", label="best picking sequence (not truthful)")
    if "best_picking_exchange_ratio" in r:
        ax.plot(r["m"], r["best_picking_exchange_ratio"], "x", label="best picking-exchange")
    s = lab.summary
    ax.set_xlabel("items m")
    ax.set_ylabel("expected welfare / E[max welfare]")
    ax.set_title(f"{s['agents']} agents, {s['domain']} domain, {s['prior']}", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    files.save_figure(fig, path, dpi=120)
    plt.close(fig)


def load(path) -> object:
    """The deterministic mechanism a lab folder holds, as a :class:`~abm.mechanisms.Mechanism`."""
    from abm.design.table import LevelTable, OrdinalTable

    folder = Path(path)
    summary_file, table_file = folder / "summary.json", folder / "mechanism.parquet"
    if not summary_file.is_file() or not table_file.is_file():
        raise MechanismError(f"{str(path)!r} is not a lab folder (it needs summary.json and mechanism.parquet, "
                       "written by tfd design --out)")
    try:
        from abm import readers

        s = readers.json_file(summary_file, "lab summary", MechanismError)
        n, m, domain = int(s["agents"]), int(s["items"]), s["domain"]
        frame = pd.read_parquet(table_file)
    except (ValueError, KeyError, OSError) as exc:
        raise MechanismError(f"{str(path)!r}: cannot read the lab ({type(exc).__name__}: {exc})") from None
    items = [f"item{j}" for j in range(m)]
    if not all(c in frame for c in items):
        raise MechanismError(f"{str(path)!r} holds a randomized mechanism (the LP optimum), which the testbed does not "
                       "simulate; run tfd design with --deterministic for a table of owners")
    owner = frame.sort_values("profile")[items].to_numpy()
    if domain == "ordinal":
        return OrdinalTable(owner, n, m, source=str(folder))
    return LevelTable(owner, n, m, s["levels"], source=str(folder))
