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

import json
import time
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from abm import __version__

__all__ = ["Claim", "Context", "MODES"]

MODES = ("quick", "default", "full")


@dataclass
class Claim:
    claim: str
    predicted: float | None
    measured: float
    ci_low: float
    ci_high: float
    verdict: str
    rule: str
    note: str = ""


def _f(x):
    return None if x is None else float(x)


class Context:
    """Passed to each scenario's ``run(ctx)``; collects claims and writes the outputs."""

    def __init__(self, name: str, title: str, out, mode: str = "default", seed: int = 0, progress=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
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
    def _add(self, claim, predicted, measured, lo, hi, verdict, rule, note):
        self.claims.append(Claim(claim, _f(predicted), _f(measured), _f(lo), _f(hi), verdict, rule, note))
        return verdict

    def at_least(self, claim, measured, ci_low, ci_high, threshold, note=""):
        verdict = "reproduced" if ci_low >= threshold else ("not reproduced" if ci_high < threshold else "inconclusive")
        return self._add(claim, threshold, measured, ci_low, ci_high, verdict, f">= {threshold:.6g}", note)

    def at_most(self, claim, measured, ci_low, ci_high, threshold, note=""):
        verdict = "reproduced" if ci_high <= threshold else ("not reproduced" if ci_low > threshold else "inconclusive")
        return self._add(claim, threshold, measured, ci_low, ci_high, verdict, f"<= {threshold:.6g}", note)

    def matches(self, claim, measured, ci_low, ci_high, predicted, tolerance=0.0, note=""):
        ok = ci_low - tolerance <= predicted <= ci_high + tolerance
        rule = f"= {predicted:.6g} (+/- {tolerance:.3g} allowance)"
        return self._add(claim, predicted, measured, ci_low, ci_high, "reproduced" if ok else "not reproduced", rule,
                         note)

    def asymptotic(self, claim, measured, ci_low, ci_high, threshold, reached: bool, note=""):
        """``at_least`` for an m -> infinity claim; if the theory says the regime is not reached
        at this m (``reached`` False) a failure is reported as inconclusive, with the reason."""
        verdict = "reproduced" if ci_low >= threshold else ("not reproduced" if ci_high < threshold else "inconclusive")
        if verdict == "not reproduced" and not reached:
            verdict = "inconclusive"
            note = (note + "; " if note else "") + "the asymptotic regime is not reached at this m (see margin)"
        return self._add(claim, threshold, measured, ci_low, ci_high, verdict, f">= {threshold:.6g} as m grows", note)

    # -- outputs ----------------------------------------------------------------------
    def save(self, name: str, frame) -> None:
        """Tidy data as Parquet and CSV."""
        frame = frame.copy()
        frame["scenario"] = self.name
        frame["seed"] = self.seed
        frame["mode"] = self.mode
        frame.to_parquet(self.out / f"{name}.parquet", index=False)
        frame.to_csv(self.out / f"{name}.csv", index=False)
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
        fig.savefig(self.out / f"{name}.png", dpi=110)
        plt.close(fig)
        self.figures.append(f"{name}.png")

    def finish(self) -> dict:
        summary = {"scenario": self.name, "title": self.title, "mode": self.mode, "seed": self.seed,
                   "version": __version__, "seconds": round(time.perf_counter() - self._started, 2),
                   "claims": [asdict(c) for c in self.claims], "figures": self.figures, "tables": self.tables}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2))
        return summary
