"""BIC mutants: Ranking (Algorithm 1) and weighted Ranking (Algorithm 2) with a bug that makes
an interim lie pay. Both rules are BIC because the chance p_t of winning the item reported at
rank t does not increase with t (Theorem 4.1's proof, appendix A); each bug breaks that
monotonicity, so some re-ranking earns more in expectation.
"""

from __future__ import annotations

import numpy as np

from abm.mechanisms import Ranking, WeightedRanking
from abm.mechanisms.ranking import ranks
from abm.mutants.dsic import cardinal

NON_IDENTICAL = "uniform; beta(a=2, b=5); truncexpon(b=3)"


class MiddleSwap(Ranking):
    """Ranking whose rank-to-score table swaps the 2nd and 3rd positions (an off-by-one in a
    lookup): putting the true 3rd item second wins it more often."""

    def _allocate(self, bids):
        r = ranks(bids)
        r = np.where(r == 1, 2, np.where(r == 2, 1, r))
        return np.argmin(r, axis=-2).astype(np.int64)


class ReversedQuantile(WeightedRanking):
    """Weighted Ranking where agent 0's virtual values read its prior at F^{-1}(r/(m+1)) instead of
    F^{-1}(1 - r/(m+1)) (the quantile flipped): agent 0's low ranks score high, so it reverses."""

    def virtual_values(self, n_agents, m):
        table = super().virtual_values(n_agents, m).copy()
        table[0] = table[0][::-1]
        return table


class RankParityWeights(WeightedRanking):
    """Weighted Ranking whose weights were applied per rank parity (odd ranks x 1.5), not per agent:
    the table is no longer monotone, so swapping neighbours pays."""

    def virtual_values(self, n_agents, m):
        table = super().virtual_values(n_agents, m).copy()
        table[:, 1::2] *= 1.5
        return table


@cardinal
class CardinalBids(WeightedRanking):
    """Weighted Ranking that scales the bids themselves by the weights (the rank step skipped):
    exaggerating wins items."""

    def _allocate(self, bids):
        w = self.weights(bids.shape[-2])
        return np.argmax(bids * w[:, None], axis=-2).astype(np.int64)


#: name -> (base mechanism, agents, prior, factory of the mutant for m items)
BIC_MUTANTS = {
    "ranking/middle-swap": ("ranking", 3, "uniform", lambda m: MiddleSwap()),
    "weighted-ranking/reversed-quantile": ("weighted-ranking", 3, NON_IDENTICAL, lambda m: ReversedQuantile(NON_IDENTICAL)),
    "weighted-ranking/rank-parity-weights": ("weighted-ranking", 3, NON_IDENTICAL,
                                             lambda m: RankParityWeights(NON_IDENTICAL)),
    "weighted-ranking/cardinal-bids": ("weighted-ranking", 3, NON_IDENTICAL, lambda m: CardinalBids(NON_IDENTICAL)),
}
