"""One agent's value distribution for one item: the marginals priors are built from.

Each marginal behaves like a frozen ``scipy.stats`` distribution (``cdf``, ``ppf``,
``rvs``, ``mean``, ``support``) and adds ``quantile_breakpoints``: the quantiles where
its quantile function jumps or kinks, so theory code can integrate ``ppf`` piecewise
and stay exact for priors with atoms (Theorem 3.1's hard instance).

Section 2 of the paper asks values to be nonnegative, bounded and of nonzero variance
(a *valid* distribution); :func:`validate` refuses anything else with a message that
says how to fix it.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats as st

from abm.errors import PriorSpecError, did_you_mean

__all__ = ["Marginal", "ScipyMarginal", "Truncated", "Mixture", "HardInstance", "Levels", "validate"]



#: scipy.stats' continuous distributions, for "did you mean" on an unknown name
_CONTINUOUS = sorted(n for n in dir(st) if isinstance(getattr(st, n, None), st.rv_continuous)) + [
    "hard", "levels", "truncate", "mixture", "copula"]

class Marginal:
    """Base class: subclasses define ``cdf``, ``ppf``, ``support`` and ``spec``."""

    spec: str = "?"
    #: quantiles in (0, 1) where ppf is discontinuous or not smooth
    quantile_breakpoints: tuple[float, ...] = ()

    #: values where the density jumps (the quadrature splits there); set by mixtures
    value_breakpoints: tuple[float, ...] = ()

    def integrate_quantile(self, lo: float, hi: float, weight=None) -> float:
        """Integral over quantiles [lo, hi] of weight(u) F^{-1}(u) du.

        With a density this is computed in value space, as the integral of
        weight(F(x)) x f(x) dx over [F^{-1}(lo), F^{-1}(hi)]: densities are cheap where quantile
        functions (often iterative inverses) are not. Without one, in quantile space, split at
        the quantile breakpoints.
        """
        import warnings

        from scipy.integrate import IntegrationWarning, quad

        opts = dict(limit=200, epsabs=1e-13, epsrel=1e-12)

        def in_quantile_space():
            cuts = [lo, *[b for b in self.quantile_breakpoints if lo < b < hi], hi]
            g = (lambda u: float(self.ppf(u))) if weight is None else (lambda u: float(weight(u) * self.ppf(u)))
            return float(sum(quad(g, a, b, **opts)[0] for a, b in zip(cuts, cuts[1:])))

        if not hasattr(self, "pdf"):
            return in_quantile_space()
        a, b = float(self.ppf(lo)), float(self.ppf(hi))
        if not b > a:
            return 0.0
        if weight is None:
            f = lambda x: float(x * self.pdf(x))  # noqa: E731
        else:
            f = lambda x: float(weight(self.cdf(x)) * x * self.pdf(x))  # noqa: E731
        cuts = [a, *[v for v in self.value_breakpoints if a < v < b], b]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", IntegrationWarning)
                return float(sum(quad(f, c, d, **opts)[0] for c, d in zip(cuts, cuts[1:])))
        except IntegrationWarning:
            # A density singular at an end (e.g. beta(a=0.5, b=0.5)) can defeat the value-space
            # quadrature; its quantile function is then usually smooth.
            return in_quantile_space()

    def rvs(self, size, random_state: np.random.Generator) -> np.ndarray:
        # Inverse transform: one uniform per value, consumed in C order.
        return self.ppf(random_state.random(size))

    def mean(self) -> float:
        return self.integrate_quantile(0.0, 1.0)

    def std(self) -> float:
        from scipy.integrate import quad

        mu = self.mean()
        pts = (0.0, *self.quantile_breakpoints, 1.0)
        var = sum(quad(lambda u: (self.ppf(u) - mu) ** 2, a, b, limit=200)[0] for a, b in zip(pts, pts[1:]))
        return math.sqrt(max(var, 0.0))

    def __repr__(self) -> str:
        return f"<marginal {self.spec}>"

    def __str__(self) -> str:
        return self.spec


class ScipyMarginal(Marginal):
    """A continuous ``scipy.stats`` distribution, frozen with the user's parameters."""

    def __init__(self, name: str, args: tuple, kwargs: dict, spec: str):
        dist = getattr(st, name, None)
        if not isinstance(dist, st.rv_continuous):
            raise PriorSpecError(
                f"unknown distribution {name!r}{did_you_mean(name, _CONTINUOUS)}; accepted: any continuous "
                "scipy.stats distribution "
                "(e.g. uniform, beta, truncexpon, triang), or hard, truncate, mixture, copula"
            )
        try:
            frozen = dist(*args, **kwargs)
            lo, hi = frozen.support()
        except TypeError as exc:
            shapes = dist.shapes or "none"
            raise PriorSpecError(
                f"bad parameters for {name}: {exc}; accepted: shape parameters ({shapes}), loc, scale"
            ) from None
        if np.isnan(lo) or np.isnan(hi):
            shapes = dist.shapes or "none"
            raise PriorSpecError(
                f"invalid parameters for {spec}: scipy rejects them; shape parameters are ({shapes}), scale must be > 0"
            )
        self._dist = frozen
        self.name = name
        self.spec = spec

    def cdf(self, x):
        return self._dist.cdf(x)

    def ppf(self, q):
        return self._dist.ppf(q)

    def rvs(self, size, random_state):
        if self.name == "uniform" and isinstance(random_state, np.random.Generator):
            # scipy's uniform draws random_state.uniform(0, 1) and maps it by scale and loc; the
            # same operations here give the same numbers without its per-call argument checks,
            # which cost four times the draw itself at 5e7 values (tests/test_priors.py).
            loc, scale = self._dist.kwds.get("loc", 0.0), self._dist.kwds.get("scale", 1.0)
            if not self._dist.args:
                out = random_state.uniform(0.0, 1.0, size)
                out *= scale
                out += loc
                return out
        return self._dist.rvs(size=size, random_state=random_state)

    def support(self):
        lo, hi = self._dist.support()
        return float(lo), float(hi)

    def pdf(self, x):
        return self._dist.pdf(x)

    def mean(self):
        return float(self._dist.mean())

    def std(self):
        return float(self._dist.std())


class Truncated(Marginal):
    """``truncate(dist, lo, hi)``: ``dist`` conditioned on ``[lo, hi]``."""

    def __init__(self, base: Marginal, lo: float, hi: float, spec: str):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise PriorSpecError(f"{spec}: truncation bounds must be finite with lo < hi, got {lo}, {hi}")
        self.base, self.lo, self.hi, self.spec = base, float(lo), float(hi), spec
        self._flo, self._fhi = float(base.cdf(lo)), float(base.cdf(hi))
        if not self._fhi - self._flo > 1e-12:
            raise PriorSpecError(f"{spec}: the distribution has no mass on [{lo}, {hi}]")

    def cdf(self, x):
        x = np.clip(x, self.lo, self.hi)
        return (self.base.cdf(x) - self._flo) / (self._fhi - self._flo)

    def ppf(self, q):
        return np.clip(self.base.ppf(self._flo + np.asarray(q) * (self._fhi - self._flo)), self.lo, self.hi)

    def __getattr__(self, name):
        # A density exactly when the base has one.
        if name == "pdf" and hasattr(self.base, "pdf"):
            return lambda x: np.where((np.asarray(x) >= self.lo) & (np.asarray(x) <= self.hi),
                                      self.base.pdf(x), 0.0) / (self._fhi - self._flo)
        raise AttributeError(name)

    def support(self):
        blo, bhi = self.base.support()
        return max(blo, self.lo), min(bhi, self.hi)


class Mixture(Marginal):
    """``mixture([d1, d2, ...], weights=[w1, w2, ...])``: a finite mixture (e.g. bimodal)."""

    def __init__(self, components: list[Marginal], weights, spec: str):
        w = np.asarray(weights, dtype=float)
        if len(components) < 1 or w.shape != (len(components),):
            raise PriorSpecError(f"{spec}: needs a list of components and one weight per component")
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0, atol=1e-9):
            raise PriorSpecError(f"{spec}: weights must be nonnegative and sum to 1, got {w.tolist()}")
        self.components, self.weights, self.spec = components, w, spec
        sup = np.array([c.support() for c in components])
        self._support = (float(sup[:, 0].min()), float(sup[:, 1].max()))
        self.value_breakpoints = tuple(sorted({float(x) for x in sup.ravel()} |
                                              {v for c in components for v in c.value_breakpoints}))

    def __getattr__(self, name):
        if name == "pdf" and all(hasattr(c, "pdf") for c in self.components):
            return lambda x: sum(w * c.pdf(x) for w, c in zip(self.weights, self.components))
        raise AttributeError(name)

    def cdf(self, x):
        return sum(w * c.cdf(x) for w, c in zip(self.weights, self.components))

    def ppf(self, q):
        # No closed form: invert the (monotone) cdf; Brent's method for one quantile,
        # bisection vectorized over many.
        q = np.asarray(q, dtype=float)
        if q.ndim == 0:
            from scipy.optimize import brentq

            lo, hi = self._support
            if q <= 0:
                return np.float64(lo)
            if q >= 1:
                return np.float64(hi)
            return np.float64(brentq(lambda x: float(self.cdf(x)) - float(q), lo, hi, xtol=1e-14, rtol=1e-14))
        lo = np.full(q.shape, self._support[0])
        hi = np.full(q.shape, self._support[1])
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return hi

    def support(self):
        return self._support

    def rvs(self, size, random_state):
        # Component by weight, then a draw from it: exact and far cheaper than inverting the cdf.
        which = random_state.choice(len(self.components), size=size, p=self.weights)
        out = np.empty(size)
        for k, comp in enumerate(self.components):
            mask = which == k
            out[mask] = comp.rvs(int(mask.sum()), random_state=random_state)
        return out

    def mean(self):
        return float(sum(w * c.mean() for w, c in zip(self.weights, self.components)))

    def std(self):
        second = sum(w * (c.std() ** 2 + c.mean() ** 2) for w, c in zip(self.weights, self.components))
        return math.sqrt(max(second - self.mean() ** 2, 0.0))


def _between_breakpoints(marginal: Marginal, lo: float, hi: float, weight) -> float:
    """Integral of weight(u) F^{-1}(u) over [lo, hi] by 64-point Gauss-Legendre on each piece between
    the quantile breakpoints: exact where F^{-1} is a polynomial of low degree on every piece and the
    weight a polynomial of degree < 127 - deg(F^{-1})."""
    nodes, w = np.polynomial.legendre.leggauss(64)
    cuts = np.array([lo, *[b for b in marginal.quantile_breakpoints if lo < b < hi], hi])
    a, b = cuts[:-1, None], cuts[1:, None]
    u = (a + b) / 2 + (b - a) / 2 * nodes
    f = marginal.ppf(u) if weight is None else weight(u) * marginal.ppf(u)
    return float(((b - a)[:, 0] / 2 * (f @ w)).sum())


class HardInstance(Marginal):
    """The distribution in the proof of Theorem 3.1: ``hard(p=..., delta=...)``.

    A base value (1 - q)/p with probability p, 1 with probability q, 0 otherwise,
    with q = 2 - sqrt(2), plus Unif[0, delta] noise. Its cdf is piecewise linear and
    its quantile function piecewise linear with jumps at the cumulative weights.
    """

    def __init__(self, p: float = 0.01, delta: float = 0.001, spec: str | None = None):
        q = 2.0 - math.sqrt(2.0)
        self.p, self.delta, self.q = float(p), float(delta), q
        self.spec = spec or f"hard(p={p}, delta={delta})"
        if not 0 < self.delta < 1:
            raise PriorSpecError(f"{self.spec}: delta must lie in (0, 1), got {delta}")
        if not 0 < self.p < 1 - q:
            raise PriorSpecError(f"{self.spec}: p must lie in (0, 1 - q) = (0, {1 - q:.6f}), got {p}")
        high = (1 - q) / self.p
        if high <= 1 + self.delta:
            raise PriorSpecError(f"{self.spec}: p too large: the high value (1-q)/p = {high:.4g} must exceed 1 + delta")
        # Atoms in increasing order with their probabilities.
        self.atoms = np.array([0.0, 1.0, high])
        self.weights = np.array([1 - q - self.p, q, self.p])
        self._cum = np.concatenate([[0.0], np.cumsum(self.weights)])
        self._cum[-1] = 1.0
        self.quantile_breakpoints = tuple(float(c) for c in self._cum[1:-1])

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        return sum(w * np.clip((x - a) / self.delta, 0.0, 1.0) for a, w in zip(self.atoms, self.weights))

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        k = np.clip(np.searchsorted(self._cum, u, side="right") - 1, 0, 2)
        frac = (u - self._cum[k]) / self.weights[k]
        return self.atoms[k] + self.delta * np.clip(frac, 0.0, 1.0)

    def support(self):
        return 0.0, float(self.atoms[-1] + self.delta)

    def integrate_quantile(self, lo: float, hi: float, weight=None) -> float:
        """Exact for polynomial weights of degree < 127: F^{-1} is linear on each atom's
        quantile interval, so 64-point Gauss-Legendre per interval integrates it exactly."""
        return _between_breakpoints(self, lo, hi, weight)

    def mean(self):
        return float(self.weights @ self.atoms + self.delta / 2)


class Levels(Marginal):
    """A value from finitely many levels: ``levels(values=[0, 1, 5], probs=[0.6, 0.3, 0.1])``.

    The discrete domains of the mechanism-design lab (:mod:`abm.design.cardinal`) as a prior, so
    a mechanism designed on levels is simulated and audited on the values it was designed for.
    Equal values are frequent; every mechanism breaks ties by its documented rule. The quantile
    function is a step function with a jump at each cumulative probability.
    """

    def __init__(self, values, probs=None, spec: str | None = None):
        v = np.asarray(values, dtype=float).ravel()
        p = np.full(v.size, 1.0 / max(v.size, 1)) if probs is None else np.asarray(probs, dtype=float).ravel()
        self.spec = spec or f"levels(values={v.tolist()}, probs={p.tolist()})"
        if v.size < 2:
            raise PriorSpecError(f"{self.spec}: give at least two levels, e.g. levels(values=[0, 1, 5], "
                                 "probs=[0.6, 0.3, 0.1])")
        if p.size != v.size:
            raise PriorSpecError(f"{self.spec}: {v.size} values but {p.size} probabilities; give one per value")
        if not np.all(np.diff(v) > 0):
            raise PriorSpecError(f"{self.spec}: values must be strictly increasing, e.g. [0, 1, 5]")
        if not (np.all(np.isfinite(p)) and np.all(p > 0) and abs(p.sum() - 1) <= 1e-9):
            raise PriorSpecError(f"{self.spec}: probabilities must be positive and sum to 1, got sum {p.sum():g}")
        self.atoms, self.weights = v, p / p.sum()
        self._cum = np.concatenate([[0.0], np.cumsum(self.weights)])
        self._cum[-1] = 1.0
        self.quantile_breakpoints = tuple(float(c) for c in self._cum[1:-1])

    def cdf(self, x):
        return self._cum[np.searchsorted(self.atoms, np.asarray(x, dtype=float), side="right")]

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        k = np.clip(np.searchsorted(self._cum, u, side="right") - 1, 0, self.atoms.size - 1)
        return self.atoms[k]

    def support(self):
        return float(self.atoms[0]), float(self.atoms[-1])

    def integrate_quantile(self, lo: float, hi: float, weight=None) -> float:
        """Exact for polynomial weights of degree < 127: F^{-1} is constant between breakpoints."""
        return _between_breakpoints(self, lo, hi, weight)

    def mean(self):
        return float(self.weights @ self.atoms)

    def std(self):
        return float(np.sqrt(max(self.weights @ self.atoms ** 2 - self.mean() ** 2, 0.0)))


def validate(marginal: Marginal) -> Marginal:
    """Refuse distributions that are not valid in the paper's sense (section 2)."""
    lo, hi = marginal.support()
    if not (lo >= 0 and math.isfinite(hi)):
        raise PriorSpecError(
            f"{marginal.spec} has support [{lo:g}, {hi:g}], which is not bounded and nonnegative; "
            f"truncate it explicitly, e.g. truncate({marginal.spec}, 0, 1)"
        )
    if not (1e-150 <= hi <= 1e150):
        raise PriorSpecError(f"{marginal.spec} has values up to {hi:g}; accepted: supports reaching between 1e-150 and "
                             f"1e150 (sums and squares of values stay finite in float64; every result is scale "
                             f"invariant, so rescale the prior)")
    if not marginal.std() > 0:
        raise PriorSpecError(f"{marginal.spec} has zero variance; the paper's priors need nonzero variance")
    return marginal
