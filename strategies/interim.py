"""What an agent can compute before it sees the others' reports: expected utilities of
candidate reports against the prior, on common random numbers (section 2's interim view).

Shared by :class:`strategies.informed.InterimBestResponse` and the BIC audit, which imports
it from here, so strategies never import the audit.
"""

from __future__ import annotations

import numpy as np

from abm.metrics import utility_of_reports

__all__ = ["candidate_reports", "interim_utilities"]


def candidate_reports(values: np.ndarray) -> np.ndarray:
    """Deterministic candidate misreports of one value vector ``(m,)``: the truth first, then
    every adjacent rank swap, swaps of the top item with each other, the reversed ranking,
    and scalings of the top items. ``(C, m)``."""
    m = values.size
    order = np.argsort(-values, kind="stable")
    out = [values.copy()]
    for t in range(m - 1):
        b = values.copy()
        b[order[t]], b[order[t + 1]] = values[order[t + 1]], values[order[t]]
        out.append(b)
    for t in range(2, m):
        b = values.copy()
        b[order[0]], b[order[t]] = values[order[t]], values[order[0]]
        out.append(b)
    out.append(values[order][::-1][np.argsort(order)])  # the reversed ranking
    for factor in (0.5, 2.0, 10.0):
        b = values.copy()
        b[order[: max(1, m // 4)]] *= factor
        out.append(b)
    stacked = np.stack(out)
    _, first = np.unique(stacked, axis=0, return_index=True)
    return stacked[np.sort(first)]  # duplicates dropped, the truth still first (argmax keeps it on ties)


def interim_utilities(mechanism, prior, n: int, agent: int, values: np.ndarray, reports: np.ndarray,
                      samples: int, rng) -> np.ndarray:
    """Utilities ``(C, samples)`` of each report against the same ``samples`` draws of the others."""
    others = prior.sample(rng, n, values.size, batch=samples)  # the agent's own row is replaced below
    others[:, agent, :] = values
    u = utility_of_reports(mechanism, np.broadcast_to(values, (samples, values.size)), others, agent,
                           np.broadcast_to(reports, (samples,) + reports.shape))
    return u.T
