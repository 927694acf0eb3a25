"""The theory module against closed forms (exact to 1e-9) and the paper's constants."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from abm.errors import TfdError
from abm.mechanisms import s_from_r
from abm.priors import HardInstance
from abm.theory import alpha_pick_r, expected_max, partial_expectation


@given(st.lists(st.integers(0, 20), min_size=2, max_size=8).filter(lambda w: sum(w) > 0))
def test_alpha_on_uniform_matches_its_closed_form(weights):
    # U[0,1]: E[X | X >= tau] = (1 + tau) / 2 and E[max of n] = n / (n + 1).
    r = np.array(weights, dtype=float) / sum(weights)
    n = r.size
    tau = 1 - s_from_r(r)
    closed = sum(ri * (1 + ti) / 2 for ri, ti in zip(r, tau)) / (n / (n + 1))
    assert alpha_pick_r("uniform", r) == pytest.approx(closed, abs=1e-9)


def test_expected_max_of_the_hard_instance_is_exact_despite_its_atoms():
    p, delta = 0.01, 0.001
    d = HardInstance(p=p, delta=delta)
    q = 2 - math.sqrt(2)
    # Section 3.1's benchmark, plus the exact noise term: two equal bases add max(U1, U2) (mean 2 delta / 3)
    # instead of one U (mean delta / 2).
    base = (1 - q) / p * (2 * p - p**2) + q**2 + 2 * q * (1 - q - p)
    exact = base + delta / 2 + delta / 6 * float(d.weights @ d.weights)
    assert expected_max(d, 2) == pytest.approx(exact, abs=1e-9)
    paper = 4 * math.sqrt(2) - 4 - q * p - p + delta / 2
    assert abs(expected_max(d, 2) - paper) < delta  # the paper's formula, up to its O(delta) term


def test_partial_expectation_splits_at_atoms():
    d = HardInstance(p=0.01, delta=0.001)
    # Above the top atom's quantile 1 - p only the high value (plus noise) remains.
    top = (1 - (2 - math.sqrt(2))) / 0.01
    assert partial_expectation(d, 1 - 0.01) == pytest.approx(0.01 * (top + 0.0005), abs=1e-12)


def test_theorem_3_1_constant_comes_out_of_the_hard_instance():
    # As p, delta -> 0, Pick-(2-sqrt2)/2 on the hard instance tends to (2+sqrt2)/4 from above.
    r = 1 - math.sqrt(2) / 2
    target = (2 + math.sqrt(2)) / 4
    gaps = [alpha_pick_r(f"hard(p={p}, delta={p / 10})", [r]) - target for p in (1e-2, 1e-3, 1e-4, 1e-6)]
    # The gap shrinks linearly in p (about 0.22 p), always from above.
    assert all(0 < g < p / 2 for g, p in zip(gaps, (1e-2, 1e-3, 1e-4, 1e-6)))


def test_alpha_refuses_non_iid_priors():
    with pytest.raises(TfdError, match="i.i.d."):
        alpha_pick_r("uniform; beta(a=2, b=5)", [0.5, 0.5])
