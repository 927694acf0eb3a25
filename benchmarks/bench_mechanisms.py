"""Mechanism cost against the floor: ``np.argsort`` over the same bids.

Run: ``.venv/bin/python benchmarks/bench_mechanisms.py [--quick]``. Prints, side by
side in one run, each mechanism's best-of-k time and its ratio to the floor at
n = 10, m = 10^6 (targets: Ranking <= 1.3x, Pick-r <= 1.5x, welfare maximization
well under 1x), round robin at n = 10, m = 10^5 (target: well under a second), and a
1,000-instance n = 2, m = 1,000 run through ``tfd simulate`` (target: a few seconds).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from abm import mechanisms


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="m = 10^5 instead of 10^6")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n, m = 10, 10**5 if args.quick else 10**6
    rng = np.random.default_rng(0)
    bids = rng.random((n, m))

    floor = best_of(lambda: np.argsort(bids, axis=-1), args.repeat)
    print(f"n = {n}, m = {m:,}: floor np.argsort(bids, axis=-1) = {floor * 1e3:.1f} ms")
    print(f"{'mechanism':<22}{'time (ms)':>12}{'x floor':>10}  target")
    targets = {"ranking": "<= 1.3", "pick-r": "<= 1.5", "welfare-max": "well < 1", "qt-s": "-",
               "serial-dictatorship": "-"}
    for name, target in targets.items():
        mech = mechanisms.get(name, prior="uniform")
        t = best_of(lambda: mech.allocate(bids), args.repeat)
        print(f"{name:<22}{t * 1e3:>12.1f}{t / floor:>10.2f}  {target}")

    rr_bids = rng.random((10, 10**5))
    rr = mechanisms.get("round-robin")
    t = best_of(lambda: rr.allocate(rr_bids), 3)
    print(f"{'round-robin':<22}{t * 1e3:>12.1f}{'':>10}  n = 10, m = 100,000; target well under 1000 ms")

    tfd = Path(sys.executable).with_name("tfd")
    cmd = [str(tfd), "simulate", "--agents", "2", "--items", "1000", "--instances", "1000", "--json", "--no-progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    print(f"tfd simulate, 1,000 instances of n = 2, m = 1,000: {wall:.2f} s wall (process start included)")


if __name__ == "__main__":
    main()
