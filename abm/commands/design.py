"""``tfd design``: the optimal truthful mechanism at small sizes, certified and compared with Pick-r."""

from __future__ import annotations

import argparse
import sys

from abm.commands.common import emit, out_dir, positive_float, positive_int, seed, vector


def _levels(text: str):
    """``--levels``: comma-separated values, or ``hard`` / ``hard(p=P)`` for Theorem 3.1's three levels."""
    t = text.strip().lower().replace(" ", "")
    if t == "hard" or (t.startswith("hard(p=") and t.endswith(")")):
        try:
            p = float(t[7:-1]) if t != "hard" else 0.1
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected hard or hard(p=0.1), got {text!r}") from None
        return ("hard", p)
    return vector(text)


def add(sub) -> None:
    p = sub.add_parser("design", help="compute the welfare-optimal truthful mechanism (LP or 0/1 program), "
                                      "certify it and compare it with the best Pick-r",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--agents", type=positive_int, default=3)
    p.add_argument("--items", type=positive_int, default=4, help="solve for m = 1..ITEMS (see --from-items)")
    p.add_argument("--from-items", type=positive_int, default=1, help="the smallest m solved")
    p.add_argument("--prior", default="uniform", help="an i.i.d. prior spec (ordinal domain)")
    p.add_argument("--domain", choices=["ordinal", "cardinal"], default=None,
                   help="ordinal: mechanisms that see rankings; cardinal: mechanisms on value levels "
                        "(default: cardinal when --levels is given, else ordinal)")
    p.add_argument("--levels", type=_levels, help="cardinal domain: value levels, e.g. 0,1,5, or hard / "
                                                  "hard(p=0.1) for Theorem 3.1's three levels")
    p.add_argument("--probs", type=vector, help="cardinal domain: the levels' probabilities (default equal)")
    p.add_argument("--discretize", type=positive_int, metavar="K",
                   help="cardinal domain on --prior's K equally likely levels (conditional means of its K "
                        "quantile cells)")
    p.add_argument("--deterministic", action="store_true",
                   help="the 0/1 program on every profile instead of the LP on symmetry orbits")
    p.add_argument("--time-limit", type=positive_float, default=3600.0, help="solver seconds per size")
    p.add_argument("--audit-profiles", type=positive_int, default=200,
                   help="profiles of the DSIC audit run on a deterministic optimum")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--out", type=out_dir, help="folder for summary.json, ratios.parquet, mechanism.parquet, ratio.png")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from abm.design import design, hard_levels, save
    from abm.errors import TfdError

    domain = args.domain or ("cardinal" if args.levels is not None or args.discretize else "ordinal")
    levels, probs = args.levels, args.probs
    if args.discretize:
        from abm.design import discretize
        from abm.design.lab import check_design_work

        if levels is not None or probs is not None:
            raise TfdError("--discretize makes the levels from --prior; drop --levels and --probs")
        # the work guard before discretizing: K levels are themselves slow for a K no program could use
        check_design_work(args.agents, args.items, "cardinal", args.deterministic, args.discretize)
        levels, probs = discretize(args.prior, args.discretize)
    if isinstance(levels, tuple):
        if probs is not None:
            raise TfdError("--levels hard fixes its own probabilities; drop --probs")
        try:
            levels, probs = hard_levels(levels[1])
        except Exception as exc:  # PriorSpecError: p outside (0, 1 - q)
            raise TfdError(f"--levels {args.levels[0]}(p={args.levels[1]}): {exc}") from None
    if domain == "ordinal" and (levels is not None or probs is not None):
        raise TfdError("--levels, --probs and --discretize describe the cardinal domain; drop them or use "
                       "--domain cardinal")
    if args.from_items > args.items:
        raise TfdError(f"--from-items {args.from_items} is above --items {args.items}")

    def say(text):
        if not args.no_progress:
            print(f"design: {text}", file=sys.stderr, flush=True)

    lab = design(args.agents, args.items, prior=args.prior, domain=domain, deterministic=args.deterministic,
                 levels=levels, probs=probs, sizes=range(args.from_items, args.items + 1),
                 time_limit=args.time_limit, progress=say, audit_profiles=args.audit_profiles, seed=args.seed)
    s = dict(lab.summary)
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
