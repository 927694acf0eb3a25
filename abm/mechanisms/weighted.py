"""Weighted ranking (Algorithm 2, appendix A): Ranking for independent, non-identical priors."""

from __future__ import annotations

import numpy as np

from abm.errors import MechanismError
from abm.mechanisms.base import Claim, Example, Mechanism, MechanismInfo, Param, register
from abm.mechanisms.ranking import deadline_best_response, ranks

__all__ = ["WeightedRanking"]


@register
class WeightedRanking(Mechanism):
    """Algorithm 2: rank r in agent i's list becomes the virtual value
    w_i F_i^{-1}(1 - r/(m+1)); each item goes to the highest virtual value (lowest agent
    index on ties). w are the Bai-Golz weights (each agent has the highest weighted value
    with probability 1/n). Reads bids as rankings only. BIC under appendix A's conditions;
    with identical priors it is Ranking (Algorithm 1).
    """

    info = MechanismInfo(
        name="weighted-ranking",
        summary="ranks mapped to virtual values through each prior, scaled by Bai-Golz weights",
        claim=Claim.BIC_APPENDIX_A,
        ordinal=True,
        reference="Algorithm 2; Theorem A.1",
        parameters={"weights": Param("vector", "override the Bai-Golz weights (default: computed from the prior)")},
        needs_prior=True,
        example=Example({"prior": "uniform; beta(a=2, b=5); truncexpon(b=3)"}, agents=3, items=6),
    )

    def prediction(self, prior, n_agents, n_items):
        return 1.0, "1 - o(1): Theorem A.1"

    def instance_labels(self, bids, owner):
        label, caption = super().instance_labels(bids, owner)
        return label, caption + ": weighted ranking gives it to the highest weighted virtual value of its rank"

    def __init__(self, prior=None, weights=None):
        from abm.priors import parse_prior

        if prior is None:
            raise MechanismError("weighted-ranking needs the prior (each agent's quantile function); pass prior=...")
        self.prior = parse_prior(prior)
        if type(self.prior).__name__ == "GaussianCopulaPrior":
            raise MechanismError("weighted-ranking assumes independent agents (appendix A); got a copula prior")
        self._weights = None if weights is None else np.asarray(weights, dtype=float)
        if self._weights is not None and (not np.isfinite(self._weights).all() or (self._weights <= 0).any()):
            raise MechanismError(f"weights must be positive, got {self._weights.tolist()}")
        self._tables: dict[tuple[int, int], np.ndarray] = {}
        self._bai_golz: dict[int, np.ndarray] = {}

    @property
    def params(self) -> dict:
        out = {"prior": self.prior.spec}
        if self._weights is not None:
            out["weights"] = self._weights.tolist()
        return out

    def weights(self, n_agents: int) -> np.ndarray:
        if self._weights is not None:
            if self._weights.size != n_agents:
                raise MechanismError(f"{self._weights.size} weights for {n_agents} agents")
            return self._weights
        if self.prior.is_iid:
            return np.ones(n_agents)  # symmetric: every agent wins with probability 1/n
        if n_agents not in self._bai_golz:  # root finding with quadrature: once per agent count
            from abm.theory import bai_golz_weights

            self._bai_golz[n_agents] = bai_golz_weights(self.prior, n_agents).weights
        return self._bai_golz[n_agents]

    def check_agents(self, n_agents: int) -> None:
        self.prior.check_agents(n_agents)
        self.weights(n_agents)

    def virtual_values(self, n_agents: int, m: int) -> np.ndarray:
        """Table ``(n, m)``: agent i's weighted virtual value of its rank-(t+1) item."""
        key = (n_agents, m)
        if key not in self._tables:
            q = 1.0 - np.arange(1, m + 1) / (m + 1)
            w = self.weights(n_agents)
            self._tables[key] = np.stack([w[i] * np.asarray(self.prior.marginal(i).ppf(q), dtype=float)
                                          for i in range(n_agents)])
        return self._tables[key]

    def _allocate_ranked(self, ranked):
        n, m = ranked.shape[-2:]
        table = self.virtual_values(n, m)
        rank = ranked.position()
        virtual = np.take_along_axis(np.broadcast_to(table, rank.shape), rank.astype(np.int64), axis=-1)
        return np.argmax(virtual, axis=-2).astype(np.int64)

    def best_response(self, values, bids, agent):
        """Agent i's virtual value of its rank-t item, w_i F_i^{-1}(1 - (t+1)/(m+1)), does not
        increase with t, so the ranks at which i wins item j form a prefix 0..D_j - 1: i must
        beat the best earlier agent strictly and tie or beat the best later one. Then it is
        unit-job scheduling with deadlines D_j."""
        P, n, m = bids.shape
        table = self.virtual_values(n, m)
        rank = ranks(bids).astype(np.int64)
        virtual = np.take_along_axis(np.broadcast_to(table, rank.shape), rank, axis=-1)  # (P, n, m)
        lower = -table[agent]  # nondecreasing in t
        deadline = np.full((P, m), m, dtype=np.int64)
        if agent > 0:  # earlier agents win ties: need table[agent, t] > their best
            beat = virtual[:, :agent, :].max(axis=1)
            deadline = np.minimum(deadline, np.searchsorted(lower, -beat.ravel(), side="left").reshape(P, m))
        if agent < n - 1:  # later agents lose ties: table[agent, t] >= their best suffices
            tie = virtual[:, agent + 1:, :].max(axis=1)
            deadline = np.minimum(deadline, np.searchsorted(lower, -tie.ravel(), side="right").reshape(P, m))
        return deadline_best_response(values, deadline, "structural: unit-job scheduling with deadlines "
                                                        "under Algorithm 2's weighted positions")

    def restrict(self, keep):
        return self
