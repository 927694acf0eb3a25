"""``tfd evolve``: a Moran process over strategies in a population larger than n."""

from __future__ import annotations

from abm import files
from abm.commands.common import emit, progress, write_results


def add(sub) -> None:
    p = sub.add_parser("evolve", help="population dynamics: a Moran process over strategies, with mutation")
    from abm import options as o
    from abm.declare import Entry
    from abm.population import MORAN

    Entry("tfd evolve", MORAN.options + (
        o.JSON, o.OUT.with_(help="folder for generations.parquet, summary.json and shares.png"),
        o.NO_PROGRESS)).add_arguments(p)
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
        e = moran(args.mechanism, args.menu, args.prior, args.n_agents, args.n_items, args.size,
                  args.generations, args.matches, args.mutation, args.selection, args.seed, progress=bar.update)
    s = dict(e.summary)
    if args.out:
        title = f"Moran process under {s['mechanism']}: population {args.size}, {args.n_agents} agents x {args.n_items} items"
        s = write_results(args.out, {"generations": e.counts}, s, lambda out: _plot(e.counts, out / "shares.png", title))
    lines = [f"{args.generations} generations under {s['mechanism']}, population {args.size}, "
             f"{args.n_agents} agents x {args.n_items} items per match, mutation {args.mutation}, seed {args.seed}",
             "  share (final; mean over the second half):"]
    for k, v in e.final.items():
        lines.append(f"    {k}: {v:.2f}; {s['mean_share_second_half'][k]:.3f}")
    if "written" in s:
        lines.append(f"  written to {args.out}")
    emit(s, args.json, lines)
    return 0
