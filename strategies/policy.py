"""A general learner: one small policy applied to every item, trained by CMA-ES.

The other learners each carry a guess at the answer (a menu of known misreports, a shading
curve, a deadline schedule). This one does not. It maps each item's *features* to a report
for that item, with the same function for every item, so it treats items alike
(permuting the items permutes the report) and works for any m and n:

* own value over the largest value in sight, own rank (1 = favourite, 0 = least), the
  value's quantile under the agent's marginal prior (the paper's F_i, section 2), and
  whether the item sits in a declared exchange (section 3.1), in this agent's endowment or
  the other's: the only way a mechanism says its items differ;
* for the clairvoyant form, which reports after seeing the others (the ex-post deviations
  of section 2's DSIC definition): the others' best and mean rank of the item, their
  highest bid over the largest value in sight, log(own value / their highest bid), the
  share of items worth more and at least as contested, the own total and top value against
  the others' smallest and largest, and a learned "crowd" count (items worth more and at
  least as urgent, urgency a learned mix of the features);
* for the clairvoyant form, two *probes* of the mechanism: how the agent's utility changes
  when it raises that one item above everything in sight, or reports it as 0, the rest of its
  report as the policy played would have it (one step of policy iteration: the first pass
  probes the truthful report). A learner that sees the others' reports
  may ask the rule what a report would earn (Hedge's full-information feedback does the same);
  the probes are how it tells items apart that the rule treats differently but nothing in the
  values shows (a component of a composition, the items of a rare trade), and a one-step
  lookahead where order matters (securing a contested item first under round robin).

The report is ``s exp(h_j)``, with ``s`` the largest value or bid in sight and
``h_j = log(v_j / s) + a.x_j + b + w.tanh(W x_j + c) + q.mean_k tanh(V x_k + f)``: the
last term, the same for every item, is a learned summary of the whole profile (rules that
decide by totals or by the shape of the own values). All-zero parameters tell the truth.
``h_j`` is capped at log 20 (a report above everything in sight, equal for every item so
capped: ties) and a report with ``h_j < -20`` is exactly 0 (what rules that read zeros or
"high on a subset" respond to). The family cannot tell items apart by their index, nor
make exact combinatorial choices (a knapsack over items): a best response that needs them
is approximated.

Training: CMA-ES (Hansen's ``cma``), population from its default 4 + 3 ln d, with common
random numbers: each generation's candidates are scored on the same instances, at least
``batch`` of them, by the reward the model computes (utility over the agent's total value,
against the others' actual reports). Four runs take turns by generation
(:attr:`ItemPolicy.RUNS`): initial steps ``sigma0`` x (0.3, 1, 3) with the probes, and 0.3
with their weights held at 0. CMA-ES needs no gradient of a reward
that is piecewise constant in the parameters (allocations are discrete) and no learning
rate. The same hyperparameters serve every mechanism.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from abm.errors import StrategyError
from abm import declare as d
from strategies.base import register
from strategies.learning import Learner

__all__ = ["ItemPolicy", "SealedItemPolicy", "item_features", "mechanism_probes", "OWN_FEATURES", "OTHERS_FEATURES",
           "PROBE_FEATURES"]

OWN_FEATURES = ("value / largest in sight", "own rank (1 = favourite)", "quantile under the prior",
                "in an exchange, endowed to this agent", "in an exchange, endowed to the other")
OTHERS_FEATURES = ("others' best rank (1 = someone's favourite)", "others' mean rank",
                   "others' highest bid / largest in sight", "log(own value / others' highest bid) / 3",
                   "share of items worth more and at least as contested",
                   "log(own total / others' smallest total) / 3", "log(own total / others' largest total) / 3",
                   "log(own top value / others' smallest top bid) / 3", "log(own top value / others' largest top bid) / 3")
PROBE_FEATURES = ("utility change from raising the item above everything in sight",
                  "utility change from reporting the item as 0")
#: a probe's utility change (a share of the own total) is often a few hundredths, sometimes most
#: of the total: tanh(5 x) keeps the small ones visible and the large ones bounded, on the scale of
#: the other features (CMA-ES's first steps are the same size in every coordinate). Measured on
#: the three-agent order-by-total-bid mutant, where one raise moves the agent's whole turn:
#: unbounded, 5 x, the learner there fell from 0.58-0.80 of the best gain to 0.27-0.53
PROBE_SCALE = 5.0
#: profile-items per probe batch (agents x items x profiles x probed items): bounds the memory
#: at large m, where every item is probed
PROBE_CHUNK = 1 << 22
#: how the policy's parameters are trained: CMA-ES (default) or antithetic evolution strategies
OPTIMIZERS = ("cma", "es")
#: log of the largest report over the largest value in sight; reports below exp(H_MIN) times it are 0
H_MAX, H_MIN = math.log(20.0), -20.0


@functools.cache
def _blas_controller():
    """threadpoolctl's controller, found once: looking the libraries up again on every call
    cost more than the decompositions it limits."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _position(bids: np.ndarray) -> np.ndarray:
    """1 for each row's favourite item down to 0 for its least favourite (ties by index)."""
    from abm.mechanisms.ranking import ranks

    m = bids.shape[-1]
    return 1.0 - ranks(bids) / max(m - 1, 1)


def exchange_roles(mechanism, m: int, agent: int) -> np.ndarray:
    """``(m, 2)``: whether each item sits in one of the mechanism's declared exchange components
    (section 3.1's exchange mechanisms) in this agent's endowment, or in the other's. The one
    way items differ that a mechanism declares; zeros for every other rule."""
    roles = np.zeros((m, 2))
    parts = mechanism.exchange_parts(m) if mechanism is not None and agent < 2 else []
    for items, ex in parts:
        S = ex.endowed(len(items))
        mine = S if agent == 0 else ~S
        roles[np.asarray(items), 0] = mine
        roles[np.asarray(items), 1] = ~mine
    return roles


def item_features(values: np.ndarray, others: np.ndarray | None, prior=None, agent: int = 0, roles=None):
    """Per-item features ``(P, m, d)`` and the scale ``s (P, 1)`` for ``values (P, m)`` and, for
    the clairvoyant form, the others' reports ``others (P, n-1, m)``; ``roles (m, 2)``: see
    :func:`exchange_roles` (zeros when None)."""
    tiny = np.finfo(float).tiny
    values = np.asarray(values, dtype=float)
    scale = values.max(axis=-1, keepdims=True)
    seen = others is not None and np.shape(others)[-2] > 0
    if seen:
        others = np.asarray(others, dtype=float)
        top = others.max(axis=-2)
        scale = np.maximum(scale, top.max(axis=-1, keepdims=True))
    scale = np.maximum(scale, tiny)
    quantile = values / scale if prior is None else np.asarray(prior.marginal(agent).cdf(values), dtype=float)
    roles = np.zeros((values.shape[-1], 2)) if roles is None else roles
    cols = [values / scale, _position(values), quantile] + [np.broadcast_to(r, values.shape) for r in roles.T]
    if seen:
        position = _position(others)
        ratio = np.log(np.maximum(values, tiny)) - np.log(np.maximum(top, tiny))
        best = position.max(axis=-2)
        # items worth more to the agent and at least as contested as this one (the others'
        # best rank): the competition for the slots before this item goes
        dearer = values[..., None, :] > values[..., :, None]
        urgent = best[..., None, :] >= best[..., :, None]
        crowd = (dearer & urgent).sum(axis=-1) / max(values.shape[-1] - 1, 1)
        cols += [best, position.mean(axis=-2), top / scale, np.clip(ratio, -3.0, 3.0) / 3.0, crowd]
        # the profile as a whole (the same for every item): own total and own largest bid
        # against the others' smallest and largest, on a log scale (rules that order or
        # threshold agents by what they report in sum or at most)
        log = lambda a: np.log(np.maximum(a, tiny))  # noqa: E731
        for own, theirs in ((values.sum(axis=-1), others.sum(axis=-1)), (values.max(axis=-1), others.max(axis=-1))):
            for pick in (theirs.min(axis=-1), theirs.max(axis=-1)):
                r = np.clip(log(own) - log(pick), -3.0, 3.0) / 3.0
                cols.append(np.broadcast_to(r[..., None], values.shape))
    return np.stack(cols, axis=-1), scale


def mechanism_probes(mechanism, values: np.ndarray, others: np.ndarray, agent: int,
                     report: np.ndarray | None = None) -> np.ndarray:
    """``(P, m, 2)``: :data:`PROBE_FEATURES` for ``values (P, m)`` against the others' reports
    ``others (P, n-1, m)`` under ``mechanism`` (zeros without one): ``tanh(PROBE_SCALE x)`` of
    the change ``x`` in the agent's utility, a share of its total value as the learners' rewards
    are, when one item of the agent's ``report (P, m)`` (the truth when None) is raised or
    zeroed, the rest of it kept. The raise is to twice the largest report or bid in sight, so it
    outbids everything on that item. Every item's probes run as one batch of allocations (in
    chunks of :data:`PROBE_CHUNK`)."""
    from abm.mechanisms.base import allocation

    P, m = values.shape
    if mechanism is None or P == 0:
        return np.zeros((P, m, len(PROBE_FEATURES)))
    n = others.shape[-2] + 1
    report = values if report is None else np.asarray(report, dtype=float)
    profile = np.insert(others, agent, report, axis=1)  # (P, n, m)
    total = values.sum(axis=-1)
    total = np.where(total > 0, total, 1.0)  # nothing to win: every change is 0 anyway
    kept = ((allocation(mechanism, profile) == agent) * values).sum(axis=-1) / total
    top = 2.0 * np.maximum(report.max(axis=-1), others.max(axis=(-2, -1)))  # (P,)
    chunk = max(1, PROBE_CHUNK // max(1, 2 * P * n * m))
    change = np.empty((P, m, 2))
    for lo in range(0, m, chunk):
        items = np.arange(lo, min(m, lo + chunk))
        K = items.size
        bids = np.broadcast_to(profile[:, None, None], (P, K, 2, n, m)).copy()
        k = np.arange(K)
        bids[:, k, 0, agent, items] = top[:, None]
        bids[:, k, 1, agent, items] = 0.0
        owner = allocation(mechanism, bids.reshape(-1, n, m)).reshape(P, K, 2, m)
        change[:, items] = ((owner == agent) * values[:, None, None, :]).sum(axis=-1) / total[:, None, None]
    return np.tanh(PROBE_SCALE * (change - kept[:, None, None]))


@register
class ItemPolicy(Learner):
    """The general learner, clairvoyant form: reports after seeing the others' reports.

    ``hidden``: tanh units of the item policy; ``sigma0``: CMA-ES's initial step; ``batch``:
    instances each generation is scored on (rounds are pooled until it is reached);
    ``population``: candidates per generation (CMA-ES's default when None).
    """

    name = "item-policy"
    feedback = "full"
    classifier = {"uses_own_values": True, "uses_prior": True, "uses_mechanism": True, "clairvoyant": True,
                  "stochastic": False, "keeps_ranking": False}
    #: what the family can express, shown in learners' summaries
    expresses = ("one function of an item's features applied to every item, plus one shift for all items from a "
                 "learned summary of the whole profile: bid high, low or zero on items chosen by value, rank, prior "
                 "quantile, how the others report them and how the mechanism answers a raise or a zero on each "
                 "item of the report it plays, scale the whole report to the others' totals; ties at the cap; not "
                 "items told apart by their index, nor exact combinatorial choices")
    sees_others = True
    #: standard errors by which CMA-ES's mean must beat the policy played to replace it
    PROMOTE = 2.0
    #: the CMA-ES runs, taking turns by generation, as BIPOP-CMA-ES's restarts split a budget:
    #: (initial step as a multiple of ``sigma0``, whether the run may weigh the probes). Measured:
    #: a small step found a lie a large one missed and the reverse (a three-agent
    #: order-by-total-bid mutant: 0.71 at 0.3, -0.02 at 3; an exchange mutant: 0.00 at 0.3, 0.94
    #: at 3). The probes opened lies nothing else reached (round robin n = 3, a partial trade, a
    #: composition's components) but, weighed from the start, cost the order-by-total-bid mutant,
    #: where one raise moves the agent's whole turn (0.58-0.80 of the best gain without them,
    #: 0.38-0.57 with them, four seeds each): one run keeps their weights at 0
    RUNS = ((0.3, False), (0.3, True), (1.0, True), (3.0, True))

    # past these the policy's parameter vector, CMA-ES's covariance (dimension squared) or a
    # generation's evaluations are far beyond what any study here needs, and beyond memory
    @d.parameters(StrategyError, hidden=d.whole(0, 256), sigma0=d.real(0, 1e3, open_low=True),
                  batch=d.whole(1, 100_000), population=d.whole(2, 10_000), pooled=d.whole(0, 64),
                  optimizer=d.choice(*OPTIMIZERS))
    def __init__(self, hidden: int = 4, sigma0: float = 1.0, batch: int = 64, population: int | None = None,
                 pooled: int = 2, optimizer: str = "cma"):
        self.optimizer = optimizer
        self.hidden, self.sigma0, self.batch, self.population = hidden, float(sigma0), batch, population
        self.pooled = pooled
        self.menu = []
        self.d = len(OWN_FEATURES) + (len(OTHERS_FEATURES) + len(PROBE_FEATURES) if self.sees_others else 0)
        self.reset()

    @property
    def params(self):
        out = {"hidden": self.hidden, "pooled": self.pooled, "sigma0": self.sigma0, "batch": self.batch,
               "population": self.population}
        return out if self.optimizer == "cma" else {**out, "optimizer": self.optimizer}

    @property
    def dimension(self) -> int:
        d, H = self.d, self.hidden
        e = d + self.sees_others
        return (d if self.sees_others else 0) + e + 1 + H * (e + 2) + self.pooled * (e + 2)

    def reset(self):
        self.rounds = 0
        self._last_features = None
        self.earned = 0.0
        self.last_arms = None
        self.theta = self._x0()
        self.generations = 0
        self.promotions = 0  # times the policy played moved to CMA-ES's mean
        self._runs = []  # one optimizer per entry of RUNS
        self._mean_asked = None
        self._state = None  # the global numpy RNG state cma draws from, kept apart per learner
        self._asked = None
        self._pool = []

    def distribution(self):
        return np.ones(1)

    def regret(self) -> float:
        return float("nan")  # no finite menu: measured against the exact best response instead

    # -- the policy -------------------------------------------------------------------------
    def _probe_weights(self) -> np.ndarray:
        """Which coordinates of the parameters weigh a probe (a boolean mask)."""
        if not self.sees_others:
            return np.zeros(self.dimension, dtype=bool)
        d, H, K = self.d, self.hidden, self.pooled
        e = d + 1
        probe = np.zeros(e, dtype=bool)
        probe[d - len(PROBE_FEATURES):d] = True  # the probes are the last features, before the crowd
        # theta = u (d), a (e), b, W (e x H), c (H), w (H), V (e x K), f (K), q (K)
        return np.concatenate([probe[:d], probe, [False], np.repeat(probe, H), np.zeros(2 * H, dtype=bool),
                               np.repeat(probe, K), np.zeros(2 * K, dtype=bool)])

    def _x0(self) -> np.ndarray:
        """The start: the truth, with the learned urgency equal to the others' best rank."""
        x0 = np.zeros(self.dimension)
        if self.sees_others:
            x0[len(OWN_FEATURES)] = 1.0
        return x0

    def _features(self, values, others, prior, agent):
        """:func:`item_features` and, for the clairvoyant form, :func:`mechanism_probes` taken
        against the report the policy plays (one step of policy iteration): a first pass plays
        the policy with the probes of the truthful report, then every item is probed again
        against that report. Asked "what does a raise earn when I otherwise tell the truth",
        the rule answers about a plan nobody plays; asked against the plan, it answers which
        item to secure first given the rest of the plan (round robin, n = 3, six seeds: 0.61-0.74
        of the best gain against the truth, 0.77-0.83 against the plan). At the start the policy
        plays the truth, the two are the same and the second pass is skipped.

        In a training round the model asks for the played report, then for every candidate's,
        on the same instances: the last features are kept and reused when the inputs are equal
        (and the policy played has not moved), so the probes run once per round, not twice."""
        mechanism = getattr(self, "_mechanism", None)
        key = (mechanism, prior, agent)  # held, not their ids: an id can be reused once its object is gone
        last = getattr(self, "_last_features", None)
        if (last is not None and all(a is b for a, b in zip(last[0][:2], key[:2])) and last[0][2] == agent
                and np.array_equal(last[1], values) and np.array_equal(last[4], self.theta)
                and (others is None if last[2] is None else others is not None and np.array_equal(last[2], others))):
            return last[3]
        roles = exchange_roles(mechanism, values.shape[-1], agent)
        x, scale = item_features(values, others, prior, agent, roles)
        if self.sees_others:
            x = np.concatenate([x, mechanism_probes(mechanism, values, others, agent)], axis=-1)
            if mechanism is not None and not np.array_equal(self.theta, self._x0()):
                plan = self._policy(x, scale, values, self.theta[None])[:, 0, :]
                x[..., -len(PROBE_FEATURES):] = mechanism_probes(mechanism, values, others, agent, plan)
        self._last_features = (key, values.copy(), None if others is None else np.array(others, copy=True),
                               (x, scale), self.theta.copy())
        return x, scale

    def _report(self, values, others, thetas, prior, agent):
        """Reports ``(P, C, m)`` of the candidates ``thetas (C, dim)``, all candidates at once."""
        x, scale = self._features(values, others, prior, agent)  # (P, m, d), (P, 1)
        return self._policy(x, scale, values, thetas)

    def _policy(self, x, scale, values, thetas):
        """The family: reports ``(P, C, m)`` from the features ``x (P, m, d)`` and scale ``s (P, 1)``."""
        base = np.log(np.maximum(values, np.finfo(float).tiny) / scale)  # (P, m): the truth
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        C, (P, m), H, K = len(thetas), values.shape, self.hidden, self.pooled
        d = self.d
        e = d + self.sees_others
        cut = np.cumsum([d if self.sees_others else 0, e, 1, e * H, H, H, e * K, K])
        u, a, b, W, c, w, V, f, q = np.split(thetas, cut, axis=1)
        if self.sees_others:
            # items worth more and at least as urgent, urgency a learned mix of the features
            urgency = np.einsum("pmd,cd->pcm", x, u)
            dearer = values[:, None, :] > values[:, :, None]  # (P, m, m): k worth more than j
            crowd = np.empty((P, C, m))
            for k in range(C):  # one (P, m, m) table per candidate: all C at once was C times the memory
                crowd[:, k] = (dearer & (urgency[:, k, None, :] >= urgency[:, k, :, None])).mean(axis=-1)
            xk = np.concatenate([np.broadcast_to(x[:, None], (P, C, m, d)), crowd[..., None]], axis=-1)
        else:
            xk = np.broadcast_to(x[:, None], (P, C, m, d))
        # one contraction for the linear part, the hidden units and the pooled channels
        weights = np.concatenate([a[:, :, None], W.reshape(C, e, H), V.reshape(C, e, K)], axis=-1)  # (C, e, 1+H+K)
        z = np.einsum("pcme,cez->pcmz", xk, weights)
        h = base[:, None, :] + z[..., 0] + b  # b (C, 1) broadcasts over items
        if H:
            h = h + np.einsum("pcmh,ch->pcm", np.tanh(z[..., 1:1 + H] + c[:, None, :]), w)
        if K:  # the same shift for every item, from a summary of all of them
            pooled = np.tanh(z[..., 1 + H:] + f[:, None, :]).mean(axis=-2)  # (P, C, K)
            h = h + np.einsum("pck,ck->pc", pooled, q)[..., None]
        return np.where(h > H_MIN, scale[:, None, :] * np.exp(np.minimum(h, H_MAX)), 0.0)

    def _inputs(self, values, context):
        self._mechanism = context.mechanism  # its declared exchanges are features
        values = np.asarray(values, dtype=float)
        flat = values.reshape(-1, values.shape[-1])
        others = None
        if self.sees_others:
            if context.others_bids is None:
                raise StrategyError(f"{self.name} reports after seeing the others: it needs their bids "
                                    "(use item-policy-sealed where reports are simultaneous)")
            o = np.asarray(context.others_bids, dtype=float)
            others = o.reshape(flat.shape[0], -1, flat.shape[-1])
        return flat, others

    def _bid(self, values, context):
        flat, others = self._inputs(values, context)
        self.last_arms = np.zeros(values.shape[:-1], dtype=np.int64)
        return self._report(flat, others, self.theta[None], context.prior, context.agent)[:, 0, :].reshape(values.shape)

    def reports_of(self, values, context, thetas) -> np.ndarray:
        """Reports ``(P, C, m)`` of several parameter vectors ``thetas (C, dim)`` (say, from
        :meth:`final_candidates`) for ``values (P, m)``."""
        flat, others = self._inputs(values, context)
        return self._report(flat, others, np.atleast_2d(thetas), context.prior, context.agent)

    def final_candidates(self, drawn: int = 16) -> np.ndarray:
        """The policy played, CMA-ES's mean and ``drawn`` draws from its final distribution
        (rows of parameters): where to look for a lie once training is over."""
        if not self._runs:
            return self.theta[None].copy()
        means = [np.asarray(es.mean, dtype=float)[None] for es in self._runs]
        each = -(-drawn // len(self._runs)) if drawn else 0
        extra = [np.asarray(self._cma(es.ask, each)) for es in self._runs] if each else []
        return np.vstack([self.theta[None], *means, *extra])

    # -- training ----------------------------------------------------------------------------
    def _cma(self, call, *args):
        """Run one cma call with this learner's own stream of the global numpy RNG (cma draws
        from it), leaving everyone else's untouched: same seed, same run."""
        outside = np.random.get_state()
        np.random.set_state(self._state)
        try:
            # CMA-ES decomposes a d x d covariance: on two cores, OpenBLAS's threads made that
            # 70x slower (88 ms against 1.2 ms at d = 86, measured), so one thread
            with _blas_controller().limit(limits=1, user_api="blas"):
                return call(*args)
        finally:
            self._state = np.random.get_state()
            np.random.set_state(outside)

    def _start(self, rng):
        import cma

        seed = int(rng.integers(1, 2**31 - 1))
        self._state = np.random.RandomState(seed).get_state()
        for k, (scale, probes) in enumerate(self.RUNS):
            # a run without the probes: their weights' steps are all but 0, and its candidates
            # are projected to exactly 0 there (see candidates)
            steps = np.where(self._probe_weights() & (not probes), 1e-12, 1.0)
            if self.optimizer == "es":  # the comparison: the other learners' optimizer on this family
                size = self.population or 4 + int(3 * math.log(self.dimension))
                self._runs.append(AntitheticES(self._x0(), 0.3 * scale * self.sigma0 * steps, size, seed + k))
                continue
            opts = {"seed": seed + k, "verbose": -9, "verb_log": 0, "verb_disp": 0, "CMA_diagonal": False,
                    "CMA_stds": steps}
            if self.population is not None:
                opts["popsize"] = self.population
            self._runs.append(self._cma(cma.CMAEvolutionStrategy, self._x0(), scale * self.sigma0, opts))

    def candidates(self, values, context):
        """This generation's candidates, then CMA-ES's mean and the policy played (the incumbent),
        all on the same instances."""
        if not self._runs:
            self._start(context.rng)
        if self._asked is None:
            k = self.generations % len(self._runs)  # the runs take turns
            es = self._runs[k]
            self._asked = np.asarray(self._cma(es.ask))
            self._mean_asked = np.asarray(es.mean, dtype=float).copy()
            if not self.RUNS[k][1]:
                self._asked[:, self._probe_weights()] = 0.0
                self._mean_asked[self._probe_weights()] = 0.0
            self._pool = []
        flat, others = self._inputs(values, context)
        thetas = np.vstack([self._asked, self._mean_asked[None], self.theta[None]])
        return self._report(flat, others, thetas, context.prior, context.agent)

    def update(self, rewards, arms=None):
        """Pool rewards until ``batch`` instances, then tell CMA-ES. The policy played moves to
        CMA-ES's mean only when the mean beats it on the generation's instances by more than
        PROMOTE standard errors of the paired difference: on a flat or noisy reward (a rule no
        lie beats, a rule that pays rarely) the search may wander, the policy played does not,
        and it starts at the truth."""
        rewards = np.asarray(rewards, dtype=float)
        C = 0 if self._asked is None else len(self._asked)
        if self._asked is None or rewards.ndim != 2 or rewards.shape[1] != C + 2:
            raise StrategyError(f"{self.name} needs one reward per candidate of the generation asked")
        self._pool.append(rewards)
        self.earned += float(rewards[:, C + 1].mean())
        self.rounds += 1
        if sum(r.shape[0] for r in self._pool) >= self.batch:
            pooled = np.concatenate(self._pool)
            fitness = -pooled[:, :C].mean(axis=0)  # cma minimizes; common instances
            self._cma(self._runs[self.generations % len(self._runs)].tell, list(self._asked), fitness.tolist())
            diff = pooled[:, C] - pooled[:, C + 1]
            se = diff.std(ddof=1) / math.sqrt(diff.size) if diff.size > 1 else float("inf")
            if diff.mean() > self.PROMOTE * se:
                self.theta = self._mean_asked
                self.promotions += 1
            self.generations += 1
            self._asked = None


class AntitheticES:
    """Evolution strategies with antithetic pairs on common instances and an RMSprop-normalized
    step, the optimizer of :class:`~strategies.learning.ShadingCurve`, behind CMA-ES's ask/tell
    (``optimizer="es"``): kept to measure the choice of CMA-ES, not as a default."""

    def __init__(self, x0, sigma, size: int, seed: int, rate: float = 0.1):  # sigma: a step per coordinate
        self.mean = np.array(x0, dtype=float)
        self.sigma, self.pairs, self.rate = sigma, max(1, size // 2), rate
        self.rng = np.random.default_rng(seed)
        self._moment = np.zeros_like(self.mean)

    def ask(self, number: int | None = None):
        pairs = self.pairs if number is None else -(-number // 2)
        eps = self.rng.standard_normal((pairs, self.mean.size))
        out = np.vstack([self.mean + self.sigma * eps, self.mean - self.sigma * eps])
        return list(out if number is None else out[:number])

    def tell(self, solutions, fitness):
        f = np.asarray(fitness, dtype=float)
        k = f.size // 2
        eps = (np.asarray(solutions[:k]) - self.mean) / self.sigma
        grad = -((f[:k] - f[k:])[:, None] * eps).mean(axis=0) / (2 * self.sigma)  # fitness is minimized
        self._moment = 0.9 * self._moment + 0.1 * grad * grad
        self.mean = self.mean + self.rate * grad / (np.sqrt(self._moment) + 1e-8)


@register
class SealedItemPolicy(ItemPolicy):
    """The general learner for simultaneous reports: own features only (value, rank, quantile)."""

    name = "item-policy-sealed"
    classifier = {**ItemPolicy.classifier, "clairvoyant": False}
    expresses = ("one function of an item's own value, rank and prior quantile applied to every item, plus one "
                 "shift from a learned summary of the own values: not reports that depend on the others'")
    sees_others = False
