"""``tfd batch run|inspect``: parameter sweeps streamed to a Parquet dataset."""

from __future__ import annotations


from abm.commands.common import emit, mechanism, in_file, out_dir, positive_float, positive_int, progress, seed


def _int_list(text: str) -> list[int]:
    import argparse

    try:
        values = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 2,3, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def add(sub) -> None:
    batch = sub.add_parser("batch", help="parameter sweeps: reproducible, resumable, streamed to Parquet")
    bsub = batch.add_subparsers(dest="batch_command", required=True, parser_class=type(batch))
    r = bsub.add_parser("run", help="run a sweep (from a TOML/YAML file and/or the options below)")
    r.add_argument("sweep", nargs="?", type=in_file, help="sweep file (.toml, .yaml); options given here override its fields")
    r.add_argument("--mechanism", action="append", type=mechanism,
                   help="a mechanism, e.g. 'pick-r(r=[0.3, 0.7])' (repeat for several)")
    r.add_argument("--prior", action="append", help="prior spec (repeat for several)")
    r.add_argument("--agents", type=_int_list, help="agent counts, e.g. 2,3")
    r.add_argument("--items", type=_int_list, help="item counts, e.g. 100,1000")
    r.add_argument("--strategies", action="append", help="strategy for all agents, or a comma list per agent")
    r.add_argument("--instances", type=positive_int, help="instances per run")
    r.add_argument("--replications", type=positive_int)
    r.add_argument("--seed", type=seed, help="base seed")
    r.add_argument("--out", type=out_dir, required=True, help="result folder")
    r.add_argument("--executor", default="serial", choices=["serial", "processes", "dask"])
    r.add_argument("--workers", type=positive_int, default=2)
    r.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    r.add_argument("--connect-timeout", type=positive_float, default=10.0,
                   help="seconds to wait for --scheduler before giving up (nothing is left behind)")
    r.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    r.add_argument("--csv", action="store_true", help="also write CSV parts")
    r.add_argument("--chunk-size", type=positive_int, help="runs per task and per Parquet part")
    r.add_argument("--json", action="store_true")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(run=run_batch)
    i = bsub.add_parser("inspect", help="summarize a result folder")
    i.add_argument("folder")
    i.add_argument("--json", action="store_true")
    i.set_defaults(run=run_inspect)


def run_batch(args) -> int:
    from abm.batch import Sweep, load_sweep, run_sweep

    data = load_sweep(args.sweep).to_dict() if args.sweep else Sweep().to_dict()
    overrides = {"mechanisms": list(args.mechanism) if args.mechanism else None,
                 "priors": args.prior, "agents": args.agents, "items": args.items,
                 "strategies": [s.split(",") if "," in s else s for s in args.strategies] if args.strategies else None,
                 "instances": args.instances, "replications": args.replications, "seed": args.seed}
    data.update({k: v for k, v in overrides.items() if v is not None})
    sweep = Sweep.from_dict(data)
    total = len(sweep.runs())
    with progress(args, total, "runs", "run") as bar:
        result = run_sweep(sweep, args.out, args.executor, args.workers, args.scheduler, args.resume, args.csv,
                           args.chunk_size, progress=bar.update, connect_timeout=args.connect_timeout)
    lines = [f"{result['executed']} runs executed, {result['skipped']} already on disk, "
             f"{result['runs']} in the sweep; load with pandas.read_parquet({args.out + '/runs'!r})"]
    if result["rerun_damaged"]:
        lines.insert(0, f"re-ran {len(result['rerun_damaged'])} damaged or unrecorded parts: "
                        + ", ".join(result["rerun_damaged"]))
    emit(result, args.json, lines)
    return 0


def run_inspect(args) -> int:
    from abm.batch import inspect

    info = inspect(args.folder)
    lines = [f"{info['folder']}: {info['runs_done']} of {info['runs_total']} runs done, {info['rows']} rows in "
             f"{info['parts']} parts (seed {info['seed']}, version {info['version']}, created {info['created']})"]
    lines += [f"  {k}: {v}" for k, v in info.get("covered", {}).items()]
    if info["damaged"]:
        lines.append(f"  damaged or unrecorded parts, not counted (--resume re-runs them): {', '.join(info['damaged'])}")
    emit(info, args.json, lines)
    return 0
