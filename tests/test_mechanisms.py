"""Properties of the mechanism core, checked against literal implementations (tests/reference.py)."""

import functools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import reference
from abm import mechanisms
from abm.errors import MechanismError, TfdError
from abm.mechanisms import quotas, r_from_s, resolve_r, s_from_r
from abm.priors import parse_prior

sizes = st.tuples(st.integers(1, 5), st.integers(1, 30))
# Small integer bids make ties common, which is where tie-breaking bugs hide.
int_bids = st.integers(0, 4).map(float)


@st.composite
def bid_matrix(draw, batch=False):
    n, m = draw(sizes)
    shape = (draw(st.integers(1, 4)), n, m) if batch else (n, m)
    elements = draw(st.sampled_from([int_bids, st.floats(0, 1, allow_nan=False)]))
    return draw(arrays(float, shape, elements=elements))


@st.composite
def share_vector(draw, n):
    w = np.array(draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=float)
    if w.sum() == 0:
        w[-1] = 1
    return w / w.sum()


@functools.cache
def build(name):
    """A registered mechanism on the uniform prior with its defaults, or else its own example's other
    parameters (one instance per name: presets compute their shares once per n)."""
    try:
        return mechanisms.get(name, prior="uniform")
    except MechanismError:
        params = {k: v for k, v in mechanisms.get_class(name).info.example.params.items() if k != "prior"}
        return mechanisms.get(name, prior="uniform", **params)


def _any_size(name) -> bool:
    """Whether the mechanism takes any number of agents and items (the shapes Hypothesis draws)."""
    try:
        mech = build(name)
        for n in range(1, 5):
            mech.check_agents(n)
        mech.allocate(np.ones((1, 2, 9)))
        return True
    except TfdError:  # two agents only, fixed items, or a prior of another kind
        return False


#: every registered mechanism that takes any n and m: the shapes below are Hypothesis's, not ours
ALL = [info.name for info in mechanisms.available() if _any_size(info.name)]
ORDINAL = [name for name in ALL if mechanisms.get_class(name).info.ordinal]


def test_the_any_size_mechanisms_are_found_in_the_registry():
    assert {"pick-r", "qt-s", "ranking", "serial-dictatorship", "round-robin", "welfare-max"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
@given(bids=bid_matrix(batch=True))
def test_every_item_goes_to_exactly_one_agent(name, bids):
    owner = build(name).allocate(bids)
    assert owner.shape == bids.shape[:1] + bids.shape[2:]
    assert owner.dtype == np.int64
    assert ((owner >= 0) & (owner < bids.shape[1])).all()


@pytest.mark.parametrize("name", ALL)
@given(bids=bid_matrix(batch=True))
def test_batch_equals_one_instance_at_a_time(name, bids):
    mech = build(name)
    together = mech.allocate(bids)
    apart = np.stack([mech.allocate(b) for b in bids])
    np.testing.assert_array_equal(together, apart)


@given(data=st.data())
def test_pick_r_gives_agent_i_exactly_t_i_items(data):
    bids = data.draw(bid_matrix(batch=True))
    n, m = bids.shape[-2:]
    r = data.draw(share_vector(n))
    mech = mechanisms.get("pick-r", r=r)
    owner = mech.allocate(bids)
    exact = mech.shares(n)  # the decimal shares, the last taking exactly the rest
    t = quotas(exact, m)
    assert t.sum() == m and (t == quotas(r, m)).all()
    for i in range(n):
        assert ((owner == i).sum(axis=-1) == t[i]).all()
        assert t[i] in (math.floor(exact[i] * m), math.ceil(exact[i] * m))  # Definition 3.4's note


@given(data=st.data())
def test_pick_r_matches_definition_3_4(data):
    """Shares computed as k_i / sum(k) in floats mean the fractions k_i / sum(k): the reference
    gets those fractions, the mechanism the floats."""
    from fractions import Fraction

    bids = data.draw(bid_matrix())
    n = bids.shape[0]
    k = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n).filter(any))
    meant = [Fraction(x, sum(k)) for x in k]
    floats = [x / sum(k) for x in k]
    np.testing.assert_array_equal(mechanisms.get("pick-r", r=floats).allocate(bids), reference.pick_r(bids, meant))


def test_float_shares_are_the_fractions_meant():
    """Seeded: 1,500 share vectors k_i / sum(k) in floats give Definition 3.4's quotas on the fractions
    k_i / sum(k) at every m up to 60 (reading floats by their decimal text broke 86 of them)."""
    from fractions import Fraction

    rng = np.random.default_rng(23)
    for _ in range(1500):
        k = rng.integers(0, 30, rng.integers(2, 6))
        if k.sum() == 0:
            continue
        floats = (k / k.sum()).tolist()
        m = int(rng.integers(1, 61))
        cum = np.cumsum([Fraction(int(x), int(k.sum())) for x in k])
        want = np.diff([0] + [math.floor(m * c) for c in cum])
        assert mechanisms.get("pick-r", r=floats).quotas(len(k), m).tolist() == want.tolist(), (k, m)


@given(bids=bid_matrix())
def test_ranking_matches_algorithm_1(bids):
    np.testing.assert_array_equal(mechanisms.get("ranking").allocate(bids), reference.ranking(bids))


@given(bids=bid_matrix())
def test_round_robin_matches_its_definition(bids):
    np.testing.assert_array_equal(mechanisms.get("round-robin").allocate(bids), reference.round_robin(bids))


@given(data=st.data())
def test_qt_s_matches_definition_3_5(data):
    bids = data.draw(bid_matrix())
    n = bids.shape[0]
    s = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    s[-1] = 1.0
    bids = np.clip(bids, 0, 1)
    got = mechanisms.get("qt-s", prior="uniform", s=s).allocate(bids)
    np.testing.assert_array_equal(got, reference.qt_s(bids, s))


@given(bids=bid_matrix(batch=True))
def test_serial_dictatorship_is_pick_1_0_0(bids):
    n = bids.shape[1]
    r = np.zeros(n)
    r[0] = 1
    sd = mechanisms.get("serial-dictatorship").allocate(bids)
    np.testing.assert_array_equal(sd, mechanisms.get("pick-r", r=r).allocate(bids))
    assert (sd == 0).all()


@given(bids=bid_matrix(batch=True))
def test_ranking_and_welfare_max_break_agent_ties_alike(bids):
    # Identical rows tie on every item under both rules: the lowest agent index wins.
    same = np.repeat(bids[:, :1, :], bids.shape[1], axis=1)
    for name in ("ranking", "welfare-max"):
        assert (mechanisms.get(name).allocate(same) == 0).all()
    # Ranking is welfare maximization on rank scores, with the same agent tie rule.
    scores = bids.shape[-1] - mechanisms.ranks(bids)
    np.testing.assert_array_equal(mechanisms.get("ranking").allocate(bids),
                                  mechanisms.get("welfare-max").allocate(scores))


@given(data=st.data())
def test_ranking_orders_nearly_equal_bids_exactly(data):
    # Bids a few ulps apart share their leading bits, the rare path of the packed-key sort.
    n, m = data.draw(sizes)
    base = data.draw(st.sampled_from([0.3, 1.0, 7.5, 1e-300]))
    steps = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n * m, max_size=n * m)))
    bids = base + steps.reshape(n, m) * np.spacing(base)
    np.testing.assert_array_equal(mechanisms.get("ranking").allocate(bids), reference.ranking(bids))


def test_negative_zero_ranks_like_zero():
    np.testing.assert_array_equal(mechanisms.ranks(np.array([[0.0, -0.0, 1.0]])), [[1, 2, 0]])


def test_within_agent_ties_rank_lowest_item_first():
    np.testing.assert_array_equal(mechanisms.ranks(np.array([[1.0, 2.0, 1.0, 2.0]])), [[2, 0, 3, 1]])
    # Pick-1/4 of 4 items: agent 0 takes one of its two top items, the lower index.
    owner = mechanisms.get("pick-r", r=[0.25, 0.75]).allocate(np.array([[1.0, 2.0, 1.0, 2.0], [0, 0, 0, 0]]))
    np.testing.assert_array_equal(owner, [1, 0, 1, 1])


def test_quota_rounding_follows_the_definition_not_floating_error():
    # 0.29 * 100 is 28.999999999999996 in floating point; Definition 3.4 means 29.
    np.testing.assert_array_equal(quotas(resolve_r([0.29], 2), 100), [29, 71])
    np.testing.assert_array_equal(quotas(resolve_r([0.5, 0.5], 2), 3), [1, 2])


@given(data=st.data())
def test_lemma_3_6_s_and_r_maps_are_inverse(data):
    r = data.draw(share_vector(data.draw(st.integers(1, 6))))
    s = s_from_r(r)
    assert s[-1] == 1.0 and ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(r_from_s(s), r, atol=1e-12)


def test_qt_s_accepts_r_through_lemma_3_6():
    bids = np.random.default_rng(0).random((50, 3, 40))
    a = mechanisms.get("qt-s", prior="uniform", r=[0.2, 0.3, 0.5]).allocate(bids)
    b = mechanisms.get("qt-s", prior="uniform", s=s_from_r([0.2, 0.3, 0.5])).allocate(bids)
    np.testing.assert_array_equal(a, b)


def test_qt_s_uses_each_agents_own_cdf():
    prior = parse_prior("uniform; uniform(scale=2)")
    # Agent 0 bids 0.9 (quantile 0.9 under U[0,1]); agent 1's 0.9 would be quantile 0.45 under U[0,2].
    owner = mechanisms.get("qt-s", prior=prior, s=[0.5, 1]).allocate(np.array([[0.9, 0.1], [0.9, 0.1]]))
    np.testing.assert_array_equal(owner, [0, 1])


@pytest.mark.parametrize("bids, message", [
    (np.array([[np.nan, 1.0], [1.0, 2.0]]), "NaN"),
    (np.array([[np.nan, -1.0], [1.0, 2.0]]), "NaN"),
    (np.array([[np.inf, 1.0], [1.0, 2.0]]), "infinite"),
    (np.array([[-1.0, 1.0], [1.0, 2.0]]), "negative"),
    (np.ones(3), "shape"),
    (np.ones((2, 0)), "at least one"),
    (np.array([["a", "b"], ["c", "d"]]), "numeric"),
])
def test_bad_bids_raise_value_error_naming_the_problem(bids, message):
    with pytest.raises(ValueError, match=message):
        mechanisms.get("ranking").allocate(bids)


@pytest.mark.parametrize("params, message", [
    ({"r": [0.5, 0.6]}, "sum to 1"),
    ({"r": [-0.2, 1.2]}, "nonnegative"),
    ({"r": [0.2, 0.2, 0.6]}, "3 entries but there are 2 agents"),
    ({"r": "a,b"}, "comma-separated"),
])
def test_bad_r_is_refused(params, message):
    with pytest.raises(MechanismError, match=message):
        mechanisms.get("pick-r", **params).allocate(np.ones((2, 4)))


def test_unknown_mechanism_and_parameter_are_refused():
    with pytest.raises(MechanismError, match="unknown mechanism 'nope'; accepted: composition, exchange"):
        mechanisms.get("nope")
    with pytest.raises(MechanismError, match="ranking does not take r"):
        mechanisms.get("ranking", r=[1])
    with pytest.raises(MechanismError, match="needs the prior"):
        mechanisms.get("qt-s")


def test_every_mechanism_states_its_claim_and_kind():
    for info in mechanisms.available():
        assert info.claim in {"DSIC", "BIC under i.i.d. priors", "BIC under appendix A's conditions", "none"}
        assert isinstance(info.ordinal, bool) and info.reference
    claims = {i.name: i.claim for i in mechanisms.available()}
    assert claims["pick-r"] == "DSIC" and claims["ranking"].startswith("BIC") and claims["round-robin"] == "none"


@pytest.mark.parametrize("name", ORDINAL)
@given(bids=bid_matrix())
def test_ordinal_mechanisms_ignore_monotone_transforms(name, bids):
    mech = build(name)
    assert mech.info.ordinal
    # A strictly increasing map that stays strict in floating point: distinct values to 5, 7, 9, ...
    _, level = np.unique(bids, return_inverse=True)
    np.testing.assert_array_equal(mech.allocate(bids), mech.allocate(2.0 * level.reshape(bids.shape) + 5))


def test_ranks_are_exact_across_scatter_blocks():
    # m = 300,000 puts three rows in each scatter block, so six rows span two blocks.
    bids = np.round(np.random.default_rng(4).random((3, 2, 300_000)), 4)  # many exact ties
    expected = np.empty(bids.shape, dtype=np.int64)
    order = np.argsort(-bids, axis=-1, kind="stable")
    np.put_along_axis(expected, order, np.broadcast_to(np.arange(bids.shape[-1]), bids.shape), axis=-1)
    np.testing.assert_array_equal(mechanisms.ranks(bids), expected)


@given(bids=bid_matrix(batch=True))
def test_round_robin_paths_agree(bids):
    from abm.mechanisms.baselines import _round_robin, _round_robin_batch

    n, m = bids.shape[-2:]
    prefs = np.argsort(-bids, axis=-1, kind="stable")
    batched = _round_robin_batch(prefs)
    single = np.stack([_round_robin(p.tolist(), n, m) for p in prefs])
    np.testing.assert_array_equal(batched, single)


def test_round_robin_large_batches_use_the_vectorized_path_and_match_the_definition():
    bids = np.round(np.random.default_rng(12).random((40, 3, 9)), 1)  # ties included
    owner = mechanisms.get("round-robin").allocate(bids)
    assert bids.shape[0] >= mechanisms.RoundRobin.VECTORIZE_FROM
    np.testing.assert_array_equal(owner, np.stack([reference.round_robin(b) for b in bids]))


# -- Exact rules computed exactly--------------------------------------------------------------

def test_pick_r_quotas_follow_definition_3_4_exactly_on_the_shares_meant():
    from abm.mechanisms import quotas

    assert quotas([0.29, 0.71], 100).tolist() == [29, 71]
    assert quotas([0.29999999999, 0.70000000001], 10).tolist() == [2, 8]  # floor(2.9999999999) = 2
    assert quotas([0.3, 0.3, 0.4], 10).tolist() == [3, 3, 4]
    assert quotas([0.1] * 10, 10).tolist() == [1] * 10  # sums of 0.1 are exact in decimals
    assert mechanisms.get("pick-r").quotas(3, 3).tolist() == [1, 1, 1]  # equal shares are exactly 1/n
    assert mechanisms.get("pick-r", r="1/3,1/3,1/3").quotas(3, 3).tolist() == [1, 1, 1]
    assert mechanisms.get("pick-r", r=[1 / 3, 1 / 3, 1 / 3]).quotas(3, 3).tolist() == [1, 1, 1]  # the float 1/3 means 1/3
    assert mechanisms.get("pick-r", r="0.3333333333333333,0.3333333333333333,0.3333333333333334"
                          ).quotas(3, 3).tolist() == [0, 1, 2]  # text is exact as written
    assert mechanisms.get("pick-r", r=[2 / 3, 1 / 3, 0]).quotas(3, 12).tolist() == [8, 4, 0]
    assert mechanisms.get("pick-r", r=[1 / 6, 1 / 3, 1 / 2]).quotas(3, 12).tolist() == [2, 4, 6]
    assert mechanisms.from_spec(mechanisms.get("pick-r", r="1/3,2/3").spec()).quotas(2, 3).tolist() == [1, 2]
    for m in range(1, 60):
        for r1 in (0.01, 0.07, 0.29, 0.33, 0.5, 0.57, 0.99):
            assert quotas([r1, 1 - r1], m)[0] == (m * round(r1 * 100)) // 100


def test_the_exchange_never_trades_on_a_decimal_indifference():
    from fractions import Fraction

    ex = mechanisms.Exchange([1, 2])
    grid = [k / 10 for k in range(11)]
    rng = np.random.default_rng(0)
    bids = np.array(grid)[rng.integers(0, 11, (4000, 2, 3))]
    exact = lambda b, S: sum(Fraction(repr(float(x))) * (1 if j in S else -1) for j, x in enumerate(b))  # noqa: E731
    want = [(exact(b[0], {0}) > 0) and (exact(b[1], {1, 2}) > 0) for b in bids]
    np.testing.assert_array_equal(ex.trades(bids), want)
    assert not ex.trades(np.array([[0.9, 0.6, 0.3], [0.0, 1.0, 1.0]]))  # 0.9 = 0.6 + 0.3: no trade
