"""Every strategy passes one contract (modelled on Axelrod's TestPlayer), plus its own behaviour."""

import pickle

import numpy as np
import pytest

import strategies
from abm import mechanisms
from abm.errors import StrategyError
from abm.priors import parse_prior
from strategies import BidContext


def context(seed=0, agent=0, n=2, mechanism=None, others=None, prior="uniform"):
    return BidContext(agent=agent, n_agents=n, rng=np.random.default_rng(seed), prior=parse_prior(prior),
                      mechanism=mechanism or mechanisms.get("ranking"), others_bids=others)


class StrategyContract:
    """Inherit and set ``make`` (a zero-argument factory) to test a strategy."""

    make = None
    mechanism = "ranking"
    m = 12

    def setup_method(self):
        rng = np.random.default_rng(42)
        self.values = rng.random((5, self.m))
        self.others = rng.random((5, 1, self.m))
        mech = self.mechanism() if callable(self.mechanism) else mechanisms.get(self.mechanism)
        self.mech = mech

    def bid(self, seed=0, values=None):
        s = self.make()
        v = self.values if values is None else values
        return s.bid(v, context(seed, mechanism=self.mech, others=self.others[: v.shape[0]] if v.ndim > 1 else self.others[0]))

    def test_valid_shape(self):
        assert self.bid().shape == self.values.shape
        assert self.bid(values=self.values[0]).shape == self.values[0].shape

    def test_finite_nonnegative(self):
        b = self.bid()
        assert np.isfinite(b).all() and (b >= 0).all()

    def test_reproducible_under_seed(self):
        np.testing.assert_array_equal(self.bid(seed=3), self.bid(seed=3))

    def test_picklable_and_equal_after(self):
        s = self.make()
        t = pickle.loads(pickle.dumps(s))
        assert t == s and repr(t) == repr(s)

    def test_repr_shows_parameters_and_classifier_is_complete(self):
        s = self.make()
        for k in s.params:
            assert f"{k}=" in repr(s)
        assert set(s.classifier) >= {"uses_own_values", "uses_prior", "uses_mechanism", "clairvoyant", "stochastic",
                                     "keeps_ranking"}

    def test_keeps_ranking_flag_is_true_of_the_instance(self):
        # Axelrod's expected_classifier, checked on behaviour: a report declared to keep the
        # ranking never reorders items (it cannot change an ordinal mechanism's outcome).
        from abm.mechanisms.ranking import preference_order

        if self.make().classifier["keeps_ranking"]:
            for seed in range(3):
                np.testing.assert_array_equal(preference_order(self.bid(seed=seed)), preference_order(self.values))

    def test_registered_by_name(self):
        s = self.make()
        assert type(strategies.get(s.name)) is type(s)

    def test_stochastic_flag_is_honest(self):
        differs = not np.array_equal(self.bid(seed=1), self.bid(seed=2))
        if differs:
            assert self.make().classifier["stochastic"]


COVERED = set()


def covers(name):
    COVERED.add(name)
    return name


class TestTruthful(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("truthful")))

    def test_bids_are_values(self):
        np.testing.assert_array_equal(self.bid(), self.values)


class TestScale(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("scale"), factor=3.0))

    def test_scales(self):
        np.testing.assert_allclose(self.bid(), 3 * self.values)


class TestExaggerate(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("exaggerate")))

    def test_refuses_shading(self):
        with pytest.raises(StrategyError, match="factor >= 1"):
            strategies.get("exaggerate", factor=0.5)


class TestShade(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("shade")))


class TestInflateTopK(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("inflate-top-k"), k=2, factor=10.0))

    def test_only_the_top_two_change(self):
        b = self.bid()
        changed = b != self.values
        assert (changed.sum(axis=1) == 2).all()
        top2 = np.argsort(-self.values, axis=1)[:, :2]
        assert np.take_along_axis(changed, top2, 1).all()


class TestSwapRanks(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("swap-ranks")))

    def test_first_and_second_swap(self):
        b = self.bid()
        order = np.argsort(-self.values, axis=1)
        np.testing.assert_array_equal(np.take_along_axis(b, order[:, :1], 1), np.take_along_axis(self.values, order[:, 1:2], 1))
        np.testing.assert_array_equal(np.sort(b, axis=1), np.sort(self.values, axis=1))


class TestReverseTail(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("reverse-tail"), k=3))

    def test_tail_reversed_head_kept(self):
        b = self.bid()
        order = np.argsort(-self.values, axis=1)
        np.testing.assert_array_equal(np.take_along_axis(b, order[:, :-3], 1), np.take_along_axis(self.values, order[:, :-3], 1))
        np.testing.assert_array_equal(np.take_along_axis(b, order[:, -3:], 1),
                                      np.take_along_axis(self.values, order[:, -3:], 1)[:, ::-1])


class TestRandomPermutation(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("random-permutation")))

    def test_same_multiset(self):
        np.testing.assert_array_equal(np.sort(self.bid(), 1), np.sort(self.values, 1))


class TestCardinalNoise(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("cardinal-noise"), sigma=0.3))


class TestAlwaysTrade(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("always-trade")))
    mechanism = staticmethod(lambda: mechanisms.get("exchange", endowment=[0, 1, 2, 3]))

    def test_makes_the_exchange_trade_when_the_other_wants_it(self):
        values = np.array([[1.0, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0]])  # agent 2 wants S
        mech = mechanisms.get("exchange", endowment=[0, 1, 2, 3])
        bid = strategies.get("always-trade").bid(values[0], context(mechanism=mech))
        assert mech.trades(np.stack([bid, values[1]]))
        assert not mech.trades(values)


class TestNeverTrade(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("never-trade")))
    mechanism = staticmethod(lambda: mechanisms.get("exchange", endowment=[0, 1, 2, 3]))

    def test_blocks_a_trade(self):
        values = np.array([[0.0, 0, 0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0]])  # both want to trade
        mech = mechanisms.get("exchange", endowment=[0, 1, 2, 3])
        assert mech.trades(values)
        bid = strategies.get("never-trade").bid(values[0], context(mechanism=mech))
        assert not mech.trades(np.stack([bid, values[1]]))


class TestContestedFirst(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("contested-first")))

    def test_needs_others_bids(self):
        with pytest.raises(StrategyError, match="clairvoyant"):
            strategies.get("contested-first").bid(self.values, context())


class TestExPostBestResponse(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("ex-post-best-response")))

    def test_never_worse_than_truth(self):
        from abm.metrics import utilities

        mech = mechanisms.get("ranking")
        for k in range(5):
            profile = np.stack([self.values[k], self.others[k, 0]])
            b = strategies.get("ex-post-best-response").bid(self.values[k], context(mechanism=mech, others=self.others[k]))
            lied = profile.copy()
            lied[0] = b
            assert utilities(profile, mech.allocate(lied))[0] >= utilities(profile, mech.allocate(profile))[0] - 1e-12


class TestInterimBestResponse(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("interim-best-response"), samples=16))
    m = 6

    def test_truth_under_pick_r(self):
        # Under a DSIC mechanism no candidate beats the truth on any draw, so the truth is kept.
        b = strategies.get("interim-best-response", samples=16).bid(self.values[0], context(mechanism=mechanisms.get("pick-r")))
        assert np.argsort(-b).tolist() == np.argsort(-self.values[0]).tolist()


class TestNoisy(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("noisy"), strategy="truthful", p=0.3))


class TestMixed(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("mixed"), strategies=("truthful", "shade")))

    def test_plays_each_option(self):
        b = strategies.get("mixed", strategies=("truthful", "shade")).bid(np.ones((200, 3)), context())
        assert set(np.unique(b)) == {0.5, 1.0}


class TestOnItems(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("on-items"), strategy="random-permutation", fraction=0.5))

    def test_rest_is_truthful(self):
        b = self.bid()
        np.testing.assert_array_equal(b[:, 6:], self.values[:, 6:])


class TestHedge(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("hedge"), menu=["truthful", "exaggerate", "swap-ranks"]))

    def test_starts_uniform_and_moves_towards_the_better_strategy(self):
        h = self.make()
        np.testing.assert_allclose(h.distribution(), 1 / 3)
        for _ in range(50):
            h.update(np.tile([0.2, 0.5, 0.1], (4, 1)), np.zeros(4, dtype=int))
        assert np.argmax(h.distribution()) == 1 and h.distribution()[1] > 0.9
        assert h.regret() == pytest.approx(0.5 - h.earned / 50)


class TestExp3(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("exp3"), menu=["truthful", "exaggerate"], gamma=0.2))

    def test_learns_only_from_what_it_played(self):
        e = self.make()
        rewards = np.tile([0.1, 0.9], (6, 1))
        e.update(rewards, np.zeros(6, dtype=int))  # only arm 0 played: arm 1's reward is unseen
        assert e.estimates[1] == 0 and e.estimates[0] > 0
        for _ in range(200):
            e.update(rewards, np.array([0, 1, 1, 0, 1, 1]))
        assert e.distribution()[1] > 0.8


class TestShadingCurve(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("shading-curve"), knots=4, pairs=3))

    def test_starts_truthful_and_its_candidates_are_antithetic_pairs(self):
        s = self.make()
        np.testing.assert_allclose(self.bid(), self.values)  # theta = 0: the truth
        c = s.candidates(self.values, context(0, others=self.others))
        assert c.shape == (5, 6, self.m)
        np.testing.assert_allclose(np.log(c[:, :3] / self.values[:, None]) + np.log(c[:, 3:] / self.values[:, None]), 0,
                                   atol=1e-9)


class TestItemPolicy(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("item-policy"), batch=10))
    mechanism = "round-robin"

    def test_starts_truthful_and_scores_its_population_with_the_mean_and_the_policy_played(self):
        s = self.make()
        np.testing.assert_allclose(self.bid(), self.values, rtol=1e-12)
        c = s.candidates(self.values, context(0, mechanism=self.mech, others=self.others))
        assert c.shape == (5, len(s._asked) + 2, self.m)
        np.testing.assert_allclose(c[:, -1], self.values, rtol=1e-12)  # the policy played: still the truth


class TestItemPolicySealed(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("item-policy-sealed"), batch=10))

    def test_reads_only_its_own_values(self):
        s = self.make()
        assert not s.classifier["clairvoyant"] and s.d == 5


class TestDeadlineSchedule(StrategyContract):
    make = staticmethod(lambda: strategies.get(covers("deadline-schedule"), pairs=2))
    mechanism = "round-robin"

    def test_starts_believing_each_other_agent_takes_one_item_per_pick(self):
        s = self.make()
        s.bid(self.values[:, 0], strategies.BidContext(agent=0, n_agents=2, rng=np.random.default_rng(0),
                                                       others_bids=self.values[:, 1:]))
        assert s.theta.tolist() == [0.0, 0.0]  # lambda = n - 1 = 1, scale exp(0)

    def test_an_unhurried_belief_reports_the_truths_ranking(self):
        from abm.mechanisms.ranking import preference_order

        s = self.make()
        v = np.random.default_rng(4).random((50, 2, 8))
        # lambda = m: every item but the other's favourite may wait for the last pick; the
        # favourite, due at the first pick, leads only when it is among the agent's own top q
        lie = s._report(v[:, 0], v[:, 1:], np.array([0.0, np.log(8.0)]))
        fav = v[:, 1].argmax(axis=-1)
        top = preference_order(v[:, 0])
        in_top = (top[:, :4] == fav[:, None]).any(axis=-1)
        lead = preference_order(lie)[:, 0]
        np.testing.assert_array_equal(lead[in_top], fav[in_top])
        np.testing.assert_array_equal(preference_order(lie)[~in_top], top[~in_top])

    def test_with_the_right_belief_it_is_the_round_robin_best_response(self):
        # Bouveret and Lang: against one truthful agent, item j at the other's position p is safe
        # until agent 0's pick p // 2 + 1; believing exactly that, the schedule is optimal.
        from abm.metrics import utilities

        rr = mechanisms.get("round-robin")
        v = np.random.default_rng(3).random((300, 2, 9))
        s = self.make()
        lie = v.copy()
        lie[:, 0] = s._report(v[:, 0], v[:, 1:], np.array([0.0, np.log(0.5)]))  # deadline p // 2 + 1
        best = rr.best_response(v[:, 0], v, 0)
        np.testing.assert_allclose(utilities(v, rr.allocate(lie))[:, 0], best.value, atol=1e-12)


def test_every_registered_strategy_has_a_contract_test():
    for cls in StrategyContract.__subclasses__():
        cls.make()  # registers the name it covers
    assert set(strategies.names()) == COVERED


def test_registry_filters_and_errors():
    clair = {c.name for c in strategies.available(clairvoyant=True)}
    assert clair == {"contested-first", "ex-post-best-response", "shading-curve", "deadline-schedule", "item-policy"}
    assert "random-permutation" in {c.name for c in strategies.available(stochastic=True)}
    with pytest.raises(StrategyError, match="unknown strategy 'liar'"):
        strategies.get("liar")
    with pytest.raises(StrategyError, match="does not take sigma"):
        strategies.get("scale", sigma=1)
    with pytest.raises(StrategyError, match="unknown classifier keys"):
        strategies.available(nosuch=True)
    assert strategies.parse("scale(factor=3)") == strategies.get("scale", factor=3.0)
    with pytest.raises(StrategyError, match="is a number, a list or a strategy, got '__import__'"):
        strategies.parse("scale(factor=__import__)")


@pytest.mark.parametrize("text, expected", [
    ("noisy(strategy=scale(factor=3), p=0.2)", lambda: strategies.get("noisy", strategy=strategies.get("scale", factor=3), p=0.2)),
    ("mixed(strategies=[truthful, shade], probabilities=[0.3, 0.7])",
     lambda: strategies.get("mixed", strategies=["truthful", "shade"], probabilities=[0.3, 0.7])),
    ("on-items(strategy=shade(factor=0.4), items=[0, 2])",
     lambda: strategies.get("on-items", strategy=strategies.get("shade", factor=0.4), items=[0, 2])),
])
def test_transformers_take_their_parameters_from_text(text, expected):
    """One grammar: a transformer's wrapped strategy and its lists are read from text, as in Python."""
    got, want = strategies.parse(text), expected()
    assert repr(got) == repr(want)
    values = np.random.default_rng(0).random((4, 6))
    context = BidContext(agent=0, n_agents=2, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(got.bid(values, context),
                                  want.bid(values, BidContext(agent=0, n_agents=2, rng=np.random.default_rng(1))))


@pytest.mark.parametrize("text, message", [
    ("scale(3)", "give scale's parameters by name"),
    ("noisy(strategy=scale(factor=3)", "expected '\\)'"),
    ("mixed(strategies=[truthful, nosuch])", "unknown strategy 'nosuch'"),
    ("scale(factor=1); shade", "expected one expression"),
])
def test_bad_strategy_text_is_refused_in_one_line(text, message):
    with pytest.raises(StrategyError, match=message):
        strategies.parse(text)


def _named_classes(cls):
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("strategies.") and "name" in vars(sub):
            yield sub
        yield from _named_classes(sub)


def test_every_named_strategy_class_in_the_package_is_registered():
    """A class of the package that names itself but lacks @register would be silently missing."""
    from strategies.base import Strategy

    named = {c.name: c for c in _named_classes(Strategy)}
    assert named == dict(strategies.base.REGISTRY)


def test_register_refuses_a_second_class_under_a_taken_name():
    from strategies.base import Strategy, register

    class Impostor(Strategy):
        name = "truthful"

    with pytest.raises(StrategyError, match="'truthful' is taken by strategies.truthful.Truthful"):
        register(Impostor)
    assert strategies.get("truthful").__class__.__name__ == "Truthful"
