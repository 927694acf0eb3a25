"""The mutant zoo: how often the audits catch a manipulable mechanism (``tfd audit mutants``).

Each mutant is a catalogue mechanism with a realistic bug (:mod:`abm.mutants.dsic`,
:mod:`abm.mutants.bic`). A DSIC mutant is caught when the DSIC audit finds a profitable
lie and the lie, replayed through the mutant, still pays; a BIC mutant when the BIC audit
finds a significant interim gain or a significant increase of p_t (the chance of winning
the item reported at rank t), each corrected for the number of tests. The originals run
as controls: a DSIC original must show no violation, a BIC one no significant gain and no
significant increase of p_t, under its claim's conditions.

:mod:`abm.mutants.generated` adds mutants nobody wrote: Cosmic Ray's operators on the lines
the DSIC rules run, judged by enumeration and audited the same way (``--generated``).
"""

from __future__ import annotations

import time
import zlib

import numpy as np
import pandas as pd

from abm.mutants.bic import BIC_MUTANTS, NON_IDENTICAL
from abm.mutants.dsic import DSIC_MUTANTS
from abm.mutants.parameters import ZOO

__all__ = ["DSIC_MUTANTS", "BIC_MUTANTS", "CONTROLS", "names", "run_one", "run_zoo", "build"]

CORRELATED = "copula(uniform, beta(a=2, b=5), rho=0.5)"


def _composition(m: int):
    from abm.mechanisms import Component, Composition, Exchange, Picking

    cut = m // 2
    return Composition([Component(tuple(range(cut)), Picking(0, sizes=[max(1, cut // 2)])),
                        Component(tuple(range(cut, m)), Exchange(list(range(0, m - cut, 2))))])


def _get(name, **params):
    from abm import mechanisms

    return lambda m: mechanisms.get(name, **params)


#: The originals, as controls: name -> (kind of audit, agents, prior, factory for m items)
CONTROLS = {
    "pick-r": ("dsic", 2, "uniform", _get("pick-r", r=[0.3, 0.7])),
    "pick-r-3": ("dsic", 3, "uniform", _get("pick-r")),
    "serial-dictatorship": ("dsic", 2, "uniform", _get("serial-dictatorship")),
    "picking": ("dsic", 2, "uniform", lambda m: _get("picking", picker=1, sizes=[max(1, m // 5), max(1, m // 2)])(m)),
    "exchange": ("dsic", 2, "uniform", lambda m: _get("exchange", endowment=list(range(0, m, 2)))(m)),
    "composition": ("dsic", 2, "uniform", _composition),
    "pick-correlated": ("dsic", 2, CORRELATED, _get("pick-correlated", prior=CORRELATED)),
    "pick-optimal": ("dsic", 3, "beta(a=2, b=5)", _get("pick-optimal", prior="beta(a=2, b=5)")),
    "ranking (i.i.d.)": ("bic", 3, "uniform", _get("ranking")),
    "weighted-ranking (non-identical)": ("bic", 3, NON_IDENTICAL, _get("weighted-ranking", prior=NON_IDENTICAL)),
}


def names() -> list[str]:
    return list(DSIC_MUTANTS) + list(BIC_MUTANTS) + [f"control: {c}" for c in CONTROLS]


def build(name: str, m: int):
    """(kind, agents, prior, mechanism) for a zoo entry: kind is dsic, bic, control-dsic or control-bic."""
    if name in DSIC_MUTANTS:
        _, n, prior, make = DSIC_MUTANTS[name]
        return "dsic", n, prior, make(m)
    if name in BIC_MUTANTS:
        _, n, prior, make = BIC_MUTANTS[name]
        return "bic", n, prior, make(m)
    if name.startswith("control: ") and name[9:] in CONTROLS:
        kind, n, prior, make = CONTROLS[name[9:]]
        return f"control-{kind}", n, prior, make(m)
    from abm.errors import TfdError

    raise TfdError(f"unknown zoo entry {name!r}; accepted: {', '.join(names())}")


def run_one(name: str, n_items: int = 50, profiles: int = 200, seed: int = 0) -> dict:
    """Audit one zoo entry; returns a row: caught / missed / clean / false alarm, by what, how long."""
    from abm.audit import bic_audit, dsic_audit
    from abm.audit.witness import gain_of
    from abm.metrics import gain_counts

    kind, n, prior, mech = build(name, n_items)
    job_seed = int(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)).generate_state(1)[0])
    t0 = time.perf_counter()
    if kind.endswith("dsic"):
        a = dsic_audit(mech, prior, n, n_items, profiles=profiles, seed=job_seed, shrink=False)
        s = a.summary
        found = s["violations"] > 0 and a.witness is not None
        if found:  # the lie must still pay when replayed through the mechanism itself
            w = a.witness
            found = bool(gain_counts(gain_of(mech, np.asarray(w.values), w.agent, np.asarray(w.misreport))[0],
                                     np.asarray(w.values)[w.agent]))
        by = (max(s["best_deviations"], key=s["best_deviations"].get) if found else
              f"none ({s['proven_pairs']} of {s['pairs']} pairs proven)")
        detail = f"{s['violations']} of {s['pairs']} pairs violated; max gain {s['max_gain']:.3g}"
    else:
        b = bic_audit(mech, prior, n, min(n_items, 50), types=max(2, min(profiles // 5, 40)), samples=100,
                      seed=job_seed)
        s = b.summary
        inc = s.get("p_t_increase") or {}
        found = bool(s["significant"] or inc.get("significant"))
        if s["significant"]:
            by = s["max_deviation"]
        elif inc.get("significant"):
            by = (f"p_t increase: agent {inc['agent']}, rank {inc['from_rank']} -> {inc['to_rank']} "
                  f"(z = {inc['z']:.1f})")
        else:
            by = "none"
        detail = (f"largest gain {s['max_expected_gain']:.3g}, corrected p {s['p_value']:.3g}; "
                  f"p_t increase corrected p {inc.get('p_value_corrected', float('nan')):.3g}")
    control = kind.startswith("control")
    outcome = ("false alarm" if found else "clean") if control else ("caught" if found else "missed")
    return {"entry": name, "kind": kind, "agents": n, "prior": prior, "items": n_items, "outcome": outcome,
            "by": by if found else ("" if control else by), "detail": detail,
            "seconds": round(time.perf_counter() - t0, 2)}


@ZOO.checked
def run_zoo(n_items: int = 50, profiles: int = 200, seed: int = 0, workers: int = 2, only=None,
            progress=None) -> tuple[pd.DataFrame, dict]:
    """Every zoo entry (or ``only``), in ``workers`` processes; returns the rows and the kill rates."""
    entries = list(only) if only else names()
    for e in entries:
        build(e, max(n_items, 4))  # unknown names fail before any work starts
    jobs = [(e, n_items, profiles, seed) for e in entries]
    from abm.batch.executors import execute

    rows = []
    for _, row in execute(run_one, jobs, "processes" if workers > 1 and len(jobs) > 1 else "serial", workers):
        rows.append(row)
        if progress is not None:
            progress(row)
    order = {e: k for k, e in enumerate(entries)}  # the zoo's order, whatever finished first
    frame = pd.DataFrame(sorted(rows, key=lambda r: order[r["entry"]]))

    def rate(kind):
        sub = frame[frame.kind == kind]
        return None if sub.empty else float((sub.outcome == "caught").mean())

    summary = {"items": n_items, "profiles": profiles, "seed": seed, "entries": len(frame),
               "dsic_kill_rate": rate("dsic"), "bic_kill_rate": rate("bic"),
               "missed": frame.loc[frame.outcome == "missed", "entry"].tolist(),
               "false_alarms": frame.loc[frame.outcome == "false alarm", "entry"].tolist(),
               "seconds_total": float(frame["seconds"].sum())}
    return frame, summary
