"""Guards for authors: checks that a rule is what it says, run before an audit.

No proof rests on these samples. A rule declared ordinal is ordinal by construction (the base
class's ``allocate`` hands it rankings only, :class:`abm.mechanisms.Rankings`), so enumerating
rankings is a proof whatever this module finds. What a sample can show is that the *author's*
rule reads magnitudes: run on raw reports it allocates differently from the rule the testbed
runs, on those reports' canonical rankings. Then the rule the author wrote is not the rule that
runs, and the audit refuses it in one line ("declared ordinal but reads magnitudes: ...")
rather than certify something nobody wrote.

The sample holds, for each agent (the others truthful): the truth, a report with ties, one with
most items at zero, strictly increasing transforms of each (a power and shift, a nearly flat
one, an extremely spread one), and the extremes a rare-case rule hides behind: one bid 10^3,
10^6 and 10^12 times the top, tiny positive bids, zeros on all but one item.

:func:`check_batching` refuses a rule whose allocation of a profile depends on the other
profiles of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.errors import MechanismError
from abm.mechanisms.base import allocation, check_owner, reads_rankings
from abm.mechanisms.rankings import Rankings

__all__ = ["PropertyCheck", "canonical_ranking", "check_batching", "check_ordinal", "rule_name"]


@dataclass(frozen=True)
class PropertyCheck:
    declared: bool
    holds: bool
    reports_checked: int
    detail: str

    def describe(self) -> str:
        if not self.declared:
            return "not declared"
        if self.holds:
            return (f"declared; by construction (the rule sees rankings only); the author's rule matched its "
                    f"rankings on {self.reports_checked} sampled reports")
        return f"declared but the rule reads magnitudes: {self.detail}"


def rule_name(mechanism) -> str:
    cls = type(mechanism)
    name = getattr(getattr(mechanism, "info", None), "name", "") or cls.__name__
    return f"{name} ({cls.__module__}:{cls.__qualname__})"


def canonical_ranking(reports: np.ndarray) -> np.ndarray:
    """The strict ranking a report induces, as bids m - position: ``(..., m) -> (..., m)``."""
    return Rankings(np.asarray(reports, dtype=float)).bids()


def _test_reports(v: np.ndarray, rng) -> list[tuple[str, np.ndarray]]:
    """Reports with ties, zeros and extremes built from true values ``v (P, m)``."""
    P, m = v.shape
    top = np.maximum(v.max(axis=-1, keepdims=True), np.finfo(float).tiny)
    coarse = np.floor(v / top * 2.999) / 2 * top  # three levels {0, 0.5, 1} x top: ties and zeros
    sparse = np.where(rng.random(v.shape) < 0.6, 0.0, v)  # most items at zero
    j = rng.integers(0, m, P)
    out = [("the truth", v), ("a report with ties", coarse), ("a report with many zeros", sparse)]
    for factor in (1e3, 1e6, 1e12):
        raised = v.copy()
        raised[np.arange(P), j] = factor * top[:, 0]
        out.append((f"the truth with one bid {factor:.0e} times the top", raised))
    out.append(("tiny positive bids", v * 1e-300 + 5e-324))
    only = np.zeros_like(v)
    only[np.arange(P), j] = top[:, 0]
    out.append(("zeros on all but one item", only))
    return out


def _raw_rule(mechanism):
    """The author's rule on raw reports: what it would do if it were handed the bids."""
    if reads_rankings(mechanism):
        return lambda b: check_owner(mechanism, mechanism._allocate_ranked(Rankings(b)), b.shape)
    return lambda b: check_owner(mechanism, mechanism._allocate(b), b.shape)


def check_ordinal(mechanism, bids: np.ndarray, rng, profiles: int = 12, max_values: int = 200_000) -> PropertyCheck:
    """Compare the author's rule on raw reports with the rule on their canonical rankings, on up
    to ``profiles`` of ``bids (K, n, m)`` for every agent (fewer when a profile is large: at most
    ``max_values`` values per allocation, at least 2 profiles)."""
    if not mechanism.info.ordinal:
        return PropertyCheck(False, False, 0, "")
    K, n, m = bids.shape
    profiles = max(2, min(profiles, max_values // (n * m)))
    b = np.asarray(bids[:profiles], dtype=float)
    P = b.shape[0]
    raw = _raw_rule(mechanism)
    checked = 0
    for i in range(n):
        for label, report in _test_reports(b[:, i, :], rng):
            power = rng.uniform(0.5, 2.0, (P, 1))
            top = np.maximum(report.max(axis=-1, keepdims=True), np.finfo(float).tiny)
            shift = rng.uniform(0.0, 1.0, (P, 1)) * np.maximum(top, 1.0)
            variants = [("", report), (", strictly increasingly transformed", 3.0 * report ** power + shift),
                        (", made nearly flat", report + 1e3 * top),
                        (", spread out", top * np.expm1(30.0 * report / top) / np.expm1(30.0))]
            for name, other in variants:
                alt = b.copy()
                alt[:, i, :] = other
                alt = np.where(np.isfinite(alt), alt, np.finfo(float).max)
                differs = (raw(alt) != allocation(mechanism, alt)).any(axis=-1)
                checked += P
                if differs.any():
                    k = int(np.argmax(differs))
                    return PropertyCheck(True, False, checked,
                                         f"{rule_name(mechanism)} declared ordinal but reads magnitudes: on agent "
                                         f"{i}'s {label}{name} (profile {k}) its rule allocates otherwise than on "
                                         "that report's ranking, which is all an ordinal rule is shown; declare "
                                         "it ordinal=False, or make it read rankings only")
    return PropertyCheck(True, True, checked, "")


def check_batching(mechanism, bids, profiles: int = 3) -> None:
    """Refuse a rule whose allocation of a profile depends on the other profiles of its batch.

    The first ``profiles`` of ``bids (B, n, m)`` and copies of them coarsened to three levels
    (ties and zeros) are allocated together and one at a time; every row must come out the same.
    The batch axis is how the testbed runs many instances at once, not part of any mechanism: a
    rule that reads across it (a shortcut taken for the whole batch, say, when no row has ties)
    is no mechanism, and nothing audited on it holds."""
    bids = np.asarray(bids, dtype=float)[:profiles]
    top = np.maximum(bids.max(axis=(-2, -1), keepdims=True), np.finfo(float).tiny)
    mixed = np.concatenate([bids, np.round(bids / top * 2) / 2 * top])
    together = allocation(mechanism, mixed)
    for k in range(mixed.shape[0]):
        alone = allocation(mechanism, mixed[k])
        if not np.array_equal(alone, together[k]):
            j = int(np.argmax(alone != together[k]))
            raise MechanismError(f"{rule_name(mechanism)} allocates item {j} of a profile to agent {int(alone[j])} "
                                 f"alone but to agent {int(together[k][j])} in a batch: a rule must allocate each "
                                 "profile from that profile's bids only")
