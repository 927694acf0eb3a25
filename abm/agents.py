"""Bidder agents: private values, a strategy, and what they received."""

from __future__ import annotations

import mesa
import numpy as np

from strategies import BidContext, Strategy

__all__ = ["Bidder"]


class Bidder(mesa.Agent):
    """An agent with private values drawn from the prior and a (possibly lying) strategy.

    ``index`` is the agent's row in the bid matrix, which is also its place in the
    mechanism's priority order (agent 1 of the paper is index 0). Values and outcomes
    are arrays over the instances of the current step.
    """

    def __init__(self, model: mesa.Model, index: int, strategy: Strategy):
        super().__init__(model)
        self.index = index
        self.strategy = strategy
        self.label = repr(strategy)  # a strategy's parameters are fixed: its text, once (a learner's repr is long)
        self.values: np.ndarray | None = None  # (batch, m), private
        self.bids: np.ndarray | None = None
        self.utility: np.ndarray | None = None
        self.truthful_utility: np.ndarray | None = None
        self.items: np.ndarray | None = None

    def observe(self, values: np.ndarray) -> None:
        """Learn this step's private values; ``values`` is the full ``(batch, n, m)`` draw."""
        self.values = values[..., self.index, :]

    @property
    def clairvoyant(self) -> bool:
        """Whether the strategy reads the others' bids (it then reports after them)."""
        return bool(self.strategy.classifier.get("clairvoyant", False))

    def report(self, others_bids: np.ndarray | None = None) -> np.ndarray:
        """The bids this agent submits to the mechanism scheduler.

        ``others_bids`` (``(batch, n - 1, m)``) is given to clairvoyant strategies only.
        """
        context = BidContext(
            agent=self.index,
            n_agents=self.model.n_agents,
            rng=self.model.rng,
            prior=self.model.prior,
            mechanism=self.model.mechanism,
            others_bids=others_bids if self.clairvoyant else None,
        )
        self.bids = self.strategy.bid(self.values, context)
        return self.bids

    def receive(self, utility: np.ndarray, truthful_utility: np.ndarray, items: np.ndarray) -> None:
        self.utility, self.truthful_utility, self.items = utility, truthful_utility, items

    @property
    def gain(self) -> np.ndarray:
        """Utility from the strategy minus utility from telling the truth (others fixed)."""
        return self.utility - self.truthful_utility
