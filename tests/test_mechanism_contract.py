"""The contract every registered mechanism keeps, checked over ``mechanisms.available()``.

A mechanism is tested the moment it is registered: nothing here names one. Each runs on the
small instance its :class:`~abm.mechanisms.MechanismInfo` declares (``info.example``), on bids
with ties and zeros, and must

* allocate every item to one agent, a batch exactly as one profile at a time, and the same
  allocation every time (and after a round trip through its spec or a pickle);
* declare exactly the parameters its constructor takes, so the command line's flags and the
  explorer's parsing (both made from the declaration) say what it takes;
* answer ``restrict`` truthfully: the rule on all its items is the rule;
* hold the properties it declares (``ordinal``: the rule as written matches the rule as run, on
  rankings only, equal bids ranked lowest item first);
* have a structural oracle (when it has one) that agrees with enumeration of reports
  (:func:`abm.audit.catalogue.verify_oracle`), on code recorded as verified;
* give the explorer a prediction and a label per item.
"""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest

from abm import mechanisms
from abm.audit.catalogue import profiles, verify_oracle
from abm.audit.properties import canonical_ranking, check_batching, check_ordinal
from abm.audit.trust import basis
from abm.mechanisms.base import PARAM_KINDS
from abm.priors import parse_prior

INFOS = {info.name: info for info in mechanisms.available()}
NAMES = sorted(INFOS)


def _example(name):
    ex = INFOS[name].example
    return mechanisms.get(name, **ex.params), ex.agents, ex.items


_bids = profiles  # profiles with ties and zeros, as the oracles are verified on


def test_the_registry_is_not_empty_and_every_entry_is_a_mechanism():
    assert len(NAMES) >= 16
    for name in NAMES:
        assert issubclass(mechanisms.get_class(name), mechanisms.Mechanism), name


@pytest.mark.parametrize("name", NAMES)
class TestMechanismContract:

    def test_declares_what_its_constructor_takes(self, name):
        cls, info = mechanisms.get_class(name), INFOS[name]
        takes = set(inspect.signature(cls.__init__).parameters) - {"self", "prior"}
        assert set(info.parameters) == takes, f"{name} declares {sorted(info.parameters)}, takes {sorted(takes)}"
        assert all(p.kind in PARAM_KINDS and p.help for p in info.parameters.values())
        assert ("prior" in inspect.signature(cls.__init__).parameters) >= info.needs_prior
        assert info.claim in {mechanisms.Claim.DSIC, mechanisms.Claim.BIC_IID, mechanisms.Claim.BIC_APPENDIX_A,
                              mechanisms.Claim.NONE}

    def test_allocates_each_item_once_and_a_batch_as_one_profile_at_a_time(self, name):
        mech, n, m = _example(name)
        bids = _bids(np.random.default_rng(1), n, m, 9)
        owner = mech.allocate(bids)
        assert owner.shape == (9, m) and owner.dtype == np.int64 and ((owner >= 0) & (owner < n)).all()
        np.testing.assert_array_equal(owner, np.stack([mech.allocate(b) for b in bids]))
        check_batching(mech, bids, profiles=9)

    def test_is_deterministic_and_survives_its_spec_and_a_pickle(self, name):
        mech, n, m = _example(name)
        bids = _bids(np.random.default_rng(2), n, m, 6)
        owner = mech.allocate(bids)
        np.testing.assert_array_equal(owner, mech.allocate(bids.copy()))
        np.testing.assert_array_equal(owner, mechanisms.from_spec(mech.spec()).allocate(bids))
        np.testing.assert_array_equal(owner, pickle.loads(pickle.dumps(mech)).allocate(bids))

    def test_restrict_to_all_items_is_the_same_rule(self, name):
        mech, n, m = _example(name)
        whole = mech.restrict(np.arange(m))
        if whole is None:
            pytest.skip(f"{name} does not say how it restricts (witnesses are not shrunk over items)")
        assert type(whole) is type(mech)  # a subclass restricted stays that subclass: witnesses shrink the same rule
        bids = _bids(np.random.default_rng(3), n, m, 6)
        np.testing.assert_array_equal(whole.allocate(bids), mech.allocate(bids))
        part = mech.restrict(np.arange(m - 1))
        if part is not None:  # the rule on fewer items still allocates them
            assert part.allocate(bids[..., : m - 1]).shape == (6, m - 1)

    def test_holds_its_declared_properties(self, name):
        mech, n, m = _example(name)
        if "ordinal" not in mech.properties:
            pytest.skip(f"{name} declares no property")
        prior = parse_prior(INFOS[name].example.params.get("prior", "uniform"))
        values = prior.sample(np.random.default_rng(4), n, 12, batch=20)
        check = check_ordinal(mech, values, np.random.default_rng(5))
        assert check.declared and check.holds, check.detail
        # ties: equal bids of an agent rank lowest item index first, so the strict ranking is the same report
        bids = _bids(np.random.default_rng(6), n, m, 9)
        np.testing.assert_array_equal(mech.allocate(canonical_ranking(bids)), mech.allocate(bids))

    def test_oracle_agrees_with_enumeration(self, name):
        mech, n, m = _example(name)
        if mech.best_response(np.ones((1, m)), np.ones((1, n, m)), 0) is None:
            pytest.skip(f"{name} has no structural oracle")
        assert verify_oracle(mech, n, m) is None
        proof = basis(mech)
        assert proof.oracle == "verified", proof.note

    def test_answers_the_explorer(self, name):
        mech, n, m = _example(name)
        prior = parse_prior(INFOS[name].example.params.get("prior", "uniform"))
        value, label = mech.prediction(prior, n, m)
        assert isinstance(label, str) and label
        assert value is None or 0 < float(value) <= 1
        bids = _bids(np.random.default_rng(8), n, m, 3)[2]
        owner = mech.allocate(bids)
        labels, caption = mech.instance_labels(bids, owner)
        assert np.asarray(labels).shape == (m,) and isinstance(caption, str) and caption
        if caption.startswith("pick number"):  # a picking sequence: each pick is the favourite remaining
            assert sorted(np.asarray(labels).tolist()) == list(range(1, m + 1))
            taken = np.zeros(m, bool)
            for item in np.argsort(labels):
                remaining = np.flatnonzero(~taken)
                assert item == remaining[np.argmax(bids[owner[item], remaining])], (name, bids.tolist())
                taken[item] = True
