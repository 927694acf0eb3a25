"""The welfare ratio the paper predicts for a rule, drawn as a line on the explorer's chart."""

from __future__ import annotations

from dataclasses import dataclass

from abm import mechanisms as M
from abm.errors import TfdError


@dataclass(frozen=True)
class Prediction:
    value: float | None  # None: the paper predicts no number for this rule and prior
    label: str


def is_pick_r(mechanism) -> bool:
    """A Pick-r rule (plain, serial dictatorship or a preset): it has shares r and quotas t."""
    return callable(getattr(mechanism, "quotas", None)) and callable(getattr(mechanism, "r", None))


def pick_shares(mechanism, n_agents: int, n_items: int):
    """Pick-r's share vector r for a Pick-r rule, else None."""
    return mechanism.r(n_agents, n_items) if is_pick_r(mechanism) else None


def welfare_prediction(mechanism, prior, n_agents: int, n_items: int) -> Prediction:
    """alpha of Lemma 3.6 for Pick-r (the limit as m grows) and QT-s (exact for every m);
    1 for welfare maximization (by definition) and Ranking (1 - o(1), Theorem 4.1 for i.i.d.
    priors; the weighted version, Theorem A.1). Computed, not typed in: alpha comes from
    :func:`abm.theory.alpha_pick_r` on the chosen prior."""
    from abm import theory

    if isinstance(mechanism, M.WelfareMax):
        return Prediction(1.0, "1: welfare maximization")
    if isinstance(mechanism, M.Ranking):
        ok = prior.is_iid
        return Prediction(1.0 if ok else None, "1 - o(1): Theorem 4.1" if ok else "no prediction: Theorem 4.1 needs an i.i.d. prior")
    if isinstance(mechanism, M.WeightedRanking):
        return Prediction(1.0, "1 - o(1): Theorem A.1")
    if not prior.is_iid:
        return Prediction(None, "no prediction: Lemma 3.6 needs an i.i.d. prior")
    try:
        if isinstance(mechanism, M.QTS):
            return Prediction(theory.alpha_qt_s(prior, mechanism.s(n_agents)), "alpha of QT-s: Lemma 3.6")
        r = pick_shares(mechanism, n_agents, n_items)
        if r is not None:
            return Prediction(theory.alpha_pick_r(prior, r), "alpha of Pick-r as m grows: Lemma 3.6")
    except TfdError as exc:  # the theory cannot speak to this prior or size: it says why
        return Prediction(None, f"no prediction: {exc}")
    return Prediction(None, f"no prediction for {mechanism.name}")
