"""Two-bundle picking: the smallest picking menu of section 3.1 that is not a cardinality menu.

A picking mechanism is a menu O of allowed bundles and a designated agent (section 3.1, after
Amanatidis et al. 2017). Here the menu holds two fixed bundles, a set A of the items and its
complement: the picker takes the one its report values more (A on a tie) and the other agent
gets the rest. It is cut-and-choose with the cut fixed in advance, so the picker's report only
selects from a menu fixed before any bid, and the other agent's report is ignored: DSIC.

This module is the whole mechanism: registering it is all it takes to appear in
``tfd mechanisms``, the command line's flags, the explorer and the contract tests.
"""

from __future__ import annotations

import numpy as np

from abm.errors import MechanismError
from abm.mechanisms.base import (BestResponse, Claim, Example, Mechanism, MechanismInfo, Param, exact_sign, rebuilt,
                                 register)

__all__ = ["TwoBundlePicking"]


@register
class TwoBundlePicking(Mechanism):
    """The picker takes bundle A or its complement, whichever its report values more (A on ties)."""

    info = MechanismInfo(
        name="two-bundle-picking",
        summary="the picker takes a fixed bundle A or its complement, whichever it values more; the other the rest",
        claim=Claim.DSIC,
        ordinal=False,
        reference="Section 3.1 (picking mechanisms with the menu {A, M \\ A}); Amanatidis et al. 2017",
        parameters={"bundle": Param("vector", "two-bundle-picking: the items of bundle A, e.g. [0, 2, 4] (the menu is "
                                              "A and the rest)"),
                    "picker": Param("int", "picking: the agent who picks (0 or 1)", 0)},
        example=Example({"bundle": [0, 2, 3], "picker": 1}, agents=2, items=6),
    )

    def __init__(self, bundle=None, picker: int = 0):
        if bundle is None:
            raise MechanismError("two-bundle-picking needs bundle A, e.g. bundle=0,2,4")
        items = np.atleast_1d(np.asarray(bundle, dtype=float))
        if (items < 0).any() or not np.all(items == np.round(items)):
            raise MechanismError(f"bundle must list item indices 0, 1, ..., got {items.tolist()}")
        if picker not in (0, 1):
            raise MechanismError(f"picker must be 0 or 1, got {picker!r}")
        self.bundle = sorted({int(j) for j in items})
        self.picker = int(picker)

    @property
    def params(self) -> dict:
        return {"bundle": self.bundle, "picker": self.picker}

    def check_agents(self, n_agents: int) -> None:
        if n_agents != 2:
            raise MechanismError(f"two-bundle-picking is a two-agent mechanism (section 3.1); bids have {n_agents} agents")

    def in_a(self, m: int) -> np.ndarray:
        """Bundle A as a mask over m items."""
        if self.bundle and self.bundle[-1] >= m:
            raise MechanismError(f"bundle A names item {self.bundle[-1]}, outside the items 0..{m - 1}")
        mask = np.zeros(m, dtype=bool)
        mask[self.bundle] = True
        return mask

    def takes_a(self, report: np.ndarray) -> np.ndarray:
        """Whether a picker reporting ``report (..., m)`` takes A: it values A at least as much as the
        rest, decided exactly (0.3 on A against 0.1 + 0.2 on the rest is a tie, so A)."""
        a = self.in_a(report.shape[-1])
        return exact_sign(report, np.where(a, 1.0, -1.0)) >= 0

    def _allocate(self, bids):
        a = self.in_a(bids.shape[-1])
        takes_a = self.takes_a(bids[..., self.picker, :])
        return np.where(a == takes_a[..., None], self.picker, 1 - self.picker).astype(np.int64)

    def best_response(self, values, bids, agent):
        """The picker's best is the bundle it truly values more, which its true report selects;
        the other agent gets whatever the picker leaves, whatever it reports."""
        values = np.asarray(values, dtype=float)
        P, n, m = bids.shape
        a = self.in_a(m)
        if agent == self.picker:
            worth = np.maximum(values @ a, values @ ~a)
            return BestResponse(values.copy(), worth, np.ones(P, dtype=bool),
                                "structural: the picker's better bundle by true value")
        left = np.where(self.takes_a(bids[:, self.picker, :])[:, None], ~a, a)
        return BestResponse(values.copy(), np.where(left, values, 0.0).sum(axis=-1), np.ones(P, dtype=bool),
                            "structural: the other agent receives what the picker leaves")

    def restrict(self, keep):
        keep = [int(j) for j in keep]
        new = {j: k for k, j in enumerate(keep)}
        return rebuilt(self, TwoBundlePicking, [new[j] for j in self.bundle if j in new], self.picker)
