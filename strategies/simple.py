"""Misreports that use only the agent's own values (and, for the random ones, context.rng)."""

from __future__ import annotations

import numpy as np

from abm.errors import StrategyError
from strategies.base import Strategy, register

__all__ = ["Scale", "Exaggerate", "Shade", "InflateTopK", "SwapRanks", "ReverseTail", "RandomPermutation",
           "CardinalNoise"]

_OWN = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": False, "clairvoyant": False,
        "stochastic": False, "keeps_ranking": False}


def _positive(x, name):
    if not (isinstance(x, (int, float, np.integer, np.floating)) and np.isfinite(x) and x > 0):
        raise StrategyError(f"{name} must be a positive number, got {x!r}")
    return float(x)


def _count(k, name):
    from abm.spec import whole

    return whole(k, name, minimum=0, error=StrategyError)


def _order(values):
    """Items by decreasing value, lowest index first among equals: (..., m)."""
    return np.argsort(-values, axis=-1, kind="stable")


@register
class Scale(Strategy):
    """Bid ``factor`` times the values: exaggerate (factor > 1) or shade (factor < 1).
    Changes nothing under ordinal mechanisms; pays under welfare maximization."""

    name = "scale"
    classifier = {**_OWN, "keeps_ranking": True}  # a positive factor keeps every comparison

    def __init__(self, factor: float = 2.0):
        self.factor = _positive(factor, "factor")

    @property
    def params(self):
        return {"factor": self.factor}

    def _bid(self, values, context):
        return values * self.factor


@register
class Exaggerate(Scale):
    name = "exaggerate"

    def __init__(self, factor: float = 2.0):
        super().__init__(factor)
        if self.factor < 1:
            raise StrategyError(f"exaggerate needs factor >= 1, got {factor}")


@register
class Shade(Scale):
    name = "shade"

    def __init__(self, factor: float = 0.5):
        super().__init__(factor)
        if self.factor > 1:
            raise StrategyError(f"shade needs factor <= 1, got {factor}")


@register
class InflateTopK(Strategy):
    """Multiply the bids on the k most valuable items by ``factor`` (default 10)."""

    name = "inflate-top-k"
    classifier = dict(_OWN)

    def __init__(self, k: int = 1, factor: float = 10.0):
        self.k = _count(k, "k")
        self.factor = _positive(factor, "factor")

    @property
    def params(self):
        return {"k": self.k, "factor": self.factor}

    def _bid(self, values, context):
        top = np.zeros(values.shape, dtype=bool)
        np.put_along_axis(top, _order(values)[..., : self.k], True, axis=-1)
        return np.where(top, values * self.factor, values)


@register
class SwapRanks(Strategy):
    """Swap the bids of the items ranked ``first`` and ``second`` (1 = most valuable)."""

    name = "swap-ranks"
    classifier = dict(_OWN)

    def __init__(self, first: int = 1, second: int = 2):
        self.first, self.second = _count(first, "first"), _count(second, "second")
        if min(self.first, self.second) < 1:
            raise StrategyError("rank positions start at 1")

    @property
    def params(self):
        return {"first": self.first, "second": self.second}

    def _bid(self, values, context):
        m = values.shape[-1]
        if max(self.first, self.second) > m:
            return values.copy()
        order = _order(values)
        a, b = order[..., self.first - 1: self.first], order[..., self.second - 1: self.second]
        out = values.copy()
        va, vb = np.take_along_axis(values, a, -1), np.take_along_axis(values, b, -1)
        np.put_along_axis(out, a, vb, axis=-1)
        np.put_along_axis(out, b, va, axis=-1)
        return out


@register
class ReverseTail(Strategy):
    """Reverse the ranking of the k least valuable items (their bids swap places)."""

    name = "reverse-tail"
    classifier = dict(_OWN)

    def __init__(self, k: int = 2):
        self.k = _count(k, "k")

    @property
    def params(self):
        return {"k": self.k}

    def _bid(self, values, context):
        k = min(self.k, values.shape[-1])
        if k < 2:
            return values.copy()
        tail = _order(values)[..., -k:]
        out = values.copy()
        np.put_along_axis(out, tail, np.take_along_axis(values, tail[..., ::-1], -1), axis=-1)
        return out


@register
class RandomPermutation(Strategy):
    """Report the same multiset of values on a uniformly random ranking of the items."""

    name = "random-permutation"
    classifier = {**_OWN, "stochastic": True}

    def _bid(self, values, context):
        perm = context.rng.permuted(np.broadcast_to(np.arange(values.shape[-1]), values.shape), axis=-1)
        return np.take_along_axis(values, perm, -1)


@register
class CardinalNoise(Strategy):
    """Multiply each bid by exp(N(0, sigma^2)): noisy cardinal reports, nonnegative."""

    name = "cardinal-noise"
    classifier = {**_OWN, "stochastic": True}

    def __init__(self, sigma: float = 0.2):
        self.sigma = _positive(sigma, "sigma")

    @property
    def params(self):
        return {"sigma": self.sigma}

    def _bid(self, values, context):
        return values * np.exp(self.sigma * context.rng.standard_normal(values.shape))
