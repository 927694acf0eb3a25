"""What a scenario script needs: sizes by mode, seeds, claims with verdicts, data, figures.

A claim's verdict comes from its confidence interval, never from the point estimate alone:

* ``at_least(threshold)``: reproduced if ci_low >= threshold, not reproduced if
  ci_high < threshold, inconclusive when the interval straddles it;
* ``at_most(threshold)``: the mirror image;
* ``matches(predicted, tolerance)``: reproduced if the prediction lies in the interval
  widened by ``tolerance`` (the stated o(1) allowance), not reproduced otherwise.

Asymptotic claims ("EF with high probability") whose finite-m regime has not yet been
reached by the theory's own margin are marked inconclusive with the reason, not failed.
"""

from __future__ import annotations

import math
import time
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from abm import files
from abm import __version__
from abm.errors import TfdError

__all__ = ["Claim", "Context", "MODES", "RATE", "NONNEGATIVE", "REAL"]

MODES = ("quick", "default", "full")


@dataclass
class Claim:
    """One checked claim. ``paper_value`` is the number the paper states or implies (None when it
    states none); ``threshold`` is the allowance the verdict uses, with ``threshold_reason``;
    ``domain_low``/``domain_high`` bound the measured quantity, so a reader (and a test) can see
    that some value in that range would break the rule: no check that cannot fail."""

    claim: str
    paper_value: float | None
    threshold: float | None
    threshold_reason: str
    measured: float
    ci_low: float
    ci_high: float
    verdict: str
    rule: str
    kind: str  # at_least, at_most, matches, asymptotic, bic
    domain_low: float | None
    domain_high: float | None
    tolerance: float = 0.0
    note: str = ""

    def violable(self) -> bool:
        """Whether some value of the measured quantity's domain breaks the rule."""
        lo = -math.inf if self.domain_low is None else self.domain_low
        hi = math.inf if self.domain_high is None else self.domain_high
        t = self.threshold
        if self.kind in ("at_least", "asymptotic"):
            return lo < t
        if self.kind in ("at_most", "bic"):
            return hi > t
        return lo < t - self.tolerance or hi > t + self.tolerance  # matches


def _f(x):
    return None if x is None else float(x)


#: Domains of the usual measured quantities.
RATE = (0.0, 1.0)
NONNEGATIVE = (0.0, None)
REAL = (None, None)


class Context:
    """Passed to each scenario's ``run(ctx)``; collects claims and writes the outputs."""

    def __init__(self, name: str, title: str, out, mode: str = "default", seed: int = 0, progress=None):
        if mode not in MODES:
            raise TfdError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.name, self.title, self.mode, self.seed = name, title, mode, int(seed)
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.claims: list[Claim] = []
        self.figures: list[str] = []
        self.tables: list[str] = []
        self._progress = progress
        self._started = time.perf_counter()

    # -- sizes and seeds --------------------------------------------------------------
    def pick(self, quick, default, full):
        """The value for the current mode."""
        return {"quick": quick, "default": default, "full": full}[self.mode]

    def seed_for(self, label: str) -> int:
        """A seed for one labelled sub-experiment: the same whatever else the scenario runs."""
        key = (zlib.crc32(self.name.encode()), zlib.crc32(label.encode()))
        return int(np.random.SeedSequence(self.seed, spawn_key=key).generate_state(1)[0])

    def step(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress(n)

    # -- claims -----------------------------------------------------------------------
    def _add(self, claim, kind, threshold, measured, lo, hi, verdict, rule, note, paper, reason, domain, tolerance=0.0):
        if domain[0] is not None and domain[1] is not None and not domain[0] <= domain[1]:
            raise ValueError(f"bad domain {domain} for claim {claim!r}")
        self.claims.append(Claim(claim, _f(paper), _f(threshold), reason, _f(measured), _f(lo), _f(hi), verdict, rule,
                                 kind, _f(domain[0]), _f(domain[1]), float(tolerance), note))
        return verdict

    def at_least(self, claim, measured, ci_low, ci_high, threshold, note="", paper=None, reason="",
                 domain=RATE):
        """Reproduced if the interval lies at or above ``threshold``. ``paper``: the paper's own
        number, where it states one; ``reason``: why the threshold is what it is."""
        verdict = "reproduced" if ci_low >= threshold else ("not reproduced" if ci_high < threshold else "inconclusive")
        return self._add(claim, "at_least", threshold, measured, ci_low, ci_high, verdict, f">= {threshold:.6g}", note,
                         paper, reason, domain)

    def at_most(self, claim, measured, ci_low, ci_high, threshold, note="", paper=None, reason="",
                domain=NONNEGATIVE):
        verdict = "reproduced" if ci_high <= threshold else ("not reproduced" if ci_low > threshold else "inconclusive")
        return self._add(claim, "at_most", threshold, measured, ci_low, ci_high, verdict, f"<= {threshold:.6g}", note,
                         paper, reason, domain)

    def matches(self, claim, measured, ci_low, ci_high, predicted, tolerance=0.0, note="", paper=None, reason="",
                domain=RATE):
        """Reproduced if ``predicted`` lies in the interval widened by ``tolerance``. ``paper``
        defaults to ``predicted``: a prediction here is the paper's number or computed from it."""
        ok = ci_low - tolerance <= predicted <= ci_high + tolerance
        rule = f"= {predicted:.6g} (+/- {tolerance:.3g} allowance)"
        return self._add(claim, "matches", predicted, measured, ci_low, ci_high, "reproduced" if ok else "not reproduced",
                         rule, note, predicted if paper is None else paper, reason, domain, tolerance)

    def asymptotic(self, claim, measured, ci_low, ci_high, threshold, reached: bool, note="", paper=None, reason="",
                   domain=RATE):
        """``at_least`` for an m -> infinity claim; if the theory says the regime is not reached
        at this m (``reached`` False) a failure is reported as inconclusive, with the reason."""
        verdict = "reproduced" if ci_low >= threshold else ("not reproduced" if ci_high < threshold else "inconclusive")
        if verdict == "not reproduced" and not reached:
            verdict = "inconclusive"
            note = (note + "; " if note else "") + "the asymptotic regime is not reached at this m (see margin)"
        return self._add(claim, "asymptotic", threshold, measured, ci_low, ci_high, verdict,
                         f">= {threshold:.6g} as m grows", note, paper, reason, domain)

    def bic(self, claim, audit, threshold, reason, note=""):
        """A "no interim gain" claim from a BIC audit, earned by every deviation: reproduced only
        when each deviation's Bonferroni-corrected upper bound lies below ``threshold`` and p_t
        shows no significant increase; not reproduced when the headline (the per-type best
        response, selected on one set of draws and evaluated on fresh ones) is significantly
        above it; inconclusive otherwise, with the count of deviations above the threshold."""
        from abm.audit.bic import above

        s, frame = audit.summary, audit.frame
        h = s["headline"]
        n_above = above(frame, threshold)
        increase = s.get("p_t_increase") or {}
        if n_above == 0 and not increase.get("significant"):
            verdict = "reproduced"
        elif h["ci_low"] > threshold or increase.get("significant"):
            verdict = "not reproduced"
        else:
            verdict = "inconclusive"
        detail = (f"headline: agent {h['agent']}'s per-type best response; {n_above} of {len(frame)} deviations' "
                  f"corrected upper bounds reach the threshold (largest {s['max_upper_corrected']:.3g})")
        if s.get("left_out"):
            detail += f"; left out: {', '.join(s['left_out'])} ({s['left_out_note']})"
        if increase:
            detail += f"; largest p_t increase z = {increase['z']:.2f} (corrected p = {increase['p_value_corrected']:.3g})"
        note = (note + "; " if note else "") + detail
        return self._add(claim, "bic", threshold, h["mean_gain"], h["ci_low"], h["upper_corrected"], verdict,
                         f"every deviation's corrected upper bound < {threshold:.6g}", note, 0.0, reason, REAL)

    # -- outputs ----------------------------------------------------------------------
    def save(self, name: str, frame) -> None:
        """Tidy data as Parquet and CSV."""
        frame = frame.copy()
        frame["scenario"] = self.name
        frame["seed"] = self.seed
        frame["mode"] = self.mode
        files.write_frame(frame, self.out / f"{name}.parquet")
        files.write_frame(frame, self.out / f"{name}.csv")
        self.tables.append(f"{name}.parquet")

    @contextmanager
    def figure(self, name: str, title: str, xlabel: str, ylabel: str, size=(6.4, 4.2), legend_outside=False):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=size)
        yield ax
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            if legend_outside:  # many series: keep the data clear
                fig.set_size_inches(size[0] + 2.6, size[1])
                ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left", borderaxespad=0)
            else:
                ax.legend(fontsize=8)
        fig.tight_layout()
        files.save_figure(fig, self.out / f"{name}.png", dpi=110)
        plt.close(fig)
        self.figures.append(f"{name}.png")

    def finish(self) -> dict:
        summary = {"scenario": self.name, "title": self.title, "mode": self.mode, "seed": self.seed,
                   "version": __version__, "seconds": round(time.perf_counter() - self._started, 2),
                   "claims": [asdict(c) for c in self.claims], "figures": self.figures, "tables": self.tables}
        files.write_json(self.out / "summary.json", summary)
        return summary
