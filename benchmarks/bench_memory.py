"""Memory targets, measured as peak resident memory of fresh ``tfd`` processes.

* One model step at n = 10, m = 10^7 (an 800 MB value matrix): peak RSS at most 2.5 times
  the matrix. Each mechanism runs as ``tfd simulate --instances 1``; the process's own
  baseline (Python, numpy, scipy, Mesa: about 180 MB) is inside the figure, not subtracted.
* ``tfd simulate --out`` streams rows: peak RSS at 800,000 instances (n = 2, m = 10, steps of
  10,000 instances, so both runs hold the same step) stays
  within 10% of the peak at 10,000 instances, where the first release grew by 0.86 KB a row.

Run: ``.venv/bin/python benchmarks/bench_memory.py`` (Linux; peak RSS from ``/usr/bin/time -f %M``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

TFD = str(Path(sys.executable).with_name("tfd"))


def peak(args) -> tuple[float, float]:
    """(peak RSS in bytes, seconds) of one fresh ``tfd`` process."""
    cmd = ["/usr/bin/time", "-f", "%M", TFD, *args, "--no-progress"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return int(done.stderr.strip().splitlines()[-1]) * 1024.0, time.perf_counter() - t0


def main() -> None:
    n, m = 10, 10**7
    matrix = 8.0 * n * m
    print(f"one step, n = {n}, m = {m:.0e}: value matrix {matrix / 2**20:.0f} MiB")
    for mech in ("pick-r", "welfare-max", "ranking"):
        rss, took = peak(["simulate", "--mechanism", mech, "--agents", str(n), "--items", str(m), "--instances", "1"])
        print(f"  {mech:<12} peak {rss / 2**20:6.0f} MiB = {rss / matrix:4.2f}x the matrix (target 2.5x: "
              f"{'met' if rss <= 2.5 * matrix else 'MISSED'}), {took:.1f} s")
    print("tfd simulate --out (streaming), n = 2, m = 10:")
    with tempfile.TemporaryDirectory() as tmp:
        small, _ = peak(["simulate", "--items", "10", "--instances", "10000", "--instances-per-step", "10000", "--out", f"{tmp}/a"])
        large, took = peak(["simulate", "--items", "10", "--instances", "800000", "--instances-per-step", "10000",
                             "--out", f"{tmp}/b"])
    print(f"  10,000 instances: peak {small / 2**20:.0f} MiB; 800,000 instances: peak {large / 2**20:.0f} MiB "
          f"({took:.1f} s); growth {100 * (large / small - 1):.1f}% (target <= 10%: "
          f"{'met' if large <= 1.1 * small else 'MISSED'})")


if __name__ == "__main__":
    main()
