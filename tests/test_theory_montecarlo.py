"""Monte Carlo cross-checks of the theory module, each within a stated confidence interval.

QT-s is used where the prediction is exact at every m (its welfare is m times the
per-item value, Lemma 3.6's proof), so no o(1) term enters the tolerance. Intervals are
99.9%, Bonferroni-corrected where several are checked at once; seeds are fixed.
"""

import math

import numpy as np
import scipy.stats as st

from abm import mechanisms
from abm.metrics import envy_matrix, rate, welfare_ratio
from abm.priors import parse_prior
from abm.theory import (
    alpha_qt_s, appendix_b_thresholds, bai_golz_weights, coupling_bound, ef_margins, optimal_pick_r,
    universal_thresholds,
)
from abm.mechanisms import s_from_r

Z = st.norm.ppf(1 - 0.001 / 2)


def simulate_qt_s(prior, s, n, m, instances, seed):
    values = parse_prior(prior).sample(np.random.default_rng(seed), n, m, batch=instances)
    owner = mechanisms.get("qt-s", prior=prior, s=s).allocate(values)
    return values, owner


def test_alpha_of_the_optimal_rule_matches_simulated_qt_s():
    prior = "beta(a=2, b=5)"
    o = optimal_pick_r(prior, 3)
    values, owner = simulate_qt_s(prior, o.s, 3, 500, 400, seed=21)
    w = np.take_along_axis(values, owner[:, None, :], axis=1)[:, 0, :].sum(-1)
    est = welfare_ratio(w, values.max(axis=1).sum(-1), confidence=0.999)
    assert est.ci_low <= o.alpha <= est.ci_high
    assert est.ci_high - est.ci_low < 0.01  # the check has teeth


def test_alpha_on_the_hard_instance_matches_simulated_qt_s():
    prior = "hard(p=0.05, delta=0.01)"
    s = s_from_r([(2 - math.sqrt(2)) / 2, math.sqrt(2) / 2])
    values, owner = simulate_qt_s(prior, s, 2, 500, 600, seed=22)
    w = np.take_along_axis(values, owner[:, None, :], axis=1)[:, 0, :].sum(-1)
    est = welfare_ratio(w, values.max(axis=1).sum(-1), confidence=0.999)
    assert est.ci_low <= alpha_qt_s(prior, s) <= est.ci_high


def test_ef_margins_are_the_per_item_expected_envy_gaps():
    # Appendix D: under QT-s, E[v_i(A_i) - v_i(A_j)] / m is exactly Lemma 3.6's margin.
    prior, r = "beta(a=2, b=5)", np.array([0.2, 0.3, 0.5])
    margins = ef_margins(prior, r)
    values, owner = simulate_qt_s(prior, s_from_r(r), 3, 400, 400, seed=23)
    E = envy_matrix(values, owner) / 400
    z = st.norm.ppf(1 - 0.001 / (2 * 6))  # six ordered pairs
    for i in range(3):
        for j in range(3):
            if i != j:
                gap = E[:, i, i] - E[:, i, j]
                se = gap.std(ddof=1) / math.sqrt(gap.size)
                assert abs(gap.mean() - margins[i, j]) <= z * se, (i, j)


def test_universal_thresholds_worst_case_is_reached_on_a_smoothed_step_prior():
    u = universal_thresholds(3, lp_cells=100)
    w = u.worst_w
    # The worst prior is a step of mass w; smooth it into two narrow uniforms (width 1e-3).
    prior = f"mixture([uniform(scale=0.001), uniform(loc=1, scale=0.001)], weights=[{1 - w!r}, {w!r}])"
    smoothed = alpha_qt_s(prior, u.s)
    assert abs(smoothed - u.alpha) < 3e-3  # the smoothing moves each value by at most 1e-3
    values, owner = simulate_qt_s(prior, u.s, 3, 400, 400, seed=24)
    wsum = np.take_along_axis(values, owner[:, None, :], axis=1)[:, 0, :].sum(-1)
    est = welfare_ratio(wsum, values.max(axis=1).sum(-1), confidence=0.999)
    assert est.ci_low <= smoothed <= est.ci_high


def test_bai_golz_weights_give_each_agent_a_third_of_the_items():
    prior = "uniform; uniform(scale=2); beta(a=2, b=3)"
    b = bai_golz_weights(prior)
    values = parse_prior(prior).sample(np.random.default_rng(25), 3, 2000, batch=20)
    owner = np.argmax(values * b.weights[:, None], axis=1)
    for i in range(3):  # Clopper-Pearson at 99.9%, Bonferroni over three agents
        est = rate(owner.ravel() == i, confidence=1 - 0.001 / 3)
        assert est.ci_low <= 1 / 3 <= est.ci_high
    unweighted = np.argmax(values, axis=1)
    assert (unweighted == 1).mean() > 0.5  # without weights the U[0,2] agent wins most items


def test_appendix_b_tau_splits_each_agents_value_in_half():
    prior = "copula(beta(a=2, b=5), uniform, rho=0.6)"
    b = appendix_b_thresholds(prior, eps=0.0)
    p = parse_prior(prior)
    values = p.sample(np.random.default_rng(26), 2, 4000, batch=50)
    for i in range(2):
        v = values[:, i, :]
        top = np.where(p.marginal(i).cdf(v) >= b.tau[i], v, 0.0)
        est = welfare_ratio(top.sum(-1), v.sum(-1), confidence=1 - 0.001 / 2)
        assert est.ci_low <= 0.5 <= est.ci_high


def test_pick_r_and_qt_s_disagree_on_fewer_items_than_the_coupling_bound():
    # Lemma 3.6 part 1: at most n^2 (sqrt(m log m) + 1) items, with probability 1 - O(n/m^2).
    r = [0.2, 0.3, 0.5]
    for m in (200, 2000):
        values = parse_prior("uniform").sample(np.random.default_rng(27), 3, m, batch=100)
        a = mechanisms.get("pick-r", r=r).allocate(values)
        b = mechanisms.get("qt-s", prior="uniform", r=r).allocate(values)
        differ = (a != b).sum(axis=-1)
        assert differ.max() <= coupling_bound(3, m) + 9
        assert differ.mean() > 0  # they do differ: the bound is not vacuous here

