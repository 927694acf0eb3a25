"""Batch throughput and memory: a 10,000-run sweep, serial against processes, side by side.

Each configuration runs in a fresh subprocess so its peak resident memory (ru_maxrss of
the main process, and of the worker processes) is its own. Memory should stay flat as the
number of runs grows: compare 2,500 and 10,000 runs. Run:
``.venv/bin/python benchmarks/bench_batch.py [--runs 10000]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time


def one(executor: str, runs: int, workers: int) -> dict:
    from abm.batch import Sweep, run_sweep

    sweep = Sweep.from_dict({"seed": 0, "instances": 5, "items": [20], "agents": [2], "replications": runs})
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        run_sweep(sweep, out, executor=executor, workers=workers)
        wall = time.perf_counter() - t0
        import pyarrow.dataset as ds

        rows = ds.dataset(f"{out}/runs", format="parquet").count_rows()
    return {"executor": executor, "runs": runs, "rows": rows, "seconds": wall, "rows_per_s": rows / wall,
            "peak_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child[0], int(args.child[1]), args.workers)))
        return
    results = []
    for runs in (args.runs // 4, args.runs):
        for executor in ("serial", "processes"):
            out = subprocess.run([sys.executable, __file__, "--child", executor, str(runs), "--workers",
                                  str(args.workers)], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'executor':<10}{'runs':>8}{'rows':>9}{'seconds':>9}{'rows/s':>9}{'peak main MB':>14}{'peak worker MB':>16}")
    for r in results:
        print(f"{r['executor']:<10}{r['runs']:>8}{r['rows']:>9}{r['seconds']:>9.1f}{r['rows_per_s']:>9.0f}"
              f"{r['peak_main_mb']:>14.0f}{r['peak_worker_mb']:>16.0f}")


if __name__ == "__main__":
    main()
