"""Theorem 3.7: for every prior some Pick-r is envy-free w.h.p. with (2+sqrt2)/4 welfare.

The theory module selects r per prior (Pick-(2-sqrt2)/2 when its EF condition holds,
else Pick-(1/2 - m^-1/4)); the EF rate must rise to 1 with m and the ratio stay above
(2+sqrt2)/4 - o(1). Where the theory's own margin says m is still too small for the
envy gap to show, a low EF rate is inconclusive, not a failure.
"""

import numpy as np

from abm.theory import ef_margins, theorem_3_7_r
from scenarios._common import O1_ALLOWANCE, PANEL, TARGET, ef_regime_reached, rows, sim

NAME = "theorem-3-7"
ORDER = 3
TITLE = "Theorem 3.7: a prior-dependent Pick-r is EF w.h.p. with (2+sqrt2)/4 welfare"
DESCRIPTION = __doc__.strip().splitlines()[0]
STEPS = len(PANEL)


def run(ctx):
    ms = ctx.pick([100, 2000], [100, 1000, 10000], [100, 1000, 10000, 100000])
    instances = ctx.pick(60, 200, 400)
    records = []
    for label, prior in PANEL.items():
        for m in ms:
            choice = theorem_3_7_r(prior, m)
            margin = float(np.nanmin(ef_margins(prior, [choice.r])))
            s = sim(ctx, f"{label}-{m}", "pick-theorem-3-7", prior, 2, m, instances)
            records.append({"prior": label, "m": m, "r": choice.r, "case": choice.case, "margin": margin,
                            "ef_rate": s["ef_rate"], "ef_low": s["ef_rate_ci"][0], "ef_high": s["ef_rate_ci"][1],
                            "ratio": s["welfare_ratio"], "ratio_low": s["welfare_ratio_ci"][0],
                            "ratio_high": s["welfare_ratio_ci"][1]})
        last = records[-1]
        ctx.asymptotic(f"{label}: Pick-{last['r']:.3f} ({last['case']}) is EF w.h.p. (rate at m = {ms[-1]})",
                       last["ef_rate"], last["ef_low"], last["ef_high"], 0.9,
                       reached=ef_regime_reached(last["margin"], ms[-1], prior),
                       note=f"EF margin per item {last['margin']:+.4f}", paper=1.0,
                       reason="'with high probability': at least 90% at this m")
        ctx.at_least(f"{label}: ratio at m = {ms[-1]} at least (2+sqrt2)/4 - o(1)", last["ratio"], last["ratio_low"],
                     last["ratio_high"], TARGET - O1_ALLOWANCE, paper=TARGET, reason=f"o(1) allowance {O1_ALLOWANCE} at finite m")
        ctx.step()
    frame = rows(records)
    ctx.save("theorem_3_7", frame)
    with ctx.figure("ef_rate", "Theorem 3.7's Pick-r: envy-free rate", "items m (log scale)",
                    "P(allocation is envy-free)", legend_outside=True) as ax:
        for label, g in frame.groupby("prior", sort=False):
            ax.errorbar(g["m"], g["ef_rate"], yerr=[g["ef_rate"] - g["ef_low"], g["ef_high"] - g["ef_rate"]],
                        fmt="o-", ms=3, label=label)
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
