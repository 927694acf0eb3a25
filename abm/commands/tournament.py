"""``tfd tournament``: every strategy and learner against each mechanism, with intervals."""

from __future__ import annotations

import sys

from pathlib import Path

from abm.commands.common import emit, write_results


def add(sub) -> None:
    p = sub.add_parser("tournament", help="every strategy and learner against each mechanism (a results table)")
    from abm import options as o
    from abm.declare import Entry
    from abm.tournament import DEFAULT_MECHANISMS, TOURNAMENT

    Entry("tfd tournament", tuple(x.with_(default=",".join(DEFAULT_MECHANISMS)) if x.name == "mechanisms" else x
                                  for x in TOURNAMENT.options) + (
        o.JSON, o.OUT.with_(help="folder for tournament.parquet, tournament.csv and summary.json"),
        o.NO_PROGRESS)).add_arguments(p)
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

    frame = tournament(args.mechanisms, args.players, args.prior, args.n_agents, args.n_items, args.rounds,
                       args.instances_per_round, args.seed, args.confidence, progress)
    if args.out:
        from abm import files

        summary = {"rounds": args.rounds, "instances_per_round": args.instances_per_round, "n_agents": args.n_agents,
                   "n_items": args.n_items, "prior": args.prior, "seed": args.seed, "confidence": args.confidence}
        write_results(args.out, {"tournament": frame}, summary)
        files.write_frame(frame, Path(args.out) / "tournament.csv")
    lines = [f"tournament: {frame.mechanism.nunique()} mechanisms x {frame.player.nunique()} players, "
             f"{args.rounds} rounds of {args.instances_per_round} instances, {args.n_agents} agents x {args.n_items} "
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
