"""Target: Hedge over the whole strategy registry, n = 3, m = 100, 10^4 rounds, <= 30 s on one core.

Hedge's menu is every registered strategy that needs neither the others' bids nor learning
(``strategies.learning.default_menu``). Each round the model allocates the actual reports,
the learner's truthful counterfactual, and every menu strategy's counterfactual in one
vectorized batch. The floor is the mechanism work alone: those same allocations of the
same shapes, 10^4 times, with nothing else around them.

Run: ``taskset -c 0 .venv/bin/python benchmarks/bench_learning.py [mechanism ...]``
"""

from __future__ import annotations

import sys
import time

import numpy as np

from abm import mechanisms
from abm.learning import learn
from strategies.learning import default_menu

N, M, ROUNDS, TARGET = 3, 100, 10_000, 30.0


def floor(name: str, K: int) -> float:
    mech = mechanisms.get(name)
    rng = np.random.default_rng(0)
    one, menu = rng.random((1, N, M)), rng.random((1, K, N, M))
    t0 = time.perf_counter()
    for _ in range(ROUNDS):
        mech.allocate(one)  # the reports
        mech.allocate(one)  # the learner's truthful counterfactual
        mech.allocate(menu)  # every menu strategy's counterfactual
    return time.perf_counter() - t0


def main(names) -> None:
    K = len(default_menu())
    print(f"Hedge over {K} registry strategies, n = {N}, m = {M}, {ROUNDS} rounds, one instance per round")
    for name in names:
        t0 = time.perf_counter()
        r = learn(name, "hedge", n_agents=N, n_items=M, rounds=ROUNDS, seed=0)
        took = time.perf_counter() - t0
        base = floor(name, K)
        top = max(r.summary["learners"]["0"]["final_distribution"].items(), key=lambda kv: kv[1])
        print(f"  {name:<14} {took:6.1f} s (target {TARGET:.0f} s: {'met' if took <= TARGET else 'MISSED'}); "
              f"floor {base:5.1f} s, ratio {took / base:4.1f}x; plays {top[0]} with p = {top[1]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["round-robin", "ranking", "pick-r", "welfare-max"])
