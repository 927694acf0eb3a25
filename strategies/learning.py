"""Learners: strategies with state that the model updates after every round.

A learner plays a mixed strategy over a menu of base strategies (the registry's own, by
default) and learns from what each round brings, as in repeated play (the paper's
stochastic model: fresh values every round). Rewards are utilities divided by the agent's
total value in that instance, so they lie in [0, 1] whatever the prior's scale.

* :class:`Hedge` (multiplicative weights, full information): the model computes the
  counterfactual reward of every menu strategy against the others' actual reports;
  with ``eta_t = sqrt(8 ln K / t)`` its regret against the best fixed strategy in
  hindsight is at most ``sqrt(2 t ln K)`` after t rounds (Cesa-Bianchi and Lugosi 2006,
  Theorem 2.3 with the anytime step), for any sequence of rewards.
* :class:`Exp3` (bandit feedback): only the realized reward of the strategy played,
  importance-weighted (Auer et al. 2002).
"""

from __future__ import annotations

import math

import numpy as np

from abm.errors import StrategyError
from strategies.base import Strategy

__all__ = ["Learner", "Hedge", "Exp3", "default_menu"]


def default_menu() -> list[Strategy]:
    """Every registered strategy that needs neither the others' bids nor learning, with its defaults."""
    import strategies

    out = []
    for cls in strategies.available(clairvoyant=False):
        if issubclass(cls, Learner) or cls.name in ("mixed", "noisy", "on-items", "interim-best-response"):
            continue
        out.append(strategies.get(cls.name))
    return out


class Learner(Strategy):
    """A mixed strategy over ``menu`` whose weights the model updates after each round."""

    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": True, "clairvoyant": False,
                  "stochastic": True, "keeps_ranking": False}
    #: "full": the model passes every menu strategy's reward; "bandit": only the one played
    feedback = "full"

    def __init__(self, menu=None):
        import strategies

        self.menu = default_menu() if menu is None else [strategies.get(s) for s in menu]
        if not self.menu:
            raise StrategyError("a learner needs a non-empty menu of strategies")
        if any(isinstance(s, Learner) or s.classifier.get("clairvoyant") for s in self.menu):
            raise StrategyError("a learner's menu takes plain strategies: no learners, nothing clairvoyant")
        self.reset()

    @property
    def params(self):
        return {"menu": [repr(s) for s in self.menu]}

    def reset(self) -> None:
        K = len(self.menu)
        self.rounds = 0
        self.totals = np.zeros(K)  # sum over rounds of each strategy's mean reward (bookkeeping)
        self.earned = 0.0  # sum over rounds of the expected reward of the distribution played
        self.last_arms: np.ndarray | None = None

    def distribution(self) -> np.ndarray:
        raise NotImplementedError

    def _bid(self, values, context):
        p = self.distribution()
        arms = context.rng.choice(len(self.menu), size=values.shape[:-1], p=p)
        self.last_arms = arms
        out = np.empty(values.shape)
        for k in np.unique(arms):
            rows = arms == k
            out[rows] = self.menu[int(k)].bid(values[rows], context)
        return out

    def update(self, rewards: np.ndarray, arms: np.ndarray) -> None:
        """After a round: ``rewards (B, K)``, every menu strategy's reward in each instance against
        the others' actual reports, and ``arms (B,)``, the strategies played. The regret
        bookkeeping reads every column; what the learner learns from depends on its feedback
        (:meth:`_learn`: a bandit learner reads only the rewards of the arms it played)."""
        rewards = np.asarray(rewards, dtype=float)
        arms = np.asarray(arms)
        if rewards.ndim != 2 or rewards.shape[1] != len(self.menu) or arms.shape != rewards.shape[:1]:
            raise StrategyError(f"{self.name} needs rewards (instances, {len(self.menu)}) and one arm per instance")
        p = self.distribution()
        self.earned += float((rewards @ p).mean())
        self.totals += rewards.mean(axis=0)
        self._learn(rewards, arms, p)
        self.rounds += 1

    def _learn(self, rewards, arms, p) -> None:
        raise NotImplementedError

    def regret(self) -> float:
        """Time-average regret so far: the best fixed strategy's mean reward in hindsight minus the
        expected reward of the distributions played."""
        return 0.0 if self.rounds == 0 else float(self.totals.max() - self.earned) / self.rounds


class Hedge(Learner):
    """Multiplicative weights over the menu, p_k proportional to exp(eta_t * cumulative reward_k),
    with eta_t = ``eta`` or the anytime step sqrt(8 ln K / t)."""

    name = "hedge"
    feedback = "full"

    def __init__(self, menu=None, eta: float | None = None):
        if eta is not None and not (math.isfinite(eta) and eta > 0):
            raise StrategyError(f"eta must be a positive number, got {eta!r}")
        self.eta = eta
        super().__init__(menu)

    @property
    def params(self):
        return {**super().params, "eta": self.eta}

    def _eta(self) -> float:
        # the anytime step for round t = rounds + 1 (Cesa-Bianchi and Lugosi 2006, Theorem 2.3)
        return self.eta if self.eta is not None else math.sqrt(8 * math.log(max(len(self.menu), 2)) / (self.rounds + 1))

    def reset(self):
        super().reset()
        self.cumulative = np.zeros(len(self.menu))

    def distribution(self):
        z = self._eta() * self.cumulative
        w = np.exp(z - z.max())
        return w / w.sum()

    def _learn(self, rewards, arms, p):
        self.cumulative += rewards.mean(axis=0)  # full information: every strategy's reward


class Exp3(Learner):
    """Exp3: exponential weights on importance-weighted reward estimates, mixed with ``gamma``
    uniform exploration; sees only the reward of the strategy it played."""

    name = "exp3"
    feedback = "bandit"

    def __init__(self, menu=None, gamma: float = 0.1):
        if not (0 < gamma <= 1):
            raise StrategyError(f"gamma must lie in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)
        super().__init__(menu)

    @property
    def params(self):
        return {**super().params, "gamma": self.gamma}

    def reset(self):
        super().reset()
        self.estimates = np.zeros(len(self.menu))

    def distribution(self):
        K = len(self.menu)
        z = self.gamma / K * self.estimates
        w = np.exp(z - z.max())
        return (1 - self.gamma) * w / w.sum() + self.gamma / K

    def _learn(self, rewards, arms, p):
        K = len(self.menu)
        realized = rewards[np.arange(arms.size), arms]  # bandit feedback: only what was played
        self.estimates += np.bincount(arms, weights=realized, minlength=K) / (p * arms.size)
