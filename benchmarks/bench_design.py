"""The open-questions lab's programs against their time budgets (one core).

* n = 3, m = 4 ordinal LP on symmetry orbits, solved and certified: at most 60 s;
* n = 3, m = 5 ordinal LP: attempted; time and size reported;
* n = 3, m = 3 deterministic 0/1 program, proven optimal (zero gap): at most 60 s;
* n = 3, m = 3, three levels (Theorem 3.1's, p = 0.1), cardinal LP: at most 10 minutes.

Each case is built, solved and (LP) certified from scratch; the time printed covers all of it,
and its ratio to the budget is the figure to watch.

Run: ``taskset -c 0 .venv/bin/python benchmarks/bench_design.py [--skip-m5]``
"""

from __future__ import annotations

import argparse
import time

from abm import design
from abm.design import cardinal as C
from abm.design import ordinal as O
from abm.design.certificate import certify, check
from abm.design.profiles import order_statistic_means
from abm.priors import parse_prior


def _lp(n, m, prior="uniform"):
    mu = order_statistic_means(parse_prior(prior).marginal(0), m)
    res = O.solve_ordinal(n, m, mu)
    cert = certify(res.program, res.solution)
    return res, {"status": res.solution.status, "variables": res.program.c.size, "rows": res.program.rows,
                 "rounds": res.rounds, "all_rows_hold": res.complete, "certified": check(res.program, cert),
                 "certificate_gap": cert.gap}


def _milp(n, m, prior="uniform"):
    mu = order_statistic_means(parse_prior(prior).marginal(0), m)
    res = O.solve_ordinal(n, m, mu, deterministic=True)
    return res, {"status": res.solution.status, "mip_gap": res.solution.mip_gap, "variables": res.program.c.size,
                 "rows": res.program.rows}


def _cardinal(n, m):
    levels, probs = design.hard_levels(0.1)
    res = C.solve_cardinal(n, m, levels, probs)
    cert = certify(res.program, res.solution)
    return res, {"status": res.solution.status, "variables": res.program.c.size, "rows": res.program.rows,
                 "certified": check(res.program, cert), "certificate_gap": cert.gap}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-m5", action="store_true", help="leave out the n = 3, m = 5 LP (about 100 s)")
    args = ap.parse_args()
    cases = [("n=3 m=4 ordinal LP (orbits), certified", lambda: _lp(3, 4), 60.0),
             ("n=3 m=3 deterministic 0/1 program", lambda: _milp(3, 3), 60.0),
             ("n=3 m=3 cardinal LP, 3 levels", lambda: _cardinal(3, 3), 600.0)]
    if not args.skip_m5:
        cases.insert(1, ("n=3 m=5 ordinal LP (orbits), certified", lambda: _lp(3, 5), None))
    for label, fn, budget in cases:
        t0 = time.perf_counter()
        res, info = fn()
        seconds = time.perf_counter() - t0
        ratio = f"{seconds / budget:.3f} of the {budget:g} s budget" if budget else "no budget (attempted)"
        print(f"{label}: {seconds:.2f} s, {ratio}; welfare {res.welfare:.10f}; "
              + ", ".join(f"{k} {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k} {v}"
                          for k, v in info.items()), flush=True)


if __name__ == "__main__":
    main()
