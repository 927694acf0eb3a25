"""Misreports that use the mechanism, the prior or the others' bids."""

from __future__ import annotations

import numpy as np

from abm.errors import StrategyError
from abm.spec import whole
from strategies.base import Strategy, register

__all__ = ["AlwaysTrade", "NeverTrade", "ContestedFirst", "ExPostBestResponse", "InterimBestResponse"]


def _exchange_masks(mechanism, m):
    """(items, S mask over them) for each exchange component the mechanism declares, or []."""
    if mechanism is None:
        return []
    return [(items, ex.endowed(len(items))) for items, ex in mechanism.exchange_parts(m)]


class _TradeStance(Strategy):
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": True, "clairvoyant": False,
                  "stochastic": False, "keeps_ranking": False}
    accept = True

    def _bid(self, values, context):
        out = values.copy()
        big = float(values.max(initial=0.0)) * values.shape[-1] + 1.0
        for items, S in _exchange_masks(context.mechanism, values.shape[-1]):
            mine = S if context.agent == 0 else ~S  # this agent's endowment within the component
            want = ~mine if self.accept else mine
            out[..., items] = np.where(want, big, 0.0)
        return out


@register
class AlwaysTrade(_TradeStance):
    """In every exchange, report preferring the other's endowment (accept any trade)."""

    name = "always-trade"
    accept = True


@register
class NeverTrade(_TradeStance):
    """In every exchange, report preferring one's own endowment (refuse any trade)."""

    name = "never-trade"
    accept = False


@register
class ExPostBestResponse(Strategy):
    """The exact best response to the others' actual bids (clairvoyant), where the
    mechanism has a structural oracle (:meth:`Mechanism.best_response`); the truth otherwise."""

    name = "ex-post-best-response"
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": True, "clairvoyant": True,
                  "stochastic": False, "keeps_ranking": False}

    def _bid(self, values, context):
        if context.others_bids is None:
            raise StrategyError("ex-post-best-response is clairvoyant: it needs the others' bids")
        m = values.shape[-1]
        flat_v = values.reshape(-1, m)
        others = np.asarray(context.others_bids, dtype=float).reshape(flat_v.shape[0], -1, m)
        bids = np.insert(others, context.agent, flat_v, axis=1)
        best = context.mechanism.best_response(flat_v, bids, context.agent)
        return values.copy() if best is None else best.reports.reshape(values.shape)


@register
class ContestedFirst(Strategy):
    """The classic round-robin manipulation (clairvoyant): among the items the agent can
    still hope to get, take first those some other agent ranks near its top (they would
    be gone soon), and postpone those nobody else wants soon. Bids rank items by value
    divided by 1 + (the earliest other agent's rank of the item) / n."""

    name = "contested-first"
    classifier = {"uses_own_values": True, "uses_prior": False, "uses_mechanism": False, "clairvoyant": True,
                  "stochastic": False, "keeps_ranking": False}

    def _bid(self, values, context):
        if context.others_bids is None:
            raise StrategyError("contested-first is clairvoyant: it needs the others' bids")
        from abm.mechanisms import ranks

        others_rank = ranks(np.asarray(context.others_bids, dtype=float)).min(axis=-2)
        urgency = 1.0 + others_rank / max(context.n_agents, 1)
        return values / urgency


@register
class InterimBestResponse(Strategy):
    """Best interim deviation (uses the prior and the mechanism, not the others' bids):
    among candidate reports (the truth, the shipped own-value misreports and pairwise rank
    swaps of the top items), the one with the highest average utility against ``samples``
    draws of the others' values from the prior, on common random numbers."""

    name = "interim-best-response"
    classifier = {"uses_own_values": True, "uses_prior": True, "uses_mechanism": True, "clairvoyant": False,
                  "stochastic": True, "keeps_ranking": False}

    def __init__(self, samples: int = 64):
        self.samples = whole(samples, "samples", error=StrategyError)

    @property
    def params(self):
        return {"samples": self.samples}

    def _bid(self, values, context):
        from strategies.interim import candidate_reports, interim_utilities

        if context.prior is None or context.mechanism is None:
            raise StrategyError("interim-best-response needs the prior and the mechanism")
        flat = values.reshape(-1, values.shape[-1])
        out = np.empty_like(flat)
        for k, v in enumerate(flat):
            cands = candidate_reports(v)
            u = interim_utilities(context.mechanism, context.prior, context.n_agents, context.agent, v, cands,
                                  self.samples, context.rng)
            out[k] = cands[int(np.argmax(u.mean(axis=1)))]
        return out.reshape(values.shape)
