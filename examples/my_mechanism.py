"""A mechanism of your own, audited by tfd (README, "Bring your own mechanism")."""

import numpy as np

from abm.mechanisms import Mechanism


class Threshold(Mechanism):
    """Agent 0 takes every item it bids above ``threshold``; agent 1 gets the rest."""

    def __init__(self, threshold=0.5):
        self.threshold = float(threshold)

    @property
    def params(self):
        return {"threshold": self.threshold}

    def _allocate(self, bids):
        return np.where(bids[..., 0, :] > self.threshold, 0, 1)
