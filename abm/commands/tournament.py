"""``tfd tournament``: every strategy and learner against each mechanism, with intervals."""

from __future__ import annotations

import argparse
import sys

from pathlib import Path

from abm.commands.common import (add_instance_flags, add_output_flags, emit, out_dir, positive_int, split_top_level,
                                 unit_interval, write_results)


def add(sub) -> None:
    p = sub.add_parser("tournament", help="every strategy and learner against each mechanism (a results table)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--mechanisms", default="pick-r,serial-dictatorship,ranking,round-robin,welfare-max",
                   help="comma-separated mechanisms in the one grammar, e.g. 'pick-r(r=[0.3, 0.7]),ranking'")
    p.add_argument("--players", help="comma-separated strategies or learners (default: every registered one but "
                                     "interim-best-response, which is slow)")
    p.add_argument("--rounds", type=positive_int, default=200)
    p.add_argument("--instances-per-step", type=positive_int, default=4,
                   help="instances per round of play (a model step)")
    add_instance_flags(p, items=10)
    p.add_argument("--confidence", type=unit_interval, default=0.99)
    add_output_flags(p, out_dir, "folder for tournament.parquet, tournament.csv and summary.json")
    p.set_defaults(run=run)


def _never(row) -> str:
    return "; never gained on any instance" if row["never_gained"] else ""


def run(args) -> int:
    from abm.tournament import tournament

    def z(x):  # floating-point dust prints as 0
        return 0.0 if abs(x) < 1e-12 else x

    def progress(row):
        if not args.no_progress:
            print(f"  {row['mechanism']:<20} {row['player']:<26} gain {z(row['mean_gain']):+.4f} "
                  f"[{z(row['ci_low']):+.4f}, {z(row['ci_high']):+.4f}]{_never(row)}", file=sys.stderr, flush=True)

    frame = tournament(split_top_level(args.mechanisms), split_top_level(args.players) if args.players else None,
                       args.prior, args.agents, args.items, args.rounds, args.instances_per_step, args.seed,
                       args.confidence, progress)
    if args.out:
        from abm import files

        summary = {"rounds": args.rounds, "instances_per_round": args.instances_per_step, "n_agents": args.agents,
                   "n_items": args.items, "prior": args.prior, "seed": args.seed, "confidence": args.confidence}
        write_results(args.out, {"tournament": frame}, summary)
        files.write_frame(frame, Path(args.out) / "tournament.csv")
    lines = [f"tournament: {frame.mechanism.nunique()} mechanisms x {frame.player.nunique()} players, "
             f"{args.rounds} rounds of {args.instances_per_step} instances, {args.agents} agents x {args.items} "
             f"items, {args.prior}; gain over truthful play per instance ({100 * args.confidence:g}% interval)"]
    for mech, g in frame.groupby("mechanism", sort=False):
        lines.append(f"  {mech}")
        for _, r in g.sort_values("mean_gain", ascending=False).iterrows():
            lines.append(f"    {r['player']:<26} {z(r['mean_gain']):+.4f} [{z(r['ci_low']):+.4f}, {z(r['ci_high']):+.4f}]  "
                         f"welfare ratio {r['welfare_ratio']:.3f}, EF {r['ef_rate']:.2f}{_never(r)}")
    if args.out:
        lines.append(f"  written to {args.out}")
    emit({"rows": frame.to_dict(orient="records")}, args.json, lines)
    return 0
