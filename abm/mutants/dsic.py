"""DSIC mutants: catalogue mechanisms with a realistic implementation bug or design flaw
that makes some lie pay. Each docstring names the bug; ``tests/test_mutants.py`` proves
each one manipulable by full enumeration at small m, so a mutant the audit misses is
the audit's failure, not the zoo's.

Every mutant redefines ``_allocate``, so the code its inherited oracle runs beside is not the
code any oracle was verified against (:mod:`abm.audit.trust`): the oracle is a claim, and the
audit must find the lie by search. A mutant that reads magnitudes (totals, zeros, ties, bid
differences) is declared cardinal (:func:`cardinal`): an ordinal rule is shown rankings only, so
declared ordinal it could not read them, and the audit would refuse it as reading magnitudes.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from abm.mechanisms import Composition, Exchange, Mechanism, Picking, PickCorrelated, PickR, SerialDictatorship
from abm.mechanisms.menus import Component
from abm.mechanisms.ranking import ranks


def cardinal(cls):
    """Class decorator: the mutant reads magnitudes, so it declares ``ordinal=False``."""
    cls.info = dataclasses.replace(cls.info, ordinal=False)
    return cls


def _flat(allocate):
    """Run ``allocate`` on bids reshaped to (B, n, m) and reshape the owners back, so a rule
    written for a batch also serves a single instance."""

    def wrapped(self, bids):
        n, m = bids.shape[-2:]
        return allocate(self, bids.reshape(-1, n, m)).reshape(bids.shape[:-2] + (m,))

    wrapped.__doc__ = allocate.__doc__
    return wrapped


def _top_k_by_rank(bids_row: np.ndarray, k) -> np.ndarray:
    """The k highest bids of each row (ties: lowest index), k scalar or one per row."""
    k = np.asarray(k)
    return ranks(bids_row) < (k[..., None] if k.ndim else k)


def _pick_r_in_order(pick_r: PickR, bids: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    """Pick-r where each instance's picking order sorts agents by ``order_key (..., n)``, largest first."""
    n = bids.shape[-2]
    perm = np.argsort(-order_key, axis=-1, kind="stable")
    owner = np.empty(bids.shape[:-2] + bids.shape[-1:], dtype=np.int64)
    for p in itertools.permutations(range(n)):
        rows = np.all(perm == np.array(p), axis=-1)
        if rows.any():
            owner[rows] = np.asarray(p)[PickR._allocate(pick_r, bids[rows][..., list(p), :])]
    return owner


@cardinal
class OrderByTotalBid(PickR):
    """Pick-r whose picking order sorts agents by reported total value ("who wants more picks
    first"): exaggerating every bid moves an agent to the front."""

    def _allocate(self, bids):
        return _pick_r_in_order(self, bids, bids.sum(axis=-1))


@cardinal
class OrderByMaxBid(PickR):
    """Pick-r whose first picker is the agent with the single highest bid: one exaggerated bid
    buys the first pick."""

    def _allocate(self, bids):
        return _pick_r_in_order(self, bids, bids.max(axis=-1))


@cardinal
class QuotaByClaimedValue(PickR):
    """Two-agent Pick-r whose first quota is proportional to agent 0's share of the reported
    total ("fair share by stated need"): agent 0 exaggerates for a bigger quota."""

    def _allocate(self, bids):
        m = bids.shape[-1]
        total = bids.sum(axis=-1)
        share = total[..., 0] / np.maximum(total.sum(axis=-1), np.finfo(float).tiny)
        t0 = np.floor(m * share).astype(np.int64)
        return np.where(_top_k_by_rank(bids[..., 0, :], t0), 0, 1)


@cardinal
class CutTiesAllIn(PickR):
    """Pick-r whose selection keeps every item tied with the t_i-th bid (``>= kth`` without
    counting the surplus): reporting ties at the cut takes extra items."""

    def _allocate(self, bids):
        n, m = bids.shape[-2:]
        t = self.quotas(n, m)
        owner = np.full(bids.shape[:-2] + (m,), n - 1, dtype=np.int64)
        taken = np.zeros(owner.shape, dtype=bool)
        for i in range(n - 1):
            if t[i] == 0:
                continue
            masked = np.where(taken, -np.inf, bids[..., i, :])
            kth = np.partition(masked, m - t[i], axis=-1)[..., m - t[i], None]
            chosen = (masked >= kth) & ~taken
            owner[chosen] = i
            taken |= chosen
        return owner


@cardinal
class ZeroBonus(PickR):
    """Pick-r that gives agent 0 one more item (the lowest-index one it does not hold) when it
    reports 0 on most items (a "modest bidder" rule): a flaw only some reports trigger."""

    @_flat
    def _allocate(self, bids):
        owner = PickR._allocate(self, bids)
        m = bids.shape[-1]
        trigger = (bids[..., 0, :] == 0).sum(axis=-1) > m // 2
        free = owner != 0
        first = np.argmax(free, axis=-1)
        hit = trigger & free.any(axis=-1)
        rows = np.nonzero(hit)
        owner[rows + (first[hit],)] = 0
        return owner


@cardinal
class NearTopGreedy(PickR):
    """Two-agent Pick-r where agent 0 takes at least every item it bids within 10% of its top bid
    ("never split near-favourites"): flattening the report takes more items."""

    def _allocate(self, bids):
        m = bids.shape[-1]
        t0 = self.quotas(2, m)[0]
        near = (bids[..., 0, :] >= 0.9 * bids[..., 0, :].max(axis=-1, keepdims=True)).sum(axis=-1)
        return np.where(_top_k_by_rank(bids[..., 0, :], np.maximum(t0, near)), 0, 1)


@cardinal
class EfficiencyTweak(PickR):
    """Two-agent Pick-r where agent 0 picks by its bid minus agent 1's ("leave the other what it
    loves"): agent 1 exaggerates on its favourites to keep them."""

    def _allocate(self, bids):
        m = bids.shape[-1]
        t0 = self.quotas(2, m)[0]
        return np.where(_top_k_by_rank(bids[..., 0, :] - bids[..., 1, :] + bids.max(), t0), 0, 1)


class ProtectTop(PickR):
    """Two-agent Pick-r where agent 1's top-bid item is reserved for it first ("everyone keeps its
    favourite"): agent 1 should protect a contested item, not its favourite."""

    def _allocate(self, bids):
        m = bids.shape[-1]
        t0 = self.quotas(2, m)[0]
        reserved = np.argmax(bids[..., 1, :], axis=-1)
        score = (m - ranks(bids[..., 0, :])).astype(float)  # agent 0's ranking, the reserved item last
        np.put_along_axis(score, reserved[..., None], 0.0, axis=-1)
        return np.where(_top_k_by_rank(score, t0), 0, 1)


@cardinal
class DictatorByTotalBid(SerialDictatorship):
    """Serial dictatorship whose dictator is the agent reporting the larger total: exaggerate."""

    def _allocate(self, bids):
        return np.broadcast_to(np.argmax(bids.sum(axis=-1), axis=-1)[..., None], bids.shape[:-2] + bids.shape[-1:]).copy()


@cardinal
class DictatorOutbid(SerialDictatorship):
    """Serial dictatorship where the dictator takes only items it bids at least as high as the
    other agent (an "efficiency" fix): the dictator exaggerates to take everything."""

    def _allocate(self, bids):
        return np.where(bids[..., 0, :] >= bids[..., 1, :], 0, 1)


class PickerByBidSum(Picking):
    """Picking whose picker is whichever agent reports the larger total: exaggerate to pick."""

    def _allocate(self, bids):
        picker = np.argmax(bids.sum(axis=-1), axis=-1)
        mine = np.take_along_axis(bids, picker[..., None, None], axis=-2)[..., 0, :]
        return np.where(self.chosen(mine), picker[..., None], 1 - picker[..., None])


class SizeFromWrongRow(Picking):
    """Picking with a size menu whose bundle size is chosen from the other agent's row (an index
    bug): the non-picker steers the size."""

    def _allocate(self, bids):
        m = bids.shape[-1]
        other = bids[..., 1 - self.picker, :]
        srt = -np.sort(-other, axis=-1)
        prefix = np.concatenate([np.zeros(other.shape[:-1] + (1,)), np.cumsum(srt, axis=-1)], axis=-1)
        # meant: the picker's gain of its top k over a proportional share; computed on the wrong row
        advantage = prefix[..., self.sizes] - (self.sizes / m) * prefix[..., -1:]
        k = self.sizes[np.argmax(advantage, axis=-1)]
        chosen = _top_k_by_rank(bids[..., self.picker, :], k)
        return np.where(chosen, self.picker, 1 - self.picker)


class Veto(Picking):
    """Picking where the non-picker's top-bid item is off the picker's menu (a "veto" for
    fairness): the non-picker should veto a contested item, not its favourite."""

    def _allocate(self, bids):
        other = 1 - self.picker
        veto = np.argmax(bids[..., other, :], axis=-1)
        mine = bids[..., self.picker, :].copy()
        np.put_along_axis(mine, veto[..., None], -1.0, axis=-1)
        k = int(self.sizes[0])
        return np.where(_top_k_by_rank(mine, k), self.picker, other)


class AbsoluteThreshold(Picking):
    """"Picking" whose picker takes every item it bids above a fixed level (the menu became a
    threshold): the picker exaggerates to take everything it values."""

    def __init__(self, picker=0, sizes=None, bundles=None, level=0.5):
        super().__init__(picker, sizes=sizes if bundles is None else None, bundles=bundles)
        self.level = float(level)

    def _allocate(self, bids):
        return np.where(bids[..., self.picker, :] > self.level, self.picker, 1 - self.picker)


class PickingCutTiesAllIn(Picking):
    """Picking with one size that keeps every item tied at the cut: ties take extra items."""

    def _allocate(self, bids):
        m = bids.shape[-1]
        k = int(self.sizes[0])
        mine = bids[..., self.picker, :]
        kth = np.partition(mine, m - k, axis=-1)[..., m - k, None]
        return np.where(mine >= kth, self.picker, 1 - self.picker)


class EfficientTrade(Exchange):
    """Exchange that trades when the reported total welfare rises, not when both strictly prefer
    (an "efficiency" rewrite): exaggerating the wanted endowment forces trades."""

    def _allocate(self, bids):
        S = self.endowed(bids.shape[-1])
        gain = bids[..., 0, :] @ (~S) + bids[..., 1, :] @ S - bids[..., 0, :] @ S - bids[..., 1, :] @ (~S)
        return np.where(S != (gain > 0)[..., None], 0, 1)


class NoTradeBonus(Exchange):
    """Exchange that, without a trade, hands the other's most-wanted item of its endowment to the
    agent with the larger reported total ("consolation"): exaggerate."""

    @_flat
    def _allocate(self, bids):
        owner = Exchange._allocate(self, bids)
        S = self.endowed(bids.shape[-1])
        trade = self.trades(bids)
        winner = np.argmax(bids.sum(axis=-1), axis=-1)
        for w in (0, 1):
            rows = ~trade & (winner == w)
            if not rows.any():
                continue
            others = S if w == 1 else ~S  # the loser's endowment
            score = np.where(others, bids[rows][..., w, :], -np.inf)
            j = np.argmax(score, axis=-1)
            sub = owner[rows]
            np.put_along_axis(sub, j[..., None], w, axis=-1)
            owner[rows] = sub
        return owner


class TolerantAcceptance(Exchange):
    """Exchange that reads agent 1 as accepting when it prefers its own endowment by less than
    10% of its total (a tolerance meant for rounding): agent 1 refuses by exaggerating."""

    def _allocate(self, bids):
        S = self.endowed(bids.shape[-1])
        in_S, in_T = bids @ S.astype(float), bids @ (~S).astype(float)
        accept1 = in_S[..., 1] > in_T[..., 1] - 0.1 * (in_S[..., 1] + in_T[..., 1])
        trade = (in_T[..., 0] > in_S[..., 0]) & accept1
        return np.where(S != trade[..., None], 0, 1)


class PartialTrade(Exchange):
    """Exchange that, when only agent 0 wants the swap, trades agent 0's lowest-bid item of S for
    agent 1's lowest-bid item of T ("meet halfway"): agent 0 fakes wanting the swap."""

    @_flat
    def _allocate(self, bids):
        owner = Exchange._allocate(self, bids)
        S = self.endowed(bids.shape[-1])
        half = self.prefers_swap(bids[..., 0, :], 0) & ~self.prefers_swap(bids[..., 1, :], 1)
        if S.any() and (~S).any() and half.any():
            give = np.argmin(np.where(S, bids[..., 0, :], np.inf), axis=-1)
            get = np.argmin(np.where(~S, bids[..., 1, :], np.inf), axis=-1)
            rows = np.nonzero(half)
            owner[rows + (give[half],)] = 1
            owner[rows + (get[half],)] = 0
        return owner


class CountsItems(Exchange):
    """Exchange that measures agent 1's preference by how many items it bids positively on in
    each endowment (an indicator where a sum was meant): zeros steer the trade."""

    def _allocate(self, bids):
        S = self.endowed(bids.shape[-1])
        pos = (bids[..., 1, :] > 0).astype(float)
        accept1 = pos @ S > pos @ (~S)
        trade = self.prefers_swap(bids[..., 0, :], 0) & accept1
        return np.where(S != trade[..., None], 0, 1)


class CrossComponentSize(Composition):
    """Two picking components; the second's bundle size is the larger one when the picker's mean
    bid in the first is below its mean bid in the second ("need-based"): the picker shades the
    first component (its ranking there unchanged) for a bigger second bundle."""

    def _allocate(self, bids):
        (a, pa), (b, pb) = [(np.asarray(c.items), c.mechanism) for c in self.components]
        owner = np.empty(bids.shape[:-2] + (self.n_items,), dtype=np.int64)
        owner[..., a] = pa._allocate(bids[..., a])
        p = pb.picker
        big = bids[..., p, a].mean(axis=-1) < bids[..., p, b].mean(axis=-1)
        k = np.where(big, pb.sizes.max(), pb.sizes.min())
        owner[..., b] = np.where(_top_k_by_rank(bids[..., p, b], k), p, 1 - p)
        return owner


class ExchangeUnsliced(Composition):
    """A composition whose exchange compares each agent's bids for S with its bids for every
    other item of the whole composition (the component slice forgotten)."""

    def _allocate(self, bids):
        owner = np.empty(bids.shape[:-2] + (self.n_items,), dtype=np.int64)
        for c in self.components:
            idx = np.asarray(c.items)
            if isinstance(c.mechanism, Exchange):
                S_local = c.mechanism.endowed(idx.size)
                S = np.zeros(self.n_items, dtype=bool)
                S[idx[S_local]] = True
                in_S, in_T = bids @ S.astype(float), bids @ (~S).astype(float)
                trade = (in_T[..., 0] > in_S[..., 0]) & (in_S[..., 1] > in_T[..., 1])
                owner[..., idx] = np.where(S_local != trade[..., None], 0, 1)
            else:
                owner[..., idx] = c.mechanism._allocate(bids[..., idx])
        return owner


class OrderByFirstComponent(Composition):
    """Two picking components; the second's picker is whoever reported the larger total in the
    first (a "priority" rule): exaggerating the first component buys the second pick."""

    def _allocate(self, bids):
        (a, pa), (b, pb) = [(np.asarray(c.items), c.mechanism) for c in self.components]
        owner = np.empty(bids.shape[:-2] + (self.n_items,), dtype=np.int64)
        owner[..., a] = pa._allocate(bids[..., a])
        picker = np.argmax(bids[..., a].sum(axis=-1), axis=-1)
        mine = np.take_along_axis(bids[..., b], picker[..., None, None], axis=-2)[..., 0, :]
        k = int(pb.sizes[0])
        owner[..., b] = np.where(_top_k_by_rank(mine, k), picker[..., None], 1 - picker[..., None])
        return owner


@cardinal
class PickerByReport(PickCorrelated):
    """Appendix B's rule with the first picker chosen by the larger reported total instead of the
    prior's tau: exaggerate to pick first."""

    def _allocate(self, bids):
        return _pick_r_in_order(PickR([self.rule.share, 1 - self.rule.share]), bids, bids.sum(axis=-1))


def _half(m: int) -> list[int]:
    return list(range(0, m, 2))


def _two_parts(m: int, second: Mechanism) -> list[Component]:
    cut = m // 2
    return [Component(tuple(range(cut)), Picking(0, sizes=[max(1, cut // 2)])), Component(tuple(range(cut, m)), second)]


#: name -> (base mechanism, agents, prior, factory of the mutant for m items)
DSIC_MUTANTS = {
    "pick-r/order-by-total-bid": ("pick-r", 2, "uniform", lambda m: OrderByTotalBid([0.5, 0.5])),
    "pick-r/order-by-total-bid-3": ("pick-r", 3, "uniform", lambda m: OrderByTotalBid(None)),
    "pick-r/order-by-max-bid": ("pick-r", 2, "uniform", lambda m: OrderByMaxBid([0.5, 0.5])),
    "pick-r/quota-by-claimed-value": ("pick-r", 2, "uniform", lambda m: QuotaByClaimedValue([0.5, 0.5])),
    "pick-r/cut-ties-all-in": ("pick-r", 3, "uniform", lambda m: CutTiesAllIn(None)),
    "pick-r/zero-bonus": ("pick-r", 2, "uniform", lambda m: ZeroBonus([0.5, 0.5])),
    "pick-r/near-top-greedy": ("pick-r", 2, "uniform", lambda m: NearTopGreedy([0.3, 0.7])),
    "pick-r/efficiency-tweak": ("pick-r", 2, "uniform", lambda m: EfficiencyTweak([0.5, 0.5])),
    "pick-r/protect-top": ("pick-r", 2, "uniform", lambda m: ProtectTop([0.5, 0.5])),
    "serial-dictatorship/dictator-by-total-bid": ("serial-dictatorship", 2, "uniform", lambda m: DictatorByTotalBid()),
    "serial-dictatorship/dictator-outbid": ("serial-dictatorship", 2, "uniform", lambda m: DictatorOutbid()),
    "picking/picker-by-bid-sum": ("picking", 2, "uniform", lambda m: PickerByBidSum(0, sizes=[max(1, m // 2)])),
    "picking/size-from-wrong-row": ("picking", 2, "uniform",
                                    lambda m: SizeFromWrongRow(0, sizes=sorted({max(1, m // 5), max(1, m // 2), max(1, 4 * m // 5)}))),
    "picking/veto": ("picking", 2, "uniform", lambda m: Veto(0, sizes=[max(1, m // 2)])),
    "picking/absolute-threshold": ("picking", 2, "uniform", lambda m: AbsoluteThreshold(0, sizes=[max(1, m // 2)])),
    "picking/cut-ties-all-in": ("picking", 2, "uniform", lambda m: PickingCutTiesAllIn(0, sizes=[max(1, m // 2)])),
    "exchange/efficient-trade": ("exchange", 2, "uniform", lambda m: EfficientTrade(_half(m))),
    "exchange/no-trade-bonus": ("exchange", 2, "uniform", lambda m: NoTradeBonus(_half(m))),
    "exchange/tolerant-acceptance": ("exchange", 2, "uniform", lambda m: TolerantAcceptance(_half(m))),
    "exchange/partial-trade": ("exchange", 2, "uniform", lambda m: PartialTrade(_half(m))),
    "exchange/counts-items": ("exchange", 2, "uniform", lambda m: CountsItems(_half(m))),
    "composition/cross-component-size": ("composition", 2, "uniform", lambda m: CrossComponentSize(
        _two_parts(m, Picking(0, sizes=sorted({max(1, (m - m // 2) // 4), max(1, 3 * (m - m // 2) // 4)}))))),
    "composition/exchange-unsliced": ("composition", 2, "uniform", lambda m: ExchangeUnsliced(
        _two_parts(m, Exchange(_half(m - m // 2))))),
    "composition/order-by-first-component": ("composition", 2, "uniform", lambda m: OrderByFirstComponent(
        _two_parts(m, Picking(0, sizes=[max(1, (m - m // 2) // 2)])))),
    "pick-correlated/picker-by-report": ("pick-correlated", 2, "copula(uniform, beta(a=2, b=5), rho=0.5)",
                                         lambda m: PickerByReport("copula(uniform, beta(a=2, b=5), rho=0.5)")),
}
