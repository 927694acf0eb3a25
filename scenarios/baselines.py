"""Baselines: round robin and welfare maximization are manipulable; the DSIC mechanisms are not.

The DSIC audit with exact search (m = 6) finds profitable lies under round robin (with a
witness that replays) and welfare maximization, and none under Pick-r, serial
dictatorship, picking, exchange and random picking-exchange compositions.
"""

import numpy as np

from abm import mechanisms
from abm.audit import dsic_audit, replay
from scenarios._common import CONFIDENCE, rows

NAME = "baselines"
ORDER = 10
TITLE = "Baselines: round robin and welfare maximization are manipulable, DSIC mechanisms are not"
DESCRIPTION = __doc__.strip().splitlines()[0]
STEPS = 8


def run(ctx):
    m, K = 6, ctx.pick(40, 200, 1000)
    rng = np.random.default_rng(ctx.seed_for("composition"))
    cases = {
        "round-robin": mechanisms.get("round-robin"),
        "welfare-max": mechanisms.get("welfare-max"),
        "pick-r (r = 0.29)": mechanisms.get("pick-r", r=[0.29]),
        "serial dictatorship": mechanisms.get("serial-dictatorship"),
        "picking (sizes 2, 4)": mechanisms.get("picking", picker=1, sizes=[2, 4]),
        "exchange (S = 0, 1, 2)": mechanisms.get("exchange", endowment=[0, 1, 2]),
        "random composition": mechanisms.random_composition(m, rng, max_components=3),
    }
    records = []
    for label, mech in cases.items():
        a = dsic_audit(mech, "uniform", 2, m, profiles=K, seed=ctx.seed_for(label), confidence=CONFIDENCE)
        s = a.summary
        records.append({"mechanism": label, "claim": s["claim"], "max_gain": s["max_gain"], "mean_gain": s["mean_gain"],
                        "violation_rate": s["violation_rate"], "violation_rate_upper": s["violation_rate_upper"],
                        "exact": s["exact"]})
        if s["claim"] == "DSIC":
            ctx.matches(f"{label}: no profitable lie (max gain, exact search over {K} profiles)", s["max_gain"],
                        s["max_gain"], s["max_gain"], 0.0, tolerance=1e-9, reason="floating point",
                        domain=(0.0, None),
                        note=f"violation rate <= {s['violation_rate_upper']:.3g} ({100 * CONFIDENCE:g}%)")
        else:
            confirmed = a.shrunk is not None and replay(a.shrunk)["confirmed"]
            if a.shrunk is not None:
                (ctx.out / f"witness-{mech.name}.json").write_text(a.shrunk.to_json())
            ctx.at_least(f"{label}: lies pay (max gain; shrunk witness replays: {confirmed})", s["max_gain"],
                         s["max_gain"], s["max_gain"] if confirmed else 0.0, 1e-9, domain=(0.0, None),
                         reason="any gain above floating point",
                         note=f"violation rate {s['violation_rate']:.3f}, mean relative gain "
                              f"{s['mean_relative_gain']:.1%}")
        ctx.step()
    frame = rows(records)
    ctx.save("audits", frame)
    with ctx.figure("audits", f"DSIC audit, 2 agents, {m} items, uniform values", "mechanism",
                    "share of (profile, agent) pairs where a lie pays", size=(8, 4.2)) as ax:
        x = np.arange(len(frame))
        ax.bar(x, frame["violation_rate"], label="measured")
        ax.errorbar(x, frame["violation_rate"], yerr=[np.zeros(len(frame)),
                    frame["violation_rate_upper"] - frame["violation_rate"]], fmt="none", color="k",
                    label=f"{100 * CONFIDENCE:g}% upper bound")
        ax.set_xticks(x, frame["mechanism"], rotation=25, ha="right", fontsize=8)
    ctx.step()
