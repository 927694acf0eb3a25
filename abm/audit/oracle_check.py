"""An oracle proves itself before it proves anything: a self-test at a small m.

A structural oracle (:meth:`Mechanism.best_response`) is an argument about a rule, written
beside it; :func:`abm.mechanisms.base.oracle_binding` refuses one that a subclass has moved
away from. A change inside the oracle's own class (an edited ``_allocate``, or a helper both
share) cannot be seen that way. So before an audit lets an oracle prove pairs, it checks the
oracle where checking is complete enough to be cheap: the same rule restricted to
:data:`ITEMS` items, on a few profiles drawn from the prior (half of them rounded to quarter
levels, for ties and zeros), against every strict ranking and every report over four levels
{0, top/2, top, 3 top}. An oracle whose optimum any of those reports beats, or whose own
report does not earn its optimum, proves nothing in this audit.
"""

from __future__ import annotations

import itertools

import numpy as np

from abm.errors import TfdError
from abm.metrics import GAIN_TOL, gain_scale, utility_of_reports

__all__ = ["ITEMS", "report_grid", "self_test"]

#: items of the small instance: 5! rankings and 4^5 level reports, 1,144 reports per pair
ITEMS = 5


def report_grid(m: int, top: np.ndarray) -> np.ndarray:
    """Every strict ranking (bids m - position) and every report over the levels
    {0, top/2, top, 3 top}: ``top (P,)`` -> ``(P, m! + 4^m, m)``. The ranking reports reach
    every outcome of an ordinal rule; the level reports every outcome of a rule that compares
    bids or bundle sums with each other or with thresholds at those levels."""
    rankings = m - np.array(list(itertools.permutations(range(m))), dtype=float)
    levels = np.array([0.0, 0.5, 1.0, 3.0])[np.array(list(itertools.product(range(4), repeat=m)))]
    top = np.asarray(top, dtype=float)[:, None, None]
    return np.concatenate([np.broadcast_to(rankings, (top.shape[0],) + rankings.shape), levels[None] * top], axis=1)


def _profiles(prior, n: int, m: int, rng, count: int) -> np.ndarray:
    values = prior.sample(rng, n, m, batch=count)
    top = np.maximum(values.max(axis=(-2, -1), keepdims=True), np.finfo(float).tiny)
    half = count // 2
    values[half:] = np.round(values[half:] / top[half:] * 4) / 4 * top[half:]  # ties and zeros
    return values


def self_test(mechanism, prior, n_agents: int, n_items: int, rng, profiles: int = 12,
              tol: float = GAIN_TOL) -> tuple[bool, str]:
    """(passed, what was done) for ``mechanism``'s oracle on the rule restricted to :data:`ITEMS`
    items (or the audit's own m, if smaller). A rule that cannot be restricted, or cannot run
    that small, is not tested, and says so; the audit then relies on the class binding alone."""
    m = min(ITEMS, n_items)
    small = mechanism if m == n_items else mechanism.small_instance(m)
    if small is None:
        return True, "oracle not self-tested: the rule has no small instance"
    if type(small) is not type(mechanism):
        return True, f"oracle not self-tested: the restricted rule is a {type(small).__name__}"
    try:
        values = _profiles(prior, n_agents, m, rng, profiles)
        for i in range(n_agents):
            br = small.best_response(values[:, i, :], values, i)
            if br is None:
                continue
            v_i = values[:, i, :]
            scale = gain_scale(v_i)
            earned = utility_of_reports(small, v_i, values, i, np.asarray(br.reports, dtype=float)[:, None, :])[:, 0]
            family = report_grid(m, values.max(axis=(-2, -1)))
            best = utility_of_reports(small, v_i, values, i, family).max(axis=-1)
            missed = br.proven & ~(np.abs(earned - br.value) <= tol * scale)
            beaten = br.proven & (best > br.value + tol * scale)
            for bad, what in ((missed, "its own report earns {e:.6g} through allocate, not its optimum {o:.6g}"),
                              (beaten, "a report earns {b:.6g}, above its optimum {o:.6g}")):
                if bad.any():
                    k = int(np.argmax(bad))
                    return False, ("oracle failed its self-test at m = " + str(m) + f" (agent {i}, profile {k}): "
                                   + what.format(e=earned[k], o=br.value[k], b=best[k])
                                   + "; it proves nothing in this audit")
    except TfdError as exc:
        return True, f"oracle not self-tested: the rule does not run on {m} items ({str(exc).splitlines()[0]})"
    return True, f"oracle self-tested at m = {m} on {profiles} profiles"
