"""Run-time checks of the structural properties a mechanism declares.

A proof may rely on a property only after the audited object has shown it. The one
property proofs use today is ``"ordinal"``: the outcome depends on each agent's report
only through its ranking (decreasing bid, lowest item index first among equal bids).
Then the m! strict rankings reach every outcome any report can, and enumerating them
at small m is a proof.

The check replaces one agent's report (the others truthful) by its canonical strict
ranking (bid m - position) and by strictly increasing transforms of it -- a random power
and shift, a nearly flat one (a large constant added: every bid within 0.1% of the
others), and an extremely spread one (exponential: the largest bid e^30 times the
smallest positive one) -- on reports with ties, with zeros and on the truth, and requires
the same allocation every time. A rule that reads the shape of the bids (how flat, how
spread) while keeping their order is caught at every m, not only where enumeration runs.
A sampled check can miss a flaw that few reports trigger; it cannot certify a flaw
away, and a mechanism that fails it gets no proof from the property.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abm.mechanisms.base import allocation
from abm.mechanisms.ranking import ranks

__all__ = ["PropertyCheck", "canonical_ranking", "check_ordinal"]


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
            return f"declared; held on {self.reports_checked} sampled reports"
        return f"declared but FAILED: {self.detail}"


def canonical_ranking(reports: np.ndarray) -> np.ndarray:
    """The strict ranking a report induces, as bids m - position: ``(..., m) -> (..., m)``."""
    return reports.shape[-1] - ranks(reports).astype(float)


def _test_reports(v: np.ndarray, rng) -> list[tuple[str, np.ndarray]]:
    """Reports with ties and zeros built from true values ``v (P, m)``."""
    top = np.maximum(v.max(axis=-1, keepdims=True), np.finfo(float).tiny)
    coarse = np.floor(v / top * 2.999) / 2  # three levels {0, 0.5, 1} x top: ties and zeros
    sparse = np.where(rng.random(v.shape) < 0.6, 0.0, v)  # most items at zero
    return [("the truth", v), ("a report with ties", coarse * top), ("a report with many zeros", sparse)]


def check_ordinal(mechanism, bids: np.ndarray, rng, profiles: int = 12, max_values: int = 200_000) -> PropertyCheck:
    """Check ``"ordinal"`` on up to ``profiles`` of ``bids (K, n, m)`` for every agent (fewer
    when a profile is large: at most ``max_values`` values per allocation, at least 2 profiles)."""
    if "ordinal" not in mechanism.properties:
        return PropertyCheck(False, False, 0, "")
    K, n, m = bids.shape
    profiles = max(2, min(profiles, max_values // (n * m)))
    b = np.asarray(bids[:profiles], dtype=float)
    P, n, m = b.shape
    checked = 0
    for i in range(n):
        for label, report in _test_reports(b[:, i, :], rng):
            power = rng.uniform(0.5, 2.0, (P, 1))
            top = np.maximum(report.max(axis=-1, keepdims=True), np.finfo(float).tiny)
            shift = rng.uniform(0.0, 1.0, (P, 1)) * np.maximum(top, 1.0)
            variants = [("its strict ranking", canonical_ranking(report)),
                        ("a strictly increasing transform of it", 3.0 * report ** power + shift),
                        ("a nearly flat transform of it", report + 1e3 * top),
                        ("an extremely spread transform of it", top * np.expm1(30.0 * report / top) / np.expm1(30.0))]
            base = b.copy()
            base[:, i, :] = report
            reference = allocation(mechanism, base)
            for name, other in variants:
                alt = b.copy()
                alt[:, i, :] = other
                differs = (allocation(mechanism, alt) != reference).any(axis=-1)
                checked += P
                if differs.any():
                    k = int(np.argmax(differs))
                    return PropertyCheck(True, False, checked,
                                         f"{mechanism.name} declares 'ordinal', but agent {i}'s {label} and "
                                         f"{name} allocate differently (profile {k}); no proof relies on it")
    return PropertyCheck(True, True, checked, "")
