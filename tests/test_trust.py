"""The proof sources: a catalogue oracle proves only on the code it was verified against.

``abm/audit/verified_oracles.json`` records the fingerprints of the catalogue code whose
oracles passed :func:`abm.audit.catalogue.verify_oracle`; the first test fails whenever that
record and the code disagree (after an edit to a rule or its oracle, run
``python -m abm.audit.catalogue --write``, which verifies again before it records)."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

import numpy as np
import pytest

from abm import mechanisms
from abm.audit import catalogue, dsic_audit, trust
from abm.mechanisms import PickR, RoundRobin


def test_every_catalogue_oracle_runs_on_code_recorded_as_verified():
    stale = catalogue.stale()
    assert not stale, (f"not verified on this code: {', '.join(stale)}; run python -m abm.audit.catalogue --write "
                       "(it verifies each oracle against enumeration before recording it)")


def test_the_record_holds_only_verified_code():
    """Every fingerprint recorded belongs to a catalogue mechanism whose oracle meets enumeration."""
    names = {name: (mech, n, m) for name, mech, n, m in catalogue.catalogue()}
    recorded = {v.split(" (")[0] for v in trust.VERIFIED.values()}
    assert recorded == set(names)
    for name in sorted(recorded)[:4]:  # the contract tests verify every one; a few here, for the record's sake
        mech, n, m = names[name]
        assert catalogue.verify_oracle(mech, n, m, trials=6) is None, name


class QuotaHelper(PickR):
    def quotas(self, n_agents, n_items):
        return super().quotas(n_agents, n_items)


class SlowerPicks(RoundRobin):
    VECTORIZE_FROM = 10**9  # a class constant the rule reads: part of the code verified


def test_the_fingerprint_follows_the_code_the_rule_runs():
    base = trust.fingerprint(PickR())
    assert trust.fingerprint(mechanisms.get("pick-r", r=[0.2, 0.8])) == base  # parameters are not code
    assert trust.fingerprint(QuotaHelper()) != base  # a helper the rule calls, redefined
    assert trust.fingerprint(SlowerPicks()) != trust.fingerprint(RoundRobin())
    assert trust.basis(QuotaHelper()).oracle == "claimed"


def test_a_generated_mutant_has_no_verified_code():
    """A module executed from text (as the zoo loads its mutants) has no source to fingerprint,
    even when its text is the catalogue's own, word for word."""
    module = importlib.import_module("abm.mechanisms.picking")
    text = Path(module.__file__).read_text()
    clone = types.ModuleType("abm.mechanisms.picking__clone")
    clone.__file__ = module.__file__
    clone.__package__ = "abm.mechanisms"
    import sys

    sys.modules[clone.__name__] = clone
    try:
        exec(compile(text, "<mutant clone>", "exec"), clone.__dict__)  # noqa: S102 - our own module's text
    finally:
        del sys.modules[clone.__name__]
    mech = clone.PickR([0.5, 0.5])
    assert trust.fingerprint(mech) is None and trust.basis(mech).oracle == "claimed"
    s = dsic_audit(mech, "uniform", 2, 20, profiles=10, seed=0).summary
    assert s["proof"]["oracle"] == 0 and s["proof"]["claimed"] == 20 and not s["exact"]


def test_a_composition_is_verified_only_when_every_part_is():
    class GreedyPicker(mechanisms.Picking):
        def chosen(self, mine):
            return super().chosen(mine)

    ok = mechanisms.Composition([mechanisms.Component((0, 1, 2), mechanisms.Picking(0, sizes=[1])),
                                 mechanisms.Component((3, 4, 5), mechanisms.Exchange([0]))])
    bad = mechanisms.Composition([mechanisms.Component((0, 1, 2), GreedyPicker(0, sizes=[1])),
                                  mechanisms.Component((3, 4, 5), mechanisms.Exchange([0]))])
    assert trust.basis(ok).oracle == "verified"
    proof = trust.basis(bad)
    assert proof.oracle == "claimed" and "a part" in proof.note


@pytest.mark.parametrize("name", ["pick-r", "ranking", "round-robin"])
def test_ordinal_rules_see_rankings_only(name):
    """The catalogue's ordinal rules allocate any report exactly as its canonical ranking."""
    mech = mechanisms.get(name)
    rng = np.random.default_rng(3)
    bids = rng.random((40, 3, 9)) ** rng.uniform(0.1, 10, (40, 3, 1)) * 10.0 ** rng.integers(-300, 300, (40, 3, 1))
    bids[::4] = np.round(bids[::4], 1)  # ties: the canonical ranking puts the lowest item first
    m = bids.shape[-1]
    position = np.argsort(np.argsort(-bids, axis=-1, kind="stable"), axis=-1, kind="stable")  # written apart
    np.testing.assert_array_equal(mech.allocate(bids), mech.allocate((m - position).astype(float)))
