"""Targets: DSIC audits in which every (profile, agent) pair is proven, on one core.

* Pick-r, n = 5, m = 10^4, 1,000 profiles: <= 5 s (structural oracle);
* a 4-part picking-exchange composition, m = 10^3, 1,000 profiles: <= 5 s (oracle part by part);
* round robin, n = 3, m = 20, 100 profiles: <= 60 s (integer program, HiGHS).

Strategies and local search are off: this measures what a proof costs. Each line also
gives the floor, one ``np.argsort`` of the same profiles' bids, and the ratio to it.

Run: ``taskset -c 0 .venv/bin/python benchmarks/bench_exactness.py``
"""

from __future__ import annotations

import time

import numpy as np

from abm import mechanisms
from abm.audit import dsic_audit
from abm.priors import parse_prior


def floor(n: int, m: int, profiles: int) -> float:
    values = parse_prior("uniform").sample(np.random.default_rng(0), n, m, batch=profiles)
    t0 = time.perf_counter()
    np.argsort(values, axis=-1)
    return time.perf_counter() - t0


def four_part_composition(m: int = 1000) -> mechanisms.Composition:
    """Picking, picking with a size menu, and two exchanges, each on a quarter of the items."""
    q = m // 4
    parts = [mechanisms.Component(tuple(range(0, q)), mechanisms.Picking(0, sizes=[q // 2])),
             mechanisms.Component(tuple(range(q, 2 * q)), mechanisms.Picking(1, sizes=[q // 4, q // 2])),
             mechanisms.Component(tuple(range(2 * q, 3 * q)), mechanisms.Exchange(list(range(0, q, 2)))),
             mechanisms.Component(tuple(range(3 * q, m)), mechanisms.Exchange(list(range(0, m - 3 * q, 3))))]
    return mechanisms.Composition(parts)


def run(label, mech, n, m, profiles, target, with_floor=True):
    dsic_audit(mech, "uniform", n, m, profiles=2, strategies=[], budget=0, shrink=False)  # lazy imports
    t0 = time.perf_counter()
    s = dsic_audit(mech, "uniform", n, m, profiles=profiles, strategies=[], budget=0, seed=0, shrink=False).summary
    t = time.perf_counter() - t0
    ratio = ""
    if with_floor:
        f = floor(n, m, profiles)
        ratio = f"  floor (argsort) {f:6.3f} s, ratio {t / f:5.1f}x"
    print(f"{label:<50} {t:6.2f} s (target <= {target:g} s){ratio}  proven {s['proven_pairs']}/{s['pairs']}")
    return t


def main() -> None:
    run("pick-r, n = 5, m = 10^4, 1,000 profiles", "pick-r", 5, 10_000, 1000, 5)
    run("composition (4 parts), m = 10^3, 1,000 profiles", four_part_composition(1000), 2, 1000, 1000, 5)
    run("round robin, n = 3, m = 20, 100 profiles", "round-robin", 3, 20, 100, 60, with_floor=False)


if __name__ == "__main__":
    main()
