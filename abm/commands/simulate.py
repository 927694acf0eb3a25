"""``tfd simulate`` and ``tfd mechanisms``."""

from __future__ import annotations

import json

from abm.commands.common import progress, split_top_level


def add(sub) -> None:
    sim = sub.add_parser("simulate", help="simulate a mechanism on random instances through the Mesa model")
    from abm import options as o
    from abm.declare import Entry
    from abm.simulate import SIMULATE

    Entry("tfd simulate", SIMULATE.options + (
        o.JSON,
        o.OUT.with_(help="folder for rows.parquet (one row per instance and agent) and summary.json"),
        o.CSV, o.NO_PROGRESS)).add_arguments(sim)
    sim.set_defaults(run=run_simulate)

    mech = sub.add_parser("mechanisms", help="list mechanisms with their parameters and incentive claims")
    Entry("tfd mechanisms", (o.JSON,)).add_arguments(mech)
    mech.set_defaults(run=run_mechanisms)


def run_mechanisms(args) -> int:
    from abm import mechanisms

    import dataclasses

    from abm.jsonable import to_jsonable

    from abm.mechanisms import grammar

    infos = mechanisms.available()
    if args.json:
        print(json.dumps(to_jsonable([dataclasses.asdict(i) for i in infos]), indent=2))
        return 0
    for info in infos:
        kind = "ordinal" if info.ordinal else "cardinal"
        print(f"{info.name}\n  {info.summary}\n  claim: {info.claim}; {kind}"
              f"{'; needs the prior' if info.needs_prior else ''}\n  paper: {info.reference}")
        for name, param in info.parameters.items():
            where = " (Python only)" if param.kind == "object" else f" ({param.kind})"
            print(f"  {name}{where}: {param.help}")
        example = {k: v for k, v in info.example.params.items() if info.parameters.get(k, None) is not None
                   and info.parameters[k].kind != "object" and isinstance(v, (int, float, list))}
        if example:
            print(f"  e.g. --mechanism '{grammar.text_of(info.name, example)}'")
    return 0


def run_simulate(args) -> int:
    from abm.simulate import RowWriter, simulate

    strategies = split_top_level(args.strategies)
    if len(strategies) == 1:
        strategies = strategies[0]

    # rows stream to --out step by step; only the summary's running sums stay in memory
    meta = {"seed": args.seed, "mechanism": args.mechanism, "prior": args.prior, "n_agents": args.n_agents,
            "n_items": args.n_items}
    writers = []
    if args.out:
        from pathlib import Path

        Path(args.out).mkdir(parents=True, exist_ok=True)
        names = ["rows.parquet"] + (["rows.csv"] if args.csv else [])
        writers = [RowWriter(Path(args.out) / name, meta, {"seed": args.seed}) for name in names]

    def sink(columns):
        for w in writers:
            w.write(columns)

    try:
        with progress(args, args.instances, "simulate", "inst") as bar:
            result = simulate(mechanism=args.mechanism, prior=args.prior, n_agents=args.n_agents, n_items=args.n_items,
                              instances=args.instances, seed=args.seed, strategies=strategies,
                              instances_per_step=args.instances_per_step, progress=bar.update,
                              keep_rows=False, sink=sink if writers else None, confidence=args.confidence)
    except BaseException:
        for w in writers:
            w.abort()
        raise
    summary = result.to_dict()
    summary["seed"] = args.seed
    note = result.model.mechanism.notes(args.n_agents, args.n_items)
    if note:
        summary["theory_note"] = note
    if writers:
        from abm import files

        for w in writers:
            w.close()
        files.write_json(Path(args.out) / "summary.json", summary)
        summary["out"] = args.out
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    return 0


def _print_summary(s: dict) -> None:
    pct = f"{100 * s['confidence']:g}%"
    params = ", ".join(f"{k}={v}" for k, v in s["mechanism_params"].items() if k != "prior")
    print(f"{s['mechanism']}({params})  prior {s['prior']}  {s['n_agents']} agents x {s['n_items']} items  "
          f"{s['instances']} instances  seed {s['seed']}")
    lo, hi = s["welfare_ratio_ci"]
    print(f"  welfare ratio  {s['welfare_ratio']:.4f}  [{lo:.4f}, {hi:.4f}]  ({pct} CI of E[sw]/E[opt])")
    for key, label in (("ef", "EF rate"), ("ef1", "EF1 rate"), ("prop", "PROP rate")):
        lo, hi = s[f"{key}_rate_ci"]
        print(f"  {label:<13}  {s[f'{key}_rate']:.4f}  [{lo:.4f}, {hi:.4f}]  ({pct} Clopper-Pearson)")
    print(f"  mean welfare {s['mean_welfare']:.4g}, mean optimal welfare {s['mean_optimal_welfare']:.4g}")
    print("  agent  strategy          mean utility  mean items  mean gain")
    for a in s["agents"]:
        print(f"  {a['agent']:>5}  {a['strategy']:<16}  {a['mean_utility']:>12.4g}  {a['mean_items']:>10.4g}  "
              f"{a['mean_gain']:>9.4g}")
    if "theory_note" in s:
        print(f"  theory: {s['theory_note']}")
    if "out" in s:
        print(f"  rows written to {s['out']}")
