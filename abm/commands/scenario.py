"""``tfd scenario list|run``: every claim of the paper, reproduced with a verdict."""

from __future__ import annotations

import sys

from abm.commands.common import emit


def _scenario(name: str) -> None:
    from abm.errors import TfdError, did_you_mean
    from abm.scenario_runner import available

    mods = available()
    if name != "all" and name not in mods:
        raise TfdError(f"unknown scenario {name!r}{did_you_mean(name, ['all', *mods])}; accepted: all, "
                       f"{', '.join(mods)}")


def add(sub) -> None:
    from abm import declare as d
    from abm import options as o

    sc = sub.add_parser("scenario", help="reproduce the paper's claims: prediction, measurement, plot, verdict")
    ssub = sc.add_subparsers(dest="scenario_command", required=True, parser_class=type(sc))
    ls = ssub.add_parser("list", help="the scenarios, one line each")
    d.Entry("tfd scenario list", (o.JSON,)).add_arguments(ls)
    ls.set_defaults(run=run_list)
    r = ssub.add_parser("run", help="run one scenario, or all (which also writes report.md and report.html)")
    d.Entry("tfd scenario run", (
        d.Option("name", d.text(_scenario, "a scenario name from tfd scenario list, or all"),
                 "a scenario name from `tfd scenario list`, or all", default=d.REQUIRED, positional=True),
        o.OUT.with_(default="tfd-report", help="output folder"),
        d.Option("quick", d.switch(), "small sizes (seconds)", default=False),
        d.Option("full", d.switch(), "paper-grade sizes (slow)", default=False),
        o.SEED, o.JSON, o.NO_PROGRESS)).add_arguments(r)
    r.set_defaults(run=run_run)


def run_list(args) -> int:
    from abm.scenario_runner import available

    mods = available()
    emit({"scenarios": [{"name": k, "title": m.TITLE, "description": m.DESCRIPTION} for k, m in mods.items()]},
         args.json, [f"{k:<22} {m.TITLE}" for k, m in mods.items()])
    return 0


def run_run(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from abm.scenario_runner import available, run_all, run_scenario

    from abm.errors import TfdError

    if args.quick and args.full:
        raise TfdError("give --quick or --full, not both (neither: the default sizes)")
    mode = "quick" if args.quick else "full" if args.full else "default"
    mods = available()
    names = list(mods) if args.name == "all" else [args.name]
    import time

    total = sum(getattr(mods[n], "STEPS", 1) for n in names)
    started, done = time.perf_counter(), {"steps": 0, "scenarios": 0}

    with tqdm(total=total, desc="scenarios", unit="step", file=sys.stderr, leave=False,
              disable=True if args.no_progress else None) as bar:
        def step(k=1):
            done["steps"] += k
            bar.update(k)

        def finished(r):
            # one line per scenario on stderr, in a terminal or not (a log, CI): verdicts and ETA
            done["scenarios"] += 1
            if args.no_progress:
                return
            counts = {}
            for c in r["claims"]:
                counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
            elapsed = time.perf_counter() - started
            left = max(elapsed * (total - done["steps"]) / max(done["steps"], 1), 0.0)  # STEPS is an estimate
            tally = ", ".join(f"{v} {k}" for k, v in counts.items()) or "no claims"
            tqdm.write(f"tfd: [{done['scenarios']}/{len(names)}] {r['scenario']}: {tally} ({r['seconds']:.0f} s; "
                       f"elapsed {elapsed:.0f} s, about {left:.0f} s left)", file=sys.stderr)
            sys.stderr.flush()

        if args.name == "all":
            results = run_all(args.out, mode, args.seed, step, on_done=finished)
        else:
            results = [run_scenario(args.name, Path(args.out) / args.name, mode, args.seed, step)]
            finished(results[0])
    lines = []
    for r in results:
        lines.append(f"{r['title']}  ({r['seconds']} s)")
        for c in r["claims"]:
            lines.append(f"  [{c['verdict']}] {c['claim']}: measured {c['measured']:.6g} "
                         f"[{c['ci_low']:.6g}, {c['ci_high']:.6g}], rule {c['rule']}")
    if args.name == "all":
        lines.append(f"report: {Path(args.out) / 'report.md'} and {Path(args.out) / 'report.html'}")
    emit({"scenarios": results}, args.json, lines)
    return 0
