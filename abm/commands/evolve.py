"""``tfd evolve``: a Moran process over strategies in a population larger than n."""

from __future__ import annotations

import argparse

from abm import files
from abm.commands.common import (MECHANISM_HELP, add_instance_flags, add_output_flags, emit, mechanism, nonnegative,
                                 out_dir, positive_int, progress, split_top_level, unit_interval, write_results)


def add(sub) -> None:
    p = sub.add_parser("evolve", help="population dynamics: a Moran process over strategies, with mutation",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--mechanism", type=mechanism, default="welfare-max", help=MECHANISM_HELP)
    p.add_argument("--menu", default="truthful,scale(factor=3),swap-ranks",
                   help="comma-separated strategies the population may play (see `tfd strategies`)")
    p.add_argument("--population", type=positive_int, default=30, help="individuals (more than --agents)")
    p.add_argument("--generations", type=positive_int, default=1000, help="Moran steps")
    p.add_argument("--matches", type=positive_int, default=20, help="matches (instances) per generation")
    p.add_argument("--mutation", type=unit_interval, default=0.01, help="probability an offspring mutates")
    p.add_argument("--selection", type=nonnegative, default=5.0, help="selection strength (0: neutral drift)")
    add_instance_flags(p, items=10)
    add_output_flags(p, out_dir, "folder for generations.parquet, summary.json and shares.png")
    p.set_defaults(run=run)


def _plot(frame, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wide = frame.pivot(index="generation", columns="strategy", values="share")[frame["strategy"].unique()]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=wide.columns, alpha=0.85)
    ax.set(xlabel="generation", ylabel="share of the population", ylim=(0, 1), xlim=(0, wide.index.max()))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    files.save_figure(fig, path, dpi=110)
    plt.close(fig)


def run(args) -> int:
    from abm.population import moran

    with progress(args, args.generations, "evolve", "gen") as bar:
        e = moran(args.mechanism, split_top_level(args.menu), args.prior, args.agents, args.items, args.population,
                  args.generations, args.matches, args.mutation, args.selection, args.seed, progress=bar.update)
    s = dict(e.summary)
    if args.out:
        title = f"Moran process under {s['mechanism']}: population {args.population}, {args.agents} agents x {args.items} items"
        s = write_results(args.out, {"generations": e.counts}, s, lambda out: _plot(e.counts, out / "shares.png", title))
    lines = [f"{args.generations} generations under {s['mechanism']}, population {args.population}, "
             f"{args.agents} agents x {args.items} items per match, mutation {args.mutation}, seed {args.seed}",
             "  share (final; mean over the second half):"]
    for k, v in e.final.items():
        lines.append(f"    {k}: {v:.2f}; {s['mean_share_second_half'][k]:.3f}")
    if "written" in s:
        lines.append(f"  written to {args.out}")
    emit(s, args.json, lines)
    return 0
