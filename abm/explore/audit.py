"""The explorer's audit panel: a DSIC or BIC audit of the page's settings at a page-sized
budget, summarised as a verdict, its proof status, and the shrunk witness as a table.

The proof status is read off the audit's own proof counts (enumeration, a best-response
oracle checked on the spot, or a solver), never off the mechanism's claim: a DSIC rule
whose pairs were only searched says "not proven".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: page-sized budgets: a few seconds for n = 2, m = 20 on one core here
DSIC_PROFILES, DSIC_BUDGET = 30, 60
BIC_TYPES, BIC_SAMPLES = 20, 100


@dataclass
class AuditView:
    kind: str                      # "DSIC" or "BIC"
    verdict: str                   # one sentence
    status: str                    # how the verdict was earned
    details: list = field(default_factory=list)
    witness: pd.DataFrame | None = None
    seconds: float = 0.0


def default_kind(mechanism) -> str:
    """BIC for rules that claim only BIC (Ranking), DSIC otherwise (it also finds the lies of
    rules that claim nothing, like round robin)."""
    return "BIC" if str(mechanism.info.claim).upper().startswith("BIC") else "DSIC"


def witness_table(witness) -> pd.DataFrame:
    """The shrunk witness: one row per item with every agent's value, the deviator's report,
    and the owner with truthful and with deviating bids (agents and items numbered from 1)."""
    values = np.asarray(witness.values, float)
    table = {"item": np.arange(1, witness.n_items + 1)}
    for i, row in enumerate(values):
        table[f"value of agent {i + 1}"] = row
    table[f"agent {witness.agent + 1} reports"] = np.asarray(witness.misreport, float)
    table["owner (truthful)"] = np.asarray(witness.truthful_owner) + 1
    table["owner (deviating)"] = np.asarray(witness.deviating_owner) + 1
    return pd.DataFrame(table)


def run_audit(kind: str, mechanism, prior, n_agents: int, n_items: int, seed: int = 0, progress=None,
              limit_seconds: float | None = None) -> AuditView:
    """Run the ``kind`` ("DSIC" or "BIC") audit on the page's settings; with ``limit_seconds``,
    refuse one estimated past it first (:func:`abm.audit.work.check_audit_work`)."""
    from abm.audit import bic_audit, dsic_audit, replay
    from abm.audit.dsic import default_strategies
    from abm.audit.work import check_audit_work

    if limit_seconds is not None:
        dsic = kind == "DSIC"
        check_audit_work(kind, mechanism, n_agents, n_items, DSIC_PROFILES if dsic else BIC_TYPES,
                         DSIC_BUDGET if dsic else 0, len(default_strategies(mechanism, n_items)),
                         limit_seconds=limit_seconds, hint="choose fewer items or agents on this page, or run "
                         "tfd audit from the command line")
    start = time.perf_counter()
    if kind == "DSIC":
        result = dsic_audit(mechanism, prior, n_agents, n_items, profiles=DSIC_PROFILES, budget=DSIC_BUDGET,
                            seed=seed, progress=progress)
        s = result.summary
        proof = ", ".join(f"{k} {v}" for k, v in s["proof"].items() if v and k not in ("claimed", "none"))
        if s["violations"]:
            w = result.shrunk or result.witness
            replayed = replay(w)  # the verdict stands on the recomputed gain, not on the search's number
            view = AuditView(
                "DSIC", f"manipulable: agent {w.agent + 1} gains {replayed['gain']:.4g} by misreporting "
                        f"({s['violations']} of {s['pairs']} (profile, agent) pairs gain)",
                "proven by the witness: replayed, the allocations and the gain recompute"
                if replayed["confirmed"] else "NOT confirmed: the witness did not replay", witness=witness_table(w))
        elif s["exact"]:
            view = AuditView("DSIC", f"no profitable deviation in any of {s['pairs']} (profile, agent) pairs",
                             f"proven for every pair ({proof})")
        else:
            view = AuditView("DSIC", f"no profitable deviation found in {s['pairs']} (profile, agent) pairs",
                             f"not proven: {s['pairs'] - s['proven_pairs']} of {s['pairs']} pairs were only searched"
                             + (f" ({s['proof']['claimed']} of them claimed by the rule's own oracle, which proves "
                                "nothing)" if s["proof"]["claimed"] else "")
                             + (f" ({proof} proven)" if proof else ""))
        per_agent = ", ".join(f"agent {i + 1} {g:.3g}" for i, g in enumerate(s["per_agent_mean_gain"]))
        view.details = [f"mean best gain per profile: {per_agent}",
                        f"largest gain {s['max_gain']:.4g}; search: {s['search']}; oracle: {s['oracle']}",
                        f"proof sources: {s['proof_note']}",
                        f"{s['profiles']} profiles of {n_agents} agents x {n_items} items, seed {seed}"]
    else:
        result = bic_audit(mechanism, prior, n_agents, n_items, types=BIC_TYPES, samples=BIC_SAMPLES, seed=seed,
                           progress=progress)
        s = result.summary
        verdict = (f"significant interim gain: {s['max_deviation']}" if s["significant"]
                   else "no significant interim gain from any deviation tested")
        view = AuditView(
            "BIC", verdict,
            "statistical, not a proof: " + (f"Bonferroni-corrected p = {s['p_value']:.3g} over "
                                            f"{s['deviations_tested']} tests")
            + ("" if s["p_t_non_increasing"] is None else
               f"; p_t non-increasing: {'yes' if s['p_t_non_increasing'] else 'no'}"),
            [f"largest expected gain {s['max_expected_gain']:.4g}, interval [{s['ci_low']:.4g}, {s['ci_high']:.4g}]",
             f"{s['types']} types x {s['samples']} draws of the others, seed {seed}"])
    view.seconds = time.perf_counter() - start
    return view
