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

import numpy as np
import scipy.stats as st

from abm.errors import PriorSpecError
from abm.priors.marginals import Marginal

__all__ = ["Prior", "IIDPrior", "IndependentPrior", "GaussianCopulaPrior"]


def _check_sizes(n_agents, n_items, batch):
    for label, value in (("agents", n_agents), ("items", n_items)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise PriorSpecError(f"number of {label} must be a positive integer, got {value!r}")
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


class GaussianCopulaPrior(Prior):
    """Values correlated across agents (not items) through a Gaussian copula (appendix B).

    The latent normals have correlation ``rho`` between every pair of agents, so ``rho``
    must lie in ``[-1/(n-1), 1]`` for the correlation matrix to be valid; each agent's
    value is its marginal's quantile function at the latent normal's cdf.
    """

    def __init__(self, marginals: list[Marginal], rho: float, spec: str):
        self.marginals = list(marginals)
        self.rho = float(rho)
        self.spec = spec
        self.n_agents = len(self.marginals) if len(self.marginals) > 1 else None
        if not -1.0 <= self.rho <= 1.0:
            raise PriorSpecError(f"{spec}: rho must lie in [-1, 1], got {rho}")
        if self.n_agents is not None:
            self._factor(self.n_agents)

    def marginal(self, agent: int) -> Marginal:
        return self.marginals[0] if len(self.marginals) == 1 else self.marginals[agent]

    def _factor(self, n: int) -> np.ndarray:
        if n > 1 and self.rho < -1.0 / (n - 1) - 1e-12:
            raise PriorSpecError(
                f"{self.spec}: with {n} agents rho must be at least -1/(n-1) = {-1 / (n - 1):.4g}, got {self.rho}"
            )
        corr = np.full((n, n), self.rho)
        np.fill_diagonal(corr, 1.0)
        # Symmetric square root: works for singular matrices (rho = 1 or -1/(n-1)).
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
