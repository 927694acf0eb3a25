"""Open question (section 5): is anything truthful better than Pick-r for three agents? Computed at small m.

The lab (abm.design) solves for the welfare-optimal truthful mechanism exactly: a linear program
on symmetry orbits (randomized, truthful in expectation) and a 0/1 program on every profile
(deterministic), in the ordinal domain (truthful for every additive value) and on a discrete value
domain (an upper bound for every DSIC mechanism on that prior). Validation first: one item, the
order LP >= 0/1 program >= best Pick-r, and, for two agents, the deterministic optimum against the
best picking-exchange rule (the characterization the paper relies on). Then the tables: the
optimum, its certified bound and the best Pick-r for n = 3 and n = 2 by m, and the cardinal bound's
looseness on two agents as the number of levels grows.
"""

import math

from abm import design
from abm.design import compare as K
from abm.design import ordinal as O
from abm.design.profiles import order_statistic_means
from abm.priors import parse_prior
from abm.theory import expected_max
from scenarios._common import TARGET, rows

NAME = "open-question-n3"
ORDER = 12
TITLE = "Open question: optimal truthful mechanisms for three agents, computed and certified at small m"
DESCRIPTION = __doc__.strip().splitlines()[0]
STEPS = 5

PRIORS = {"uniform": "uniform", "beta(2,5)": "beta(a=2, b=5)", "hard(0.1)": "hard(p=0.1, delta=0.001)"}
#: exact programs: differences below this are the solver's feasibility tolerance, not a better mechanism
EXACT_TOL = 1e-8


def _exact(ctx, claim, measured, predicted, reason, note=""):
    ctx.matches(claim, measured, measured, measured, predicted, tolerance=EXACT_TOL, reason=reason, note=note,
                domain=(None, None))


def _records(domain, n, label, lab) -> list[dict]:
    """One row per m of a lab run: the ratios to E[max welfare] and what the program cost."""
    out = []
    for _, r in lab.ratios.iterrows():
        emax = r["e_max_welfare"]
        out.append({"domain": domain, "n": n, "prior": label, "m": int(r["m"]), "optimum_ratio": r["optimum_ratio"],
                    "certified_ratio": r["certified_upper_bound_ratio"], "best_pick_r_ratio": r["best_pick_r_ratio"],
                    "gap": r["gap"] / emax, "gap_upper_bound": r["gap_upper_bound"] / emax,
                    "best_sequence_ratio": r["best_sequence_ratio"], "seconds": r["seconds"],
                    "variables": r["variables"], "rows": r["rows"], "all_rows_hold": r["all_misreports_hold"]})
    return out


def run(ctx):
    rounding = "solver feasibility tolerance 1e-7 on rows of unit scale; the values are exact otherwise"
    # 1. One item: the item goes to one agent, E[v] / E[max of n].
    for n in (2, 3):
        for label, spec in PRIORS.items():
            mg = parse_prior(spec).marginal(0)
            lab = design.design(n, 1, prior=spec, sizes=[1])
            _exact(ctx, f"m = 1, n = {n}, {label}: the optimum gives the item to one agent (ratio E[v]/E[max])",
                   lab.summary["optimum_ratio"], mg.mean() / expected_max(mg, n), rounding)
    ctx.step()

    # 2. LP >= 0/1 program >= best Pick-r, n = 3.
    det_sizes = ctx.pick([2, 3], [2, 3], [2, 3])
    for label, spec in PRIORS.items():
        mg = parse_prior(spec).marginal(0)
        for m in det_sizes:
            mu = order_statistic_means(mg, m)
            lp, milp = O.solve_ordinal(3, m, mu), O.solve_ordinal(3, m, mu, deterministic=True)
            pr = K.best_pick_r(3, m, mu)
            d1, d2 = lp.welfare - milp.welfare, milp.welfare - pr.welfare
            ctx.at_least(f"n = 3, m = {m}, {label}: LP optimum >= 0/1 optimum (difference)", d1, d1, d1, -EXACT_TOL,
                         reason=rounding, domain=(None, None))
            ctx.at_least(f"n = 3, m = {m}, {label}: 0/1 optimum >= best Pick-r (difference)", d2, d2, d2, -EXACT_TOL,
                         reason=rounding, domain=(None, None))
    ctx.step()

    # 3. Two agents: the deterministic ordinal optimum equals the best picking-exchange rule.
    for m in ctx.pick([2, 3], [2, 3, 4], [2, 3, 4]):
        mg = parse_prior("beta(a=2, b=5)").marginal(0)
        mu = order_statistic_means(mg, m)
        milp = O.solve_ordinal(2, m, mu, deterministic=True)
        pe = K.best_picking_exchange(m, mg)
        _exact(ctx, f"n = 2, m = {m}, beta(2,5): the deterministic ordinal optimum equals the best picking-exchange "
                    "rule (difference)", milp.welfare - pe.welfare, 0.0, rounding, note=pe.description)
    ctx.step()

    # 4. The tables: ordinal LP on orbits, n = 3 and n = 2, with certified bounds and comparisons.
    records = []
    for n, sizes in ((3, ctx.pick([2, 3, 4], [2, 3, 4], [2, 3, 4, 5])),
                     (2, ctx.pick([2, 3, 4, 5], [2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]))):
        for label, spec in PRIORS.items():
            lab = design.design(n, max(sizes), prior=spec, sizes=sizes)
            records += _records("ordinal", n, label, lab)
            worst = lab.ratios["certificate_gap"].max()
            ctx.at_most(f"n = {n}, {label}: the dual certificates prove bounds within 1e-6 of the optimum "
                        f"(largest gap over m = {sizes[0]}..{sizes[-1]})", worst, worst, worst, 1e-6,
                        reason="rounded duals on a 2^-40 grid; a larger gap would mean a weak certificate",
                        domain=(0.0, None))
    # the cardinal domain: Theorem 3.1's three levels (no noise), and three-level versions of the
    # other priors (the conditional means of their terciles)
    levels, probs = design.hard_levels(0.1)
    domains = {"hard levels (p=0.1)": (levels, probs), "uniform, 3 levels": design.discretize("uniform", 3),
               "beta(2,5), 3 levels": design.discretize("beta(a=2, b=5)", 3)}
    for n, top in ((3, ctx.pick(2, 3, 3)), (2, ctx.pick(3, 4, 5))):
        for label, (lv, pr) in domains.items():
            lab = design.design(n, top, domain="cardinal", levels=lv, probs=pr)
            records += _records("cardinal (3 levels)", n, label, lab)
    table = rows(records)
    ctx.save("optimum_by_m", table)
    # the deterministic winner on the levels at m = 2: what it does, checked and audited
    win = design.design(3, 2, domain="cardinal", levels=levels, probs=probs, deterministic=True, sizes=[2],
                        audit_profiles=ctx.pick(100, 300, 1000), seed=ctx.seed_for("cardinal-winner"))
    e, a = win.summary["explanation"] or {}, win.summary["audit"] or {}
    bad = 0 if win.summary["incentive_rows_hold_exactly"] else 1
    ctx.at_most("n = 3, m = 2, hard levels: the deterministic winner's incentive rows all hold (violated rows, "
                "exact enumeration of every level profile and report)", bad, bad, bad, 0,
                reason="exact integer arithmetic: one violated row is a lie", domain=(0.0, None))
    ctx.at_most("n = 3, m = 2, hard levels: the DSIC audit finds no gain on the exported winner (violations)",
                a.get("violations", 0), a.get("violations", 0), a.get("violations", 0), 0,
                reason="an independent search on profiles drawn from the level prior", domain=(0.0, None),
                note=a.get("note", ""))
    ctx.save("cardinal_winner", rows([{
        "n": 3, "m": 2, "optimum_ratio": win.summary["optimum_ratio"],
        "best_pick_r_ratio": win.summary["comparisons"]["best_pick_r"]["ratio"],
        "profiles": e.get("profiles"), "unlike_best_pick_r": e.get("profiles_unlike_best_pick_r"),
        "unlike_every_pick_r": e.get("profiles_unlike_every_pick_r"), "bossy_triples": e.get("bossy_pairs"),
        "example_reports": " | ".join(e.get("example", {}).get("reports", [])),
        "example_owner": str(e.get("example", {}).get("owner")),
        "example_best_pick_r_owner": str(e.get("example", {}).get("best_pick_r_owner")),
        "audit_violations": a.get("violations"), "audit_pairs": a.get("pairs")}]))
    ctx.step()

    # 5. How loose the cardinal bound is for two agents: k equally likely levels at the midpoints of
    # k equal cells of [0, 1], m = 2, against the continuous ordinal optimum (picking-exchange).
    mg = parse_prior("uniform").marginal(0)
    continuous = K.best_picking_exchange(2, mg).welfare / (2 * expected_max(mg, 2))
    loose = []
    for k in ctx.pick([2, 3, 4], [2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7, 8]):
        lv = [(i + 0.5) / k for i in range(k)]
        lab = design.design(2, 2, domain="cardinal", levels=lv, sizes=[2])
        loose.append({"levels": k, "bound_ratio": lab.summary["optimum_ratio"],
                      "best_pick_r_ratio": lab.summary["comparisons"]["best_pick_r"]["ratio"],
                      "continuous_optimum_ratio": continuous, "seconds": lab.summary["seconds"]})
    loose = rows(loose)
    ctx.save("cardinal_looseness", loose)
    ctx.step()

    for n in (3, 2):
        part = table[(table["domain"] == "ordinal") & (table["n"] == n)]
        with ctx.figure(f"optimum_n{n}", f"{n} agents, ordinal domain: optimal truthful vs best Pick-r", "items m",
                        "expected welfare / E[max welfare]", legend_outside=True) as ax:
            for label, g in part.groupby("prior"):
                line, = ax.plot(g["m"], g["optimum_ratio"], "o-", label=f"{label}: optimal truthful (LP)")
                ax.plot(g["m"], g["best_pick_r_ratio"], "x", ms=10, color=line.get_color(), label=f"{label}: best Pick-r")
                ax.plot(g["m"], g["best_sequence_ratio"], ":", color=line.get_color(),
                        label=f"{label}: best picking sequence")
            if n == 2:
                ax.axhline(TARGET, color="k", ls="--", lw=0.8, label="(2+sqrt2)/4, worst case over priors")
    with ctx.figure("cardinal_looseness", "2 agents, m = 2: the bound on k uniform levels", "levels k",
                    "expected welfare / E[max welfare]") as ax:
        ax.plot(loose["levels"], loose["bound_ratio"], "o-", label="LP bound on every DSIC rule (levels)")
        ax.plot(loose["levels"], loose["best_pick_r_ratio"], "s--", label="best Pick-r (levels)")
        ax.axhline(continuous, color="k", ls=":", label="continuous optimum (picking-exchange)")
        ax.set_ylim(min(0.85, loose["best_pick_r_ratio"].min() - 0.01), max(1.0, math.ceil(loose["bound_ratio"].max() * 100) / 100))
