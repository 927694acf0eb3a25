"""The same verdict on any machine: round robin's solver proofs under load.

Run: ``.venv/bin/python benchmarks/bench_solver_verdict.py``. Runs the audit the issue tracker
reported as load-dependent (``tfd audit dsic --mechanism round-robin --agents 3 --items 20
--prior uniform --profiles 100 --seed 32``) once alone, then two copies at once on this machine,
and compares their ``proof`` counts: the solver's work is bounded by a node limit, not seconds, so
they must be equal. Writes ``benchmarks/results/solver_verdict.json`` (with the machine it ran on).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

COMMAND = ["audit", "dsic", "--mechanism", "round-robin", "--agents", "3", "--items", "20", "--prior", "uniform",
           "--profiles", "100", "--seed", "32", "--json", "--no-progress"]


def start() -> tuple[subprocess.Popen, float]:
    tfd = Path(sys.executable).with_name("tfd")
    return subprocess.Popen([str(tfd), *COMMAND], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), \
        time.perf_counter()


def finish(proc: subprocess.Popen, t0: float) -> dict:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"the audit failed ({proc.returncode}): {err.strip()}")
    s = json.loads(out)
    return {"seconds": round(time.perf_counter() - t0, 1), "proof": s["proof"], "proven_pairs": s["proven_pairs"],
            "pairs": s["pairs"], "violations": s["violations"], "exact": s["exact"]}


def main() -> int:
    alone = finish(*start())
    print(f"alone: {alone}")
    a, b = start(), start()
    together = [finish(*a), finish(*b)]
    for k, r in enumerate(together):
        print(f"copy {k + 1} of 2 at once: {r}")
    same = all(r["proof"] == alone["proof"] for r in together)
    result = {"command": "tfd " + " ".join(COMMAND), "alone": alone, "two_at_once": together,
              "same_verdict": same, "machine": f"{platform.processor() or platform.machine()}, "
                                               f"{os.cpu_count()} cores, {platform.system()}",
              "python": platform.python_version(), "when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    out = Path(__file__).with_name("results") / "solver_verdict.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"same proof counts alone and two at once: {same}; wrote {out}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
