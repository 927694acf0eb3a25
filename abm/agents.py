"""Bidder agents: private values, a strategy, and what they received.

In Mesa's way the agents act: the model draws the values and calls its agent set; each
:class:`Bidder` observes its values, reports in its :meth:`~Bidder.step` (into the model's bid
matrix for this step) and, if its strategy learns, takes its feedback in :meth:`~Bidder.learn`.
"""

from __future__ import annotations

import mesa
import numpy as np

from strategies import BidContext, Learner, Strategy

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
        self._menu_labels: list[str] | None = None

    def observe(self, values: np.ndarray) -> None:
        """Learn this step's private values; ``values`` is the full ``(batch, n, m)`` draw."""
        self.values = values[..., self.index, :]

    @property
    def clairvoyant(self) -> bool:
        """Whether the strategy reads the others' bids (it then reports after them)."""
        return bool(self.strategy.classifier.get("clairvoyant", False))

    @property
    def learns(self) -> bool:
        return isinstance(self.strategy, Learner)

    def _context(self, others_bids=None) -> BidContext:
        m = self.model
        return BidContext(agent=self.index, n_agents=m.n_agents, rng=m.rng, prior=m.prior, mechanism=m.mechanism,
                          others_bids=others_bids if self.clairvoyant else None)

    def report(self, others_bids: np.ndarray | None = None) -> np.ndarray:
        """The bids this agent submits; ``others_bids`` (``(batch, n - 1, m)``) reach clairvoyant
        strategies only."""
        self.bids = self.strategy.bid(self.values, self._context(others_bids))
        return self.bids

    def step(self) -> None:
        """Report into this step's bid matrix (``model.bids``). A clairvoyant agent is stepped after
        the others and reads their reports; when the matrix is the values themselves (everyone
        truthful) the report is a view of them, with no copy."""
        bids = self.model.bids
        if bids is self.model.values:
            self.bids = bids[..., self.index, :]
            return
        others = np.delete(bids, self.index, axis=-2) if self.clairvoyant else None
        bids[..., self.index, :] = self.report(others)

    def receive(self, utility: np.ndarray, truthful_utility: np.ndarray, items: np.ndarray) -> None:
        self.utility, self.truthful_utility, self.items = utility, truthful_utility, items

    def learn(self, values: np.ndarray, bids: np.ndarray) -> None:
        """A learner's feedback: what each strategy of its menu would have earned this round against
        the others' actual reports (one vectorized allocation for the whole menu), as rewards in
        [0, 1]: utility over the agent's total value in that instance."""
        from abm.metrics import utility_of_reports

        model, i = self.model, self.index
        n, m = model.n_agents, model.n_items
        own = values[..., i, :].reshape(-1, m)
        others = np.delete(bids.reshape(-1, n, m), i, axis=-2)
        reports = self.strategy.candidates(own, self._context(others))  # (B, C, m)
        won = utility_of_reports(model.mechanism, own, bids.reshape(-1, n, m), i, reports)
        rewards = won / np.maximum(own.sum(axis=-1, keepdims=True), np.finfo(float).tiny)
        self.strategy.update(rewards, np.asarray(self.strategy.last_arms).reshape(-1))

    def top_strategy(self) -> str | None:
        """The menu strategy a learner now plays most (None for a strategy that does not learn from a menu)."""
        if not (self.learns and self.strategy.menu):
            return None
        if getattr(self, "_menu_labels", None) is None:
            self._menu_labels = [repr(s) for s in self.strategy.menu]
        return self._menu_labels[int(np.argmax(self.strategy.distribution()))]

    @property
    def gain(self) -> np.ndarray:
        """Utility from the strategy minus utility from telling the truth (others fixed)."""
        return self.utility - self.truthful_utility
