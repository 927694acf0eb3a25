"""Mechanisms that lie, for the exactness tests: a hidden flaw, a false property, a false oracle.

Importable by path (``planted:HiddenFlawPickR``), as a researcher's own module would be.
"""

from __future__ import annotations

import numpy as np

from abm.mechanisms import BestResponse, Mechanism, MechanismInfo, PickR, Ranking, RoundRobin
from abm.metrics import utilities


class HiddenFlawPickR(PickR):
    """Pick-r, except that agent 0 gets one more item (the lowest-index item it does not
    hold) when it reports 0 on most items. Inherits Pick-r's label, oracle and 'ordinal'."""

    def _allocate(self, bids):
        owner = super()._allocate(bids)
        zeros = (bids[..., 0, :] == 0).sum(axis=-1) > bids.shape[-1] // 2
        free = owner != 0
        first = np.argmax(free, axis=-1)
        flaw = zeros & free.any(axis=-1)
        owner = owner.copy()
        np.put_along_axis(owner, first[..., None], np.where(flaw[..., None], 0,
                          np.take_along_axis(owner, first[..., None], axis=-1)), axis=-1)
        return owner


class FalselyOrdinal(Mechanism):
    """Declares 'ordinal' but compares raw bids across agents (welfare maximization); no oracle."""

    info = MechanismInfo(name="falsely-ordinal", summary="", claim="DSIC", ordinal=True, reference="",
                         parameters={})

    def _allocate(self, bids):
        return np.argmax(bids, axis=-2).astype(np.int64)


class InflatedOracle(Ranking):
    """Ranking whose oracle promises one unit more than its report earns (from ``from_items``
    items on: below that it tells the truth, so the audit's small-m self-test passes)."""

    def __init__(self, from_items: int = 0):
        self.from_items = from_items

    def best_response(self, values, bids, agent):
        br = super().best_response(values, bids, agent)
        extra = 1.0 if bids.shape[-1] >= self.from_items else 0.0
        return BestResponse(br.reports, br.value + extra, br.proven, "inflated")


class TruthfulOracleRoundRobin(RoundRobin):
    """Round robin whose 'oracle' asserts the truth is optimal: its report attains its value,
    so only enumeration or the search can expose it (from ``from_items`` items on; below, its
    answers are round robin's own oracle's, so the small-m self-test passes)."""

    def __init__(self, from_items: int = 0):
        self.from_items = from_items

    def best_response(self, values, bids, agent):
        if bids.shape[-1] < self.from_items:
            return super().best_response(values, bids, agent)
        own = np.array(bids, dtype=float)
        own[:, agent, :] = values
        u = utilities(np.broadcast_to(values[:, None, :], own.shape), self.allocate(own))[:, agent]
        return BestResponse(np.array(values, dtype=float), u, np.ones(len(u), dtype=bool), "the truth, assumed")


class _BrokenOutput(Mechanism):
    """Base of the rules below: each returns owners that are not a valid allocation."""

    info = MechanismInfo(name="broken-output", summary="", claim="DSIC", ordinal=False, reference="", parameters={})

    def _owners(self, bids, dtype=np.int64):
        return np.zeros(bids.shape[:-2] + bids.shape[-1:], dtype=dtype)


class OwnerOutOfRange(_BrokenOutput):
    """Gives the last item to agent 7, whatever n is."""

    def _allocate(self, bids):
        o = self._owners(bids)
        o[..., -1] = 7
        return o


class NegativeOwner(_BrokenOutput):
    def _allocate(self, bids):
        o = self._owners(bids)
        o[..., 0] = -1
        return o


class MissingOwner(_BrokenOutput):
    def _allocate(self, bids):
        o = self._owners(bids, dtype=object)
        o[..., 1] = None
        return o


class WrongShape(_BrokenOutput):
    """Redefines ``allocate`` itself (no base-class check on the way) and drops an item."""

    def allocate(self, bids):
        b = np.asarray(bids)
        return np.zeros(b.shape[:-2] + (b.shape[-1] - 1,), dtype=np.int64)


class FloatOwners(_BrokenOutput):
    def _allocate(self, bids):
        return self._owners(bids, dtype=float)


class CrashesOnStep(Mechanism):
    """A bug, not bad input: allocating divides by zero."""

    info = MechanismInfo(name="crashes", summary="", claim="none", ordinal=False, reference="", parameters={})

    def _allocate(self, bids):
        scale = bids.shape[-1] // 0  # the bug
        return np.zeros(bids.shape[:-2] + bids.shape[-1:], dtype=np.int64) * scale


class FlatnessQuota(PickR):
    """Pick-r whose first picker gets one more item when its reported bids are nearly flat
    (spread below 10% of the top bid): 'an agent who cares equally about everything needs more'.
    It keeps the order of every report, so enumerating rankings never sees it; adding a large
    constant to the truth is a lie that pays."""

    def _allocate(self, bids):
        n, m = bids.shape[-2:]
        mine = bids[..., 0, :]
        top = mine.max(axis=-1)
        flat = (top - mine.min(axis=-1)) < 0.1 * np.maximum(top, 1e-300)
        t = self.quotas(n, m)
        normal = PickR._allocate(self, bids)
        if not flat.any() or n < 2:
            return normal
        bigger = PickR.__new__(PickR)
        bigger.__dict__.update(self.__dict__)
        t2 = t.copy()
        t2[0], t2[-1] = t2[0] + 1, t2[-1] - 1
        bigger.quotas = lambda n_agents, n_items: t2
        return np.where(flat[..., None], PickR._allocate(bigger, bids), normal)


class ReadsTheBatch(Mechanism):
    """Each item to the agent with the larger bid summed over the whole batch: a profile's
    allocation depends on the other profiles computed beside it, so it is no mechanism."""

    info = MechanismInfo(name="reads-the-batch", summary="", claim="DSIC", ordinal=False, reference="", parameters={})

    def _allocate(self, bids):
        pooled = bids.reshape(-1, *bids.shape[-2:]).sum(axis=0)  # (n, m), summed over the batch
        return np.broadcast_to(np.argmax(pooled, axis=0), bids.shape[:-2] + bids.shape[-1:]).astype(np.int64)


def _declared_cardinal(cls, name: str):
    """The same rule, declared cardinal (ordinal=False): what its author should have declared, since
    it reads magnitudes (a rule declared ordinal is shown rankings only)."""
    from dataclasses import replace

    return type(name, (cls,), {"info": replace(cls.info, ordinal=False), "__module__": __name__,
                               "__doc__": f"{cls.__name__}, declared cardinal."})


HiddenFlawPickRCardinal = _declared_cardinal(HiddenFlawPickR, "HiddenFlawPickRCardinal")
FlatnessQuotaCardinal = _declared_cardinal(FlatnessQuota, "FlatnessQuotaCardinal")
