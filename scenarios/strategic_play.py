"""Strategic play: what learning agents take from each mechanism, round after round.

Agents face a mechanism again and again with fresh values each round (the paper's
stochastic model) and learn from what each round brings (:mod:`strategies.learning`).
DSIC rules (Section 3) leave nothing to learn: no learner's time-average gain over truthful
play may rise above 0. Round robin and welfare maximization are manipulable ex post, and a
learner over a continuous misreport family should find most of the exact best response's
gain. Ranking is BIC (Theorem 4.1; Theorem A.1 for weighted Ranking), so a learner that
reports before seeing the others' reports gains nothing significant. Last, the price of
strategic play: welfare and envy-freeness at learned play beside truthful play and beside
the Pick-r that is optimal for the prior (Proposition 3.8).
"""

import numpy as np
import pandas as pd

import strategies
from abm import mechanisms
from abm.learning import learn
from abm.metrics import bootstrap_mean_interval, evaluate, mean_interval, rate, utilities, welfare_ratio
from abm.priors import parse_prior
from abm.scenario import RATE, REAL
from abm.theory import optimal_pick_r
from scenarios._common import CONFIDENCE

NAME = "strategic-play"
ORDER = 11
TITLE = "Strategic play: learning agents against DSIC, BIC and manipulable mechanisms"
DESCRIPTION = __doc__.strip().splitlines()[0]
STEPS = 4
N, M = 2, 10
PRIOR = "uniform"
NON_IDENTICAL = "uniform; uniform(scale=2)"
#: every kind of learner: full information, bandit feedback, two continuous families
DSIC_LEARNERS = ("hedge", "exp3", "shading-curve", "deadline-schedule")
#: learners that report before seeing the others' reports, the setting of a BIC claim
INTERIM_LEARNERS = ("hedge", "exp3")
#: share of the exact best response's gain the continuous learner must reach (a learner over a continuous family that cannot reach 80% of what a lie is worth has not learned the lie)
ORACLE_SHARE = 0.8


def _gain_bound(frame, agent, confidence, seed, bootstrap):
    gains = frame[frame.agent == agent]["gain"].to_numpy()
    return (bootstrap_mean_interval(gains, confidence, seed=seed) if bootstrap else mean_interval(gains, confidence))


def seat_where_lies_matter(mech, rng, profiles: int = 200):
    """The first seat whose own bundle some report changes, on ``profiles`` profiles drawn from the
    prior against random reports and the audit's probe reports; returns (seat, share of profiles
    where that seat's bundle moves), or (None, 0.0) when no seat's report moves its bundle. A
    learner placed where nothing it reports matters gains nothing whatever the rule's incentives,
    and a claim about it would be vacuous."""
    from abm.audit.search import high_bid, probe_reports

    values = parse_prior(PRIOR).sample(rng, N, M, batch=profiles)
    truthful = mech.allocate(values)
    for seat in range(N):
        others = np.delete(values, seat, axis=1)
        reports = np.concatenate([rng.random((profiles, 8, M)) * 2.0,
                                  probe_reports(values[:, seat, :], others, high_bid(mech, values))], axis=1)
        bids = np.repeat(values[:, None], reports.shape[1], axis=1)
        bids[:, :, seat, :] = reports
        moved = ((mech.allocate(bids) == seat) != (truthful[:, None] == seat)).any(axis=-1).any(axis=-1)
        if moved.any():
            return seat, float(moved.mean())
    return None, 0.0


def _dsic(ctx, rounds, per_round, records):
    rng = np.random.default_rng(ctx.seed_for("composition"))
    rules = {
        "pick-r": mechanisms.get("pick-r"),
        "serial dictatorship": mechanisms.get("serial-dictatorship"),
        "picking (sizes 3, 5)": mechanisms.get("picking", sizes=[3, 5]),
        "picking-exchange composition": mechanisms.random_composition(M, rng, max_components=3),
    }
    each = 1 - (1 - CONFIDENCE) / len(DSIC_LEARNERS)  # Bonferroni over the learners
    seats = np.random.default_rng(ctx.seed_for("seats"))
    for label, mech in rules.items():
        seat, moves = seat_where_lies_matter(mech, seats)
        if seat is None:  # serial dictatorship: the dictator takes every item, the others none
            ctx.matches(f"{label} (DSIC): no seat's report changes its own bundle, so no learner has anything to "
                        "learn (a learning claim here would be vacuous and is not made)", moves, moves, moves, 0.0,
                        paper=0.0, domain=RATE, reason="the rule's quotas give one agent every item whatever anyone "
                        "reports: checked against random and probe reports on 200 profiles per seat")
            continue
        worst = None
        for learner in DSIC_LEARNERS:
            r = learn(mech, learner, prior=PRIOR, n_agents=N, n_items=M, rounds=rounds, instances_per_round=per_round,
                      seed=ctx.seed_for(f"dsic-{label}-{learner}"), seat=seat)
            # percentile bootstrap: a gain that is never positive gets an interval at or below 0
            est = _gain_bound(r.rounds, seat, each, ctx.seed_for(f"boot-{label}-{learner}"), bootstrap=True)
            records.append({"part": "DSIC", "mechanism": label, "prior": PRIOR, "learner": learner, "seat": seat,
                            "gain": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high,
                            "best_round_gain": float(r.rounds[r.rounds.agent == seat]["gain"].max()),
                            "welfare_ratio_late": r.summary["welfare_ratio_late"],
                            "ef_rate_late": r.summary["ef_rate_late"]})
            if worst is None or est.ci_high > worst[1].ci_high:
                worst = (learner, est)
        learner, est = worst
        ctx.at_most(f"{label} (DSIC): no learner gains over truthful play ({', '.join(DSIC_LEARNERS)}; "
                    f"{rounds} rounds)", est.value, est.ci_low, est.ci_high, 0.0, paper=0.0, domain=REAL,
                    reason="DSIC: no report beats the truth, so the time-average gain's interval is at or below 0",
                    note=f"learner in seat {seat}, where some report moves its bundle on {moves:.0%} of profiles; "
                         f"largest upper bound: {learner}; {CONFIDENCE:.0%} percentile bootstrap intervals, "
                         f"Bonferroni over {len(DSIC_LEARNERS)} learners")
    ctx.step()


def _ratio_interval(learned, oracle, confidence):
    """mean(learned) / mean(oracle) on paired draws, with the delta method's t interval."""
    ratio = learned.mean() / oracle.mean()
    z = (learned - ratio * oracle) / oracle.mean()
    est = mean_interval(z, confidence)
    return ratio, ratio + est.ci_low, ratio + est.ci_high


def _oracle(ctx, rounds, per_round, fresh, records, curves):
    prior = parse_prior(PRIOR)
    for name in ("round-robin", "welfare-max"):
        mech = mechanisms.get(name)
        r = learn(mech, "deadline-schedule", prior=PRIOR, n_agents=N, n_items=M, rounds=rounds,
                  instances_per_round=per_round, seed=ctx.seed_for(f"oracle-{name}"))
        learner = r.model.bidders[0].strategy
        rng = np.random.default_rng(ctx.seed_for(f"fresh-{name}"))
        values = prior.sample(rng, N, M, batch=fresh)
        # the learned strategy, frozen, and the exact ex-post best response on the same fresh draws
        context = strategies.BidContext(agent=0, n_agents=N, rng=rng, prior=prior, mechanism=mech,
                                        others_bids=values[:, 1:, :])
        bids = values.copy()
        bids[:, 0, :] = learner.bid(values[:, 0, :], context)
        truthful = utilities(values, mech.allocate(values))[:, 0]
        learned = utilities(values, mech.allocate(bids))[:, 0] - truthful
        best = mech.best_response(values[:, 0, :], values, 0)
        oracle = best.value - truthful
        ratio, lo, hi = _ratio_interval(learned, oracle, CONFIDENCE)
        ctx.at_least(f"{name}: the continuous learner (deadline-schedule, {rounds} rounds) reaches "
                     f"{ORACLE_SHARE:.0%} of the exact best response's gain", ratio, lo, hi, ORACLE_SHARE,
                     domain=REAL, reason="a learner that finds the lie should earn most of what it is worth: 80% of the exact best response's gain, on fresh draws",
                     note=f"learned gain {learned.mean():.4f}, oracle gain {oracle.mean():.4f} "
                          f"(oracle proven: {bool(np.all(best.proven))}) on {fresh} fresh draws, paired; "
                          f"learned lambda = {np.exp(learner.theta[1]):.3f}, scale exp({learner.theta[0]:.2f})")
        records.append({"part": "oracle", "mechanism": name, "prior": PRIOR, "learner": "deadline-schedule",
                        "gain": float(learned.mean()), "ci_low": float(lo * oracle.mean()),
                        "ci_high": float(hi * oracle.mean()), "oracle_gain": float(oracle.mean()), "ratio": ratio,
                        "welfare_ratio_late": r.summary["welfare_ratio_late"],
                        "ef_rate_late": r.summary["ef_rate_late"]})
        mine = r.rounds[r.rounds.agent == 0]
        curves[name] = (mine["round"].to_numpy(), mine["gain"].rolling(max(1, rounds // 20)).mean().to_numpy(),
                        float(oracle.mean()))
    ctx.step()


def _ranking(ctx, rounds, per_round, records):
    settings = {
        "ranking, i.i.d. uniform (n = 3)": ("ranking", PRIOR, 3),
        "ranking, U[0,1] vs U[0,2]": ("ranking", NON_IDENTICAL, 2),
        "weighted ranking, U[0,1] vs U[0,2]": ("weighted-ranking", NON_IDENTICAL, 2),
    }
    each = 1 - (1 - CONFIDENCE) / len(INTERIM_LEARNERS)
    for label, (name, prior, n) in settings.items():
        mech = mechanisms.get(name, prior=prior) if name == "weighted-ranking" else mechanisms.get(name)
        worst, expected = None, []
        for learner in (*INTERIM_LEARNERS, "deadline-schedule"):
            r = learn(mech, learner, prior=prior, n_agents=n, n_items=M, rounds=rounds, instances_per_round=per_round,
                      seed=ctx.seed_for(f"ranking-{label}-{learner}"))
            est = _gain_bound(r.rounds, 0, each, 0, bootstrap=False)
            expected.append(r.rounds[r.rounds.agent == 0]["truthful_utility"].mean())
            records.append({"part": "BIC", "mechanism": label, "prior": prior, "learner": learner, "gain": est.value,
                            "ci_low": est.ci_low, "ci_high": est.ci_high,
                            "welfare_ratio_late": r.summary["welfare_ratio_late"],
                            "ef_rate_late": r.summary["ef_rate_late"]})
            if learner in INTERIM_LEARNERS and (worst is None or est.ci_high > worst[1].ci_high):
                worst = (learner, est)
        clairvoyant = records[-1]
        threshold = 0.01 * float(np.mean(expected))
        learner, est = worst
        ctx.at_most(f"{label} (BIC): no learner that reports before the others gains significantly "
                    f"({', '.join(INTERIM_LEARNERS)}; {rounds} rounds)", est.value, est.ci_low, est.ci_high,
                    threshold, paper=0.0, domain=REAL,
                    reason="'no gain' up to 1% of the agent's expected truthful utility (estimated in the same rounds)",
                    note=f"largest upper bound: {learner}, t intervals Bonferroni over {len(INTERIM_LEARNERS)}; "
                         f"a learner that reads the others' reports first (deadline-schedule) gains "
                         f"{clairvoyant['gain']:.3f} [{clairvoyant['ci_low']:.3f}, {clairvoyant['ci_high']:.3f}]: "
                         f"Ranking is BIC, not DSIC")
    ctx.step()


def _price(ctx, rounds, per_round, fresh, records):
    """Welfare ratio and EF rate: truthful play, learned play (agent 0 learns the ex-post
    family, the others tell the truth), and the prior's optimal Pick-r."""
    prior = parse_prior(PRIOR)
    rows = []
    best = optimal_pick_r(prior, N)
    rng = np.random.default_rng(ctx.seed_for("price-truthful"))
    values = prior.sample(rng, N, M, batch=fresh)
    for name in ("round-robin", "welfare-max", "ranking"):
        res = evaluate(values, mechanisms.get(name).allocate(values))
        wr, ef = welfare_ratio(res["welfare"], res["optimal_welfare"], CONFIDENCE, upper=1.0), rate(res["ef"], CONFIDENCE)
        learned = [r for r in records if r["part"] in ("oracle",) and r["mechanism"] == name]
        if not learned:
            run = learn(name, "deadline-schedule", prior=PRIOR, n_agents=N, n_items=M, rounds=rounds,
                        instances_per_round=per_round, seed=ctx.seed_for(f"price-{name}"))
            learned = [{"welfare_ratio_late": run.summary["welfare_ratio_late"],
                        "ef_rate_late": run.summary["ef_rate_late"]}]
        rows.append({"mechanism": name, "welfare_ratio_truthful": wr.value, "welfare_ratio_learned":
                     learned[0]["welfare_ratio_late"], "ef_rate_truthful": ef.value,
                     "ef_rate_learned": learned[0]["ef_rate_late"]})
    pick = mechanisms.get("pick-r", r=best.r.tolist())
    res = evaluate(values, pick.allocate(values))
    wr, ef = welfare_ratio(res["welfare"], res["optimal_welfare"], CONFIDENCE, upper=1.0), rate(res["ef"], CONFIDENCE)
    rows.append({"mechanism": f"pick-r (optimal, r = {best.r[0]:.3f}); DSIC, so learned = truthful",
                 "welfare_ratio_truthful": wr.value, "welfare_ratio_learned": wr.value,
                 "ef_rate_truthful": ef.value, "ef_rate_learned": ef.value, "alpha": best.alpha})
    frame = pd.DataFrame(rows)
    ctx.save("price_of_strategic_play", frame)
    with ctx.figure("price_of_strategic_play", f"The price of strategic play (n = {N}, m = {M}, {PRIOR})",
                    "mechanism", "welfare ratio / EF rate", size=(7.4, 4.4)) as ax:
        x = np.arange(len(frame))
        labels = [m.split(";")[0] for m in frame["mechanism"]]
        ax.bar(x - 0.3, frame["welfare_ratio_truthful"], 0.2, color="C0", label="welfare ratio, truthful")
        ax.bar(x - 0.1, frame["welfare_ratio_learned"], 0.2, color="C0", alpha=0.5, hatch="//",
               label="welfare ratio, learned play")
        ax.bar(x + 0.1, frame["ef_rate_truthful"], 0.2, color="C1", label="EF rate, truthful")
        ax.bar(x + 0.3, frame["ef_rate_learned"], 0.2, color="C1", alpha=0.5, hatch="//", label="EF rate, learned play")
        ax.axhline(best.alpha, color="k", ls=":", lw=1, label=f"Pick-r's alpha = {best.alpha:.3f} (Prop. 3.8)")
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_ylim(0, 1.1)
    ctx.step()


def run(ctx):
    rounds = ctx.pick(150, 300, 2000)
    per_round = ctx.pick(4, 4, 8)
    records, curves = [], {}
    _dsic(ctx, rounds, per_round, records)
    _oracle(ctx, ctx.pick(1500, 2000, 4000), 8, ctx.pick(5000, 20000, 50000), records, curves)
    _ranking(ctx, rounds, per_round, records)
    _price(ctx, ctx.pick(1500, 2000, 4000), 8, ctx.pick(5000, 20000, 50000), records)
    ctx.save("learners", pd.DataFrame(records))
    with ctx.figure("learning_curves", f"Continuous learner vs exact best response (n = {N}, m = {M})",
                    "round", "gain over truthful play (rolling mean)") as ax:
        for k, (name, (x, y, oracle)) in enumerate(curves.items()):
            ax.plot(x, y / oracle, color=f"C{k}", lw=1, label=f"{name}: learned / oracle gain")
        ax.axhline(ORACLE_SHARE, color="k", ls=":", lw=1, label=f"{ORACLE_SHARE:.0%} of the oracle's gain")
        ax.axhline(1.0, color="k", lw=0.5)
