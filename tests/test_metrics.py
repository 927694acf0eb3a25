"""Welfare and fairness metrics against hand-worked examples and literal definitions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import reference
from abm import metrics


def test_hand_example():
    values = np.array([[3.0, 1.0, 2.0], [1.0, 4.0, 1.0]])
    owner = np.array([0, 1, 1])
    out = metrics.evaluate(values, owner)
    assert out["welfare"] == 3 + 4 + 1
    assert out["optimal_welfare"] == 3 + 4 + 2
    np.testing.assert_array_equal(out["utilities"], [3, 5])
    np.testing.assert_array_equal(out["envy"], [[3, 3], [1, 5]])
    assert out["ef"] and out["ef1"] and out["prop"]  # 3 >= 3: envy-free with equality


def test_envy_ef1_and_prop_failures():
    values = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    owner = np.array([1, 1, 1])  # agent 0 gets nothing
    out = metrics.evaluate(values, owner)
    assert not out["ef"] and not out["ef1"] and not out["prop"]
    out = metrics.evaluate(values, np.array([0, 1, 1]))  # 1 vs 2: not EF, but EF1
    assert not out["ef"] and out["ef1"]


@st.composite
def instance(draw):
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 12))
    values = draw(arrays(float, (n, m), elements=st.integers(0, 5).map(float)))
    owner = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)))
    return values, owner


@given(instance())
def test_metrics_match_literal_definitions(inst):
    values, owner = inst
    out = metrics.evaluate(values, owner)
    assert out["ef"] == reference.envy_free(values, owner)
    assert out["ef1"] == reference.ef1(values, owner)
    assert out["welfare"] == pytest.approx(sum(values[owner[j], j] for j in range(len(owner))))
    assert out["welfare"] <= out["optimal_welfare"] + 1e-9
    np.testing.assert_allclose(out["utilities"], metrics.utilities(values, owner))


def test_batched_metrics_equal_per_instance():
    rng = np.random.default_rng(0)
    values = rng.random((6, 3, 9))
    owner = rng.integers(0, 3, (6, 9))
    together = metrics.evaluate(values, owner)
    for k in range(6):
        alone = metrics.evaluate(values[k], owner[k])
        for key in ("welfare", "optimal_welfare", "ef", "ef1", "prop"):
            assert together[key][k] == pytest.approx(alone[key])


def test_welfare_ratio_is_a_ratio_of_sums_not_a_mean_of_ratios():
    est = metrics.welfare_ratio([1.0, 9.0], [2.0, 10.0])
    assert est.value == pytest.approx(10 / 12)


def test_welfare_ratio_interval_covers_at_its_nominal_rate():
    # 400 replications of a 200-instance estimate whose true ratio is known (E[W]/E[O] = 0.5/1).
    # A 90% interval should cover about 360 times; the 99.9% binomial range is 340..378.
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(400):
        o = rng.uniform(0.5, 1.5, 200)
        w = o * rng.uniform(0, 1, 200)
        covered += 0.5 in metrics.welfare_ratio(w, o, confidence=0.9)
    assert 340 <= covered <= 378


def test_rate_interval_is_clopper_pearson():
    est = metrics.rate([True] * 3 + [False] * 7)
    assert est.value == 0.3
    assert est.ci_low == pytest.approx(0.0667395, abs=1e-6) and est.ci_high == pytest.approx(0.6524529, abs=1e-6)
    zero = metrics.rate([False] * 50)
    assert zero.ci_low == 0 and zero.ci_high == pytest.approx(1 - 0.025 ** (1 / 50))


def test_the_welfare_ratio_interval_stays_in_its_range():
    from abm.metrics import welfare_ratio

    rng = np.random.default_rng(4)
    opt = rng.random(5) + 1
    est = welfare_ratio(opt * rng.uniform(0.5, 1.0, 5), opt, 0.99, upper=1.0)
    assert 0.0 <= est.ci_low <= est.value <= est.ci_high <= 1.0
    above = opt * rng.uniform(1.0, 1.2, 5)  # ratios above 1, spread: an interval of positive width
    unbounded = welfare_ratio(above, opt, 0.99)  # a ratio that may exceed 1 keeps its interval
    clipped = welfare_ratio(above, opt, 0.99, upper=1.0)
    assert unbounded.ci_high > unbounded.value > 1.0
    assert clipped.ci_high == 1.0 and clipped.ci_low == unbounded.ci_low


def test_transformers_are_stochastic_at_class_level_too():
    import strategies

    deterministic = {c.name for c in strategies.available(stochastic=False)}
    assert not deterministic & {"noisy", "mixed", "on-items"}


def test_mean_from_moments_is_mean_interval_without_the_rows():
    from abm.metrics import RunningMoments, mean_from_moments, mean_interval

    rng = np.random.default_rng(4)
    x = rng.normal(0.3, 2.0, size=(1000, 2))
    m = RunningMoments(2)
    for chunk in np.array_split(x, 7):  # merged chunk by chunk, as the model's steps are
        m.add(chunk)
    for j in range(2):
        a, b = mean_from_moments(m, j, 0.9), mean_interval(x[:, j], 0.9)
        assert (a.value, a.ci_low, a.ci_high) == pytest.approx((b.value, b.ci_low, b.ci_high), rel=1e-12)
    one = RunningMoments(1)
    one.add([[5.0]])
    assert mean_from_moments(one, 0).ci_low == -np.inf  # one observation: no interval, as mean_interval
