"""The mechanism protocol: pure, batched allocation rules.

A mechanism maps ``bids`` of shape ``(..., n, m)`` (agent i's bid for item j, any
number of leading batch axes) to ``owner`` of shape ``(..., m)``: the index of the
agent that receives each item. No Mesa, no I/O, no randomness: the Mesa layer, the
audits and the benchmarks all call the same ``allocate``.

Tie-breaking is deterministic throughout the package: among agents, the lowest agent
index wins; within one agent's bids, equal bids are ranked by lowest item index first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.errors import MechanismError

__all__ = ["Claim", "Mechanism", "MechanismInfo", "check_bids"]


class Claim:
    """Incentive claims the paper makes (section 2 defines DSIC and BIC)."""

    DSIC = "DSIC"
    BIC_IID = "BIC under i.i.d. priors"
    BIC_APPENDIX_A = "BIC under appendix A's conditions"
    NONE = "none"


@dataclass(frozen=True)
class MechanismInfo:
    """Metadata shown by ``tfd mechanisms`` and used by audits."""

    name: str
    summary: str
    claim: str
    ordinal: bool
    reference: str
    parameters: dict  # parameter name -> description
    needs_prior: bool = False


def check_bids(bids, n_agents: int | None = None) -> np.ndarray:
    """Return ``bids`` as a float array after checking shape and values.

    Raises :class:`MechanismError` (a ``ValueError``) naming the problem: fewer than two
    dimensions, no agents or items, a wrong number of agents, NaN, infinite or
    negative bids.
    """
    b = np.asarray(bids)
    if b.dtype == object or not (np.issubdtype(b.dtype, np.number) or b.dtype == bool):
        raise MechanismError(f"bids must be numeric, got dtype {b.dtype}")
    b = b.astype(float, copy=False)
    if b.ndim < 2:
        raise MechanismError(f"bids must have shape (..., n_agents, n_items), got shape {b.shape}")
    if b.shape[-2] < 1 or b.shape[-1] < 1:
        raise MechanismError(f"bids need at least one agent and one item, got shape {b.shape}")
    if n_agents is not None and b.shape[-2] != n_agents:
        raise MechanismError(f"this mechanism is set up for {n_agents} agents but bids have {b.shape[-2]} rows")
    if not ((b >= 0).all() and np.isfinite(b.max())):  # two cheap passes; NaN fails the first
        if np.isnan(b).any():
            raise MechanismError("bids contain NaN values; bids must be finite and nonnegative")
        if np.isinf(b).any():
            raise MechanismError("bids contain infinite values; bids must be finite and nonnegative")
        raise MechanismError("bids contain negative values; bids must be finite and nonnegative")
    return b


class Mechanism:
    """Base class. Subclasses set ``info`` and implement ``_allocate(bids) -> owner``."""

    info: MechanismInfo

    def __init__(self):
        """Parameterless by default; subclasses with parameters define their own."""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def params(self) -> dict:
        """The parameters this instance was built with (for tidy output)."""
        return {}

    def spec(self) -> dict:
        """A JSON-able description that :func:`abm.mechanisms.from_spec` turns back into this mechanism."""
        return {"name": self.name, **self.params}

    def allocate(self, bids) -> np.ndarray:
        """Allocate every item: ``bids (..., n, m) -> owner (..., m)`` (agent indices, int64)."""
        b = check_bids(bids)
        self.check_agents(b.shape[-2])
        return self._allocate(b)

    def check_agents(self, n_agents: int) -> None:
        """Raise :class:`MechanismError` if the mechanism cannot serve ``n_agents``."""

    def _allocate(self, bids: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"
