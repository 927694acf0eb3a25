"""DSIC audit of Ranking with its exact oracle: n = 5, m = 1,000, 1,000 profiles (the
target: seconds on one core), and how the cost grows with m (log-log slope).

Run: ``.venv/bin/python benchmarks/bench_audit.py`` (pin one core with ``taskset -c 0``).
"""

from __future__ import annotations

import math
import time

from abm.audit import dsic_audit


def timed(**kw) -> float:
    t0 = time.perf_counter()
    dsic_audit("ranking", "uniform", shrink=False, **kw)
    return time.perf_counter() - t0


def main() -> None:
    t = timed(n_agents=5, n_items=1000, profiles=1000, strategies=[], seed=0)
    print(f"ranking, oracle only: n = 5, m = 1,000, 1,000 profiles: {t:.2f} s")
    t = timed(n_agents=5, n_items=1000, profiles=1000, strategies="default", seed=0)
    print(f"ranking, oracle + 7 shipped strategies: {t:.2f} s")
    print(f"{'m':>6}  {'seconds':>8}  (n = 5, 200 profiles, oracle only)")
    ms, ts = [250, 500, 1000, 2000, 4000], []
    for m in ms:
        ts.append(timed(n_agents=5, n_items=m, profiles=200, strategies=[], seed=0))
        print(f"{m:>6}  {ts[-1]:>8.3f}")
    slope = (math.log(ts[-1]) - math.log(ts[1])) / (math.log(ms[-1]) - math.log(ms[1]))
    print(f"cost grows like m^{slope:.2f} between m = {ms[1]} and {ms[-1]} "
          "(the greedy's m sequential steps, each vectorized over profiles, plus sorts)")


if __name__ == "__main__":
    main()
