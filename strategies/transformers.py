"""Transformers wrap one strategy into another (Axelrod's transformers)."""

from __future__ import annotations

import numpy as np

from abm.errors import StrategyError
from strategies.base import Strategy, register

__all__ = ["Noisy", "Mixed", "OnItems"]


def _inner(s):
    import strategies

    return strategies.get(s)


@register
class Noisy(Strategy):
    """With probability ``p`` per item, replace the wrapped strategy's bid by a random one
    (uniform between 0 and the agent's largest value)."""

    name = "noisy"
    #: class-level flags for ``strategies.available`` filters: instances are random (they draw
    #: items or strategies with context.rng), and their own classifier refines the rest
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": False, "clairvoyant": False,
                  "stochastic": True, "keeps_ranking": False}

    def __init__(self, strategy="truthful", p: float = 0.1):
        self.strategy = _inner(strategy)
        if not 0 <= p <= 1:
            raise StrategyError(f"p must lie in [0, 1], got {p}")
        self.p = float(p)
        self.classifier = {**self.strategy.classifier, "stochastic": True,
                           "keeps_ranking": bool(self.strategy.classifier.get("keeps_ranking")) and self.p == 0}

    @property
    def params(self):
        return {"strategy": self.strategy, "p": self.p}

    def _bid(self, values, context):
        bids = self.strategy.bid(values, context)
        flip = context.rng.random(values.shape) < self.p
        noise = context.rng.random(values.shape) * values.max(axis=-1, keepdims=True)
        return np.where(flip, noise, bids)


@register
class Mixed(Strategy):
    """Play one of the wrapped strategies, drawn per instance with the given probabilities."""

    name = "mixed"
    #: class-level flags for ``strategies.available`` filters: instances are random (they draw
    #: items or strategies with context.rng), and their own classifier refines the rest
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": False, "clairvoyant": False,
                  "stochastic": True, "keeps_ranking": False}

    def __init__(self, strategies=("truthful", "random-permutation"), probabilities=None):
        self.strategies = [_inner(s) for s in strategies]
        if not self.strategies:
            raise StrategyError("mixed needs at least one strategy")
        p = np.full(len(self.strategies), 1 / len(self.strategies)) if probabilities is None else \
            np.asarray(probabilities, dtype=float)
        if p.shape != (len(self.strategies),) or (p < 0).any() or not np.isclose(p.sum(), 1):
            raise StrategyError("probabilities must be nonnegative, one per strategy, summing to 1")
        self.probabilities = p
        self.classifier = {k: any(s.classifier.get(k, False) for s in self.strategies)
                           for k in self.strategies[0].classifier}
        self.classifier["stochastic"] = True
        self.classifier["keeps_ranking"] = all(s.classifier.get("keeps_ranking", False) for s in self.strategies)

    @property
    def params(self):
        return {"strategies": self.strategies, "probabilities": self.probabilities.tolist()}

    def _bid(self, values, context):
        options = np.stack([s.bid(values, context) for s in self.strategies])
        pick = context.rng.choice(len(self.strategies), size=values.shape[:-1], p=self.probabilities)
        return np.take_along_axis(options, pick[None, ..., None], axis=0)[0]


@register
class OnItems(Strategy):
    """Apply the wrapped strategy to a subset of items (the first ``fraction`` of them, or
    listed ``items``) and bid truthfully on the rest. Rescales the wrapped bids on the
    subset to the subset's own value range, so truthful items stay comparable."""

    name = "on-items"
    #: class-level flags for ``strategies.available`` filters: instances are random (they draw
    #: items or strategies with context.rng), and their own classifier refines the rest
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": False, "clairvoyant": False,
                  "stochastic": True, "keeps_ranking": False}

    def __init__(self, strategy="random-permutation", fraction: float = 0.5, items=None):
        self.strategy = _inner(strategy)
        if not 0 <= fraction <= 1:
            raise StrategyError(f"fraction must lie in [0, 1], got {fraction}")
        self.fraction = float(fraction)
        self.items = None if items is None else sorted(int(j) for j in items)
        self.classifier = {**self.strategy.classifier, "keeps_ranking": False}  # rescaled subsets reorder items

    @property
    def params(self):
        return {"strategy": self.strategy, "fraction": self.fraction, "items": self.items}

    def _bid(self, values, context):
        m = values.shape[-1]
        idx = np.asarray(self.items if self.items is not None else range(int(round(self.fraction * m))), dtype=int)
        if idx.size and (idx.min() < 0 or idx.max() >= m):
            raise StrategyError(f"items must lie in 0..{m - 1}")
        out = values.copy()
        if idx.size:
            sub = self.strategy.bid(values[..., idx], context)
            hi_v = values[..., idx].max(axis=-1, keepdims=True)
            hi_b = sub.max(axis=-1, keepdims=True)
            out[..., idx] = np.where(hi_b > 0, sub * hi_v / np.where(hi_b > 0, hi_b, 1), sub)
        return out
