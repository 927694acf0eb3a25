"""The DSIC audit a user runs at the paper's size, against the proof's own time (one core).

The command, all other options at their defaults::

    tfd audit dsic --mechanism pick-r --r 0.2,0.2,0.2,0.2,0.2 --agents 5 --items 10000 \\
        --prior 'beta(a=2, b=5)' --profiles 1000 --seed 31 --json

Every one of its 5,000 (profile, agent) pairs is proven by Pick-r's structural oracle, so the
strategies and the local search cannot change the verdict: they run only on the random
cross-check sample. Target: the command answers in at most 2x the proof's own time (the same
audit with strategies and search off, as ``bench_exactness.py`` runs it).

Printed: the proof alone and the audit with the command's defaults, both in-process (median
of ``--repeats``), their ratio, and the command's wall time as a fresh process (imports
included).

Run: ``taskset -c 0 .venv/bin/python benchmarks/bench_audit_paper_size.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from abm import mechanisms
from abm.audit import dsic_audit

PRIOR, N, M, PROFILES, SEED = "beta(a=2, b=5)", 5, 10_000, 1000, 31
COMMAND = ["audit", "dsic", "--mechanism", "pick-r(r=[0.2, 0.2, 0.2, 0.2, 0.2])", "--agents", str(N), "--items",
           str(M), "--prior", PRIOR, "--profiles", str(PROFILES), "--seed", str(SEED), "--json"]


def timed(fn) -> tuple[float, dict]:
    t0 = time.perf_counter()
    s = fn().summary
    return time.perf_counter() - t0, s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    mech = mechanisms.get("pick-r", r="0.2,0.2,0.2,0.2,0.2")
    dsic_audit(mech, PRIOR, N, 100, profiles=2, shrink=False)  # lazy imports, warm caches
    proof, full = [], []
    for _ in range(args.repeats):
        t, s = timed(lambda: dsic_audit(mech, PRIOR, N, M, profiles=PROFILES, strategies=[], budget=0, seed=SEED,
                                        shrink=False))
        proof.append(t)
        assert s["exact"], s["proof"]
        t, s = timed(lambda: dsic_audit(mech, PRIOR, N, M, profiles=PROFILES, seed=SEED))
        full.append(t)
        assert s["exact"] and s["violations"] == 0 and s["defect_count"] == 0, s
    a, b = statistics.median(proof), statistics.median(full)
    print(f"proof alone (strategies and search off)  {a:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in proof)})")
    print(f"audit with the command's defaults        {b:6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in full)})")
    print(f"ratio {b / a:.2f}x (target <= 2x); every pair proven: {s['proven_pairs']} of {s['pairs']}, "
          f"cross-checked {s['cross_checked']}, searched {s['searched_pairs']}")
    tfd = Path(sys.executable).with_name("tfd")
    t0 = time.perf_counter()
    subprocess.run([str(tfd), *COMMAND], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    print(f"the command as a fresh process: {wall:.2f} s wall, imports included ({wall / a:.2f}x the proof)")


if __name__ == "__main__":
    main()
