"""The full mechanism catalogue: picking menus, exchanges, compositions,
weighted ranking and the theory-driven presets."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import reference
from abm import mechanisms
from abm.errors import MechanismError
from abm.mechanisms import Component, Composition, Exchange, Picking, random_composition
from abm.metrics import rate
from abm.priors import parse_prior
from abm.theory import appendix_b_thresholds, optimal_pick_r, theorem_3_7_r, theorem_3_10_r


@st.composite
def two_agent_bids(draw, max_m=8, batch=False):
    m = draw(st.integers(1, max_m))
    shape = (draw(st.integers(1, 3)), 2, m) if batch else (2, m)
    elements = draw(st.sampled_from([st.integers(0, 3).map(float), st.floats(0, 1, allow_nan=False)]))
    return draw(arrays(float, shape, elements=elements))


def brute_force_pick(values_row, bundles):
    """The first bundle (in the given order) with the largest value."""
    vals = [sum(values_row[j] for j in b) for b in bundles]
    return bundles[int(np.argmax(vals))]


@given(data=st.data())
def test_picking_with_one_size_is_pick_r(data):
    bids = data.draw(two_agent_bids(batch=True))
    m = bids.shape[-1]
    k = data.draw(st.integers(0, m))
    picker = data.draw(st.integers(0, 1))
    got = Picking(picker, sizes=[k]).allocate(bids)
    order = [picker, 1 - picker]
    share = f"{k}/{m},{m - k}/{m}"  # exact shares: k/m as a float may sit just below k/m
    expected = np.asarray(order)[mechanisms.get("pick-r", r=share).allocate(bids[:, order, :])]
    np.testing.assert_array_equal(got, expected)


@given(data=st.data())
def test_picking_with_a_size_menu_takes_the_best_bundle_of_any_allowed_size(data):
    bids = data.draw(two_agent_bids())
    m = bids.shape[-1]
    sizes = sorted(data.draw(st.sets(st.integers(0, m), min_size=1, max_size=3)))
    owner = Picking(0, sizes=sizes).allocate(bids)
    got = [j for j in range(m) if owner[j] == 0]
    # Brute force over every bundle of an allowed size, smallest size first, then by the
    # preference order (lowest item index among equal bids) as documented.
    pref = reference.preference(bids[0])
    menu = [sorted(pref[:k]) for k in sizes]  # the best bundle of each size
    best = brute_force_pick(bids[0], menu)
    assert got == best
    assert sum(bids[0][j] for j in got) == pytest.approx(
        max(sum(bids[0][j] for j in c) for k in sizes for c in itertools.combinations(range(m), k)))


@given(data=st.data())
def test_picking_from_explicit_bundles(data):
    bids = data.draw(two_agent_bids())
    m = bids.shape[-1]
    bundles = data.draw(st.lists(st.sets(st.integers(0, m - 1)), min_size=1, max_size=5))
    bundles = [sorted(b) for b in bundles]
    owner = Picking(1, bundles=bundles).allocate(bids)
    assert [j for j in range(m) if owner[j] == 1] == brute_force_pick(bids[1], bundles)


@given(data=st.data())
def test_exchange_swaps_exactly_when_both_strictly_prefer(data):
    bids = data.draw(two_agent_bids())
    m = bids.shape[-1]
    S = sorted(data.draw(st.sets(st.integers(0, m - 1))))
    T = [j for j in range(m) if j not in S]
    owner = Exchange(S).allocate(bids)
    v1S, v1T = sum(bids[0][j] for j in S), sum(bids[0][j] for j in T)
    v2S, v2T = sum(bids[1][j] for j in S), sum(bids[1][j] for j in T)
    swap = v1T > v1S and v2S > v2T
    expected = [(1 if j in S else 0) if swap else (0 if j in S else 1) for j in range(m)]
    np.testing.assert_array_equal(owner, expected)


@given(data=st.data())
def test_a_composition_is_its_parts_on_their_components(data):
    bids = data.draw(two_agent_bids(max_m=12, batch=True))
    m = bids.shape[-1]
    comp = random_composition(m, np.random.default_rng(data.draw(st.integers(0, 10**6))))
    owner = comp.allocate(bids)
    for c in comp.components:
        idx = list(c.items)
        np.testing.assert_array_equal(owner[..., idx], c.mechanism.allocate(bids[..., idx]))


def test_random_compositions_partition_and_mix_both_kinds():
    rng = np.random.default_rng(0)
    kinds = set()
    for _ in range(200):
        comp = random_composition(20, rng, max_components=5)
        assert sorted(j for c in comp.components for j in c.items) == list(range(20))
        kinds |= {type(c.mechanism).__name__ for c in comp.components}
    assert kinds == {"Picking", "Exchange"}


def test_composition_refuses_non_partitions_and_other_mechanisms():
    with pytest.raises(MechanismError, match="partition"):
        Composition([Component((0, 1), Exchange([0])), Component((1, 2), Picking(0, sizes=[1]))])
    with pytest.raises(MechanismError, match="picking or exchange"):
        Composition([Component((0,), mechanisms.get("ranking"))])
    with pytest.raises(MechanismError, match="two-agent"):
        Exchange([0]).allocate(np.ones((3, 2)))


def test_weighted_ranking_coincides_with_ranking_for_identical_priors():
    bids = np.round(np.random.default_rng(1).random((30, 3, 40)), 2)  # with ties
    wr = mechanisms.get("weighted-ranking", prior="beta(a=2, b=5)")
    np.testing.assert_array_equal(wr.allocate(bids), mechanisms.get("ranking").allocate(bids))


def test_weighted_ranking_gives_each_agent_a_third_of_the_items():
    prior = "uniform; uniform(scale=2); beta(a=2, b=3)"
    values = parse_prior(prior).sample(np.random.default_rng(2), 3, 1000, batch=30)
    owner = mechanisms.get("weighted-ranking", prior=prior).allocate(values)
    for i in range(3):  # 99.9% Clopper-Pearson, Bonferroni over the three agents
        est = rate(owner.ravel() == i, confidence=1 - 0.001 / 3)
        assert est.ci_low <= 1 / 3 <= est.ci_high
    # Unit weights (plain virtual values) favour the agent whose prior has the largest values.
    unweighted = mechanisms.get("weighted-ranking", prior=prior, weights=[1, 1, 1]).allocate(values)
    assert rate(unweighted.ravel() == 1, confidence=0.999).ci_low > 0.45


def test_presets_use_the_theory_modules_shares():
    prior = "beta(a=2, b=5)"
    np.testing.assert_allclose(mechanisms.get("pick-optimal", prior=prior).r(3), optimal_pick_r(prior, 3).r)
    np.testing.assert_allclose(mechanisms.get("pick-equal-quota", prior=prior).r(4), theorem_3_10_r(prior, 4).r)
    t37 = mechanisms.get("pick-theorem-3-7", prior="beta(a=5, b=2)")
    assert t37.r(2, 10_000)[0] == pytest.approx(theorem_3_7_r("beta(a=5, b=2)", 10_000).r)
    assert t37.r(2, 100)[0] != t37.r(2, 10_000)[0]  # the fallback's r depends on m
    assert mechanisms.get("pick-universal").r(2)[0] == pytest.approx((2 - math.sqrt(2)) / 2, abs=1e-6)
    corr = mechanisms.get("pick-correlated", prior="copula(beta(a=2, b=5), uniform, rho=0.5)", eps=0.02)
    rule = appendix_b_thresholds("copula(beta(a=2, b=5), uniform, rho=0.5)", eps=0.02)
    bids = np.random.default_rng(3).random((2, 100))
    owner = corr.allocate(bids)
    assert rule.picker == 1 and (owner == 1).sum() == math.floor(100 * rule.share + 1e-9)
    # the picker takes its favourite items
    assert bids[1][owner == 1].min() >= bids[1][owner == 0].max()


@pytest.mark.parametrize("params, message", [
    ({"sizes": [3], "bundles": [[0]]}, "not both"),
    ({}, "sizes .* or as bundles"),
    ({"sizes": [-1]}, "nonnegative whole"),
    ({"picker": 2, "sizes": [1]}, "picker must be 0 or 1"),
])
def test_bad_picking_menus_are_refused(params, message):
    with pytest.raises(MechanismError, match=message):
        Picking(**params)


def test_menu_size_beyond_the_items_is_refused():
    with pytest.raises(MechanismError, match="exceeds the 4 items"):
        Picking(0, sizes=[5]).allocate(np.ones((2, 4)))
