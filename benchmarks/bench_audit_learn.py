"""Counts: where does the general learner find a lie at m = 50, beside the audit's search?

For every manipulable rule of the catalogue (claim none or BIC) and every hand-written DSIC
mutant of the zoo, at m = 50 with 100 profiles: the DSIC audit with its default strategies
and search (no learner), and ``tfd audit dsic --learn``'s learner alone, each on its own
profiles. A lie counts when it replays through the mechanism. The learner is evidence only;
what matters here is reach: rules where the search finds a lie the learner should too, and
mutants the search misses are where it could add one.

With ``--zoo FOLDER`` (the folder ``tfd audit mutants --generated --out FOLDER`` wrote), the
learner also runs on every generated mutant that is manipulable at m = 4, 5 and that the zoo's
audit did not catch at m = 50 (missed, or no lie found by its referee): the mutants the search
misses. Each is rebuilt from the current source by its module, operator and occurrence, and
refused if the mutated line no longer reads as recorded.

Run: ``.venv/bin/python benchmarks/bench_audit_learn.py [--workers 2] [--zoo FOLDER]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

M_ITEMS, PROFILES = 50, 100
CATALOGUE = [("round-robin", 2, "uniform"), ("round-robin", 3, "uniform"), ("welfare-max", 2, "uniform"),
             ("ranking", 3, "uniform"), ("weighted-ranking", 3, "uniform"), ("qt-s", 2, "uniform")]


def _zoo_misses(folder) -> list:
    """The generated mutants the zoo's audit did not catch, as ``("generated", (Mutant, rule label), n, prior)``."""
    from pathlib import Path

    import pandas as pd

    from abm.mutants.generated import RULES, generate, load

    frame = pd.read_parquet(Path(folder) / "generated.parquet")
    missed = frame[(frame.truth == "manipulable") & (frame.outcome != "caught")]
    current = {(mu.module, mu.operator, mu.occurrence): mu for mu in generate()}
    rules = {r.label: r for r in RULES}
    jobs = []
    for row in missed.itertuples():
        mu = current.get((row.module, row.operator, row.occurrence))
        if mu is None or load(mu)[1] != row.changed:
            raise SystemExit(f"{row.mutant}: the source changed since the zoo ran; run tfd audit mutants again")
        jobs.append(("generated", (mu, row.rule), rules[row.rule].agents, rules[row.rule].prior))
    return jobs


def one(kind: str, name, n: int, prior: str) -> dict:
    from abm import mechanisms
    from abm.audit import dsic_audit
    from abm.audit.learned import learned_lies
    from abm.audit.witness import gain_of
    from abm.metrics import gain_counts

    if kind == "catalogue":
        mech = mechanisms.get(name, prior=prior)
    elif kind == "generated":
        from abm.mutants.generated import _BY_LABEL, load

        mutant, label = name
        name = f"{mutant.name} on {label}"
        mech = _BY_LABEL[label].build(load(mutant)[0], M_ITEMS)
    else:
        from abm.mutants.dsic import DSIC_MUTANTS

        mech = DSIC_MUTANTS[name][3](M_ITEMS)
    t0 = time.perf_counter()
    a = dsic_audit(mech, prior, n, M_ITEMS, profiles=PROFILES, seed=0, shrink=False)
    search = a.summary["violations"] > 0 and a.witness is not None
    if search:
        w = a.witness
        search = bool(gain_counts(gain_of(mech, np.asarray(w.values), w.agent, np.asarray(w.misreport))[0],
                                  np.asarray(w.values)[w.agent]))
    t1 = time.perf_counter()
    L = learned_lies(mech, prior, n, M_ITEMS, profiles=PROFILES, seed=0, shrink=False)
    t2 = time.perf_counter()
    return {"kind": kind, "rule": name, "agents": n, "search_found": search, "learner_found": L["witness"] is not None,
            "learner_pairs": L["violations"], "search_seconds": round(t1 - t0, 1), "learner_seconds": round(t2 - t1, 1)}


def main(workers: int, zoo=None) -> None:
    import pandas as pd

    from abm.batch.executors import execute
    from abm.mutants.dsic import DSIC_MUTANTS

    jobs = [("catalogue", name, n, prior) for name, n, prior in CATALOGUE]
    jobs += [("mutant", name, n, prior) for name, (_, n, prior, _) in DSIC_MUTANTS.items()]
    if zoo is not None:
        jobs += _zoo_misses(zoo)
    rows = []
    for _, row in execute(one, jobs, "processes" if workers > 1 else "serial", workers):
        rows.append(row)
        print(f"  {row['kind']:<9} {row['rule']:<45} search {'lie' if row['search_found'] else '-':>3} "
              f"({row['search_seconds']} s)  learner {'lie' if row['learner_found'] else '-':>3} "
              f"on {row['learner_pairs']} pairs ({row['learner_seconds']} s)", flush=True)
    f = pd.DataFrame(rows)
    cat, mut = f[f.kind == "catalogue"], f[f.kind == "mutant"]
    both = cat[cat.search_found]
    missed = mut[~mut.search_found]
    print(f"catalogue: the search finds a lie on {int(cat.search_found.sum())} of {len(cat)} manipulable rules; "
          f"the learner finds one on {int(both.learner_found.sum())} of those {len(both)} "
          f"({int(cat.learner_found.sum())} of {len(cat)} in all)")
    print(f"mutants: the search finds a lie on {int(mut.search_found.sum())} of {len(mut)}; of the {len(missed)} it "
          f"misses the learner finds {int(missed.learner_found.sum())}; the learner alone finds "
          f"{int(mut.learner_found.sum())} of {len(mut)}")
    gen = f[f.kind == "generated"]
    if zoo is not None:
        print(f"generated mutants the zoo's audit did not catch at m = {M_ITEMS}: {len(gen)}; the search here finds "
              f"a lie on {int(gen.search_found.sum())}, the learner on {int(gen.learner_found.sum())}")
    f.to_csv(Path(__file__).with_name("results") / "audit_learn.csv", index=False)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[args.index("--workers") + 1]) if "--workers" in args else 2,
         args[args.index("--zoo") + 1] if "--zoo" in args else None)
