"""Simulated figures against the paper's predictions, with stated intervals and fixed seeds."""

import math

from abm.simulate import simulate
from abm.theory import alpha_pick_r

R = 1 - math.sqrt(2) / 2  # Proposition 3.3's share for agent 1


def test_pick_r_on_uniform_agrees_with_lemma_3_6_at_m_2000():
    m, instances = 2000, 200
    est = simulate(mechanism="pick-r", mechanism_params={"r": [R]}, n_items=m, instances=instances,
                   seed=11, confidence=0.99).to_dict()
    lo, hi = est["welfare_ratio_ci"]  # 99% delta-method interval, half-width about 1e-3 here
    alpha = alpha_pick_r("uniform", [R])
    # Lemma 3.6's alpha is the m -> infinity value. At m = 2000 the exact expectation differs by
    # floor(r m) rounding only: agent 1 takes k = floor(r m) items worth sum_{j>m-k} j/(m+1) in expectation,
    # agent 2 the rest at 1/2 each, against 2m/3. That offset (about -2e-4) is far inside the interval.
    k = math.floor(R * m)
    finite_m = (k * (2 * m - k + 1) / (2 * (m + 1)) + (m - k) / 2) / (2 * m / 3)
    assert abs(finite_m - alpha) < 3e-4
    assert lo <= alpha <= hi
    assert lo <= finite_m <= hi


def test_ranking_ratio_is_near_one_and_rises_with_m():
    ratios = {}
    for m in (20, 200, 2000):
        s = simulate(mechanism="ranking", n_items=m, instances=200, seed=5, confidence=0.99).to_dict()
        ratios[m] = s
    # Strictly increasing with disjoint 99% intervals (Theorem 4.1: 1 - o(1)).
    assert ratios[20]["welfare_ratio_ci"][1] < ratios[200]["welfare_ratio_ci"][0]
    assert ratios[200]["welfare_ratio_ci"][1] < ratios[2000]["welfare_ratio_ci"][0]
    assert ratios[2000]["welfare_ratio_ci"][0] > 0.999
