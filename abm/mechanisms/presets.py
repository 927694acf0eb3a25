"""Named Pick-r presets whose shares come from the theory module for a given prior.

* ``pick-optimal`` -- the optimal stopping rule's r (Proposition 3.8);
* ``pick-theorem-3-7`` -- Theorem 3.7's r for two agents (depends on m in its second case);
* ``pick-equal-quota`` -- Theorem 3.10's (1/n - eps, ..., 1/n + (n-1) eps);
* ``pick-universal`` -- prior-independent thresholds (max-min over priors), as a Pick-r;
* ``pick-correlated`` -- appendix B: the agent with the larger tau picks a (1 - tau) + eps share first;
* ``pick-contiguous`` -- any n, correlated values: the order and shares maximizing the smallest EF margin.

Each is a Pick-r (hence DSIC) once its r is fixed; r is computed once per (n, m) and cached.
"""

from __future__ import annotations

import numpy as np

from abm.errors import MechanismError
from abm.mechanisms.base import Claim, Example, Mechanism, MechanismInfo, Param, register
from abm.mechanisms.picking import (PickR, pick_r_labels, pick_r_prediction, quota_best_response,
                                   quota_best_responses, quotas)

__all__ = ["PickOptimal", "PickTheorem37", "PickEqualQuota", "PickUniversal", "PickCorrelated", "PickContiguous"]


class _Preset(Mechanism):
    """A Pick-r whose r is a function of (prior, n, m)."""

    needs_m = False
    def __init__(self, prior=None):
        from abm.priors import parse_prior

        if prior is None and self.info.needs_prior:
            raise MechanismError(f"{self.info.name} needs the prior; pass prior=...")
        self.prior = None if prior is None else parse_prior(prior)
        self._cache: dict = {}

    @property
    def params(self) -> dict:
        return {"prior": self.prior.spec} if self.prior is not None else {}

    def _r(self, n: int, m: int) -> np.ndarray:
        raise NotImplementedError

    def r(self, n: int, m: int | None = None) -> np.ndarray:
        """The Pick-r shares this preset uses with n agents and m items."""
        key = (n, m if self.needs_m else None)
        if key not in self._cache:
            self._cache[key] = np.asarray(self._r(n, m), dtype=float)
        return self._cache[key]

    def quotas(self, n_agents: int, n_items: int) -> np.ndarray:
        """Definition 3.4's t_i for these shares (as :meth:`PickR.quotas`)."""
        return quotas(self.r(n_agents, n_items), n_items)

    def check_agents(self, n_agents: int) -> None:
        if self.prior is not None:
            self.prior.check_agents(n_agents)

    def _allocate_ranked(self, ranked):
        n, m = ranked.shape[-2:]
        return PickR(self.r(n, m))._allocate_ranked(ranked)

    def best_response(self, values, bids, agent):
        n, m = bids.shape[-2:]
        return quota_best_response(values, bids, agent, range(n), self.quotas(n, m))

    def best_responses(self, values, bids):
        n, m = bids.shape[-2:]
        return quota_best_responses(values, bids, range(n), self.quotas(n, m))

    def restrict(self, keep):
        return self

    def prediction(self, prior, n_agents, n_items):
        return pick_r_prediction(self, prior, n_agents, n_items)

    def instance_labels(self, bids, owner):
        return pick_r_labels(bids, owner, self.quotas(*bids.shape))


def _info(name, summary, reference, parameters=None, needs_prior=True, example=None):
    return MechanismInfo(name=name, summary=summary, claim=Claim.DSIC, ordinal=True, reference=reference,
                         parameters=parameters or {}, needs_prior=needs_prior,
                         example=example or Example({"prior": "uniform"}, agents=3, items=6))


@register
class PickOptimal(_Preset):
    info = _info("pick-optimal", "Pick-r with the optimal stopping rule's shares for the prior", "Proposition 3.8",
                 example=Example({"prior": "beta(a=2, b=5)"}, agents=3, items=6))

    def _r(self, n, m):
        from abm.theory import optimal_pick_r

        return optimal_pick_r(self.prior, n).r


@register
class PickTheorem37(_Preset):
    info = _info("pick-theorem-3-7", "Pick-(2-sqrt2)/2 if envy-free w.h.p. for the prior, else Pick-(1/2 - m^-1/4)",
                 "Theorem 3.7; appendix E", example=Example({"prior": "truncexpon(b=3)"}, agents=2, items=6))
    needs_m = True

    def check_agents(self, n_agents: int) -> None:
        if n_agents != 2:
            raise MechanismError(f"Theorem 3.7's mechanism is for two agents, got {n_agents}")
        super().check_agents(n_agents)

    def _r(self, n, m):
        from abm.theory import theorem_3_7_r

        r = theorem_3_7_r(self.prior, m).r
        return [r, 1 - r]

    def notes(self, n_agents, n_items):
        """Theorem 3.7's choice at this m: the asymptotic statement, the margin at m, and the
        smallest m from which the chosen r's envy-freeness shows."""
        from abm.theory import theorem_3_7_r

        c = theorem_3_7_r(self.prior, n_items)
        return f"{c.reason}; {c.finite_m}"


@register
class PickEqualQuota(_Preset):
    info = _info("pick-equal-quota", "Pick-(1/n - eps, ..., 1/n + (n-1) eps), EF w.h.p. with a 1/2 welfare ratio",
                 "Theorem 3.10",
                 {"eps": Param("float", "pick-equal-quota: eps; default: the eps maximizing the smallest EF margin")})

    def __init__(self, prior=None, eps=None):
        super().__init__(prior)
        self.eps = eps

    @property
    def params(self) -> dict:
        return {**super().params, "eps": self.eps}

    def _r(self, n, m):
        from abm.theory import theorem_3_10_r

        return theorem_3_10_r(self.prior, n, self.eps).r


@register
class PickUniversal(_Preset):
    info = _info("pick-universal", "prior-independent Pick-r maximizing the worst-case welfare ratio",
                 "Proposition 3.3 (n = 2); Corollary 3.9", needs_prior=False,
                 example=Example(agents=2, items=6))

    def __init__(self):
        super().__init__(None)

    def _r(self, n, m):
        from abm.theory import universal_thresholds

        return universal_thresholds(n, lp_cells=50).r


@register
class PickCorrelated(Mechanism):
    """Appendix B: for two agents with correlated values, the agent with the larger tau_i picks
    first and takes its favourite (1 - tau_i) + eps share of the items; the other gets the rest."""

    info = MechanismInfo(
        name="pick-correlated",
        summary="two agents, correlated values: the larger-tau agent picks a (1 - tau) + eps share first",
        claim=Claim.DSIC,
        ordinal=True,
        reference="Appendix B",
        parameters={"eps": Param("float", "pick-correlated: extra share for the picker", 0.01)},
        needs_prior=True,
        example=Example({"prior": "copula(uniform, rho=0.5)"}, agents=2, items=6),
    )

    def prediction(self, prior, n_agents, n_items):
        return None, "no prediction: appendix B bounds envy, not the welfare ratio"

    def instance_labels(self, bids, owner):
        order = [self.rule.picker, 1 - self.rule.picker]
        return pick_r_labels(bids, owner, quotas([self.rule.share, 1 - self.rule.share], bids.shape[-1]), order)

    def __init__(self, prior=None, eps: float = 0.01):
        from abm.priors import parse_prior
        from abm.theory import appendix_b_thresholds

        if prior is None:
            raise MechanismError("pick-correlated needs the prior; pass prior=...")
        self.prior = parse_prior(prior)
        self.eps = float(eps)
        self.rule = appendix_b_thresholds(self.prior, eps=self.eps)

    @property
    def params(self) -> dict:
        return {"prior": self.prior.spec, "eps": self.eps}

    def check_agents(self, n_agents: int) -> None:
        if n_agents != 2:
            raise MechanismError(f"appendix B's rule is for two agents, got {n_agents}")
        self.prior.check_agents(n_agents)

    def _allocate_ranked(self, ranked):
        picker = self.rule.picker
        order = [picker, 1 - picker]  # the picker goes first
        owner = PickR([self.rule.share, 1 - self.rule.share])._allocate_ranked(ranked.agents(order))
        return np.asarray(order)[owner]

    def best_response(self, values, bids, agent):
        order = [self.rule.picker, 1 - self.rule.picker]
        t_in_order = quotas([self.rule.share, 1 - self.rule.share], bids.shape[-1])
        t = np.empty(2, dtype=np.int64)
        t[order] = t_in_order  # quota of each agent, indexed by agent
        return quota_best_response(values, bids, agent, order, t)

    def restrict(self, keep):
        return self


@register
class PickContiguous(Mechanism):
    """The quantile-contiguous Pick-r for n agents with correlated values: the order of the agents
    and the shares that maximize the smallest EF margin of the limit allocation
    (:func:`abm.theory.quantile_contiguous.contiguous`), computed once per number of agents. At n = 2 it is
    appendix B's kind of rule with the share chosen by search; for n > 2 it is the open question's
    candidate. DSIC: a Pick-r with a fixed order and fixed shares."""

    info = MechanismInfo(
        name="pick-contiguous",
        summary="correlated agents, any n: the Pick-r order and shares maximizing the smallest EF margin",
        claim=Claim.DSIC,
        ordinal=True,
        reference="Appendix B's open question for n > 2 (tfd theory contiguous)",
        parameters={},
        needs_prior=True,
        example=Example({"prior": "checkerboard(uniform, uniform, uniform, k=3)"}, agents=3, items=6),
    )

    def instance_labels(self, bids, owner):
        rule = self.rule(bids.shape[0])
        return pick_r_labels(bids, owner, quotas(rule.shares, bids.shape[-1]), rule.order)

    def __init__(self, prior=None):
        from abm.priors import parse_prior

        if prior is None:
            raise MechanismError("pick-contiguous needs the prior; pass prior=...")
        self.prior = parse_prior(prior)
        self._rules: dict = {}

    @property
    def params(self) -> dict:
        return {"prior": self.prior.spec}

    def check_agents(self, n_agents: int) -> None:
        self.prior.check_agents(n_agents)

    def rule(self, n_agents: int):
        """The best order and shares for ``n_agents`` (cached)."""
        if n_agents not in self._rules:
            from abm.theory.quantile_contiguous import contiguous

            self._rules[n_agents] = contiguous(self.prior, n_agents)
        return self._rules[n_agents]

    def _allocate_ranked(self, ranked):
        rule = self.rule(ranked.shape[-2])
        order = list(rule.order)
        owner = PickR(rule.shares)._allocate_ranked(ranked.agents(order))
        return np.asarray(order)[owner]

    def best_response(self, values, bids, agent):
        rule = self.rule(bids.shape[-2])
        order = list(rule.order)
        t = np.empty(len(order), dtype=np.int64)
        t[order] = quotas(rule.shares, bids.shape[-1])  # quota of each agent, indexed by agent
        return quota_best_response(values, bids, agent, order, t)

    def restrict(self, keep):
        return self
