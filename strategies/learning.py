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

from abm import declare as d
from abm.errors import StrategyError
from strategies.base import Strategy, register

__all__ = ["Learner", "Hedge", "Exp3", "ShadingCurve", "DeadlineSchedule", "default_menu"]

#: the learners' declared ranges. A step (a learning rate, a step size) past MAX_STEP sends
#: exp() of the weights or of the bid scale past float's range, where NaN takes over; knots
#: and pairs past theirs are arrays and rounds of evaluation no study of a few dozen items needs.
MAX_STEP, MAX_KNOTS, MAX_PAIRS = 1e3, 1000, 10_000


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
    #: what the family can express, shown in learners' summaries
    expresses = "a mixture of the strategies on its menu: nothing off the menu"

    def __init__(self, menu=None):
        import strategies

        # names, text specs such as "scale(factor=3)", or instances
        self.menu = default_menu() if menu is None else [strategies.parse(s) if isinstance(s, str) else strategies.get(s)
                                                         for s in menu]
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

    def candidates(self, values: np.ndarray, context) -> np.ndarray:
        """The reports whose rewards the model computes after a round, ``(B, C, m)``: here every
        strategy of the menu (what a full-information learner compares)."""
        return np.stack([s.bid(values, context) for s in self.menu], axis=1)

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


@register
class Hedge(Learner):
    """Multiplicative weights over the menu, p_k proportional to exp(eta_t * cumulative reward_k),
    with eta_t = ``eta`` or the anytime step sqrt(8 ln K / t)."""

    name = "hedge"
    feedback = "full"

    @d.parameters(StrategyError, eta=d.real(0, MAX_STEP, open_low=True))
    def __init__(self, menu=None, eta: float | None = None):
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


@register
class Exp3(Learner):
    """Exp3: exponential weights on importance-weighted reward estimates, mixed with ``gamma``
    uniform exploration; sees only the reward of the strategy it played."""

    name = "exp3"
    feedback = "bandit"

    @d.parameters(StrategyError, gamma=d.real(0, 1, open_low=True))
    def __init__(self, menu=None, gamma: float = 0.1):
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


@register
class ShadingCurve(Learner):
    """A continuous misreport family trained by evolution strategies with common random numbers.

    Bid b_j = v_j exp(theta_0 + g(q_j)): theta_0 scales every bid (what pays under cardinal
    rules such as welfare maximization), and g, piecewise linear in q_j (the best rank any other
    agent gives item j, over m - 1; 0 = someone's favourite) with ``knots`` values, re-ranks
    items by how contested they are (what pays under round robin). It reads the others'
    reports (clairvoyant), like the ex-post best response it is measured against. Each round
    the model evaluates ``pairs`` antithetic perturbations theta +- sigma eps on the same
    instances (common random numbers); theta moves along the estimated gradient of the reward.
    """

    name = "shading-curve"
    feedback = "full"
    expresses = ("bids v_j exp(theta_0 + g(q_j)): one global scale and a re-ranking by how contested an item is "
                 "(the others' best rank), piecewise linear; nothing that zeroes items or reads the profile as a whole")
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": True, "clairvoyant": True,
                  "stochastic": True, "keeps_ranking": False}

    @d.parameters(StrategyError, knots=d.whole(2, MAX_KNOTS), sigma=d.real(0, MAX_STEP, open_low=True),
                  rate=d.real(0, MAX_STEP, open_low=True), pairs=d.whole(1, MAX_PAIRS))
    def __init__(self, knots: int = 5, sigma: float = 0.3, rate: float = 0.1, pairs: int = 8):
        self.knots, self.sigma, self.rate, self.pairs = knots, float(sigma), float(rate), pairs
        self.menu = []
        self.reset()

    @property
    def params(self):
        return {"knots": self.knots, "sigma": self.sigma, "rate": self.rate, "pairs": self.pairs}

    def reset(self):
        self.rounds = 0
        self.theta = np.zeros(self.knots + 1)
        self.last_arms = None
        self.earned = 0.0
        self._eps = None
        self._moment = np.zeros(self.knots + 1)

    def distribution(self):
        return np.ones(1)

    def regret(self) -> float:
        return float("nan")  # no finite menu to compare with: measured by its gain over truthful play

    def _report(self, values, others, theta):
        """Reports for ``theta (d,)`` -> ``(..., m)``, or for several ``theta (C, d)`` -> ``(..., C, m)``."""
        m = values.shape[-1]
        if others is None or others.shape[-2] == 0 or m == 1:
            q = np.zeros(values.shape)
        else:
            from abm.mechanisms.ranking import ranks

            q = ranks(np.asarray(others, dtype=float)).min(axis=-2) / (m - 1)
        thetas = np.atleast_2d(theta)
        grid = np.linspace(0.0, 1.0, self.knots)
        log_factor = np.stack([t[0] + np.interp(q, grid, t[1:]) for t in thetas], axis=-2)  # (..., C, m)
        out = values[..., None, :] * np.exp(np.clip(log_factor, -30, 30))
        return out[..., 0, :] if np.ndim(theta) == 1 else out

    def _bid(self, values, context):
        self.last_arms = np.zeros(values.shape[:-1], dtype=np.int64)
        return self._report(values, context.others_bids, self.theta)

    def _scale(self) -> float:
        """This round's perturbation scale (constant here; :class:`DeadlineSchedule` anneals it)."""
        return self.sigma

    def candidates(self, values, context):
        self._eps = context.rng.standard_normal((self.pairs, self.theta.size))
        step = self._scale() * self._eps
        return self._report(values, context.others_bids, np.concatenate([self.theta + step, self.theta - step]))

    def update(self, rewards, arms=None):
        rewards = np.asarray(rewards, dtype=float)
        if rewards.ndim != 2 or rewards.shape[1] != 2 * self.pairs:
            raise StrategyError(f"{self.name} needs rewards for its {2 * self.pairs} perturbations")
        scale = self._scale()
        diff = (rewards[:, : self.pairs] - rewards[:, self.pairs:]).mean(axis=0)  # common random numbers
        grad = (diff[:, None] * self._eps).mean(axis=0) / (2 * scale)
        self._moment = 0.9 * self._moment + 0.1 * grad * grad
        # RMSprop-normalized step, shrinking with the perturbation scale: late iterates settle
        self.theta += self.rate * (scale / self.sigma) * grad / (np.sqrt(self._moment) + 1e-8)
        self.earned += float(rewards.mean())
        self.rounds += 1


@register
class DeadlineSchedule(ShadingCurve):
    """A one-parameter family of re-rankings (and a scale), trained by evolution strategies.

    The agent believes the others take items at ``lambda = exp(a)`` items per pick of its own:
    item j, which the others rank p_j (the best rank any of them gives it; 0 = someone's
    favourite), must be among its first ``floor(lambda p_j) + 1`` picks. It schedules its most
    valuable items before those deadlines in its q = ceil(m / n) picks (unit jobs with
    deadlines: the greedy is exact when the belief is right), reports that schedule earliest
    deadline first and then the rest by value, all scaled by exp(theta_0). Under two-agent
    round robin, for the first picker, lambda = 1/2 is right (Bouveret and Lang 2011: a set is
    reachable iff it holds at most t of the other's top 2t items), so the family contains the
    exact best response; under welfare maximization a large theta_0 is. It reads the others'
    reports (clairvoyant), like the ex-post best response it is measured against.

    It starts at lambda = n - 1 (each other agent takes one item per pick of its own, as if
    every item it wants were everyone's first choice) and learns like
    :class:`ShadingCurve`. The deadlines are integers, so the reward is piecewise constant in
    a, with plateaus and a cliff just past the best lambda (too few picks left for the items
    it waits for): the perturbation scale therefore shrinks as sigma / sqrt(1 + t / 100),
    down to ``sigma_min``, so that early steps see across plateaus and late ones resolve the
    optimum instead of smoothing it away; the step shrinks in proportion.
    """

    name = "deadline-schedule"
    expresses = ("a global scale and one believed pick rate lambda: the items the others would take by then, scheduled "
                 "earliest deadline first; exact for two-agent round robin, nothing else by design")

    @d.parameters(StrategyError, sigma=d.real(0, MAX_STEP, open_low=True),
                  sigma_min=d.real(0, MAX_STEP, open_low=True))
    def __init__(self, sigma: float = 0.3, sigma_min: float = 0.05, rate: float = 0.05, pairs: int = 8):
        super().__init__(knots=2, sigma=sigma, rate=rate, pairs=pairs)
        if not (isinstance(sigma_min, (int, float)) and 0 < sigma_min <= sigma):
            raise StrategyError(f"sigma_min must lie in (0, sigma], got {sigma_min!r}")
        self.sigma_min = float(sigma_min)

    @property
    def params(self):
        return {"sigma": self.sigma, "sigma_min": self.sigma_min, "rate": self.rate, "pairs": self.pairs}

    def reset(self):
        super().reset()
        self.theta = np.array([0.0, np.nan])  # theta_0, a; a = log(n - 1) once n is known
        self._moment = np.zeros(2)

    def _scale(self) -> float:
        return max(self.sigma / math.sqrt(1 + self.rounds / 100), self.sigma_min)

    def _start(self, n: int) -> None:
        if np.isnan(self.theta[1]):
            self.theta[1] = math.log(max(n - 1, 1))

    def _bid(self, values, context):
        self._start(context.n_agents)
        return super()._bid(values, context)

    def candidates(self, values, context):
        self._start(context.n_agents)
        return super().candidates(values, context)

    def _report(self, values, others, theta):
        from abm.mechanisms.ranking import ranks
        from abm.mechanisms.schedule import schedule_deadlines

        values = np.asarray(values, dtype=float)
        P, m = values.reshape(-1, values.shape[-1]).shape
        flat = values.reshape(P, m)
        p = (np.zeros((P, m)) if others is None or np.shape(others)[-2] == 0
             else ranks(np.asarray(others, dtype=float).reshape(P, -1, m)).min(axis=-2))
        n = 1 if others is None else np.shape(others)[-2] + 1
        quota = -(-m // n)  # the agent expects its share of picks: the schedule's slots
        thetas = np.atleast_2d(theta)
        C = thetas.shape[0]
        # exp(log 1/2) is a hair below 1/2 in floating point: the small nudge keeps
        # floor(lambda p) exact at the rational lambdas the family is built around
        # any lambda past the quota schedules every item at the last slot: clipping log lambda keeps
        # exp() finite, so a large step gives that schedule, not NaN deadlines
        lam = np.exp(np.clip(thetas[:, 1], -700.0, 700.0))[None, :, None]
        deadline = np.clip(np.floor(lam * p[:, None, :] + 1e-9) + 1, 1, quota).astype(np.int64)  # (P, C, m)
        own = np.broadcast_to(flat[:, None, :], (P, C, m)).reshape(P * C, m)
        deadline = deadline.reshape(P * C, m)
        slots = schedule_deadlines(own, deadline)  # every candidate in one vectorized schedule
        # scheduled items earliest deadline first (a feasible order whenever any is), by value
        # among equal deadlines, then the rest by value
        key = np.where(slots >= 0, deadline, m + 1)
        order = np.lexsort((-own, key), axis=-1)
        ranking = np.empty((P * C, m))
        np.put_along_axis(ranking, order, np.broadcast_to(np.arange(m, 0, -1, dtype=float), (P * C, m)), axis=-1)
        top = np.maximum(flat.max(axis=-1), np.finfo(float).tiny)[:, None, None]
        scale = np.exp(np.clip(thetas[:, 0], -30, 30))[None, :, None]
        out = ranking.reshape(P, C, m) / m * top * scale
        out = out.reshape(values.shape[:-1] + (thetas.shape[0], m))
        return out[..., 0, :] if np.ndim(theta) == 1 else out
