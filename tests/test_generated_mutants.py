"""Mutants nobody chose: Cosmic Ray's operators on the lines the DSIC rules run, judged by
enumeration and audited at the zoo's budget. The full run is `tfd audit mutants --generated`
(README); here a seeded sample, and the pieces one by one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from abm.cli import main
from abm.mutants import generated as G


@pytest.fixture(scope="module")
def mutants():
    return G.generate()


def test_mutants_are_generated_on_the_lines_the_rules_run(mutants):
    assert len(mutants) > 500 and mutants == G.generate()  # the same list every time
    lines = {r.label: G.traced_lines(r) for r in G.RULES}
    for m in mutants:
        assert m.rules and all(m.line in lines[label] for label in m.rules)
    assert {m.module for m in mutants} == {"abm.mechanisms.picking", "abm.mechanisms.menus", "abm.mechanisms.presets"}
    ops = {m.operator.split("/")[1].split("_")[0] for m in mutants}
    assert {"ReplaceBinaryOperator", "ReplaceComparisonOperator", "NumberReplacer"} <= ops


def test_a_mutant_loads_privately_and_changes_one_line(mutants):
    import abm.mechanisms.picking as original

    m = next(m for m in mutants if m.module == "abm.mechanisms.picking" and "Sub_BitAnd" in m.operator
             and m.line == 90)
    mod, changed = G.load(m)
    assert mod is not original and mod.PickR is not original.PickR and "row.shape[-1] & k" in changed
    assert "abm.mechanisms.picking__mutant" not in __import__("sys").modules


def test_ground_truth_tells_the_kinds_apart(mutants):
    """A tie-only flaw lives in a cardinal rule (picking's size at the cut): an ordinal rule is shown
    strict rankings only, so Pick-r's own code can no longer hold one."""
    import abm.mechanisms.menus as original
    import abm.mechanisms.picking as pick_original

    rng = np.random.default_rng(0)
    picking = G._BY_LABEL["picking"]
    ties = next(m for m in mutants if m.module.endswith("menus") and m.line == 117 and "Sub_BitAnd" in m.operator
                and m.occurrence == 4)
    assert G.ground_truth(picking, G.load(ties)[0], original, rng)[0] == "manipulable only with ties"
    assert G.ground_truth(G._BY_LABEL["pick-r"], pick_original, pick_original, rng)[0] == "equivalent"


def test_a_sample_is_judged_and_audited_with_no_false_proof():
    frame, s = G.run_generated(n_items=30, profiles=60, seed=5, workers=1, sample=10)
    assert s["mutants_run"] == 10 and s["mutant_rule_pairs"] == len(frame) >= 10
    assert s["discarded"] + s["still_truthful"] + s["manipulable"] + s["manipulable_only_with_ties"] == len(frame)
    assert s["caught"] + s["missed"] + s["no_lie_at_audited_size"] == s["manipulable"] and s["false_proofs"] == 0
    assert set(frame.outcome) <= {"caught", "missed", "no lie at the audited size", "not audited", "discarded"}


def test_cli_generated_sample(capsys):
    assert main(["audit", "mutants", "--generated", "--sample", "4", "--items", "20", "--profiles", "30",
                 "--workers", "1", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["mutants_run"] == 4 and {"generated", "discarded", "still_truthful", "manipulable", "caught",
                                      "false_proofs", "kill_rate"} <= set(s)


def test_the_audit_refuses_a_rule_that_reads_across_the_batch():
    from planted import ReadsTheBatch

    from abm.audit import dsic_audit
    from abm.errors import MechanismError

    with pytest.raises(MechanismError, match="alone but to agent .* in a batch"):
        dsic_audit(ReadsTheBatch(), "uniform", 2, 6, profiles=10, seed=0)
