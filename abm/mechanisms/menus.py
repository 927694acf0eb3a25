"""Two-agent picking and exchange mechanisms and their compositions (section 3.1).

Amanatidis et al. (2017) show every DSIC two-agent mechanism is a picking-exchange
mechanism: the items are partitioned into components, each allocated by a fixed
picking mechanism (one agent takes its favourite bundle from a menu, the other gets
the rest) or a fixed exchange (endowments S, T swapped only if both agents strictly
prefer the swap). Theorem 3.1's lower bound ranges over exactly this family.
"""

from __future__ import annotations


import math

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from abm.errors import MechanismError
from abm.mechanisms.base import (BestResponse, Claim, Example, Mechanism, MechanismInfo, Param, exact_sign, rebuilt,
                                 register)
from abm.mechanisms.picking import select_top, top_t
from abm.mechanisms.ranking import ranks

__all__ = ["Picking", "Exchange", "Composition", "Component", "random_composition"]


def _two_agents(n_agents: int, name: str) -> None:
    if n_agents != 2:
        raise MechanismError(f"{name} is a two-agent mechanism (section 3.1); bids have {n_agents} agents")


@register
class Picking(Mechanism):
    """Picking mechanism: ``picker`` takes its favourite bundle from a menu, the other agent the rest.

    The menu is either cardinalities (``sizes``: every subset of each listed size, so
    ``sizes=[k]`` is Pick-(k/m)) or explicit bundles (``bundles``: lists of item indices,
    for small item sets). Ties: the smaller bundle size, then lowest item index within a
    size; among explicit bundles, the one listed first. DSIC: the picker's report only
    selects from a menu fixed in advance, and the other agent's report is ignored.
    """

    info = MechanismInfo(
        name="picking",
        summary="one agent takes its favourite bundle from a fixed menu; the other gets the rest",
        claim=Claim.DSIC,
        ordinal=False,
        reference="Section 3.1 (picking mechanisms); Amanatidis et al. 2017",
        parameters={"picker": Param("int", "picking: the agent who picks (0 or 1)", 0),
                    "sizes": Param("vector", "picking: the menu's bundle sizes, e.g. [3] or [2, 5]"),
                    "bundles": Param("object", "explicit menu: bundles of item indices (Python API)")},
        example=Example({"picker": 1, "sizes": [1, 4]}, agents=2, items=6),
    )

    def __init__(self, picker: int = 0, sizes=None, bundles=None):
        if picker not in (0, 1):
            raise MechanismError(f"picker must be 0 or 1, got {picker!r}")
        if (sizes is None) == (bundles is None):
            raise MechanismError("give the picking menu as sizes (bundle cardinalities) or as bundles, not both")
        self.picker = int(picker)
        self.sizes = None
        self.bundles = None
        if sizes is not None:
            s = np.unique(np.atleast_1d(np.asarray(sizes, dtype=float)))
            if s.size == 0 or (s < 0).any() or not np.all(s == np.round(s)):
                raise MechanismError(f"sizes must be nonnegative whole numbers, got {np.atleast_1d(sizes).tolist()}")
            self.sizes = s.astype(np.int64)
        else:
            if len(bundles) == 0:
                raise MechanismError("the menu of bundles is empty")
            self.bundles = [sorted({int(j) for j in b}) for b in bundles]

    @property
    def params(self) -> dict:
        menu = {"sizes": self.sizes.tolist()} if self.sizes is not None else {"bundles": self.bundles}
        return {"picker": self.picker, **menu}

    def check_agents(self, n_agents: int) -> None:
        _two_agents(n_agents, "picking")

    def _check_items(self, m: int) -> None:
        if self.sizes is not None and self.sizes.max() > m:
            raise MechanismError(f"menu size {int(self.sizes.max())} exceeds the {m} items")
        if self.bundles is not None and any(j < 0 or j >= m for b in self.bundles for j in b):
            raise MechanismError(f"a menu bundle names an item outside 0..{m - 1}")

    def _allocate(self, bids):
        self._check_items(bids.shape[-1])
        chosen = self.chosen(bids[..., self.picker, :])
        return np.where(chosen, self.picker, 1 - self.picker).astype(np.int64)

    def _menu_matrix(self, m: int) -> np.ndarray:
        menu = np.zeros((len(self.bundles), m))
        for k, b in enumerate(self.bundles):
            menu[k, b] = 1.0
        return menu

    def chosen(self, mine: np.ndarray) -> np.ndarray:
        """The bundle the picker takes given its report ``mine (..., m)``, as a boolean mask."""
        m = mine.shape[-1]
        if self.bundles is not None:
            menu = self._menu_matrix(m)
            best = np.argmax(mine @ menu.T, axis=-1)  # first listed among equal values
            chosen = menu[best].astype(bool)
        elif self.sizes.size == 1:
            k = int(self.sizes[0])
            chosen = top_t(mine, k) if k else np.zeros(mine.shape, dtype=bool)
        else:
            # The best bundle of size k is the top k; partitioning at every menu size puts each
            # top-k set in the last k places (its cut value at place m - k), so prefix sums give
            # every size's value at once.
            cuts = sorted({m - int(k) for k in self.sizes if 0 < k <= m})  # k = m needs the minimum in place
            part = np.partition(mine, cuts, axis=-1) if cuts else np.sort(mine, axis=-1)
            prefix = np.concatenate([np.zeros(mine.shape[:-1] + (1,)), np.cumsum(part, axis=-1)], axis=-1)
            value = prefix[..., -1:] - prefix[..., m - self.sizes]  # best bundle of each size
            best = np.argmax(value, axis=-1)  # smallest size among equal values
            k = self.sizes[best]
            kth = np.take_along_axis(part, np.minimum(m - k, m - 1)[..., None], axis=-1)
            chosen = select_top(mine, kth, k) & (k[..., None] > 0)
        return chosen

    def best_response(self, values, bids, agent):
        """The picker's best admissible bundle by true value (any bundle of a menu size is
        admissible, so the best of size k is the top k); the other agent receives the
        complement of whatever the picker chooses, so its report cannot matter."""
        values = np.asarray(values, dtype=float)
        P, n, m = bids.shape
        self._check_items(m)
        if agent != self.picker:
            chosen = ~self.chosen(bids[:, self.picker, :])
            return BestResponse(values.copy(), np.where(chosen, values, 0.0).sum(axis=-1), np.ones(P, dtype=bool),
                                "structural: the non-picker receives the complement of the picker's choice")
        if self.bundles is not None:
            menu = self._menu_matrix(m).astype(bool)
            worth = np.where(menu[None], values[:, None, :], 0.0).sum(axis=-1)  # (P, bundles)
            chosen = menu[np.argmax(worth, axis=-1)]
            reports = values.copy()  # the truth selects a best bundle (first listed among equals)
        else:
            position = ranks(values)  # 0 = the picker's favourite; ties: lowest index first
            prefix = np.concatenate([np.zeros((P, 1)), np.cumsum(-np.sort(-values, axis=-1), axis=-1)], axis=-1)
            k = self.sizes[np.argmax(prefix[:, self.sizes], axis=-1)]
            chosen = position < k[:, None]
            reports = chosen.astype(float)  # 1 on the chosen bundle: only its size attains the top
        return BestResponse(reports, np.where(chosen, values, 0.0).sum(axis=-1), np.ones(P, dtype=bool),
                            "structural: the picker's best admissible bundle by true value")

    def restrict(self, keep):
        keep = [int(j) for j in keep]
        if self.bundles is not None:
            new = {j: k for k, j in enumerate(keep)}
            return rebuilt(self, Picking, self.picker, bundles=[[new[j] for j in b if j in new] for b in self.bundles])
        sizes = [int(k) for k in self.sizes if k <= len(keep)]
        return rebuilt(self, Picking, self.picker, sizes=sizes) if sizes else None


@register
class Exchange(Mechanism):
    """Exchange mechanism: agent 1 is endowed with S, agent 2 with T = the rest.

    The endowments are swapped exactly when both agents strictly prefer the other's
    endowment by their reports: b_1(T) > b_1(S) and b_2(S) > b_2(T); on indifference of
    either agent there is no trade. DSIC (section 3.1).
    """

    info = MechanismInfo(
        name="exchange",
        summary="fixed endowments S (agent 1) and T (agent 2), swapped iff both strictly prefer the swap",
        claim=Claim.DSIC,
        ordinal=False,
        reference="Section 3.1 (exchange mechanisms); Amanatidis et al. 2017",
        parameters={"endowment": Param("vector", "exchange: agent 1's endowment S, e.g. [0, 2, 5] (the rest is T)")},
        example=Example({"endowment": [0, 2, 3]}, agents=2, items=6),
    )

    def __init__(self, endowment: Sequence[int] | str = ()):
        if isinstance(endowment, str):
            try:
                endowment = [float(t) for t in endowment.split(",") if t.strip()]
            except ValueError:
                raise MechanismError(f"endowment must list item indices, e.g. [0, 2, 5]; got {endowment!r}") from None
        items = np.atleast_1d(np.asarray(endowment, dtype=float))
        bad = [x for x in items.tolist() if not (math.isfinite(x) and x.is_integer() and x >= 0)]
        if bad:
            raise MechanismError(f"endowment items must be nonnegative integers (item indices), got {bad[0]:g}")
        self.endowment = sorted({int(j) for j in items})

    @property
    def params(self) -> dict:
        return {"endowment": self.endowment}

    def check_agents(self, n_agents: int) -> None:
        _two_agents(n_agents, "exchange")

    def endowed(self, m: int) -> np.ndarray:
        """Boolean mask of S (agent 1's endowment) over m items."""
        if any(j < 0 or j >= m for j in self.endowment):
            raise MechanismError(f"the endowment names an item outside 0..{m - 1}")
        mask = np.zeros(m, dtype=bool)
        mask[self.endowment] = True
        return mask

    def prefers_swap(self, report: np.ndarray, agent: int) -> np.ndarray:
        """Whether ``agent`` (0 or 1) strictly prefers the other's endowment by ``report (..., m)``.

        Decided exactly: the difference of the two sums is computed in floating point, and
        where it lies within that sum's rounding error bound it is recomputed in rational
        arithmetic on the decimal bids (:func:`abm.shares.decimal_fraction`), so
        0.9 against 0.6 + 0.3 is an indifference (no trade), not a rounding-error preference.
        """
        report = np.asarray(report, dtype=float)
        S = self.endowed(report.shape[-1])
        sign = np.where(S, -1.0, 1.0) if agent == 0 else np.where(S, 1.0, -1.0)  # other's minus own
        return exact_sign(report, sign) > 0

    def trades(self, bids) -> np.ndarray:
        """Whether the swap happens in each instance: ``bids (..., 2, m) -> (...)`` bool."""
        return self.prefers_swap(bids[..., 0, :], 0) & self.prefers_swap(bids[..., 1, :], 1)

    def best_response(self, values, bids, agent):
        """The trade happens only if the other agent's report strictly prefers the swap; then the
        agent chooses between its endowment and the other's, otherwise it keeps its own."""
        values = np.asarray(values, dtype=float)
        P, n, m = bids.shape
        mine = self.endowed(m) if agent == 0 else ~self.endowed(m)
        keep = np.where(mine, values, 0.0).sum(axis=-1)
        swap = np.where(mine, 0.0, values).sum(axis=-1)
        trade = self.prefers_swap(bids[:, 1 - agent, :], 1 - agent) & (swap > keep)
        wanted = np.where(trade[:, None], ~mine, mine)
        return BestResponse(wanted.astype(float), np.where(trade, swap, keep), np.ones(P, dtype=bool),
                            "structural: the better of trading and not trading against the other's report")

    def restrict(self, keep):
        new = {int(j): k for k, j in enumerate(keep)}
        return rebuilt(self, Exchange, [new[j] for j in self.endowment if j in new])

    def exchange_parts(self, n_items):
        return [(np.arange(n_items), self)]

    def _allocate(self, bids):
        S = self.endowed(bids.shape[-1])
        swap = self.trades(bids)
        return np.where(S != swap[..., None], 0, 1).astype(np.int64)  # S to agent 1 unless swapped


@dataclass(frozen=True)
class Component:
    """A part of a picking-exchange composition: its items and the sub-mechanism on them."""

    items: tuple[int, ...]
    mechanism: Mechanism


@register
class Composition(Mechanism):
    """Picking-exchange composition: components partition the items, each allocated by its
    own picking or exchange sub-mechanism (item indices inside a sub-mechanism are local
    to its component). DSIC, as each part is (Amanatidis et al. 2017)."""

    info = MechanismInfo(
        name="composition",
        summary="items partitioned into components, each run by its own picking or exchange mechanism",
        claim=Claim.DSIC,
        ordinal=False,
        reference="Section 3.1; proof of Theorem 3.1 (M = P1 + P2 + E1 + ... + Ek)",
        parameters={"components": Param("object", "list of Component(items, mechanism) (Python API; see "
                                                  "random_composition)")},
        example=Example({"components": [{"items": [0, 3, 5], "mechanism": {"name": "picking", "sizes": [1, 2]}},
                                        {"items": [1, 2, 4], "mechanism": {"name": "exchange", "endowment": [0, 2]}}]},
                        agents=2, items=6),
    )

    def __init__(self, components: Sequence[Component | dict] = ()):
        if not components:
            raise MechanismError("a composition needs at least one component")
        components = [c if isinstance(c, Component) else _component_from_spec(c) for c in components]
        for c in components:
            if not isinstance(c.mechanism, (Picking, Exchange)):
                raise MechanismError(f"components must be picking or exchange mechanisms, got {c.mechanism!r}")
        self.components = list(components)
        items = [j for c in self.components for j in c.items]
        self.n_items = len(items)
        if sorted(items) != list(range(self.n_items)):
            raise MechanismError("the components must partition the items 0..m-1 (each item in exactly one)")

    @property
    def params(self) -> dict:
        return {"components": [{"items": list(c.items), "mechanism": c.mechanism.spec()} for c in self.components]}

    def __repr__(self) -> str:
        parts = ", ".join(f"{len(c.items)} items: {c.mechanism!r}" for c in self.components)
        return f"composition({parts})"

    def check_agents(self, n_agents: int) -> None:
        _two_agents(n_agents, "composition")

    def _allocate(self, bids):
        if bids.shape[-1] != self.n_items:
            raise MechanismError(f"this composition partitions {self.n_items} items; bids have {bids.shape[-1]}")
        owner = np.empty(bids.shape[:-2] + (self.n_items,), dtype=np.int64)
        for c in self.components:  # one vectorized call per component
            idx = np.asarray(c.items)
            owner[..., idx] = c.mechanism._run(bids[..., idx])
        return owner

    def submechanisms(self) -> list:
        return [c.mechanism for c in self.components]

    def exchanges(self) -> list[Component]:
        return [c for c in self.components if c.mechanism.exchange_parts(len(c.items))]

    def exchange_parts(self, n_items):
        return [(np.asarray(c.items)[items], ex) for c in self.components
                for items, ex in c.mechanism.exchange_parts(len(c.items))]

    def best_response(self, values, bids, agent):
        """The components see disjoint items and only their own bids, so the agent's choices
        are independent part by part: the optimum is the sum of each part's optimum."""
        values = np.asarray(values, dtype=float)
        P, n, m = bids.shape
        if m != self.n_items:
            raise MechanismError(f"this composition partitions {self.n_items} items; bids have {m}")
        reports = np.empty((P, m))
        value = np.zeros(P)
        proven = np.ones(P, dtype=bool)
        for c in self.components:
            idx = np.asarray(c.items)
            part = c.mechanism.best_response(values[:, idx], bids[:, :, idx], agent)
            if part is None:
                return None
            reports[:, idx] = part.reports
            value += part.value
            proven &= part.proven
        return BestResponse(reports, value, proven, "structural: the best choice in each component, part by part")

    def restrict(self, keep):
        new = {int(j): k for k, j in enumerate(keep)}
        comps = []
        for c in self.components:
            local = np.array([k for k, j in enumerate(c.items) if j in new], dtype=np.int64)
            if local.size == 0:
                continue
            inner = c.mechanism.restrict(local)
            if inner is None:
                return None
            comps.append(Component(tuple(new[c.items[k]] for k in local), inner))
        return rebuilt(self, Composition, comps) if comps else None


def _component_from_spec(spec: dict) -> Component:
    try:
        inner = dict(spec["mechanism"])
        kind = inner.pop("name")
        cls = {"picking": Picking, "exchange": Exchange}[kind]
        return Component(tuple(int(j) for j in spec["items"]), cls(**inner))
    except (KeyError, TypeError) as exc:
        raise MechanismError(f"bad composition component {spec!r}: {exc}") from None


def random_composition(m: int, rng: np.random.Generator, max_components: int = 4,
                       exchange_share: float = 0.5) -> Composition:
    """A random valid picking-exchange composition of m items, for searching the family.

    A uniformly random partition into 1..max_components nonempty components; each is an
    exchange with probability ``exchange_share`` (random nonempty endowments when it has
    at least two items) or else a picking mechanism with a random picker and a random
    menu of one or two sizes.
    """
    if m < 1:
        raise MechanismError(f"m must be positive, got {m}")
    k = int(rng.integers(1, min(max_components, m) + 1))
    labels = np.concatenate([np.arange(k), rng.integers(0, k, m - k)])
    rng.shuffle(labels)
    components = []
    for c in range(k):
        items = tuple(int(j) for j in np.nonzero(labels == c)[0])
        size = len(items)
        if size >= 2 and rng.random() < exchange_share:
            cut = int(rng.integers(1, size))
            local = rng.permutation(size)[:cut]
            components.append(Component(items, Exchange(endowment=sorted(int(j) for j in local))))
        else:
            sizes = rng.choice(size + 1, size=min(size + 1, int(rng.integers(1, 3))), replace=False)
            components.append(Component(items, Picking(picker=int(rng.integers(0, 2)), sizes=sorted(sizes.tolist()))))
    return Composition(components)
