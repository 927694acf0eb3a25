"""``tfd design``: the optimal truthful mechanism at small sizes, certified and compared with Pick-r."""

from __future__ import annotations

import sys

from abm.commands.common import emit
from abm.design.lab import DESIGN


def _levels(text: str):
    """``--levels``: comma-separated values, or ``hard`` / ``hard(p=P)`` for Theorem 3.1's three levels."""
    from abm.errors import TfdError

    t = text.strip().lower().replace(" ", "")
    if t == "hard" or (t.startswith("hard(p=") and t.endswith(")")):
        try:
            p = float(t[7:-1]) if t != "hard" else 0.1
        except ValueError:
            raise TfdError(f"expected hard or hard(p=0.1), got {text!r}") from None
        return ("hard", p)
    return DESIGN["levels"].read(text)


def add(sub) -> None:
    from abm import options as o
    from abm.declare import Entry, Option, text, whole

    p = sub.add_parser("design", help="compute the welfare-optimal truthful mechanism (LP or 0/1 program), "
                                      "certify it and compare it with the best Pick-r")
    Entry("tfd design", tuple(
        x.with_(default=None, help=x.help + " (default: cardinal when --levels or --discretize is given, else "
                                            "ordinal)") if x.name == "domain"
        else x.with_(kind=text(_levels, "value levels like 0,1,5, or hard, or hard(p=0.1)"),
                     help="cardinal domain: value levels, e.g. 0,1,5, or hard / hard(p=0.1) for Theorem 3.1's three "
                          "levels") if x.name == "levels"
        else x for x in DESIGN.options if x.name != "sizes") + (
        Option("from_items", whole(1), "the smallest m solved", default=1),
        Option("discretize", whole(1), "cardinal domain on --prior's K equally likely levels (conditional means of "
                                       "its K quantile cells)"),
        o.JSON, o.OUT.with_(help="folder for summary.json, ratios.parquet, mechanism.parquet, ratio.png"),
        o.NO_PROGRESS)).add_arguments(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from abm.design import design, hard_levels, save
    from abm.errors import TfdError

    domain = args.domain or ("cardinal" if args.levels is not None or args.discretize else "ordinal")
    levels, probs = _levels(args.levels) if args.levels is not None else None, args.probs
    if args.discretize:
        from abm.design import discretize
        from abm.design.lab import check_design_work

        if levels is not None or probs is not None:
            raise TfdError("--discretize makes the levels from --prior; drop --levels and --probs")
        # the work guard before discretizing: K levels are themselves slow for a K no program could use
        check_design_work(args.n_agents, args.n_items, "cardinal", args.deterministic, args.discretize)
        levels, probs = discretize(args.prior, args.discretize)
    if isinstance(levels, tuple):
        if probs is not None:
            raise TfdError("--levels hard fixes its own probabilities; drop --probs")
        try:
            levels, probs = hard_levels(levels[1])
        except Exception as exc:  # PriorSpecError: p outside (0, 1 - q)
            raise TfdError(f"--levels {args.levels}: {exc}") from None
    if domain == "ordinal" and (levels is not None or probs is not None):
        raise TfdError("--levels, --probs and --discretize describe the cardinal domain; drop them or use "
                       "--domain cardinal")
    if args.from_items > args.n_items:
        raise TfdError(f"--from-items {args.from_items} is above --items {args.n_items}")

    def say(text):
        if not args.no_progress:
            print(f"design: {text}", file=sys.stderr, flush=True)

    lab = design(args.n_agents, args.n_items, prior=args.prior, domain=domain, deterministic=args.deterministic,
                 levels=levels, probs=probs, sizes=range(args.from_items, args.n_items + 1),
                 time_limit=args.time_limit, progress=say, audit_profiles=args.audit_profiles, seed=args.seed)
    s = lab.to_dict()
    if args.out:
        save(lab, args.out)
        s["written"] = args.out
    emit(s, args.json, _lines(lab, s))
    return 0


def _lines(lab, s) -> list[str]:
    lines = [f"{s['program']}, {s['domain']} domain, {s['agents']} agents, prior {s['prior']}",
             f"  symmetry: {s['symmetry']}",
             "   m  optimum  bound      Pick-r   gap        sequence  status"]
    for _, r in lab.ratios.iterrows():
        bound = r.get("certified_upper_bound_ratio")
        bound_txt = f"{bound:.6f}" if bound == bound and bound is not None else "   -    "
        lines.append(f"  {int(r['m']):2d}  {r['optimum_ratio']:.6f} {bound_txt} {r['best_pick_r_ratio']:.6f} "
                     f"{r['gap'] / r['e_max_welfare']:+.2e}  {r['best_sequence_ratio']:.6f}  {r['status']} "
                     f"({r['seconds']:.1f} s)")
    lines.append("  (ratios to E[max welfare]; bound: the LP optimum's upper bound certified in exact arithmetic)")
    lines.append(f"  best Pick-r: {s['comparisons']['best_pick_r']['rule']}")
    seq = s["comparisons"]["best_sequence"]
    truthful = s.get("best_sequence_truthful")
    lines.append(f"  best picking sequence: {seq['rule']}"
                 + ("" if truthful is None else " (truthful)" if truthful else " (not truthful: the programs' "
                                                                               "incentive rows reject it)"))
    if "best_picking_exchange" in s["comparisons"]:
        lines.append(f"  best {s['comparisons']['best_picking_exchange']['rule']}")
    if s.get("audit"):
        a = s["audit"]
        lines.append(f"  DSIC audit of the exported table: exact {a['exact']}, {a['proven_pairs']}/{a['pairs']} "
                     f"pairs proven, {a['violations']} violations")
    if s.get("explanation"):
        e = s["explanation"]
        lines.append(f"  the winner allocates unlike the best Pick-r on {e['profiles_unlike_best_pick_r']:,} of "
                     f"{e['profiles']:,} profiles, unlike every Pick-r on {e['profiles_unlike_every_pick_r']:,}; "
                     f"bossy (profile, agent, report) triples: {e['bossy_pairs']:,}")
        if "example" in e:
            x = e["example"]
            lines.append(f"    e.g. reports {' | '.join(x['reports'])}: owners {x['owner']} "
                         f"(best Pick-r: {x['best_pick_r_owner']})")
    lines.append(f"  {s['verdict']}")
    if "written" in s:
        lines.append(f"  written to {s['written']}")
    return lines
