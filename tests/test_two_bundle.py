"""Two-bundle picking (section 3.1's menu {A, M \\ A}): the rule itself, and that registering it was
enough for the command line and the explorer. The contract tests cover it with no edit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from abm import mechanisms
from abm.cli import main
from abm.errors import MechanismError
from abm.explore.session import Explorer, parse_params


@settings(max_examples=60, deadline=None)
@given(m=hs.integers(1, 9), picker=hs.integers(0, 1), seed=hs.integers(0, 2**32 - 1))
def test_it_is_picking_from_the_menu_of_a_and_its_complement(m, picker, seed):
    """The section 3.1 family's general picking mechanism, given the two bundles explicitly, allocates alike."""
    rng = np.random.default_rng(seed)
    a = sorted(rng.choice(m, size=int(rng.integers(0, m + 1)), replace=False).tolist())
    rest = [j for j in range(m) if j not in a]
    bids = rng.integers(0, 3, (20, 2, m)).astype(float)  # many ties between the bundles
    mine = mechanisms.get("two-bundle-picking", bundle=a, picker=picker)
    menu = mechanisms.get("picking", picker=picker, bundles=[a, rest])
    np.testing.assert_array_equal(mine.allocate(bids), menu.allocate(bids))


def test_the_picker_takes_the_bundle_it_values_more_and_a_on_a_tie():
    mech = mechanisms.get("two-bundle-picking", bundle=[0, 1])
    bids = np.array([[[1.0, 1.0, 3.0, 0.0], [5.0, 5.0, 5.0, 5.0]],
                     [[2.0, 1.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    np.testing.assert_array_equal(mech.allocate(bids), [[1, 1, 0, 0], [0, 0, 1, 1]])


@pytest.mark.parametrize("params, message", [({}, "needs bundle A"), ({"bundle": [0, 1.5]}, "item indices"),
                                             ({"bundle": [0], "picker": 2}, "picker must be 0 or 1")])
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(MechanismError, match=message):
        mechanisms.get("two-bundle-picking", **params)


def test_the_command_line_and_the_explorer_take_it_from_its_declaration(capsys):
    assert main(["mechanisms"]) == 0
    assert "bundle (vector): two-bundle-picking: the items of bundle A" in capsys.readouterr().out
    assert main(["simulate", "--mechanism", "two-bundle-picking(bundle=[0, 2, 4])", "--items", "6",
                 "--instances", "50", "--no-progress", "--json"]) == 0
    assert '"welfare_ratio"' in capsys.readouterr().out
    assert parse_params("bundle=[3], picker=1", "two-bundle-picking") == {"bundle": [3], "picker": 1}
    page = Explorer(mechanism="two-bundle-picking", params="bundle=[0, 1, 2]", n_items=6)
    assert page.error is None and page.internal is None
    page.step()
    assert page.instance()["caption"].iloc[0]


def test_a_decimal_tie_is_a_tie_and_a_subclass_restricts_to_itself():
    """0.3 on A against 0.1 + 0.2 on the rest is an indifference, so the picker takes A (a float sum
    says 0.30000000000000004 > 0.3); a subclass shrunk for a witness stays the subclass."""
    mech = mechanisms.get("two-bundle-picking", bundle=[0])
    np.testing.assert_array_equal(mech.allocate(np.array([[0.3, 0.1, 0.2], [1.0, 1.0, 1.0]])), [0, 1, 1])

    class Mine(type(mech)):
        pass

    assert type(Mine(bundle=[0, 2]).restrict([0, 1])) is Mine
