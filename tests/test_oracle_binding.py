"""An inherited oracle proves nothing about a subclass that changes any method the rule or its
oracle runs, helpers included (``Picking.chosen``, ``Exchange.trades``, ``PickR.quotas``): the
code's fingerprint is no longer one recorded as verified, so the oracle is a claim and such a
subclass is never certified exact. Redefining what takes no part in the rule keeps the oracle."""

import numpy as np
import pytest

from abm import mechanisms as M
from abm.audit import dsic_audit
from abm.mechanisms import Component, Composition, Exchange, Picking, PickR
from abm.audit.trust import basis, fingerprint
from abm.mechanisms.presets import PickOptimal


class GreedyPicker(Picking):
    """Only the helper changes: a picker who reports 0 on its last item also takes that item."""

    def chosen(self, mine):
        out = super().chosen(mine).copy()
        out[..., -1] |= mine[..., -1] == 0
        return out


class EagerExchange(Exchange):
    """Only the helper changes: the swap happens when agent 0 alone asks for it."""

    def trades(self, bids):
        return self.prefers_swap(bids[..., 0, :], 0)


class FlatQuota(PickR):
    """Only the helper changes: the first picker's quota doubles (quotas(n, m) is the rule's helper)."""

    def quotas(self, n_agents, n_items):
        t = super().quotas(n_agents, n_items).copy()
        extra = min(t[0], n_items - t[0])
        t[0] += extra
        t[-1] -= extra
        return t


class OptimalWithOtherQuotas(PickOptimal):
    def quotas(self, n_agents, n_items):
        return np.array([n_items] + [0] * (n_agents - 1))


class CompositionWithHelper(Composition):
    def exchanges(self):
        return []


M20 = 20
FAMILIES = {
    "picking": (GreedyPicker(0, sizes=[5]), 2, "uniform"),
    "exchange": (EagerExchange(list(range(0, M20, 2))), 2, "uniform"),
    "pick-r": (FlatQuota([0.3, 0.7]), 2, "uniform"),
    "preset": (OptimalWithOtherQuotas(prior="uniform"), 2, "uniform"),
    "composition of a changed part": (Composition([Component(tuple(range(10)), GreedyPicker(0, sizes=[3])),
                                                   Component(tuple(range(10, 20)), Exchange([0, 2, 4]))]), 2,
                                      "uniform"),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_a_subclass_that_changes_a_helper_is_never_certified_exact(family):
    mech, n, prior = FAMILIES[family]
    audit = dsic_audit(mech, prior, n, M20, profiles=20, budget=40, seed=5)
    s = audit.summary
    assert not s["exact"] and s["proof"]["oracle"] == 0 and s["proof"]["solver"] == 0, s["proof"]


@pytest.mark.parametrize("family", FAMILIES)
def test_the_changed_code_is_not_the_code_verified(family):
    mech = FAMILIES[family][0]
    proof = basis(mech)
    assert proof.oracle == "claimed" and "not the code any catalogue oracle was verified against" in proof.note


def test_a_method_replaced_on_the_object_unbinds_it_too():
    mech = Picking(0, sizes=[3])
    assert basis(mech).oracle == "verified"
    mech.chosen = lambda mine: np.ones(mine.shape, dtype=bool)
    assert fingerprint(mech) is None and basis(mech).oracle == "claimed"


def test_the_catalogue_keeps_its_oracles():
    for mech in (M.get("serial-dictatorship"), M.get("pick-optimal", prior="uniform"), M.get("pick-universal"),
                 M.get("pick-theorem-3-7", prior="uniform"), M.get("pick-equal-quota", prior="uniform"),
                 M.get("pick-r", r=[0.3, 0.7]), M.get("picking", picker=0, sizes=[2]), M.get("exchange", endowment=[0])):
        assert basis(mech).oracle == "verified", mech


class OnlyNotes(PickR):
    """Redefines what takes no part in the rule: the oracle still runs on verified code."""

    def notes(self, n_agents, n_items):
        return "my own notes"


def test_a_subclass_that_changes_nothing_the_rule_runs_keeps_the_proof():
    """Redefined notes, or a helper neither the rule nor the oracle calls (a composition's list
    of exchanges, read by the trade statistics only): the code that decides is the code verified."""
    assert fingerprint(OnlyNotes()) == fingerprint(PickR())
    s = dsic_audit(OnlyNotes([0.3, 0.7]), "uniform", 2, 30, profiles=20, seed=1).summary
    assert s["exact"] and s["proof"]["oracle"] == 40
    comp = CompositionWithHelper([Component(tuple(range(10)), Picking(0, sizes=[3])),
                                  Component(tuple(range(10, 20)), Exchange([0, 2]))])
    assert basis(comp).oracle == "verified"


def test_a_subclass_that_vouches_with_its_own_best_response_only_claims():
    class Vouched(GreedyPicker):
        def best_response(self, values, bids, agent):
            return Picking.best_response(self, values, bids, agent)

    assert basis(Vouched(0, sizes=[2])).oracle == "claimed"


class VouchedButFlawed(Picking):
    """Claims Picking's oracle as its own, while its rule gives the picker the last item too
    whenever it reports 0 there: the edit a mutation inside the oracle's own class makes."""

    best_response = Picking.best_response

    def _allocate(self, bids):
        owner = super()._allocate(bids).copy()
        owner[..., -1] = np.where(bids[..., self.picker, -1] == 0, self.picker, owner[..., -1])
        return owner


@pytest.mark.parametrize("m", [6, 50])
def test_an_oracle_on_edited_code_is_a_claim_and_the_search_refutes_it(m):
    mech = VouchedButFlawed(0, sizes=[2])
    s = dsic_audit(mech, "uniform", 2, m, profiles=40, seed=3).summary
    assert s["proof"]["oracle"] == 0 and not s["exact"] and s["violations"] > 0
