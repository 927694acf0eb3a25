"""The welfare ratio the paper predicts for a rule, drawn as a line on the explorer's chart.

The rule answers for itself (:meth:`abm.mechanisms.Mechanism.prediction`): Lemma 3.6's alpha for
Pick-r and QT-s, computed by :mod:`abm.theory` on the chosen prior; 1 for welfare maximization,
Ranking (Theorem 4.1, i.i.d. priors) and weighted ranking (Theorem A.1); no number otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prediction:
    value: float | None  # None: the paper predicts no number for this rule and prior
    label: str


def welfare_prediction(mechanism, prior, n_agents: int, n_items: int) -> Prediction:
    """What ``mechanism`` says the paper predicts on ``prior`` at this size, as a :class:`Prediction`."""
    value, label = mechanism.prediction(prior, n_agents, n_items)
    return Prediction(None if value is None else float(value), label)
