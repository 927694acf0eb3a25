"""Startup targets: light commands import only what they use.

* ``tfd --version`` <= 0.3 s (answered before any subcommand module is imported);
* ``tfd theory kertz`` <= 1.5 s (``abm.theory`` loads its submodules on first use, so
  Kertz's equation does not import scipy.stats, the priors or Mesa).

Each command runs 5 times as a fresh process; the median wall time is reported with its
ratio to the floor, a bare ``python -c pass`` in the same environment.

Run: ``taskset -c 0 .venv/bin/python benchmarks/bench_startup.py``
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

TFD = Path(sys.executable).with_name("tfd")
TARGETS = {("--version",): 0.3, ("theory", "kertz"): 1.5, ("theory", "--help"): None, ("--help",): None}


def wall(cmd, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    floor = wall([sys.executable, "-c", "pass"])
    print(f"floor (python -c pass): {floor:.3f} s")
    for args, target in TARGETS.items():
        took = wall([str(TFD), *args])
        verdict = "" if target is None else f" (target {target} s: {'met' if took <= target else 'MISSED'})"
        print(f"  tfd {' '.join(args):<14} {took:.3f} s, {took / floor:4.1f}x the floor{verdict}")


if __name__ == "__main__":
    main()
