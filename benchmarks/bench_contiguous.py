"""The quantile-contiguous search's rate: (share vector, cell, agent) evaluations per second on
independence checkerboards of three agents, k = 8, 16, 32. The work guard's SEARCH_RATE
(abm.theory.quantile_contiguous) stays below the slowest of these, so its estimates err toward refusing.

    .venv/bin/python benchmarks/bench_contiguous.py     # writes benchmarks/results/contiguous_rate.json
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from abm.priors import parse_prior
from abm.theory.quantile_contiguous import SEARCH_RATE, _search_points, best_contiguous, share_grid


def main() -> None:
    rows = []
    for k in (8, 16, 32):
        prior = parse_prior(f"checkerboard(uniform, uniform, uniform, k={k})")
        t0 = time.perf_counter()
        best_contiguous(prior, certify=False)
        seconds = time.perf_counter() - t0
        work = _search_points(3, k**3, share_grid(3, 60).shape[0], 3) * 3
        rows.append({"k": k, "cells": k**3, "seconds": round(seconds, 2), "evaluations": work,
                     "rate": work / seconds, "guard_estimate_seconds": round(work / SEARCH_RATE, 2)})
        print(f"k = {k:>2}: {seconds:6.2f} s, {work / seconds:.3g} evaluations/s (guard estimate "
              f"{work / SEARCH_RATE:.1f} s)", flush=True)
    out = Path(__file__).with_name("results") / "contiguous_rate.json"
    out.write_text(json.dumps({"machine": f"{platform.node()} ({platform.processor() or platform.machine()})",
                               "rows": rows, "slowest_rate": min(r["rate"] for r in rows)}, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
