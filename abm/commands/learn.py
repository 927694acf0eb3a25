"""``tfd learn``: learners facing a mechanism round after round."""

from __future__ import annotations

import argparse

from abm.commands.common import (add_instance_flags, add_output_flags, emit, out_dir, positive_int, progress,
                                 unit_interval, write_results)


def add(sub) -> None:
    p = sub.add_parser("learn", help="repeated play: what learning agents come to report under a mechanism",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--mechanism", default="round-robin", help="mechanism name (see `tfd mechanisms`)")
    p.add_argument("--learner", default="hedge",
                   help="agent 0's learner: hedge, exp3, shading-curve, deadline-schedule, or with parameters, "
                        "e.g. 'exp3(gamma=0.2)'; "
                        "prefix 'all:' to make every agent learn")
    p.add_argument("--others", default="truthful", help="strategy of the agents that do not learn")
    p.add_argument("--rounds", type=positive_int, default=2000)
    p.add_argument("--instances-per-round", type=positive_int, default=1, help="instances allocated per round")
    add_instance_flags(p, items=20)
    p.add_argument("--confidence", type=unit_interval, default=0.99)
    add_output_flags(p, out_dir, "folder for rounds.parquet, summary.json and learning.png")
    p.set_defaults(run=run)


def _plot(frame, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    for agent, g in frame.groupby("agent"):
        t = g["round"].to_numpy()
        a.plot(t, g["gain"].cumsum() / t, label=f"agent {agent}")
        if "regret" in g and g["regret"].notna().any():
            b.plot(t, g["regret"], label=f"agent {agent}")
    a.axhline(0, color="k", lw=0.8)
    a.set(xlabel="round", ylabel="time-average gain over truthful play", xscale="log")
    b.set(xlabel="round", ylabel="time-average regret (reward in [0, 1])", xscale="log", yscale="log")
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(args) -> int:
    from abm.learning import learn

    with progress(args, args.rounds, "learn", "round") as bar:
        r = learn(args.mechanism, args.learner, args.prior, args.agents, args.items, args.rounds,
                  args.instances_per_round, args.others, args.seed, confidence=args.confidence, progress=bar.update)
    s = dict(r.summary)
    if args.out:
        title = f"{args.learner} under {s['mechanism']}, {args.agents} agents x {args.items} items, {args.prior}"
        s = write_results(args.out, {"rounds": r.rounds}, s, lambda out: _plot(r.rounds, out / "learning.png", title))
    lines = [f"{args.rounds} rounds of {s['mechanism']}, {args.agents} agents x {args.items} items, prior {s['prior']}, "
             f"seed {args.seed}"]
    for agent, L in s["learners"].items():
        regret = L["time_average_regret"]
        lines.append(f"  agent {agent} ({L['learner']}): "
                     + (f"time-average regret {regret:.4g}; " if regret is not None else "")
                     + f"gain over truthful {L['time_average_gain']:.4g} [{L['gain_ci'][0]:.4g}, {L['gain_ci'][1]:.4g}]"
                     + ("; never gained on any instance" if L["never_gained"] else ""))
        if L["final_distribution"]:
            top = sorted(L["final_distribution"].items(), key=lambda kv: -kv[1])[:3]
            lines.append("    plays " + ", ".join(f"{k} {v:.2f}" for k, v in top))
        else:  # a continuous family: its parameters
            lines.append("    parameters " + ", ".join(f"{x:.4g}" for x in L.get("parameters", [])))
    lines.append(f"  welfare ratio {s['welfare_ratio_early']:.4f} (first {s['early_late_rounds']} rounds) -> "
                 f"{s['welfare_ratio_late']:.4f} (last); EF rate {s['ef_rate_early']:.3f} -> {s['ef_rate_late']:.3f}")
    if "written" in s:
        lines.append(f"  written to {args.out}")
    emit(s, args.json, lines)
    return 0
