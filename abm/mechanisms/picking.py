"""Quota picking rules: Pick-r (Definition 3.4), serial dictatorship, QT-s (Definition 3.5).

Pick-r is DSIC because each agent only ever chooses its favourite bundle of a fixed
size from what is left (a picking mechanism with a cardinality menu, section 3.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from abm.errors import MechanismError
from abm.mechanisms.base import BestResponse, Claim, Example, Mechanism, MechanismInfo, Param, register
from abm.mechanisms.rankings import Rankings
from abm.shares import as_vector as _as_vector
from abm.shares import quotas, r_from_s, resolve_r, s_from_r, simplest_fraction

__all__ = ["PickR", "SerialDictatorship", "QTS", "quotas", "resolve_r", "s_from_r", "r_from_s", "top_t", "select_top",
           "quota_best_response", "quota_best_responses", "pick_r_prediction", "pick_r_labels"]


def _as_fractions(x, name: str) -> list[Fraction]:
    """Shares as exact rationals: text tokens as written ("0.29", "1/3"), floats as the simplest
    fraction that rounds to them (:func:`simplest_fraction`: the float 2/3 is two thirds),
    Fractions as they are."""
    tokens = x.split(",") if isinstance(x, str) else list(np.atleast_1d(np.asarray(x, dtype=object)).ravel())
    out = []
    for t in tokens:
        try:
            f = Fraction(t.strip()) if isinstance(t, str) else simplest_fraction(t)
        except (ValueError, TypeError, ZeroDivisionError):
            raise MechanismError(f"{name} must be comma-separated numbers like 0.29,0.71 or fractions like 1/3,2/3, "
                                  f"got {x!r}") from None
        out.append(f)
    if not out:
        raise MechanismError(f"{name} must be a non-empty list of numbers, got {x!r}")
    return out


def _jsonable_share(f: Fraction):
    """A float when it reads back as the exact share, else the text "a/b" (so specs round-trip)."""
    x = float(f)
    return x if simplest_fraction(x) == f else f"{f.numerator}/{f.denominator}"


def top_t(masked: np.ndarray, t: int) -> np.ndarray:
    """Boolean mask of the ``t`` largest entries of each row of ``masked`` (shape ``(..., m)``).

    Ties at the cut are broken towards the lowest item index. Linear time per row
    (``np.partition``), which is what keeps Pick-r below the cost of a sort.
    """
    m = masked.shape[-1]
    kth = np.partition(masked, m - t, axis=-1)[..., m - t, None]  # the t-th largest
    return select_top(masked, kth, t)


def select_top(masked: np.ndarray, kth: np.ndarray, t) -> np.ndarray:
    """The ``t`` largest entries of each row given each row's t-th largest value ``kth`` (shape ``(..., 1)``);
    ``t`` may be a scalar or one count per row. Ties at the cut go to the lowest item index."""
    t = np.asarray(t)[..., None] if np.ndim(t) else t
    at_least = masked >= kth
    if np.array_equal(np.count_nonzero(at_least, axis=-1)[..., None], np.broadcast_to(t, at_least.shape[:-1] + (1,))):
        return at_least  # no surplus ties at the cut: the common case for continuous values
    above = masked > kth
    at_cut = at_least & ~above
    need = t - above.sum(axis=-1, keepdims=True)
    return above | (at_cut & (np.cumsum(at_cut, axis=-1) <= need))


def top_remaining(row: np.ndarray, taken: np.ndarray, k: int, masked: np.ndarray | None = None,
                  scratch: np.ndarray | None = None) -> np.ndarray:
    """The k highest entries of ``row`` among the items not yet ``taken`` (ties: lowest index).

    ``masked`` and ``scratch`` are optional work buffers of ``row``'s shape, reused by
    callers that pick many times (fresh arrays of this size cost page faults).
    """
    masked = np.empty(row.shape) if masked is None else masked
    scratch = np.empty(row.shape) if scratch is None else scratch
    below = -(2.0 * float(row.max(initial=0.0)) + 1.0)  # under every entry of the row
    if np.isfinite(below):  # x + 0 is x exactly; taken items sink below every entry
        np.multiply(taken, below, out=masked)
        np.add(masked, row, out=masked)
    else:  # entries near the float maximum: mask the slow, safe way
        np.copyto(masked, row)
        np.putmask(masked, taken, -np.inf)
    np.copyto(scratch, masked)
    scratch.partition(row.shape[-1] - k, axis=-1)
    return select_top(masked, scratch[..., row.shape[-1] - k, None], k)


def quota_best_responses(values: np.ndarray, bids: np.ndarray, order, t) -> list[BestResponse]:
    """:func:`quota_best_response` for every agent at once: ``values (P, n, m)``; the replay of
    the pickers is shared (agent order[k] sees what order[:k] left), so n agents cost one replay."""
    values = np.asarray(values, dtype=float)
    P, n, m = bids.shape
    order = [int(a) for a in order]
    taken = np.zeros((P, m), dtype=bool)
    buffers = np.empty((P, m)), np.empty((P, m))
    out: list = [None] * n
    for pos, a in enumerate(order):
        out[a] = _quota_choice(values[:, a, :], taken, pos == len(order) - 1, int(t[a]), buffers)
        if pos < len(order) - 1 and t[a] > 0:
            taken = taken | top_remaining(bids[:, a, :], taken, int(t[a]), *buffers)
    return out


def _quota_choice(values: np.ndarray, taken: np.ndarray, last: bool, k: int, buffers=(None, None)) -> BestResponse:
    P, m = values.shape
    if last:  # the last agent receives what is left, whatever it reports
        chosen = ~taken
        reports = values.copy()
    else:
        chosen = top_remaining(values, taken, k, *buffers) if k else np.zeros((P, m), dtype=bool)
        reports = chosen.astype(float)
    return BestResponse(reports=reports, value=np.where(chosen, values, 0.0).sum(axis=-1),
                        proven=np.ones(P, dtype=bool),
                        method="structural: replay the earlier pickers, then the agent's quota of what is left")


def quota_best_response(values: np.ndarray, bids: np.ndarray, agent: int, order, t) -> BestResponse:
    """Best response in a quota serial dictatorship (Definition 3.4), from its structure.

    Agents pick in ``order``; agent ``order[k]`` takes its ``t[order[k]]`` highest-bid items
    among those left, and the last in order receives the rest. The pickers before the
    agent choose from their own reports and what their predecessors left, so the agent's
    report cannot change what reaches it: replay them, then the most the agent can get is
    its quota of what is left, the items of highest true value. The report bids 1 on
    exactly those items and 0 elsewhere (no tie at the cut).
    """
    values = np.asarray(values, dtype=float)
    P, n, m = bids.shape
    order = [int(a) for a in order]
    pos = order.index(agent)
    taken = np.zeros((P, m), dtype=bool)
    for a in order[:pos]:
        if t[a] > 0:
            taken |= top_remaining(bids[:, a, :], taken, int(t[a]))
    return _quota_choice(values, taken, pos == len(order) - 1, int(t[agent]))


def pick_r_prediction(mechanism, prior, n_agents: int, n_items: int) -> tuple[float | None, str]:
    """Lemma 3.6's alpha for a Pick-r rule with shares ``mechanism.r(n, m)``: the welfare ratio as m
    grows, computed by :func:`abm.theory.alpha_pick_r` on ``prior`` (i.i.d. priors only)."""
    from abm import theory
    from abm.errors import TfdError

    if not prior.is_iid:
        return None, "no prediction: Lemma 3.6 needs an i.i.d. prior"
    try:
        return theory.alpha_pick_r(prior, mechanism.r(n_agents, n_items)), "alpha of Pick-r as m grows: Lemma 3.6"
    except TfdError as exc:  # the theory cannot speak to this prior or size: it says why
        return None, f"no prediction: {exc}"


def pick_r_labels(bids: np.ndarray, owner: np.ndarray, quotas_in_order, order=None) -> tuple[np.ndarray, str]:
    """Definition 3.4's picking sequence: the agents pick in ``order`` (default 1..n), each taking its
    t favourite remaining items, so an agent's k-th won item (by its own bid) is pick
    (the quotas of those before it) + k."""
    from abm.mechanisms.ranking import pick_index

    n = bids.shape[0]
    order = np.arange(n) if order is None else np.asarray(order)
    start = np.zeros(n, dtype=np.int64)
    start[order] = np.concatenate([[0], np.cumsum(quotas_in_order)[:-1]])
    return start[owner] + pick_index(bids, owner) + 1, \
        "pick number: Pick-r, each agent in turn takes its quota of favourite remaining items"


@register
class PickR(Mechanism):
    """Pick-r, the quota serial dictatorship of Definition 3.4.

    Agent 1 takes its t_1 highest-bid items, then agent 2 its t_2 highest among the
    rest, and so on, with t_i from :func:`quotas`. Equal bids: lowest item index first.
    """

    info = MechanismInfo(
        name="pick-r",
        summary="quota serial dictatorship: agent i takes its t_i favourite remaining items",
        claim=Claim.DSIC,
        ordinal=True,
        reference="Definition 3.4; Proposition 3.3, Theorem 3.7, Corollary 3.9, Theorem 3.10",
        parameters={"r": Param("shares", "shares r_1..r_n (or r_1..r_{n-1}), nonnegative, summing to 1, "
                                         "e.g. [0.29, 0.71] or [1/3, 2/3], read exactly as written; default: equal shares")},
        example=Example({"r": [0.2, 0.5, 0.3]}, agents=3, items=6),
    )

    def __init__(self, r: Sequence[float] | float | str | None = None):
        self._exact = None if r is None else _as_fractions(r, "r")
        self._r = None if r is None else np.array([float(f) for f in self._exact])
        if self._r is not None and (not np.isfinite(self._r).all() or (self._r < 0).any()
                                    or self._r.sum() > 1 + 1e-9):
            raise MechanismError(f"r must be nonnegative and sum to 1, got {self._r.tolist()}")

    @property
    def params(self) -> dict:
        return {"r": None if self._exact is None else [_jsonable_share(f) for f in self._exact]}

    def r(self, n_agents: int, n_items: int | None = None) -> np.ndarray:
        """The full share vector used with ``n_agents`` agents (floats, for display and theory);
        ``n_items`` is ignored (the presets' shares may depend on m; these do not)."""
        return np.array([float(f) for f in self.shares(n_agents)])

    def shares(self, n_agents: int) -> list[Fraction]:
        """The exact shares behind the quotas: equal shares are exactly 1/n; given n - 1 shares,
        or n shares summing to 1 up to 1e-9, the last agent's is exactly 1 minus the others'
        (it takes the rest, as Definition 3.4's t_n does)."""
        if self._exact is None:
            return [Fraction(1, n_agents)] * n_agents
        resolve_r(self._r, n_agents)  # the checks, with their messages
        head = self._exact[: n_agents - 1]
        return head + [1 - sum(head, Fraction(0))]

    def check_agents(self, n_agents: int) -> None:
        self.shares(n_agents)

    def quotas(self, n_agents: int, n_items: int) -> np.ndarray:
        return quotas(self.shares(n_agents), n_items)

    def best_response(self, values, bids, agent):
        n, m = bids.shape[-2:]
        return quota_best_response(values, bids, agent, range(n), self.quotas(n, m))

    def best_responses(self, values, bids):
        n, m = bids.shape[-2:]
        return quota_best_responses(values, bids, range(n), self.quotas(n, m))

    def restrict(self, keep):
        return self  # shares, not item indices: Pick-r on fewer items

    def prediction(self, prior, n_agents, n_items):
        return pick_r_prediction(self, prior, n_agents, n_items)

    def instance_labels(self, bids, owner):
        return pick_r_labels(bids, owner, self.quotas(*bids.shape))

    def _allocate(self, bids):
        return PickR._allocate_ranked(self, Rankings(bids))

    def _allocate_ranked(self, ranked):
        """Each agent in turn takes the top t_i of its ranking among what is left: a partition per
        agent, never a sort (the rule needs nothing else of the rankings)."""
        n, m = ranked.shape[-2:]
        t = self.quotas(n, m)
        shape = ranked.shape[:-2] + (m,)
        # Buffers are reused across agents; owners are int8 codes while picking (an eighth of
        # int64's memory traffic), updated by arithmetic, which is cheaper than a masked store.
        small = n < 128
        owner = np.full(shape, n - 1, dtype=np.int8 if small else np.int64)  # the last agent gets the rest
        taken = np.zeros(shape, dtype=bool)
        masked = np.empty(shape)
        scratch = np.empty(shape)
        for i in range(n - 1):
            k = int(t[i])
            if k == 0:
                continue
            chosen = ranked.top_remaining(i, taken, k, masked, scratch)
            if small:
                owner -= chosen.view(np.int8) * np.int8(n - 1 - i)
            else:
                np.putmask(owner, chosen, i)
            taken |= chosen
        return owner.astype(np.int64)


@register
class SerialDictatorship(PickR):
    """Serial dictatorship: Pick-(1, 0, ..., 0). With additive values agent 1 takes every item."""

    info = MechanismInfo(
        name="serial-dictatorship",
        summary="agent 1 takes everything it wants (all items): Pick-(1, 0, ..., 0)",
        claim=Claim.DSIC,
        ordinal=True,
        reference="Section 1 (Schummer 1996); Definition 3.4 with r = (1, 0, ..., 0)",
        parameters={},
        example=Example(agents=3, items=5),
    )

    def __init__(self):
        super().__init__(None)

    @property
    def params(self) -> dict:
        return {}

    def shares(self, n_agents: int) -> list[Fraction]:
        return [Fraction(1)] + [Fraction(0)] * (n_agents - 1)


@register
class QTS(Mechanism):
    """QT-s, the quantile-threshold mechanism of Definition 3.5.

    Item j goes to the first agent i whose bid's quantile F_i(b_ij) is at least
    1 - s_i; s_n = 1, so the last agent takes what nobody else accepted. Needs the
    prior (each agent's cdf). Given ``r`` instead of ``s``, uses Lemma 3.6's map.

    Not incentive compatible: the paper uses QT-s only as Pick-r's analysis twin (Lemma
    3.6, Proposition 3.8). Its quotas are not fixed, so an agent other than the last
    gains by bidding high on every item it values and taking all items that reach it.
    """

    info = MechanismInfo(
        name="qt-s",
        summary="quantile thresholds: item to the first agent whose bid quantile is >= 1 - s_i",
        claim=Claim.NONE,
        ordinal=False,
        reference="Definition 3.5; Lemma 3.6; Proposition 3.8",
        parameters={
            "s": Param("vector", "thresholds s_1..s_n in [0, 1] with s_n = 1 (or s_1..s_{n-1}), e.g. [0.29, 1]"),
            "r": Param("shares", "alternatively Pick-r shares, mapped to s by Lemma 3.6"),
        },
        needs_prior=True,
        example=Example({"prior": "uniform; beta(a=2, b=5); truncexpon(b=3); beta(a=5, b=2)"}, agents=4, items=5),
    )

    def prediction(self, prior, n_agents, n_items):
        """Lemma 3.6's alpha of QT-s, exact for every m (i.i.d. priors)."""
        from abm import theory
        from abm.errors import TfdError

        if not prior.is_iid:
            return None, "no prediction: Lemma 3.6 needs an i.i.d. prior"
        try:
            return theory.alpha_qt_s(prior, self.s(n_agents)), "alpha of QT-s: Lemma 3.6"
        except TfdError as exc:
            return None, f"no prediction: {exc}"

    def __init__(self, prior=None, s=None, r=None):
        from abm.priors import parse_prior

        if prior is None:
            raise MechanismError("qt-s needs the prior (its agents' cdfs); pass prior=...")
        if s is not None and r is not None:
            raise MechanismError("give qt-s either s or r, not both")
        self.prior = parse_prior(prior)
        self._s = None if s is None else _as_vector(s, "s")
        self._r = None if r is None else _as_vector(r, "r")
        if self._s is not None and ((self._s < 0).any() or (self._s > 1).any()):
            raise MechanismError(f"s must lie in [0, 1], got {self._s.tolist()}")

    @property
    def params(self) -> dict:
        out = {"prior": self.prior.spec}
        if self._s is not None:
            out["s"] = self._s.tolist()
        if self._r is not None:
            out["r"] = self._r.tolist()
        return out

    def s(self, n_agents: int) -> np.ndarray:
        """The full threshold vector used with ``n_agents`` agents."""
        if self._s is None:
            r = np.full(n_agents, 1.0 / n_agents) if self._r is None else resolve_r(self._r, n_agents)
            return s_from_r(r)
        s = self._s
        if s.size == n_agents - 1:
            s = np.append(s, 1.0)
        if s.size != n_agents:
            raise MechanismError(f"s has {self._s.size} entries but there are {n_agents} agents")
        if not math.isclose(s[-1], 1.0):
            raise MechanismError(f"the last threshold s_n must be 1 (Definition 3.5), got {s[-1]}")
        return s

    def check_agents(self, n_agents: int) -> None:
        self.s(n_agents)
        self.prior.check_agents(n_agents)

    def _accepts(self, bids):
        n = bids.shape[-2]
        accept = self.prior.quantiles(bids) >= (1.0 - self.s(n))[:, None]
        accept[..., -1, :] = True
        return accept

    def _allocate(self, bids):
        return np.argmax(self._accepts(bids), axis=-2).astype(np.int64)  # first accepting agent

    def best_response(self, values, bids, agent):
        """An item reaches agent i iff no earlier agent accepts it, whatever i reports; a bid at
        the top of i's support has quantile 1 >= 1 - s_i, so i can take every item that reaches
        it (the last agent takes them anyway)."""
        values = np.asarray(values, dtype=float)
        P, n, m = bids.shape
        reachable = ~self._accepts(bids)[:, :agent, :].any(axis=1)
        if agent == n - 1:
            reports = values.copy()
        else:
            high = 2.0 * self.prior.marginal(agent).support()[1] + 1.0
            reports = np.where(reachable & (values > 0), high, 0.0)
        return BestResponse(reports=reports, value=np.where(reachable, values, 0.0).sum(axis=-1),
                            proven=np.ones(P, dtype=bool),
                            method="structural: accept every valued item that no earlier agent accepts")

    def restrict(self, keep):
        return self
