"""``tfd learn``: learners facing a mechanism round after round."""

from __future__ import annotations

from abm import files
from abm.commands.common import emit, progress, write_results
from abm.learning_suite import LEARNERS


def add(sub) -> None:
    p = sub.add_parser("learn", help="repeated play: what learning agents come to report under a mechanism")
    from abm import options as o
    from abm.declare import Entry, Option, switch, text, whole
    from abm.learning import LEARN

    one = Entry("tfd learn", tuple(x.with_(default=2000) if x.name == "rounds" else x for x in LEARN.options) + (
        o.JSON, o.OUT.with_(help="folder for rounds.parquet (suite.parquet), summary.json and learning.png "
                                 "(suite.png)"), o.NO_PROGRESS))
    one.add_arguments(p)
    suite = p.add_argument_group("generality suite (--suite)")
    suite_entry = Entry("tfd learn --suite", (
        Option("suite", switch(), "instead of one run: train each learner on every manipulable rule with a known best "
                                  "response (catalogue rules, the mutant zoo) and report the share of the best gain "
                                  "reached", default=False),
        o.strategy_menu("learners", "comma-separated learners for --suite", default=",".join(LEARNERS)),
        Option("quick", switch(), "a smaller training budget and fewer scored profiles", default=False),
        Option("generated", whole(0), "mutants drawn from those Cosmic Ray's operators make (needs the mutants extra)",
               default=8),
        Option("only", text(words="text a case's label contains"), "run only the cases whose label contains this "
                                                                    "text"),
        Option("workers", whole(1, 256), "processes for --suite", default=2)))
    suite_entry.add_arguments(suite)
    p.set_defaults(_entry=Entry("tfd learn", one.options + suite_entry.options))
    p.set_defaults(run=run)


def _plot(frame, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    regrets = 0
    for agent, g in frame.groupby("agent"):
        t = g["round"].to_numpy()
        a.plot(t, g["gain"].cumsum() / t, label=f"agent {agent}")
        if "regret" in g and (g["regret"] > 0).any():
            b.plot(t, g["regret"], label=f"agent {agent}")
            regrets += 1
    a.axhline(0, color="k", lw=0.8)
    a.set(xlabel="round", ylabel="time-average gain over truthful play", xscale="log")
    b.set(xlabel="round", ylabel="time-average regret (reward in [0, 1])", xscale="log")
    if regrets:  # a continuous family has no menu to regret: an empty panel, said so, not a log of nothing
        b.set_yscale("log")
        b.legend(fontsize=8)
    else:
        b.text(0.5, 0.5, "no finite menu: no regret to plot", ha="center", va="center", transform=b.transAxes)
    a.legend(fontsize=8)
    for ax in (a, b):
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    files.save_figure(fig, path, dpi=110)
    plt.close(fig)


def run_suite(args) -> int:
    from abm import learning_suite as S

    learners = [x.strip() for x in args.learners.split(",") if x.strip()]
    budget = S.QUICK if args.quick else S.FULL
    with progress(args, 1, "suite", "run") as bar:
        def tick(row):
            if bar.total == 1:
                bar.total = None
            bar.update(1)
            bar.set_postfix_str(f"{row['learner']} on {row['case'][:40]}: {row['share']:.2f}")

        frame, summary = S.run_suite(learners, budget, args.generated, args.seed, args.workers,
                                     only=[args.only] if args.only else None, progress=tick)
    if args.out:
        summary = write_results(args.out, {"suite": frame}, summary, lambda out: S.plot(frame, out / "suite.png"))
    wide = frame.pivot_table(index="case", columns="learner", values="share", sort=False)
    lines = [f"share of the best response's gain reached by each learner, trained with "
             f"{budget['rounds']} rounds x {budget['instances_per_round']} instances, scored on "
             f"{budget['profiles']} fresh profiles (95% paired bootstrap intervals in the data)"]
    lines.append(wide.to_string(float_format=lambda v: f"{v:.2f}"))
    for name, L in summary["per_learner"].items():
        lines.append(f"  {name}: median {L['median_share']:.2f}, smallest {L['smallest_share']:.2f}, "
                     f"{len(L['cases_under_half'])} of {summary['cases']} cases under half; "
                     f"training {L['mean_train_seconds']:.1f} s per case on average")
    if "written" in summary:
        lines.append(f"  written to {args.out}")
    emit(summary, args.json, lines)
    return 0


def run(args) -> int:
    from abm.learning import learn

    if args.suite:
        return run_suite(args)
    with progress(args, args.rounds, "learn", "round") as bar:
        r = learn(args.mechanism, args.learner, args.prior, args.n_agents, args.n_items, args.rounds,
                  args.instances_per_round, args.others, args.seed, confidence=args.confidence, progress=bar.update)
    s = dict(r.summary)
    if args.out:
        title = f"{args.learner} under {s['mechanism']}, {args.n_agents} agents x {args.n_items} items, {args.prior}"
        s = write_results(args.out, {"rounds": r.rounds}, s, lambda out: _plot(r.rounds, out / "learning.png", title))
    lines = [f"{args.rounds} rounds of {s['mechanism']}, {args.n_agents} agents x {args.n_items} items, prior {s['prior']}, "
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
        elif len(L.get("parameters", [])) <= 8:  # a small continuous family: its parameters
            lines.append("    parameters " + ", ".join(f"{x:.4g}" for x in L.get("parameters", [])))
        if L.get("expresses"):
            lines.append(f"    can express: {L['expresses']}")
        br = L.get("best_response")
        if br and br.get("available") and br.get("share") is not None:
            lines.append(f"    frozen, on {br['profiles']} fresh profiles: gain {br['learner_gain']:.4g} against the exact "
                         f"best response's {br['best_gain']:.4g}, a share of {br['share']:.1%}")
        elif br:
            lines.append(f"    share of the best response: {br.get('why', 'no gain to share')}")
    lines.append(f"  welfare ratio {s['welfare_ratio_early']:.4f} (first {s['early_late_rounds']} rounds) -> "
                 f"{s['welfare_ratio_late']:.4f} (last); EF rate {s['ef_rate_early']:.3f} -> {s['ef_rate_late']:.3f}")
    if "written" in s:
        lines.append(f"  written to {args.out}")
    emit(s, args.json, lines)
    return 0
