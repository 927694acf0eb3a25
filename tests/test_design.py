"""The open-questions lab: optimal truthful mechanisms, their certificates and their comparisons.

Small cases are solved by hand or by brute force over every deterministic mechanism, with
incentive checks written here independently of the lab's own."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

from abm import design, mechanisms
from abm.design import cardinal as C
from abm.design import compare as K
from abm.design import ordinal as O
from abm.design.certificate import DualCertificate, certify, check
from abm.design.profiles import CanonicalSpace, FullSpace, order_statistic_means
from abm.errors import MechanismError
from abm.priors import parse_prior

UNIFORM = parse_prior("uniform").marginal(0)


def _sd_truthful(ranks: np.ndarray, owner: np.ndarray) -> bool:
    """Brute force: no agent, at any profile, gets more of its true top-k items by reporting another
    ranking, for any k (the lab's rows, written again as plain loops)."""
    P, n, m = ranks.shape
    where = {tuple(map(tuple, ranks[p])): p for p in range(P)}
    for p in range(P):
        for i in range(n):
            truth = ranks[p, i]
            for lie in itertools.permutations(range(m)):
                q = ranks[p].copy()
                q[i] = lie
                got_t = {j for j in range(m) if owner[p, j] == i}
                got_l = {j for j in range(m) if owner[where[tuple(map(tuple, q))], j] == i}
                for k in range(1, m + 1):
                    top = {j for j in range(m) if truth[j] < k}
                    if len(got_l & top) > len(got_t & top):
                        return False
    return True


def _welfare(ranks, owner, mu):
    return float(np.mean([sum(mu[ranks[p, owner[p, j], j]] for j in range(ranks.shape[2]))
                          for p in range(ranks.shape[0])]))


# ------------------------------------------------------------------------- solved by hand
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("deterministic", [False, True])
def test_one_item_goes_to_one_agent(n, deterministic):
    # m = 1: any truthful ordinal rule fixes the owner (rankings of one item say nothing), so the
    # optimum is E[v] = 1/2 against E[max of n uniforms] = n/(n+1).
    lab = design.design(n, 1, deterministic=deterministic, audit_profiles=20)
    assert lab.summary["optimum"] == pytest.approx(0.5, abs=1e-12)
    assert lab.summary["optimum_ratio"] == pytest.approx(0.5 / (n / (n + 1)), abs=1e-12)


def test_two_agents_two_items_brute_force_over_every_deterministic_mechanism():
    space = FullSpace(2, 2)
    mu = order_statistic_means(UNIFORM, 2)
    assert mu == pytest.approx([2 / 3, 1 / 3])
    best = -1.0
    truthful_count = 0
    for bits in itertools.product((0, 1), repeat=space.count * 2):
        owner = np.array(bits).reshape(space.count, 2)
        if _sd_truthful(space.ranks, owner):
            truthful_count += 1
            best = max(best, _welfare(space.ranks, owner, mu))
            assert O.is_truthful_table(space, owner)[0]
        else:
            assert not O.is_truthful_table(space, owner)[0]
    milp = O.solve_ordinal(2, 2, mu, deterministic=True)
    assert milp.welfare == pytest.approx(best, abs=1e-12) == pytest.approx(7 / 6)
    assert 0 < truthful_count < 256


def test_zero_and_one_levels_let_welfare_maximization_be_truthful():
    # With levels {0, v}, giving each item to the highest reported level (ties to the lowest agent)
    # is truthful: an agent at 0 loses nothing, one at v gets the item unless a lower agent also is
    # at v. So the bound on every DSIC mechanism is E[max welfare] itself.
    lab = design.design(2, 2, domain="cardinal", levels=[0, 2], probs=[0.5, 0.5], sizes=[2])
    assert lab.summary["optimum_ratio"] == pytest.approx(1.0, abs=1e-9)
    assert lab.summary["comparisons"]["best_pick_r"]["ratio"] < 0.95
    space = C.LevelSpace(2, 2, [0, 2], [0.5, 0.5])
    welfare_max = mechanisms.get("welfare-max").allocate(space.values)
    assert C.is_truthful_levels(space, welfare_max)[0]
    # with no zero level it is not: an agent at 1 tied with a lower agent at 1 reports 3 and wins
    other = C.LevelSpace(2, 2, [1, 3], [0.5, 0.5])
    assert not C.is_truthful_levels(other, mechanisms.get("welfare-max").allocate(other.values))[0]
    assert design.design(2, 2, domain="cardinal", levels=[1, 3], sizes=[2]).summary["optimum_ratio"] < 1 - 1e-3


def test_three_level_one_item_brute_force_over_every_deterministic_mechanism():
    levels, probs = [0.0, 1.0, 4.0], [0.5, 0.3, 0.2]
    space = C.LevelSpace(2, 1, levels, probs)
    vals = space.values[:, :, 0]  # (9, 2)
    prob = space.probability
    best = -1.0
    for bits in itertools.product((0, 1), repeat=space.count):
        owner = np.array(bits)
        ok = True
        for p in range(space.count):  # agent i of true value vals[p, i] reporting each other level
            for i in range(2):
                for q in range(space.count):
                    if vals[q, 1 - i] == vals[p, 1 - i] and q != p:
                        if (owner[q] == i) and not (owner[p] == i) and vals[p, i] > 0:
                            ok = False
        if ok:
            best = max(best, float(prob @ vals[np.arange(space.count), owner]))
    milp = C.solve_cardinal(2, 1, levels, probs, deterministic=True)
    lp = C.solve_cardinal(2, 1, levels, probs)
    assert milp.welfare == pytest.approx(best, abs=1e-12)
    assert lp.welfare >= milp.welfare - 1e-12


# ------------------------------------------------------------------------- comparisons
def test_best_picking_sequence_beats_the_truthful_optimum_and_the_rows_reject_it():
    mu = order_statistic_means(UNIFORM, 3)
    lp = O.solve_ordinal(2, 3, mu)
    seq = K.best_picking_sequence(2, 3, mu)
    assert seq.welfare > lp.welfare + 1e-3
    full = FullSpace(2, 3)
    owner = K.sequence_owner(full.ranks, seq.detail["sequence"])
    assert not _sd_truthful(full.ranks, owner)
    # the program's own incentive rows, evaluated at this table's x, go negative
    x = np.zeros((full.count, 3, 2))
    np.put_along_axis(x, owner[:, :, None], 1.0, axis=2)
    rows = O.incentive_rows_full(full) @ x.reshape(-1)
    assert rows.min() < -0.5


@pytest.mark.parametrize("order, quotas", [((0, 1, 2), (2, 1, 1)), ((1, 0, 2), (1, 3, 0)), ((2, 1, 0), (0, 2, 2))])
def test_pick_r_sequences_are_the_testbeds_pick_r(order, quotas):
    space = FullSpace(3, 4)
    bids = (4 - space.ranks).astype(float)
    r = [quotas[order.index(a)] / 4 for a in range(3)]  # agent a's share
    seq = K.pick_r_sequence(order, quotas)
    got = K.sequence_owner(space.ranks, seq)
    if order == (0, 1, 2):
        np.testing.assert_array_equal(got, mechanisms.get("pick-r", r=list(r)).allocate(bids))
    # each agent ends up with its quota, and every sequence table is truthful
    assert all((got == a).sum(axis=1).tolist() == [quotas[order.index(a)]] * space.count for a in range(3))
    assert O.is_truthful_table(space, got)[0]


def test_picking_exchange_includes_the_testbeds_exchange():
    mu2 = order_statistic_means(UNIFORM, 2)
    # one-for-one exchange on two uniform items: worth 1/2 + 1/2 without trade; a trade happens with
    # probability 1/4, exactly when each holds its worse item, and turns 1/3 + 1/3 into 2/3 + 2/3
    assert K._exchange_welfare(mu2) == pytest.approx(1 + 0.25 * (4 / 3 - 2 / 3))
    assert K.best_picking_exchange(3, UNIFORM).welfare >= K.best_pick_r(2, 3, order_statistic_means(UNIFORM, 3)).welfare


def test_lp_is_at_least_the_0_1_program_which_is_at_least_best_pick_r():
    mu = order_statistic_means(parse_prior("beta(a=2, b=5)").marginal(0), 3)
    lp = O.solve_ordinal(3, 3, mu)
    milp = O.solve_ordinal(3, 3, mu, deterministic=True)
    pr = K.best_pick_r(3, 3, mu)
    assert lp.welfare >= milp.welfare - 1e-9 >= pr.welfare - 2e-9
    assert lp.complete


def test_constraint_generation_reaches_the_full_programs_optimum():
    # starting with no incentive rows at all, the violated ones are added round by round
    mu = order_statistic_means(parse_prior("beta(a=2, b=5)").marginal(0), 4)
    full = O.solve_ordinal(3, 4, mu, start=range(24))
    grown = O.solve_ordinal(3, 4, mu, start=[])
    assert grown.rounds > 1 and grown.complete
    assert grown.welfare == pytest.approx(full.welfare, abs=1e-9)
    assert grown.program.rows < full.program.rows
    capped = O.solve_ordinal(3, 4, mu, start=[], max_rounds=1)
    assert not capped.complete and capped.welfare > full.welfare + 1e-6  # no incentive rows: welfare-max


def test_orbits_keep_the_lp_optimum():
    # the LP on orbits equals the LP on every profile with all agents' rows (no symmetry), at n=2, m=3
    mu = order_statistic_means(parse_prior("beta(a=2, b=5)").marginal(0), 3)
    reduced = O.solve_ordinal(2, 3, mu)
    space = FullSpace(2, 3)
    import scipy.sparse as sp

    from abm.design.program import Program

    F, lo, hi = O.feasibility_rows(space)
    G = O.incentive_rows_full(space)
    A = sp.vstack([F, G], format="csr")
    prog = Program(O.objective(space, mu), A, np.concatenate([lo, np.zeros(G.shape[0])]),
                   np.concatenate([hi, np.full(G.shape[0], np.inf)]))
    assert prog.solve().objective == pytest.approx(reduced.welfare, abs=1e-9)


# ------------------------------------------------------------------------- certificates
def test_dual_certificate_proves_a_bound_and_fails_when_perturbed():
    mu = order_statistic_means(UNIFORM, 4)
    res = O.solve_ordinal(3, 4, mu)
    cert = certify(res.program, res.solution)
    assert check(res.program, cert)
    assert 0 <= cert.gap < 1e-6
    assert float(cert.bound) >= res.welfare
    duals = list(cert.duals)
    k = int(np.argmax(np.abs(np.array(duals, dtype=float))))
    duals[k] += 1 << (cert.bits - 2)  # a quarter added to the largest multiplier
    assert not check(res.program, DualCertificate(duals, cert.bits, cert.bound, cert.primal))
    # a claimed bound below what the multipliers prove is refused too
    assert not check(res.program, DualCertificate(cert.duals, cert.bits, cert.bound - cert.bound / 1000, cert.primal))


def test_cardinal_certificate_checks():
    res = C.solve_cardinal(2, 2, [0.0, 1.0, 4.0], [0.5, 0.3, 0.2])
    cert = certify(res.program, res.solution)
    assert check(res.program, cert) and 0 <= cert.gap < 1e-6


# ------------------------------------------------------------------------- export and audit
def test_exported_mechanism_passes_the_exhaustive_audit_and_a_mutated_table_fails(tmp_path):
    from abm.audit.dsic import dsic_audit

    lab = design.design(3, 3, deterministic=True, audit_profiles=50, sizes=[3])
    assert lab.summary["audit"]["exact"] and lab.summary["audit"]["violations"] == 0
    design.save(lab, tmp_path / "lab")
    mech = mechanisms.get("abm.design:Designed", path=str(tmp_path / "lab"))
    np.testing.assert_array_equal(mech.owner, lab.mechanism.owner)
    a = dsic_audit(mech, n_agents=3, n_items=3, profiles=60, strategies=[], budget=0, cross_check=0)
    assert a.summary["exact"] and a.summary["violations"] == 0
    # mutate: the item agent 0 ranks first goes to agent 1 instead
    space = FullSpace(3, 3)
    owner = mech.owner.copy()
    top0 = np.argmin(space.ranks[:, 0, :], axis=1)
    owner[np.arange(space.count), top0] = 1
    bad = type(mech)(owner, 3, 3)
    assert not O.is_truthful_table(space, owner)[0]
    b = dsic_audit(bad, n_agents=3, n_items=3, profiles=60, strategies=[], budget=0, cross_check=0)
    assert b.summary["exact"] and b.summary["violations"] > 0


def test_designed_tables_refuse_what_they_are_not(tmp_path):
    lab = design.design(2, 3, sizes=[3])  # an LP: randomized
    design.save(lab, tmp_path / "lp")
    with pytest.raises(MechanismError, match="randomized"):
        design.load(tmp_path / "lp")
    with pytest.raises(MechanismError, match="not a lab folder"):
        design.load(tmp_path / "nothing")
    det = design.design(2, 2, deterministic=True, sizes=[2], audit_profiles=10)
    with pytest.raises(MechanismError, match="table for 2 items"):
        det.mechanism.allocate(np.random.default_rng(0).random((2, 3)))


def test_level_table_reads_bids_as_levels_and_is_truthful_on_them():
    lab = design.design(2, 2, domain="cardinal", levels=[0, 1, 4], probs=[0.5, 0.3, 0.2], deterministic=True,
                        sizes=[2], audit_profiles=30)
    mech = lab.mechanism
    assert lab.summary["incentive_rows_hold_exactly"] and lab.summary["audit"]["violations"] == 0
    bids = np.array([[4.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(mech.allocate(bids), mech.allocate(bids + 0.3))  # 4.3 reads as 4, 1.3 as 1
    # levels that are not short decimals (a discretized prior) survive the prior spec the audit samples
    lv, pr = design.discretize("beta(a=2, b=5)", 3)
    lab = design.design(2, 2, domain="cardinal", levels=lv, probs=pr, deterministic=True, sizes=[2], audit_profiles=10)
    space = C.LevelSpace(2, 2, lv, pr)
    np.testing.assert_array_equal(lab.mechanism.allocate(space.values), lab.mechanism.owner)
    drawn = parse_prior(lab.summary["prior"]).sample(np.random.default_rng(1), 2, 2, batch=200)
    assert set(np.unique(drawn)) == set(lv)


# ------------------------------------------------------------------------- inputs
def _tfd(*args):
    return subprocess.run([sys.executable, "-m", "abm.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, expected", [
    (["--domain", "ordinal", "--levels", "0,1"], "describe the cardinal domain"),
    (["--levels", "1"], "at least two levels"),
    (["--levels", "0,1", "--probs", "0.5"], "one per value"),
    (["--levels", "0,2,1"], "strictly increasing"),
    (["--levels", "hard(p=0.9)"], "p must lie"),
    (["--agents", "3", "--items", "4", "--deterministic"], "would take about"),
    (["--agents", "3", "--items", "7", "--deterministic"], "of memory"),
    (["--agents", "3", "--items", "9"], "at most 8 items"),
    (["--prior", "uniform; beta(a=2, b=5)"], "i.i.d. prior"),
    (["--prior", "__import__('os')"], "prior"),
    (["--from-items", "5", "--items", "3"], "above --items"),
    (["--discretize", "3", "--levels", "0,1"], "drop --levels"),
    (["--discretize", "1"], "at least 2 levels"),
    (["--agents", "1"], "an integer from 2 to 64"),
])
def test_bad_input_is_one_line_and_exit_2(args, expected):
    r = _tfd("design", "--no-progress", *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], r.stderr


def test_cli_writes_the_lab_and_a_progress_line(tmp_path):
    r = _tfd("design", "--agents", "2", "--items", "3", "--deterministic", "--out", str(tmp_path / "lab"))
    assert r.returncode == 0, r.stderr
    assert "design: m = 3: optimum" in r.stderr
    for name in ("summary.json", "ratios.parquet", "mechanism.parquet", "ratio.png"):
        assert (tmp_path / "lab" / name).is_file()
    import json

    s = json.loads((tmp_path / "lab" / "summary.json").read_text())
    assert s["optimal"] and s["incentive_rows_hold_exactly"] and s["audit"]["exact"]
    assert s["comparisons"]["best_picking_exchange"]["welfare"] == pytest.approx(s["optimum"], abs=1e-9)


def test_levels_prior_samples_its_levels():
    prior = parse_prior("levels(values=[0, 1, 5], probs=[0.6, 0.3, 0.1])")
    v = prior.sample(np.random.default_rng(0), 2, 50_000)
    freq = np.array([(v == x).mean() for x in (0, 1, 5)])
    # three binomial proportions of 100,000 draws: 5 standard errors is below 0.008
    assert np.abs(freq - [0.6, 0.3, 0.1]).max() < 5 * math.sqrt(0.25 / 100_000)
    from abm.theory import expected_max

    # E[max of 2] = 5 P(some 5) + 1 P(no 5, some 1) = 5 (1 - 0.81) + (0.81 - 0.36)
    assert expected_max(prior.marginal(0), 2) == pytest.approx(5 * 0.19 + 0.45, abs=1e-12)


def test_the_explorer_plays_a_designed_table_and_says_why_it_cannot_play_a_randomized_one(tmp_path):
    from abm.explore.session import Explorer

    design.save(design.design(3, 3, deterministic=True, sizes=[3], audit_profiles=10), tmp_path / "det")
    page = Explorer(mechanism="abm.design:Designed", params=f"path='{tmp_path / 'det'}'", n_agents=3, n_items=3)
    assert page.error is None
    page.step()
    assert page.history[-1]["instances"] > 0 and 0 < page.history[-1]["welfare_ratio"] <= 1
    design.save(design.design(2, 2, sizes=[2]), tmp_path / "lp")
    refused = Explorer(mechanism="abm.design:Designed", params=f"path='{tmp_path / 'lp'}'", n_agents=2, n_items=2)
    assert "randomized" in refused.error and "\n" not in refused.error


def test_the_lab_solves_after_another_highs_user_in_the_same_process():
    # HiGHS keeps one thread scheduler per process: a program asking for another thread count than
    # the first solver's used to come back unsolved ("Not Set") once round robin's solver had run.
    from abm.mechanisms.round_robin_milp import solve_one

    rng = np.random.default_rng(0)
    solve_one(rng.random(6), np.array([rng.permutation(6) for _ in range(3)]), 0, 20_000, 600.0)
    for deterministic in (False, True):
        lab = design.design(3, 2, deterministic=deterministic, sizes=[2], audit_profiles=10)
        assert lab.summary["optimal"] and lab.summary["status"] == "Optimal"


def test_four_agents_two_items_a_bossy_truthful_table_beats_every_pick_r():
    # A finding of the lab, checked here independently: with more agents than items, the deterministic
    # ordinal optimum (uniform prior) is truthful by the brute-force check above, earns 29/24 against
    # the best Pick-r's 28/24, and lets agents' reports move the others' items.
    lab = design.design(4, 2, deterministic=True, sizes=[2], audit_profiles=20)
    space = FullSpace(4, 2)
    owner = lab.mechanism.owner
    assert _sd_truthful(space.ranks, owner)
    mu = order_statistic_means(UNIFORM, 2)
    assert _welfare(space.ranks, owner, mu) == pytest.approx(29 / 24, abs=1e-12)
    assert lab.summary["comparisons"]["best_pick_r"]["welfare"] == pytest.approx(28 / 24, abs=1e-12)
    assert lab.summary["gap_positive"] and lab.summary["explanation"]["bossy_pairs"] > 0
