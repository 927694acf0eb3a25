"""``tfd batch run|inspect``: parameter sweeps streamed to a Parquet dataset."""

from __future__ import annotations


from abm.commands.common import emit, progress


def add(sub) -> None:
    from abm.batch.parameters import INSPECT, RUN

    batch = sub.add_parser("batch", help="parameter sweeps: reproducible, resumable, streamed to Parquet")
    bsub = batch.add_subparsers(dest="batch_command", required=True, parser_class=type(batch))
    r = bsub.add_parser("run", help=RUN.summary)
    RUN.add_arguments(r)
    r.set_defaults(run=run_batch)
    i = bsub.add_parser("inspect", help=INSPECT.summary)
    INSPECT.add_arguments(i)
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
