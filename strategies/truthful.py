"""Truthful bidding: report the private values as they are."""

from __future__ import annotations

from strategies.base import Strategy, register

__all__ = ["Truthful"]


@register
class Truthful(Strategy):
    """Bid b_i = v_i: the behaviour DSIC and BIC (section 2) say is optimal."""

    name = "truthful"
    classifier = {
        "uses_own_values": True,
        "uses_prior": False,
        "uses_mechanism": False,
        "clairvoyant": False,
        "stochastic": False,
        "keeps_ranking": True,
    }

    def _bid(self, values, context):
        return values.copy()

    @property
    def is_truthful(self) -> bool:
        return True
