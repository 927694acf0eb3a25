"""``tfd theory ...``: the paper's predictions, printed or as JSON under named keys."""

from __future__ import annotations

import math
import sys

import numpy as np

from abm.commands.common import emit, fmt


#: Estimated seconds of each size-dependent command on the 2-core development VM (measured at
#: several n and fitted; the refusals only need the order of magnitude). Commands not listed
#: cost the same at every size.
_SECONDS = {
    "alpha": lambda a: 1 + 0.005 * _n(a),
    "ef-margins": lambda a: 1 + 3e-4 * _n(a) ** 2,
    "universal-r": lambda a: 2 + 0.4 * a.n_agents ** 2,
    "equal-quota": lambda a: 2 + 0.15 * a.n_agents,
    "hill-kertz": lambda a: (2 + 0.0017 * a.n_agents ** 3 * (a.cells or 100) / 100 if a.table
                             else 2 + 0.012 * a.n_agents ** 2 * (a.cells or 800) / 800),
    "bai-golz": lambda a: 2 + 0.012 * (a.n_agents or 1) ** 2,
}
#: bytes of each command's largest working set (the Hill-Kertz LP: about 8 KB per agent-cell)
_BYTES = {"hill-kertz": lambda a: 8e3 * a.n_agents * (a.cells or (100 if a.table else 800))}


def _n(args) -> int:
    vec = getattr(args, "r", None) or getattr(args, "s", None) or []
    return max(len(vec), getattr(args, "n_agents", None) or 0)


def guard(args) -> None:
    """Refuse, in one line, a theory command whose size would take past an hour or past memory."""
    from abm.sizes import check_fits, check_work

    name = args.theory_command
    what = f"tfd theory {name} at this size"
    hint = "use fewer --agents" + (" or --cells" if name == "hill-kertz" else "") + (
        " or a shorter vector" if name in ("alpha", "ef-margins") else "")
    if name in _BYTES:
        check_fits(_BYTES[name](args), what, hint)
    if name in _SECONDS:
        check_work(_SECONDS[name](args), 1.0, what, hint)


def add(sub) -> None:
    from abm import declare as d
    from abm import options as o

    theory = sub.add_parser("theory", help="the paper's predictions for a prior, n and mechanism parameters")
    tsub = theory.add_subparsers(dest="theory_command", required=True, parser_class=type(theory))

    agents = o.AGENTS.with_(default=None, help="n (default: from the vector's length)")
    prior = o.PRIOR.with_(help="an i.i.d. prior spec")
    shares = d.Option("r", d.vector(0.0, "a non-empty list of nonnegative numbers, like 0.3,0.7"),
                      "Pick-r shares (n or n-1 entries)")
    eps = d.Option("eps", d.real(0), "eps (default: the one maximizing the smallest margin)")

    def cmd(name, help_text, run, *options):
        p = tsub.add_parser(name, help=help_text)
        d.Entry(f"tfd theory {name}", (*options, o.JSON.with_(help="print one JSON object"))).add_arguments(p)

        def guarded(args):
            guard(args)
            return run(args)

        p.set_defaults(run=guarded)
        return p

    cmd("alpha", "Lemma 3.6: the welfare ratio of Pick-r or QT-s as m grows", run_alpha,
        d.Option("mechanism", d.choice("pick-r", "qt-s"), "the mechanism family", default="pick-r"), shares,
        d.Option("s", d.vector(0.0, "a non-empty list of thresholds in [0, 1], like 0.5,1"),
                 "QT-s thresholds (s_n = 1 may be omitted)"), agents, prior)
    cmd("ef-margins", "Lemma 3.6 part 3: each ordered pair's EF margin for Pick-r", run_ef_margins,
        shares.with_(default=d.REQUIRED), agents, prior)
    cmd("optimal-r", "Proposition 3.8: the optimal Pick-r (optimal stopping thresholds)", run_optimal_r,
        o.AGENTS, prior)
    cmd("universal-r", "prior-independent thresholds maximizing the worst-case alpha", run_universal_r,
        o.AGENTS, o.SEED.with_(help="seed of the global search"))
    cmd("choose-r", "Theorem 3.7: the r that is EF w.h.p. with (2+sqrt2)/4 welfare", run_choose_r, prior,
        o.ITEMS.with_(default=None, help="m, used when the fallback r = 1/2 - m^(-1/4) applies"))
    cmd("equal-quota", "Theorem 3.10: r = (1/n - eps, ..., 1/n + (n-1) eps) and its margins", run_equal_quota,
        o.AGENTS.with_(default=3), prior, eps)
    cmd("hill-kertz", "Hill-Kertz a_n: the best prophet ratio for n i.i.d. draws", run_hill_kertz, o.AGENTS,
        d.Option("cells", d.whole(1), "quantile cells of the LP (default 800; 100 with --table, a bracket of at "
                 "most 3.3e-4 to n = 50)"),
        d.Option("table", d.switch(), "a_n for every n from 1 to --agents, and beta", default=False))
    cmd("kertz", "Kertz's constant beta = lim a_n (about 0.745)", run_kertz)
    cmd("fallback-bound", "Theorem 3.7's second case: 7/8 and the exact worst case", run_fallback)
    cmd("bai-golz", "appendix A: weights giving each agent the top weighted value w.p. 1/n", run_bai_golz,
        o.PRIOR.with_(default=d.REQUIRED, help="one spec per agent, e.g. 'uniform; beta(a=2, b=5)'"),
        agents.with_(help="n, for a single i.i.d. spec"))
    cmd("correlated", "appendix B: thresholds tau_i and the picking rule for two agents", run_correlated,
        o.PRIOR.with_(default=d.REQUIRED, help="e.g. 'copula(uniform, beta(a=2, b=5), rho=0.5)'"),
        eps.with_(default=0.01, help="eps"))
    cmd("contiguous", "the best quantile-contiguous Pick-r (order and shares) for correlated agents: "
                      "EF and PROP margins, certified", run_contiguous,
        o.PRIOR.with_(default=d.REQUIRED, help="a copula prior, e.g. 'copula(uniform, uniform, uniform, "
                                               "corr=[[1, .5, .2], [.5, 1, .3], [.2, .3, 1]])' or "
                                               "'checkerboard(uniform, uniform, uniform, k=6)'"),
        agents.with_(help="n, for an equicorrelated copula(..., rho=R)"),
        o.SEED.with_(help="Monte Carlo seed (Gaussian copulas)"), o.NO_PROGRESS)
    cmd("coupling-bound", "Lemma 3.6 part 1: n^2 sqrt(m log m)", run_coupling, o.AGENTS,
        o.ITEMS.with_(default=d.REQUIRED, help="m"))


def run_alpha(args) -> int:
    from abm.errors import TfdError
    from abm.mechanisms import r_from_s, s_from_r
    from abm.theory import alpha_qt_s
    from abm.theory.picking import as_r, as_s

    if (args.r is None) == (args.s is None):
        raise TfdError("give exactly one of --r (Pick-r shares) or --s (QT-s thresholds)")
    if args.r is not None:
        r = as_r(args.r, args.n_agents)
        s = s_from_r(r)
    else:
        s = as_s(args.s, args.n_agents)
        r = r_from_s(s)
    alpha = alpha_qt_s(args.prior, s)
    mechanism = "qt-s" if args.s is not None else args.mechanism
    emit({"alpha": alpha, "r": r, "s": s, "agents": r.size, "prior": args.prior, "mechanism": mechanism},
         args.json, [f"alpha = {alpha:.10f}  ({mechanism}, n = {r.size}, prior {args.prior})",
                     f"r = {fmt(r)}", f"s = {fmt(s)}"])
    return 0


def run_ef_margins(args) -> int:
    from abm.theory import ef_margins

    margins = ef_margins(args.prior, args.r, args.n_agents)
    worst = float(np.nanmin(margins)) if margins.size > 1 else math.inf
    lines = ["margins M[i, j] (Lemma 3.6 part 3; all > 0 means EF w.h.p.):"]
    lines += ["  " + "  ".join("     -    " if np.isnan(x) else f"{x:+.6f}" for x in row) for row in margins]
    from abm.theory import envy_free_margins

    ef = envy_free_margins(args.prior, args.r, args.n_agents) if margins.size > 1 else True
    lines.append(f"smallest margin {worst:+.6g}: {'envy-free' if ef else 'not envy-free'} with high probability"
                 + ("" if ef or worst <= 0 else " (the margin is zero up to rounding; the condition is strict)"))
    emit({"margins": margins, "min_margin": worst, "envy_free": ef}, args.json, lines)
    return 0


def run_optimal_r(args) -> int:
    from abm.theory import optimal_pick_r

    from abm.sizes import check_work

    # one numerical integral per agent: 2,000 agents took 38 s here
    check_work(args.n_agents, 50.0, f"the optimal stopping rule for {args.n_agents} agents", "use fewer --agents")
    o = optimal_pick_r(args.prior, args.n_agents)
    emit({"alpha": o.alpha, "r": o.r, "s": o.s, "values": o.values, "expected_max": o.expected_max},
         args.json, [f"optimal Pick-r for n = {args.n_agents}, prior {args.prior}: alpha = {o.alpha:.10f}",
                     f"r = {fmt(o.r)}", f"s = {fmt(o.s)}", f"continuation values V = {fmt(o.values)}"])
    return 0


def run_universal_r(args) -> int:
    from abm.theory import universal_thresholds

    u = universal_thresholds(args.n_agents, seed=args.seed)
    emit({"alpha": u.alpha, "r": u.r, "s": u.s, "worst_step_mass": u.worst_w, "a_n": u.lp_value, "gap": u.gap},
         args.json, [f"prior-independent thresholds for n = {args.n_agents}: worst-case alpha = {u.alpha:.10f}",
                     f"r = {fmt(u.r)}", f"s = {fmt(u.s)}",
                     f"randomized relaxation (LP, = a_n) = {u.lp_value:.10f}; gap {u.gap:+.3g}"])
    return 0


def run_choose_r(args) -> int:
    from abm.theory import theorem_3_7_r

    c = theorem_3_7_r(args.prior, args.n_items)
    emit({"r": c.r, "case": c.case, "margin": c.margin, "alpha": c.alpha, "reason": c.reason,
          "margin_at_m": c.margin_at_m, "min_items": c.min_items, "finite_m": c.finite_m}, args.json,
         [f"Theorem 3.7 for prior {args.prior}: Pick-{c.r:.6f} ({c.case}), alpha = {c.alpha:.6f}", c.reason]
         + ([c.finite_m] if c.finite_m else []))
    return 0


def run_equal_quota(args) -> int:
    from abm.theory import theorem_3_10_r

    c = theorem_3_10_r(args.prior, args.n_agents, args.eps)
    emit({"eps": c.eps, "r": c.r, "margins": c.margins, "min_margin": c.min_margin, "alpha": c.alpha}, args.json,
         [f"Theorem 3.10 for n = {args.n_agents}, prior {args.prior}: eps = {c.eps:.6g}",
          f"r = {fmt(c.r)}", f"smallest EF margin {c.min_margin:+.6g}, alpha = {c.alpha:.6f}"])
    return 0


def run_hill_kertz(args) -> int:
    from tqdm import tqdm

    from abm.theory import hill_kertz, kertz_beta

    if not args.table:
        h = hill_kertz(args.n_agents, cells=args.cells or 800)
        emit({"a_n": h.a_n, "agents": h.n, "cells": h.cells, "refined": h.refined, "error": h.error,
              "upper": h.upper}, args.json,
             [f"a_{h.n} = {h.a_n:.8f}  (LP lower bound on {h.cells} quantile cells; "
              f"{2 * h.cells} cells give {h.refined:.8f}, difference {h.error:.1e})",
              f"upper bound from the LP's worst prior: {h.upper:.8f}, so a_{h.n} lies in "
              f"[{h.a_n:.8f}, {h.upper:.8f}]"])
        return 0
    beta = kertz_beta()
    rows = []
    for n in tqdm(range(1, args.n_agents + 1), desc="a_n", file=sys.stderr, leave=False):
        h = hill_kertz(n, cells=args.cells or 100)
        rows.append({"n": n, "a_n": h.a_n, "upper": h.upper, "error": h.error})
    lines = [f"{'n':>4}  {'a_n (lower)':>12}  {'upper':>10}  {'refine':>8}"] + [
        f"{r['n']:>4}  {r['a_n']:>12.6f}  {r['upper']:>10.6f}  {r['error']:>8.1e}" for r in rows]
    lines.append(f"beta = {beta:.6f} (Kertz's limit)")
    emit({"a_n": [r["a_n"] for r in rows], "rows": rows, "beta": beta}, args.json, lines)
    return 0


def run_kertz(args) -> int:
    from abm.theory import kertz_beta

    beta = kertz_beta()
    emit({"beta": beta, "inverse": 1 / beta}, args.json, [f"beta = {beta:.10f}  (1/beta = {1 / beta:.10f})"])
    return 0


def run_fallback(args) -> int:
    from abm.theory import theorem_3_7_fallback_bound

    f = theorem_3_7_fallback_bound()
    emit({"paper_bound": f.paper_bound, "exact": f.exact, "best_multiplier": f.best_multiplier,
          "worst_step_masses": f.worst_masses}, args.json,
         [f"appendix E's bound (multiplier 1/4): {f.paper_bound:.10f}",
          f"exact worst case of Pick-1/2 when Pick-(2-sqrt2)/2 is not EF: {f.exact:.10f} "
          f"(multiplier {f.best_multiplier:.6f})"])
    return 0


def run_bai_golz(args) -> int:
    from abm.theory import bai_golz_weights

    b = bai_golz_weights(args.prior, args.n_agents)
    emit({"weights": b.weights, "win_probabilities": b.win_probabilities, "residual": b.residual}, args.json,
         [f"weights = {fmt(b.weights)}", f"P(top weighted value) = {fmt(b.win_probabilities)}",
          f"residual = {b.residual:.2e}"])
    return 0


def run_correlated(args) -> int:
    from abm.theory import appendix_b_thresholds

    b = appendix_b_thresholds(args.prior, eps=args.eps)
    emit({"tau": b.tau, "picker": b.picker, "share": b.share, "eps": b.eps}, args.json,
         [f"tau = {fmt(b.tau)}: agent {b.picker} picks first and takes a {b.share:.6f} share"])
    return 0


def run_contiguous(args) -> int:
    from tqdm import tqdm

    from abm.priors import parse_prior
    from abm.theory import contiguous

    n = parse_prior(args.prior).n_agents or args.n_agents or 0
    with tqdm(total=math.factorial(n) + 3 if n else None, desc="orders and refinements", file=sys.stderr,
              leave=False, disable=True if args.no_progress else None) as bar:
        r = contiguous(args.prior, args.n_agents, progress=bar.update, seed=args.seed)
    out = r.to_dict()
    lines = [f"best order {list(r.order)} (first picker first), shares {fmt(r.shares)}",
             "  EF margins: " + ", ".join(f"{k} {v:.5f}" for k, v in r.ef_margins.items()),
             f"  PROP margins: {fmt(r.prop_margins)}",
             f"  minimum EF margin {r.min_ef:.6f}; {r.certificate}",
             f"  best to: {r.searched.get('tolerance', 'the search grid')}",
             f"  method: {r.method}"]
    emit(out, args.json, lines)
    return 0


def run_coupling(args) -> int:
    from abm.theory import coupling_bound

    bound = coupling_bound(args.n_agents, args.n_items)
    emit({"bound": bound, "agents": args.n_agents, "items": args.n_items}, args.json,
         [f"n^2 sqrt(m log m) = {bound:.6g} items"])
    return 0
