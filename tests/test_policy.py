"""The general learner (item-policy), the generality suite and the learner line of the DSIC audit."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import strategies
from abm.cli import main
from abm.learning import learn
from abm.priors import parse_prior


def _context(values, agent=0, prior="uniform", mechanism=None):
    return strategies.BidContext(agent=agent, n_agents=values.shape[1], rng=np.random.default_rng(0),
                                 prior=parse_prior(prior), others_bids=np.delete(values, agent, axis=1),
                                 mechanism=mechanism)


def test_the_policy_treats_items_alike_permuting_items_permutes_the_report():
    from abm import mechanisms

    s = strategies.get("item-policy")
    rr = mechanisms.get("round-robin")  # the probes too: round robin treats items alike (no ties here)
    values = parse_prior("uniform").sample(np.random.default_rng(1), 3, 9, batch=40)
    theta = np.random.default_rng(2).normal(size=(3, s.dimension))
    perm = np.random.default_rng(3).permutation(9)
    a = s.reports_of(values[:, 0, :], _context(values, mechanism=rr), theta)
    b = s.reports_of(values[:, 0, perm], _context(values[..., perm], mechanism=rr), theta)
    assert np.allclose(a[..., perm], b, rtol=1e-12, atol=0)
    assert not np.allclose(a[:, 0], values[:, 0])  # the random parameters do change the report


def test_the_probes_on_a_round_robin_profile_worked_by_hand():
    # Round robin, agent 0 first. Agent 0 values (0.4, 0.35, 0.2, 0.05), agent 1 (0.5, 0.1, 0.3, 0.2).
    # Truth: 0 takes item 0, 1 takes item 2, 0 takes item 1, 1 takes item 3: agent 0 keeps 0.75 of 1.
    # Raising item 1 (or 2) first: agent 1 then takes item 0 and agent 0 ends with {1, 2}: 0.55;
    # raising item 3: {3, 1}, 0.40. Zeroing item 0: 0 takes 1, 1 takes 0, 0 takes 2: 0.55; zeroing
    # item 1: 0 takes 0, 1 takes 2, 0 takes 3: 0.45; zeroing item 2 or 3 changes nothing.
    from abm import mechanisms
    from strategies.policy import PROBE_SCALE, mechanism_probes

    v = np.array([[0.4, 0.35, 0.2, 0.05]])
    others = np.array([[[0.5, 0.1, 0.3, 0.2]]])
    got = np.arctanh(mechanism_probes(mechanisms.get("round-robin"), v, others, 0)[0]) / PROBE_SCALE
    assert np.allclose(got[:, 0], [0, 0.55 - 0.75, 0.55 - 0.75, 0.40 - 0.75], atol=1e-12)
    assert np.allclose(got[:, 1], [0.55 - 0.75, 0.45 - 0.75, 0, 0], atol=1e-12)
    assert not mechanism_probes(None, v, others, 0).any()  # no mechanism, nothing to ask


def test_the_probes_against_a_plan_worked_by_hand():
    # The profile above, agent 0 playing the plan (0.1, 0.9, 0.2, 0.05): it takes item 1, agent 1
    # item 0, it takes item 2, agent 1 item 3: {1, 2}, 0.55 of its true 1.0. Raising item 0 over
    # the plan: it takes 0, agent 1 takes 2, it takes 1: 0.75; raising 1 or 2 keeps {1, 2}; raising
    # 3: it takes 3, agent 1 takes 0, it takes 1: 0.40. Zeroing item 1: it takes 2, agent 1 takes 0,
    # it takes 3: 0.25; zeroing item 2: it takes 1, agent 1 takes 0, it takes 3: 0.40; zeroing 0 or
    # 3 changes nothing. Utilities are in the true values, not the plan's.
    from abm import mechanisms
    from strategies.policy import PROBE_SCALE, mechanism_probes

    v = np.array([[0.4, 0.35, 0.2, 0.05]])
    others = np.array([[[0.5, 0.1, 0.3, 0.2]]])
    plan = np.array([[0.1, 0.9, 0.2, 0.05]])
    got = np.arctanh(mechanism_probes(mechanisms.get("round-robin"), v, others, 0, plan)[0]) / PROBE_SCALE
    assert np.allclose(got[:, 0], [0.75 - 0.55, 0, 0, 0.40 - 0.55], atol=1e-12)
    assert np.allclose(got[:, 1], [0, 0.25 - 0.55, 0.40 - 0.55, 0], atol=1e-12)


def test_the_policy_reads_probes_of_the_report_it_plays():
    # one step of policy iteration: the features' probes are taken against the played policy's
    # report (itself computed with the probes of the truth), the rest of the features unchanged;
    # at the start the played report is the truth and the probes are the truth's
    from abm import mechanisms
    from strategies.policy import PROBE_FEATURES, exchange_roles, item_features, mechanism_probes

    rr = mechanisms.get("round-robin")
    values = parse_prior("uniform").sample(np.random.default_rng(12), 3, 6, batch=25)
    prior = parse_prior("uniform")
    v, others = values[:, 0], values[:, 1:]
    s = strategies.get("item-policy")
    s._mechanism = rr
    x, scale = item_features(v, others, prior, 0, exchange_roles(rr, 6, 0))
    truth = mechanism_probes(rr, v, others, 0)
    k = len(PROBE_FEATURES)
    assert np.array_equal(s._features(v, others, prior, 0)[0][..., -k:], truth)
    s.theta = np.random.default_rng(13).normal(size=s.dimension)
    got, _ = s._features(v, others, prior, 0)
    plan = s._policy(np.concatenate([x, truth], axis=-1), scale, v, s.theta[None])[:, 0]
    assert not np.allclose(plan, v)
    assert np.array_equal(got[..., :-k], x)
    assert np.array_equal(got[..., -k:], mechanism_probes(rr, v, others, 0, plan))
    assert not np.allclose(got[..., -k:], truth)


def test_the_probes_in_chunks_for_any_seat_match_one_report_at_a_time(monkeypatch):
    # the batched probes against the plain definition, one profile, item and probe at a time, in
    # agent 1's seat of three; with chunks of one item each (the path large m takes)
    from abm import mechanisms
    from abm.mechanisms.base import allocation
    from strategies import policy

    mech = mechanisms.get("welfare-max")
    values = parse_prior("uniform").sample(np.random.default_rng(6), 3, 5, batch=4)
    monkeypatch.setattr(policy, "PROBE_CHUNK", 1)
    got = policy.mechanism_probes(mech, values[:, 1], np.delete(values, 1, axis=1), 1)
    for p in range(4):
        def utility(report):
            bids = values[p].copy()
            bids[1] = report
            return (allocation(mech, bids[None])[0] == 1) @ values[p, 1] / values[p, 1].sum()
        truth = utility(values[p, 1])
        for j in range(5):
            up, zero = values[p, 1].copy(), values[p, 1].copy()
            up[j], zero[j] = 2 * values[p].max(), 0.0
            want = np.tanh(policy.PROBE_SCALE * np.array([utility(up) - truth, utility(zero) - truth]))
            assert np.allclose(got[p, j], want, atol=1e-12), (p, j)


def test_the_run_without_probes_holds_exactly_the_weights_that_read_them():
    # zero the masked coordinates and the mechanism's answers no longer matter; leave them and
    # they do. The mask's size: each probe feeds the urgency, the linear term, H hidden units and
    # K pooled channels
    from abm import mechanisms

    s = strategies.get("item-policy")
    mask = s._probe_weights()
    assert mask.sum() == 2 * (2 + s.hidden + s.pooled)
    values = parse_prior("uniform").sample(np.random.default_rng(8), 3, 7, batch=30)
    theta = np.random.default_rng(9).normal(size=(2, s.dimension))
    held = np.where(mask, 0.0, theta)
    rr = mechanisms.get("round-robin")
    assert np.array_equal(s.reports_of(values[:, 0], _context(values, mechanism=rr), held),
                          s.reports_of(values[:, 0], _context(values), held))
    assert not np.allclose(s.reports_of(values[:, 0], _context(values, mechanism=rr), theta),
                           s.reports_of(values[:, 0], _context(values), theta))
    # training: the run held at 0 stays there (its candidates are projected to exactly 0), the others move
    r = learn("round-robin", "item-policy", n_agents=3, n_items=6, rounds=16, instances_per_round=64, seed=2)
    learner = r.model.bidders[0].strategy
    held_runs = [k for k, (_, probes) in enumerate(learner.RUNS) if not probes]
    assert len(held_runs) == 1 and len(learner._runs) == len(learner.RUNS) and learner.generations == 16
    means = [np.asarray(es.mean) for es in learner._runs]
    assert np.abs(means[held_runs[0]][mask]).max() < 1e-9
    assert all(np.abs(mu[mask]).max() > 1e-3 for k, mu in enumerate(means) if k not in held_runs)


def test_kept_features_are_reused_only_for_equal_inputs():
    # a round asks twice on the same instances and the features are kept: a changed bid of the
    # others alone, one changed value, or another seat with equal inputs must compute them again,
    # as a fresh learner would
    from abm import mechanisms

    rr = mechanisms.get("round-robin")
    values = parse_prior("uniform").sample(np.random.default_rng(10), 3, 6, batch=20)
    theta = np.random.default_rng(11).normal(size=(2, strategies.get("item-policy").dimension))
    moved, bid = values.copy(), values.copy()
    moved[3, 0, 2] *= 0.5
    bid[5, 2, 1] *= 0.5
    prior = parse_prior("uniform")  # one object, as in a model: the kept features are keyed on it
    s = strategies.get("item-policy")
    twins = values.copy()
    twins[:, 1] = twins[:, 0]  # seats 0 and 1 see equal inputs; round robin's order tells them apart
    for v, agent in ((values, 0), (values, 0), (moved, 0), (values, 0), (bid, 0), (twins, 0), (twins, 1)):
        ctx = _context(v, agent=agent, prior=prior, mechanism=rr)
        got = s.reports_of(v[:, agent], ctx, theta)
        fresh = strategies.get("item-policy").reports_of(v[:, agent], ctx, theta)
        assert np.array_equal(got, fresh)
    assert s._last_features[0][1] is prior  # the features were kept (the reuse above was exercised)
    # the probes are taken against the report played: once the policy played moves, its kept
    # features are stale
    ctx = _context(values, prior=prior, mechanism=rr)
    s.reports_of(values[:, 0], ctx, theta)  # kept for the policy at the start
    s.theta = theta[0].copy()
    fresh = strategies.get("item-policy")
    fresh.theta = theta[0].copy()
    assert np.array_equal(s.reports_of(values[:, 0], ctx, theta), fresh.reports_of(values[:, 0], ctx, theta))


def test_the_starting_policy_is_the_truth_for_both_forms():
    values = parse_prior("beta(a=2, b=5)").sample(np.random.default_rng(4), 2, 7, batch=30)
    for name in ("item-policy", "item-policy-sealed"):
        s = strategies.get(name)
        bids = s.bid(values[:, 0, :], _context(values, prior="beta(a=2, b=5)"))
        assert np.allclose(bids, values[:, 0, :], rtol=1e-12, atol=0)


def test_the_general_learner_is_deterministic_and_leaves_the_global_rng_alone():
    np.random.seed(11)
    before = np.random.get_state()[1].copy()
    a = learn("round-robin", "item-policy", n_agents=2, n_items=6, rounds=12, instances_per_round=32, seed=5)
    assert np.array_equal(np.random.get_state()[1], before)  # cma draws from its own stream
    b = learn("round-robin", "item-policy", n_agents=2, n_items=6, rounds=12, instances_per_round=32, seed=5)
    assert a.rounds.equals(b.rounds)
    assert np.array_equal(a.model.bidders[0].strategy.theta, b.model.bidders[0].strategy.theta)


def test_the_sealed_form_needs_no_others_and_the_clairvoyant_form_refuses_to_guess():
    values = parse_prior("uniform").sample(np.random.default_rng(0), 2, 5, batch=3)
    ctx = strategies.BidContext(agent=0, n_agents=2, rng=np.random.default_rng(0), prior=parse_prior("uniform"))
    assert strategies.get("item-policy-sealed").bid(values[:, 0], ctx).shape == (3, 5)
    with pytest.raises(strategies.StrategyError, match="needs their bids"):
        strategies.get("item-policy").bid(values[:, 0], ctx)


@pytest.mark.parametrize("bad", ["item-policy(hidden=-1)", "item-policy(sigma0=0)", "item-policy(batch=0)",
                                 "item-policy(population=1)", "item-policy(pooled=-2)"])
def test_bad_parameters_are_refused_by_name(bad):
    with pytest.raises(strategies.StrategyError, match=bad.split("(")[1].split("=")[0]):
        strategies.parse(bad)


@pytest.mark.parametrize("mechanism, params", [
    ("pick-r", {"r": [0.3, 0.7]}),
    ("serial-dictatorship", {}),
    ("picking", {"picker": 0, "sizes": [2, 4]}),
    ("exchange", {"endowment": [0, 2, 4]}),
])
@pytest.mark.parametrize("learner", sorted(c.name for c in strategies.available()
                                            if issubclass(c, strategies.Learner)))  # every registered learner
def test_dsic_rules_never_pay_any_learner_on_any_instance(mechanism, params, learner):
    # Theorem 3.1's rules are DSIC: whatever a learner reports, on every instance of every round
    # its utility is at most the truth's, exactly (a different bundle of no more value).
    from abm import mechanisms

    mech = mechanisms.get(mechanism, **params)
    r = learn(mech, learner, n_agents=2, n_items=8, rounds=25, instances_per_round=32, seed=3)
    assert r.rounds["max_instance_gain"].max() <= 0


@pytest.mark.parametrize("learner", ["item-policy", "item-policy-sealed", "hedge", "deadline-schedule"])
def test_dsic_composition_never_pays_a_learner(learner):
    from abm.mutants import _composition

    r = learn(_composition(8), learner, n_agents=2, n_items=8, rounds=25, instances_per_round=32, seed=4)
    assert r.rounds["max_instance_gain"].max() <= 0


def test_learned_share_on_welfare_max_and_two_agent_round_robin_from_the_quick_suite():
    # A small sample of the generality suite, quick budget. The thresholds are the 95% paired
    # bootstrap lower bounds the suite reports: welfare maximization's best response (outbid
    # everyone) must be found whole; round robin's (unit-job scheduling) at least half.
    from abm import learning_suite as S

    cases = {c.label: c for c in S.cases(mutants=False)}
    q = S.QUICK
    wm = S.run_case(cases["welfare-max, n = 2"], "item-policy", q["rounds"], q["instances_per_round"], q["profiles"])
    rr = S.run_case(cases["round-robin, n = 2"], "item-policy", q["rounds"], q["instances_per_round"], q["profiles"])
    assert wm["share_low"] >= 0.99, wm
    assert rr["share_low"] >= 0.5, rr
    # the measure itself can fail: a learner that stays truthful reaches nothing
    stay = S.run_case(cases["round-robin, n = 2"], strategies.Hedge(menu=["truthful"]), 5, 8, q["profiles"])
    assert stay["share"] == 0 and stay["share_high"] == 0


def test_the_suite_lists_generated_mutants_that_pay_agent_zero():
    pytest.importorskip("cosmic_ray")
    from abm import learning_suite as S

    got = [c for c in S.cases(generated=2, seed=1) if c.source[0] == "generated"]
    assert len(got) == 2 and all(S._manipulable(c) for c in got)


def test_cli_learn_suite_writes_the_table_and_plot(tmp_path, capsys):
    out = tmp_path / "suite"
    assert main(["learn", "--suite", "--quick", "--learners", "item-policy", "--only", "welfare-max, n = 2",
                 "--generated", "0", "--workers", "1", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "welfare-max, n = 2" in text and "median" in text
    assert (out / "suite.parquet").exists() and (out / "suite.png").stat().st_size > 5000
    s = json.loads((out / "summary.json").read_text())
    assert s["per_learner"]["item-policy"]["smallest_share"] >= 0.99


def test_cli_learn_suite_refuses_a_strategy_that_does_not_learn_and_a_filter_that_matches_nothing(capsys):
    assert main(["learn", "--suite", "--learners", "truthful", "--generated", "0", "--no-progress"]) == 2
    assert "not a learner" in capsys.readouterr().err
    assert main(["learn", "--suite", "--only", "no such rule", "--generated", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no case of the suite matches 'no such rule'" in err and "round-robin, n = 2" in err


def test_audit_learn_finds_and_replays_a_lie_under_round_robin_and_none_under_pick_r(tmp_path, capsys):
    out = tmp_path / "rr"
    assert main(["audit", "dsic", "--mechanism", "round-robin", "--items", "20", "--profiles", "20", "--learn",
                 "--learn-rounds", "30", "--strategies", "none", "--budget", "0", "--no-progress", "--json",
                 "--out", str(out)]) == 0
    s = json.loads(capsys.readouterr().out)
    L = s["learner"]
    assert L["violations"] > 0 and L["witness_gain"] > 0 and "never proof" in L["evidence"]
    assert (out / "learned_witness.json").exists()
    assert main(["audit", "replay", str(out / "learned_witness.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confirmed"]
    assert main(["audit", "dsic", "--mechanism", "pick-r", "--items", "20", "--profiles", "20", "--learn",
                 "--learn-rounds", "30", "--strategies", "none", "--budget", "0", "--no-progress"]) == 0
    assert "this proves nothing" in capsys.readouterr().out


def test_hedge_menus_take_text_specs_with_parameters():
    h = strategies.Hedge(menu=["scale(factor=3)", "truthful"])
    assert repr(h.menu[0]) == "Scale(factor=3.0)"


def test_learn_out_with_a_continuous_learner_plots_without_warnings(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["learn", "--learner", "deadline-schedule", "--rounds", "20", "--items", "6", "--no-progress",
                     "--out", str(tmp_path / "ds")]) == 0
    assert not [w for w in caught if "matplotlib" in str(w.filename) or "log" in str(w.message).lower()]


def test_learn_reports_what_the_family_expresses_and_the_share_of_the_best_response(capsys):
    assert main(["learn", "--learner", "item-policy", "--mechanism", "welfare-max", "--rounds", "40",
                 "--instances-per-step", "32", "--items", "6", "--no-progress", "--json"]) == 0
    L = json.loads(capsys.readouterr().out)["learners"]["0"]
    assert "not items told apart by their index" in L["expresses"]
    assert L["best_response"]["available"] and L["best_response"]["share"] >= 0.99
