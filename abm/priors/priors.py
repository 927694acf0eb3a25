"""Priors: joint distributions of the value matrix ``v[i, j]`` (agent i, item j).

Items are always independent and identically distributed; across agents a prior is

* :class:`IIDPrior` -- every value from one marginal (section 2);
* :class:`IndependentPrior` -- agent i's values from its own marginal (appendix A);
* :class:`GaussianCopulaPrior` -- agents correlated through a Gaussian copula with
  equicorrelation ``rho`` over given marginals (appendix B).

All share one interface: ``sample(rng, n_agents, n_items, batch=None)`` returns values
of shape ``(n, m)`` or ``(batch, n, m)``; ``marginal(i)``, ``cdf(x, i)`` and ``ppf(q, i)``
give agent i's marginal (the quantile mechanisms and the theory need them).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.stats as st

from abm.errors import PriorSpecError
from abm.spec import whole
from abm.priors.marginals import Marginal

__all__ = ["Prior", "IIDPrior", "IndependentPrior", "GaussianCopulaPrior"]


def _check_sizes(n_agents, n_items, batch):
    for label, value in (("agents", n_agents), ("items", n_items)):
        whole(value, f"number of {label}", error=PriorSpecError)
    if batch is not None and (not isinstance(batch, (int, np.integer)) or batch < 1):
        raise PriorSpecError(f"batch must be a positive integer or None, got {batch!r}")


class Prior:
    """Base class. ``n_agents`` is None when the prior fits any number of agents."""

    spec: str
    n_agents: int | None = None

    def marginal(self, agent: int) -> Marginal:
        raise NotImplementedError

    @property
    def is_iid(self) -> bool:
        """True when values are i.i.d. across agents (the setting of sections 3 and 4)."""
        return False

    def check_agents(self, n_agents: int) -> None:
        if self.n_agents is not None and n_agents != self.n_agents:
            raise PriorSpecError(
                f"prior {self.spec!r} describes {self.n_agents} agents but {n_agents} were asked for; "
                f"give one ';'-separated spec per agent or a single spec for all"
            )

    def cdf(self, x, agent: int = 0):
        return self.marginal(agent).cdf(x)

    def ppf(self, q, agent: int = 0):
        return self.marginal(agent).ppf(q)

    def quantiles(self, values: np.ndarray) -> np.ndarray:
        """Each value's quantile under its own agent's marginal; ``values`` is ``(..., n, m)``."""
        values = np.asarray(values, dtype=float)
        n = values.shape[-2]
        self.check_agents(n)
        out = np.empty_like(values)
        for i in range(n):
            out[..., i, :] = self.marginal(i).cdf(values[..., i, :])
        return out

    def sample(self, rng: np.random.Generator, n_agents: int, n_items: int, batch: int | None = None) -> np.ndarray:
        _check_sizes(n_agents, n_items, batch)
        self.check_agents(n_agents)
        shape = (n_agents, n_items) if batch is None else (batch, n_agents, n_items)
        return self._sample(rng, shape)

    def _sample(self, rng, shape):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"

    def __str__(self) -> str:
        return self.spec


class IIDPrior(Prior):
    """Every value ``v[i, j]`` drawn independently from one marginal."""

    def __init__(self, marginal: Marginal):
        self._marginal = marginal
        self.spec = marginal.spec

    def marginal(self, agent: int = 0) -> Marginal:
        return self._marginal

    @property
    def is_iid(self) -> bool:
        return True

    def _sample(self, rng, shape):
        return np.asarray(self._marginal.rvs(shape, random_state=rng), dtype=float)


class IndependentPrior(Prior):
    """Agent i's values drawn independently from its own marginal (appendix A)."""

    def __init__(self, marginals: list[Marginal]):
        self.marginals = list(marginals)
        self.n_agents = len(self.marginals)
        self.spec = "; ".join(m.spec for m in self.marginals)

    def marginal(self, agent: int) -> Marginal:
        return self.marginals[agent]

    @property
    def is_iid(self) -> bool:
        return len({m.spec for m in self.marginals}) == 1

    def _sample(self, rng, shape):
        out = np.empty(shape)
        for i, marg in enumerate(self.marginals):
            out[..., i, :] = marg.rvs(shape[:-2] + shape[-1:], random_state=rng)
        return out


#: the smallest eigenvalue a copula's correlation matrix may have: a singular one makes one agent's
#: value a function of the others' (the copula has no density, and the theory's normal CDFs and
#: Cholesky factors fail), and one this close to singular leaves them no accuracy.
MIN_EIGENVALUE = 1e-6


def _correlation_matrix(corr, spec: str) -> np.ndarray:
    """A correlation matrix from nested lists, refused unless square, symmetric, with unit diagonal,
    entries in [-1, 1] and positive definite (so no two agents' quantiles are perfectly dependent)."""
    try:
        c = np.array(corr, dtype=float)
    except (TypeError, ValueError):
        raise PriorSpecError(f"{spec}: corr must be a square matrix of numbers, e.g. [[1, 0.5], [0.5, 1]]") from None
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise PriorSpecError(f"{spec}: corr must be a square matrix of at least 2 x 2, got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.abs(c).max() > 1:
        raise PriorSpecError(f"{spec}: corr entries must lie in [-1, 1]")
    if not np.array_equal(np.diag(c), np.ones(c.shape[0])):
        raise PriorSpecError(f"{spec}: corr must have ones on its diagonal")
    if not np.array_equal(c, c.T):
        i, j = np.argwhere(c != c.T)[0]
        raise PriorSpecError(f"{spec}: corr must be symmetric; entry ({i}, {j}) is {c[i, j]:g} but ({j}, {i}) is "
                             f"{c[j, i]:g}")
    smallest = float(np.linalg.eigvalsh(c).min())
    if smallest < MIN_EIGENVALUE:
        raise PriorSpecError(f"{spec}: corr is not positive definite with room to spare (smallest eigenvalue "
                             f"{smallest:.3g}, at least {MIN_EIGENVALUE:g} accepted); a valid correlation matrix of "
                             "agents none of whom is a function of the others is")
    return c


class GaussianCopulaPrior(Prior):
    """Values correlated across agents (not items) through a Gaussian copula (appendix B).

    Either ``rho``: the latent normals have correlation ``rho`` between every pair of agents, so
    ``rho`` must lie in ``[-1/(n-1), 1]`` for the correlation matrix to be valid; or ``corr``: a
    full n x n correlation matrix (symmetric, unit diagonal, positive definite), which fixes n.
    Each agent's value is its marginal's quantile function at the latent normal's cdf.
    """

    def __init__(self, marginals: list[Marginal], rho: float | None, spec: str, corr=None):
        self.marginals = list(marginals)
        self.spec = spec
        self.corr = None if corr is None else _correlation_matrix(corr, spec)
        if self.corr is not None:
            n = self.corr.shape[0]
            if len(self.marginals) not in (1, n):
                raise PriorSpecError(f"{spec}: corr is {n} x {n} but {len(self.marginals)} marginals are given; give "
                                     f"one marginal for all agents or one per agent ({n})")
            self.rho = None
            self.n_agents = n
            return
        self.rho = float(rho)
        self.n_agents = len(self.marginals) if len(self.marginals) > 1 else None
        if not -1.0 <= self.rho <= 1.0:
            raise PriorSpecError(f"{spec}: rho must lie in [-1, 1], got {rho}")
        if self.n_agents is not None:
            self._factor(self.n_agents)

    def marginal(self, agent: int) -> Marginal:
        return self.marginals[0] if len(self.marginals) == 1 else self.marginals[agent]

    def check_agents(self, n_agents: int) -> None:
        super().check_agents(n_agents)
        if self.corr is None and n_agents > 1:
            # the equicorrelation matrix's eigenvalues are 1 - rho and 1 + (n - 1) rho
            smallest = min(1.0 - self.rho, 1.0 + (n_agents - 1) * self.rho)
            if smallest < MIN_EIGENVALUE:
                low = -1.0 / (n_agents - 1)
                raise PriorSpecError(
                    f"{self.spec}: with {n_agents} agents rho must lie strictly between -1/(n-1) = {low:.4g} and 1 "
                    f"(its correlation matrix's smallest eigenvalue at least {MIN_EIGENVALUE:g}), got {self.rho:g}")

    def correlation(self, n: int) -> np.ndarray:
        """The latent normals' n x n correlation matrix."""
        self.check_agents(n)
        if self.corr is not None:
            return self.corr
        corr = np.full((n, n), self.rho)
        np.fill_diagonal(corr, 1.0)
        return corr

    def _factor(self, n: int) -> np.ndarray:
        if self.corr is not None:
            return np.linalg.cholesky(self.correlation(n))
        corr = self.correlation(n)
        # symmetric square root of the (positive definite) equicorrelation matrix
        w, vec = np.linalg.eigh(corr)
        return vec * np.sqrt(np.clip(w, 0.0, None))

    def _sample(self, rng, shape):
        n = shape[-2]
        z = rng.standard_normal(shape)
        latent = np.einsum("ik,...km->...im", self._factor(n), z)
        u = st.norm.cdf(latent)
        out = np.empty(shape)
        for i in range(n):
            out[..., i, :] = self.marginal(i).ppf(u[..., i, :])
        return out


def _sinkhorn(cells: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Scale a positive tensor to uniform margins (every axis's slices sum to 1/k): iterative
    proportional fitting, for tensors built from a generator whose margins are uniform up to rounding."""
    t = cells / cells.sum()
    k = t.shape[0]
    for _ in range(iterations):
        for axis in range(t.ndim):
            other = tuple(a for a in range(t.ndim) if a != axis)
            s = t.sum(axis=other, keepdims=True)
            t = t * np.where(s > 0, (1.0 / k) / np.where(s > 0, s, 1.0), 0.0)
    return t


def gaussian_checkerboard(k: int, corr) -> np.ndarray:
    """The k x ... x k checkerboard copula closest to a Gaussian copula: each cell's mass is the
    Gaussian copula's probability of that box (multivariate normal cdf, inclusion-exclusion over
    the box's corners; the same in every run), then scaled to exact uniform margins. Kept per (k, corr) for the process:
    a spec parsed again (each simulation, each mechanism) does not integrate again."""
    corr = np.asarray(corr, dtype=float)
    return _gaussian_checkerboard(int(k), corr.shape[0], corr.tobytes()).copy()


@functools.lru_cache(maxsize=64)
def _gaussian_checkerboard(k: int, n: int, corr_bytes: bytes) -> np.ndarray:
    corr = np.frombuffer(corr_bytes, dtype=float).reshape(n, n)
    n = corr.shape[0]
    edges = st.norm.ppf(np.linspace(0.0, 1.0, k + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    mvn = st.multivariate_normal(mean=np.zeros(n), cov=corr)
    # cdf at every grid corner, then finite differences along each axis give the box masses
    corners = np.array(np.meshgrid(*[edges] * n, indexing="ij")).reshape(n, -1).T
    finite = np.clip(corners, -12.0, 12.0)
    # scipy integrates by randomized quasi-Monte Carlo: a fixed generator makes the cells, and
    # everything built on them, the same in every run
    F = mvn.cdf(finite, rng=np.random.default_rng(0)).reshape((k + 1,) * n)
    F = np.where(np.any(corners == -np.inf, axis=1).reshape((k + 1,) * n), 0.0, F)
    mass = F
    for axis in range(n):
        mass = np.diff(mass, axis=axis)
    return _sinkhorn(np.clip(mass, 1e-300, None))


class CheckerboardCopulaPrior(Prior):
    """Values correlated across agents through a checkerboard copula: the cube [0,1]^n cut into
    k^n equal cells, each holding a mass, uniform inside, with uniform margins (each axis's slices
    hold 1/k). Agent i's value is its marginal's quantile function at the point's i-th coordinate.

    Spec: ``checkerboard(MARGINAL, ..., cells=[[...], ...])`` (a nested list of k^n masses),
    ``file='cells.npy'`` (or ``.json``), or ``k=6, corr=[[...]]`` (the Gaussian copula's
    checkerboard, :func:`gaussian_checkerboard`); ``k=6`` alone is independence. Sampling draws a
    cell per (agent set, item) from the masses, then a uniform point in it (two uniforms per item:
    the cell, then the point, in C order).
    """

    #: masses whose margins miss 1/k by more than this (relative) are refused, not rescaled
    MARGIN_RTOL = 1e-9

    def __init__(self, marginals: list[Marginal], cells, spec: str):
        self.spec = spec
        c = np.asarray(cells, dtype=float)
        if c.ndim < 2 or len(set(c.shape)) != 1 or c.shape[0] < 1:
            raise PriorSpecError(f"{spec}: cells must be a k x ... x k tensor (one axis per agent, at least 2), "
                                 f"got shape {c.shape}")
        if not np.all(np.isfinite(c)) or c.min() < 0 or not c.sum() > 0:
            raise PriorSpecError(f"{spec}: cell masses must be finite, nonnegative and not all zero")
        c = c / c.sum()
        n, k = c.ndim, c.shape[0]
        for axis in range(n):
            s = c.sum(axis=tuple(a for a in range(n) if a != axis))
            if np.abs(s * k - 1).max() > self.MARGIN_RTOL:
                raise PriorSpecError(f"{spec}: the cells' margin along agent {axis} is not uniform (slice masses "
                                     f"{', '.join(f'{x:.4g}' for x in s)}; each must be 1/k = {1 / k:.4g})")
        if len(marginals) not in (1, n):
            raise PriorSpecError(f"{spec}: the cells describe {n} agents but {len(marginals)} marginals are given; "
                                 f"give one marginal for all agents or one per agent")
        self.cells, self.k, self.n_agents = c, k, n
        self.marginals = list(marginals)

    def marginal(self, agent: int) -> Marginal:
        return self.marginals[0] if len(self.marginals) == 1 else self.marginals[agent]

    def quantile_points(self, rng, size: int) -> np.ndarray:
        """``size`` points of the cube drawn from the copula, shape (size, n)."""
        flat = np.cumsum(self.cells.ravel())
        cell = np.minimum(np.searchsorted(flat, rng.random(size) * flat[-1], side="right"), flat.size - 1)
        corner = np.array(np.unravel_index(cell, self.cells.shape)).T
        return (corner + rng.random((size, self.n_agents))) / self.k

    def _sample(self, rng, shape):
        self.check_agents(shape[-2])
        n, m = shape[-2], shape[-1]
        lead = int(np.prod(shape[:-2], dtype=np.int64))
        q = self.quantile_points(rng, lead * m).reshape(shape[:-2] + (m, n))
        q = np.moveaxis(q, -1, -2)
        out = np.empty(shape)
        for i in range(n):
            out[..., i, :] = self.marginal(i).ppf(q[..., i, :])
        return out
