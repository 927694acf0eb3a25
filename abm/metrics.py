"""Welfare and fairness of allocations (section 2), per instance and over many instances.

Per instance (all functions take ``values (..., n, m)`` and ``owner (..., m)``):
utilities, welfare, optimal welfare (sum over items of the largest value), the envy
matrix ``E[i, k] = v_i(A_k)``, and the EF, EF1 and proportionality tests.

Over instances: :func:`welfare_ratio` is the paper's ratio of expectations
E[sw(M(v))] / E[max_A sw(A)], estimated as sum over sum with a delta-method interval;
:func:`rate` is a proportion with its exact (Clopper-Pearson) binomial interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.stats as st

__all__ = [
    "utilities", "utility_of_reports", "welfare", "optimal_welfare", "envy_matrix", "is_ef", "is_ef1",
    "is_prop", "evaluate", "Estimate", "welfare_ratio", "rate", "mean_interval", "bootstrap_mean_interval",
    "RunningMoments", "ratio_from_moments", "rate_from_count", "rate_upper_bound", "mean_from_moments", "t_test", "t_upper", "t_estimate", "truthful_utilities",
]


def envy_matrix(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``E[..., i, k]``: agent i's value for agent k's bundle; the diagonal is i's utility.

    One bundle at a time (a matrix-vector product per agent k), so the temporaries are one
    (..., m) mask, never an (..., n, m) one-hot: at n = 10, m = 10^7 that is 80 MB, not 800."""
    values = np.asarray(values, dtype=float)
    owner = np.asarray(owner)
    n = values.shape[-2]
    envy = np.empty(values.shape[:-1] + (n,))
    for k in range(n):
        envy[..., :, k] = (values @ (owner == k).astype(float)[..., None])[..., 0]
    return envy


def utilities(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``u[..., i] = sum of v_ij over the items i receives``."""
    values = np.asarray(values, dtype=float)
    owner = np.asarray(owner)
    u = np.empty(values.shape[:-1])
    for i in range(values.shape[-2]):  # per agent: no (n, m) one-hot temporary
        u[..., i] = np.where(owner == i, values[..., i, :], 0.0).sum(axis=-1)
    return u


def utility_of_reports(mechanism, values: np.ndarray, bids: np.ndarray, agent: int, reports: np.ndarray) -> np.ndarray:
    """Agent's true utility for each candidate report: ``reports (..., C, m)`` against ``bids (..., n, m)``."""
    batch = np.broadcast_to(bids[..., None, :, :], reports.shape[:-1] + bids.shape[-2:]).copy()
    batch[..., agent, :] = reports
    from abm.mechanisms.base import allocation

    owner = allocation(mechanism, batch)
    v = np.broadcast_to(values[..., None, :], reports.shape)
    return np.where(owner == agent, v, 0.0).sum(axis=-1)


def truthful_utilities(mechanism, values: np.ndarray, bids: np.ndarray, owner: np.ndarray, utility: np.ndarray,
                       liars) -> np.ndarray:
    """What each agent would have got by telling the truth, the others' reports fixed: the
    counterfactual behind every gain from deviating. ``values`` and ``bids`` ``(..., n, m)``, the
    actual ``owner (..., m)`` and ``utility (..., n)``; only the agents in ``liars`` are re-run
    (a truthful agent's counterfactual is what it got). Returns ``(..., n)``.

    One row of ``bids`` is swapped in place and restored (no second ``(n, m)`` copy at large m); an
    agent whose bundle does not change gets its utility bit for bit, so its gain is exactly 0,
    not a rounding difference between two ways of summing."""
    from abm.mechanisms.base import allocation

    truthful = utility.copy()
    for i in liars:  # a loop over agents: each is one allocation of the whole batch
        lie = bids[..., i, :].copy()
        bids[..., i, :] = values[..., i, :]
        try:
            honest_owner = allocation(mechanism, bids)
        finally:
            bids[..., i, :] = lie
        same = ((honest_owner == i) == (owner == i)).all(axis=-1)
        truthful[..., i] = np.where(same, utility[..., i], utilities(values, honest_owner)[..., i])
    return truthful


#: A gain counts when it exceeds this fraction of the agent's total value: relative, so that
#: rescaling a prior (uniform(scale=1e-12) or scale=1e12) changes no verdict.
GAIN_TOL = 1e-9


def gain_scale(values_i) -> np.ndarray:
    """The agent's total value ``values_i (..., m) -> (...)``, the unit every gain tolerance is
    relative to (at least the smallest positive float, so an agent who values nothing has a scale)."""
    return np.maximum(np.asarray(values_i, dtype=float).sum(axis=-1), np.finfo(float).tiny)


def gain_counts(gain, values_i, tol: float = GAIN_TOL):
    """Whether a gain counts as a profitable lie: ``gain > tol x`` the agent's total value. The one
    definition the audit, the witness shrinker, replay and the explorer share."""
    return np.asarray(gain) > tol * gain_scale(values_i)


def welfare(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Social welfare: the value of each item to the agent that receives it, summed."""
    values = np.asarray(values, dtype=float)
    return np.take_along_axis(values, np.asarray(owner)[..., None, :], axis=-2)[..., 0, :].sum(axis=-1)


def optimal_welfare(values: np.ndarray) -> np.ndarray:
    """max_A sw(A) = sum over items of the largest value (section 2)."""
    return np.asarray(values, dtype=float).max(axis=-2).sum(axis=-1)


def is_ef(envy: np.ndarray) -> np.ndarray:
    """Envy-free: every agent values its own bundle at least as much as any other."""
    own = np.diagonal(envy, axis1=-2, axis2=-1)[..., :, None]
    return (own >= envy).all(axis=(-2, -1))


def is_ef1(values: np.ndarray, owner: np.ndarray, envy: np.ndarray) -> np.ndarray:
    """EF1: i does not envy k once the item of A_k that i values most is removed."""
    values = np.asarray(values, dtype=float)
    n = values.shape[-2]
    owner = np.asarray(owner)
    best = np.empty(envy.shape)
    for k in range(n):  # the largest value to each agent among k's items (0 if k has none)
        theirs = owner == k
        for i in range(n):  # per agent: an (..., m) temporary, never (..., n, m)
            best[..., i, k] = np.where(theirs, values[..., i, :], 0.0).max(axis=-1)
    own = np.diagonal(envy, axis1=-2, axis2=-1)[..., :, None]
    return (own >= envy - best).all(axis=(-2, -1))


def is_prop(values: np.ndarray, envy: np.ndarray) -> np.ndarray:
    """Proportional: every agent gets at least 1/n of its value for all items."""
    values = np.asarray(values, dtype=float)
    own = np.diagonal(envy, axis1=-2, axis2=-1)
    return (own >= values.sum(axis=-1) / values.shape[-2]).all(axis=-1)


def evaluate(values: np.ndarray, owner: np.ndarray) -> dict[str, np.ndarray]:
    """Every per-instance metric at once (one envy matrix shared by EF, EF1 and PROP)."""
    values = np.asarray(values, dtype=float)
    envy = envy_matrix(values, owner)
    return {
        "welfare": welfare(values, owner),
        "optimal_welfare": optimal_welfare(values),
        "utilities": np.diagonal(envy, axis1=-2, axis2=-1).copy(),
        "envy": envy,
        "ef": is_ef(envy),
        "ef1": is_ef1(values, owner, envy),
        "prop": is_prop(values, envy),
    }


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval."""

    value: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float
    method: str

    def as_dict(self) -> dict:
        return asdict(self)

    def __contains__(self, x: float) -> bool:
        return self.ci_low <= x <= self.ci_high


def welfare_ratio(welfare_values, optimal_values, confidence: float = 0.95, upper: float | None = None) -> Estimate:
    """E[sw(M(v))] / E[max_A sw(A)] as mean(welfare) / mean(optimal) (section 2).

    The interval is the delta-method (linearization) interval for a ratio of means:
    with R the estimate and d_k = W_k - R O_k, se = sqrt(sum d_k^2 / (K (K - 1))) / mean(O).
    ``upper``: a bound the estimand cannot exceed (1 when the denominator is the optimum);
    the interval is clipped to it and to 0, which can only raise its coverage. The
    arithmetic is :func:`ratio_from_moments`'s, which the model's streaming summary uses too.
    """
    w = np.asarray(welfare_values, dtype=float).ravel()
    o = np.asarray(optimal_values, dtype=float).ravel()
    moments = RunningMoments(2)
    moments.add(np.stack([w, o], axis=-1))
    return ratio_from_moments(moments, confidence, upper)


class RunningMoments:
    """Count, means and centered co-moments of p variables, merged batch by batch (Chan,
    Golub and LeVeque's pairwise update), so a summary needs no stored rows and loses no
    precision to the cancellation of raw sums of squares."""

    def __init__(self, p: int):
        self.n = 0
        self.mean = np.zeros(p)
        self.comoment = np.zeros((p, p))  # sum over rows of (x - mean)(x - mean)^T

    def add(self, x) -> None:
        x = np.asarray(x, dtype=float).reshape(-1, self.mean.size)
        k = x.shape[0]
        if k == 0:
            return
        mean = x.mean(axis=0)
        centered = x - mean
        total = self.n + k
        delta = mean - self.mean
        self.comoment += centered.T @ centered + np.outer(delta, delta) * (self.n * k / total)
        self.mean += delta * (k / total)
        self.n = total


def ratio_from_moments(m: RunningMoments, confidence: float = 0.95, upper: float | None = None) -> Estimate:
    """:func:`welfare_ratio` from running moments of (welfare, optimal welfare): the same
    delta-method interval, with sum d_k^2 = M2_w - 2 R C_wo + R^2 M2_o (exact, since the
    residuals d_k = W_k - R O_k have mean 0 at R = mean(W) / mean(O))."""
    k = m.n
    w_bar, o_bar = m.mean
    ratio = float(w_bar / o_bar) if o_bar > 0 else float("nan")
    if k < 2:
        return Estimate(ratio, float("nan"), float("nan"), k, confidence, "delta")
    c = m.comoment
    dd = max(float(c[0, 0] - 2 * ratio * c[0, 1] + ratio * ratio * c[1, 1]), 0.0)
    se = float(np.sqrt(dd / (k * (k - 1))) / o_bar)
    z = float(st.norm.ppf(0.5 + confidence / 2))
    low, high = max(ratio - z * se, 0.0), ratio + z * se
    if upper is not None:
        high = min(high, float(upper))
    return Estimate(ratio, low, high, k, confidence, "delta")


def mean_interval(x, confidence: float = 0.95) -> Estimate:
    """A mean with its two-sided t interval (``scipy.stats.ttest_1samp``; independent observations,
    e.g. rounds of play); with fewer than two observations the interval is unbounded."""
    x = np.asarray(x, dtype=float).ravel()
    mean, low, high, _ = t_test(x, confidence)
    return Estimate(mean, low, high, int(x.size), confidence, "t")


def t_test(x, confidence: float = 0.95, level_upper: float | None = None):
    """(mean, two-sided t interval low and high, one-sided p-value of H1 mean > 0) of ``x`` by
    ``scipy.stats.ttest_1samp``. Fewer than two observations: an unbounded interval and p = 1;
    observations all equal: the interval is that value, and p is 0 above zero, 1 otherwise."""
    x = np.asarray(x, dtype=float).ravel()
    mean = float(x.mean()) if x.size else float("nan")
    if x.size < 2:
        return mean, -np.inf, np.inf, 1.0
    if np.ptp(x) == 0:
        return mean, mean, mean, 0.0 if mean > 0 else 1.0
    ci = st.ttest_1samp(x, 0.0).confidence_interval(confidence)
    p = float(st.ttest_1samp(x, 0.0, alternative="greater").pvalue)
    return mean, float(ci.low), float(ci.high), p


def t_upper(x, confidence: float) -> float:
    """One-sided upper t bound on the mean of ``x`` at ``confidence`` (``scipy.stats.ttest_1samp``,
    alternative "less"); the value itself when the observations are all equal."""
    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2:
        return np.inf
    if np.ptp(x) == 0:
        return float(x[0])
    return float(st.ttest_1samp(x, 0.0, alternative="less").confidence_interval(confidence).high)


def gain_interval(round_means, lowest: float, highest: float, confidence: float = 0.95) -> Estimate:
    """A learner's mean gain per instance: the t interval over rounds (:func:`mean_interval`),
    kept within the smallest and largest gain observed on any single instance. A mean cannot
    leave that range, and an interval that rises above 0 when no instance ever gained (the t
    interval's symmetric shape around a negative mean) would suggest a lie that never paid."""
    est = mean_interval(round_means, confidence)
    low, high = est.ci_low, est.ci_high
    if np.isfinite(lowest):
        low = max(low, float(lowest)) if np.isfinite(low) else float(lowest)
    if np.isfinite(highest):
        high = min(high, float(highest)) if np.isfinite(high) else float(highest)
    return Estimate(est.value, low, high, est.n, est.confidence, est.method + ", within the observed range")


def mean_from_moments(m: RunningMoments, index: int, confidence: float = 0.95) -> Estimate:
    """:func:`mean_interval` of variable ``index`` from running moments (no stored rows)."""
    sd = float(np.sqrt(m.comoment[index, index] / (m.n - 1))) if m.n > 1 else float("nan")
    return t_estimate(float(m.mean[index]) if m.n else float("nan"), sd, int(m.n), confidence)


def t_estimate(mean: float, sd: float, k: int, confidence: float) -> Estimate:
    """A mean of ``k`` observations with standard deviation ``sd`` and its two-sided t interval
    (``scipy.stats.t.interval``), for callers that keep moments, not the observations."""
    if k < 2:
        return Estimate(mean, -np.inf, np.inf, k, confidence, "t")
    if sd == 0:
        return Estimate(mean, mean, mean, k, confidence, "t")
    low, high = st.t.interval(confidence, k - 1, loc=mean, scale=sd / np.sqrt(k))
    return Estimate(mean, float(low), float(high), k, confidence, "t")


def bootstrap_mean_interval(x, confidence: float = 0.95, seed: int = 0, resamples: int = 9999) -> Estimate:
    """A mean with its percentile bootstrap interval (``scipy.stats.bootstrap``). Unlike the t
    interval it never leaves the range of the observations: a quantity that is never positive
    gets an interval at or below 0, and a single positive observation can lift it above."""
    x = np.asarray(x, dtype=float).ravel()
    mean = float(x.mean()) if x.size else float("nan")
    if x.size < 2 or np.ptp(x) == 0:
        lo, hi = (mean, mean) if x.size else (-np.inf, np.inf)
        return Estimate(mean, lo, hi, int(x.size), confidence, "percentile bootstrap")
    res = st.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=resamples, method="percentile",
                       rng=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return Estimate(mean, min(lo, mean), max(hi, mean), int(x.size), confidence, "percentile bootstrap")


def rate(successes, confidence: float = 0.95) -> Estimate:
    """A proportion with its exact Clopper-Pearson interval (valid even at 0 or K successes)."""
    s = np.asarray(successes, dtype=bool).ravel()
    return rate_from_count(int(s.sum()), s.size, confidence)


def rate_from_count(x: int, k: int, confidence: float = 0.95) -> Estimate:
    """:func:`rate` from a count of ``x`` successes in ``k`` trials."""
    if k == 0:
        return Estimate(float("nan"), 0.0, 1.0, 0, confidence, "clopper-pearson")
    ci = st.binomtest(int(x), int(k)).proportion_ci(confidence, method="exact")  # Clopper-Pearson
    return Estimate(x / k, float(ci.low), float(ci.high), k, confidence, "clopper-pearson")


def rate_upper_bound(x: int, k: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) upper confidence bound on a rate seen ``x`` times in ``k``
    trials (``scipy.stats.binomtest``, alternative "less"); 1 with no trials."""
    if k == 0 or x >= k:
        return 1.0
    return float(st.binomtest(int(x), int(k), alternative="less").proportion_ci(confidence, method="exact").high)
