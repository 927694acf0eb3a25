"""Two-agent catalogue against Pick-r: cost per instance at m = 10^4 (target:
within a small factor of Pick-r). Run: ``.venv/bin/python benchmarks/bench_catalogue.py``."""

from __future__ import annotations

import time

import numpy as np

from abm import mechanisms
from abm.mechanisms import Component, Composition, Exchange, Picking, random_composition


def best_of(fn, repeat=5):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def main(m: int = 10_000, batch: int = 100) -> None:
    rng = np.random.default_rng(0)
    bids = rng.random((batch, 2, m))
    half = m // 2
    cases = {
        "pick-r (r = 0.3)": mechanisms.get("pick-r", r=[0.3]),
        "picking, one size": Picking(0, sizes=[int(0.3 * m)]),
        "picking, three sizes": Picking(1, sizes=[m // 10, m // 3, m // 2]),
        "exchange": Exchange(list(range(half))),
        "composition, 4 parts": Composition([
            Component(tuple(range(0, m // 4)), Picking(0, sizes=[m // 8])),
            Component(tuple(range(m // 4, m // 2)), Exchange(list(range(m // 8)))),
            Component(tuple(range(m // 2, 3 * m // 4)), Picking(1, sizes=[m // 16, m // 8])),
            Component(tuple(range(3 * m // 4, m)), Exchange(list(range(0, m // 4, 2)))),
        ]),
        "random composition": random_composition(m, rng, max_components=8),
    }
    base = None
    print(f"m = {m:,}, {batch} instances per call; time per instance")
    print(f"{'mechanism':<24}{'us/instance':>12}{'x pick-r':>10}")
    for name, mech in cases.items():
        t = best_of(lambda: mech.allocate(bids)) / batch
        base = base or t
        print(f"{name:<24}{t * 1e6:>12.1f}{t / base:>10.2f}")


if __name__ == "__main__":
    main()
