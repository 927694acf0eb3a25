"""`exact` is earned pair by pair: by enumeration of a rule that sees rankings only, by a
catalogue oracle on the code it was verified against (its report confirmed by allocate), or by
a solver's proof; never by a label or a user's own oracle. Planted liars (tests/planted.py) are
never certified."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from abm import mechanisms
from abm.audit import dsic_audit, replay
from abm.cli import main
from abm.errors import MechanismError
from planted import (FalselyOrdinal, FlatnessQuotaCardinal, HiddenFlawPickR, HiddenFlawPickRCardinal, InflatedOracle,
                     TruthfulOracleRoundRobin)

EXAMPLES = __import__("pathlib").Path(__file__).parents[1] / "examples"


@pytest.fixture
def examples_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_pick_r_at_200_items_is_proven_by_its_structural_oracle_not_its_label():
    s = dsic_audit(mechanisms.get("pick-r", r=[0.3, 0.7]), "uniform", 2, 200, profiles=50, seed=0).summary
    assert s["exact"] and s["proof"] == {"exhaustive": 0, "oracle": 100, "solver": 0, "claimed": 0, "none": 0}
    assert s["oracle"].startswith("structural: replay the earlier pickers")
    assert s["properties"]["ordinal"].startswith("declared; by construction") and not s["defects"]
    assert s["proof_note"].startswith("catalogue oracle verified on this code")


def test_the_label_alone_proves_nothing():
    # A mechanism that claims DSIC but has no oracle and is cardinal: nothing is proven at any m.
    class Claimed(mechanisms.Mechanism):
        info = mechanisms.MechanismInfo("claimed", "", "DSIC", False, "", {})

        def _allocate(self, bids):
            return np.argmax(bids, axis=-2).astype(np.int64)

    for m in (5, 30):
        s = dsic_audit(Claimed(), "uniform", 2, m, profiles=20, budget=40, seed=1).summary
        assert not s["exact"] and s["proof"]["none"] == s["pairs"] and s["oracle"].startswith("none")
        assert s["violations"] > 0  # and the search finds what the label hid


@pytest.mark.parametrize("m", [6, 40])
def test_a_hidden_flaw_under_an_inherited_oracle_is_never_certified(m):
    """Declared ordinal (inherited), reading zeros: refused, and it cannot read them in allocate;
    declared cardinal, its inherited oracle is a claim on edited code and the search finds the lie."""
    with pytest.raises(MechanismError, match="declared ordinal but reads magnitudes"):
        dsic_audit(HiddenFlawPickR([0.5, 0.5]), "uniform", 2, m, profiles=50, seed=2)
    zeros = np.zeros((1, 2, m))
    zeros[0, :, 0] = 1.0
    assert np.array_equal(HiddenFlawPickR([0.5, 0.5]).allocate(zeros), mechanisms.get("pick-r").allocate(zeros))
    a = dsic_audit(HiddenFlawPickRCardinal([0.5, 0.5]), "uniform", 2, m, profiles=50, seed=2)
    s = a.summary
    assert not s["exact"] and s["proven_pairs"] == 0 and s["proof"]["oracle"] == 0
    if m == 6:  # the subset search reaches the flaw; its witness replays through the flawed rule
        assert s["violations"] > 0 and a.witness is not None


def test_a_false_ordinal_declaration_is_refused():
    with pytest.raises(MechanismError, match="falsely-ordinal .* declared ordinal but reads magnitudes"):
        dsic_audit(FalselyOrdinal(), "uniform", 2, 5, profiles=30, seed=3)


def test_an_oracle_its_allocate_does_not_confirm_proves_nothing():
    s = dsic_audit(InflatedOracle(), "uniform", 3, 20, profiles=20, budget=0, strategies=[], seed=4).summary
    assert not s["exact"] and s["proof"]["oracle"] == 0 and s["proof"]["claimed"] == 0
    assert s["defects"] and "implementation defect" in s["defects"][0] and "its oracle is a claim" in s["proof_note"]


def test_an_oracle_that_is_wrong_only_at_large_m_is_a_defect():
    """A user's oracle is never self-tested into trust: it is a claim at every m, and an oracle
    report that misses its optimum is a defect that leaves its pairs unproven."""
    small = dsic_audit(InflatedOracle(from_items=9), "uniform", 3, 6, profiles=20, budget=0, strategies=[],
                       seed=4).summary
    assert small["exact"] and small["proof"]["exhaustive"] == 60 and small["proof"]["oracle"] == 0
    s = dsic_audit(InflatedOracle(from_items=9), "uniform", 3, 20, profiles=20, budget=0, strategies=[],
                   seed=4).summary
    assert not s["exact"] and s["proof"]["oracle"] == 0
    assert s["defects"] and "implementation defect" in s["defects"][0]


def test_an_oracle_beaten_by_another_deviation_is_caught():
    """The truth claimed optimal under round robin: at m = 6 enumeration proves every pair itself and
    contradicts the claim; at m = 12 the search, which runs on every claimed pair, does."""
    s = dsic_audit(TruthfulOracleRoundRobin(), "uniform", 2, 6, profiles=40, seed=5).summary
    assert s["exact"] and s["proof"]["exhaustive"] == 80 and s["violations"] > 0 and s["proof"]["oracle"] == 0
    assert any("enumeration of every ranking finds" in d for d in s["defects"])
    late = dsic_audit(TruthfulOracleRoundRobin(), "uniform", 2, 12, profiles=40, seed=5).summary
    assert not late["exact"] and late["violations"] > 0 and late["proof"]["oracle"] == 0
    assert any("the rule's own oracle claims" in d for d in late["defects"])


def test_round_robin_with_three_agents_every_pair_proven_by_the_solver():
    s = dsic_audit("round-robin", "uniform", 3, 12, profiles=10, budget=0, strategies=[], seed=6).summary
    assert s["exact"] and s["proof"]["solver"] == 30 and s["violations"] > 0


def test_a_solver_that_stops_at_its_limit_leaves_the_pair_unproven(monkeypatch):
    # A solve that hits its time limit returns a feasible sequence without a proof: the audit must
    # use its report as evidence, prove nothing from it, and not call it a defect.
    import abm.mechanisms.round_robin_milp as milp

    real = milp.solve_one
    monkeypatch.setattr(milp, "solve_one", lambda *a, **k: (real(*a, **k)[0], False, "time limit"))
    s = dsic_audit("round-robin", "uniform", 3, 10, profiles=6, budget=0, strategies=[], seed=7).summary
    assert s["proof"]["none"] == s["pairs"] and not s["exact"] and not s["defects"]
    assert s["violations"] > 0  # the unproven solver reports still find the lies


def test_exchange_and_compositions_are_proven_beyond_enumeration():
    rng = np.random.default_rng(8)
    comp = mechanisms.random_composition(60, rng, max_components=4)
    s = dsic_audit(comp, "uniform", 2, 60, profiles=40, seed=9).summary
    assert s["exact"] and s["proof"]["oracle"] == 80 and s["max_gain"] <= 1e-9


def test_bring_your_own_mechanism_from_python_without_an_oracle(examples_on_path):
    from my_mechanism import Threshold

    small = dsic_audit(Threshold(threshold=0.5), "uniform", 2, 6, profiles=30, seed=10)
    assert small.summary["search"] == "subset search" and not small.summary["exact"]
    assert small.summary["violations"] > 0 and replay(small.witness)["confirmed"]
    large = dsic_audit(Threshold(threshold=0.5), "uniform", 2, 50, profiles=30, budget=50, seed=10)
    assert large.summary["search"] == "local search" and not large.summary["exact"]
    assert large.shrunk is not None or large.witness is not None


def test_bring_your_own_mechanism_from_the_cli(tmp_path, capsys, examples_on_path):
    out = tmp_path / "mine"
    assert main(["audit", "dsic", "--mechanism", "my_mechanism:Threshold(threshold=0.7)",
                 "--items", "6", "--profiles", "20", "--json", "--no-progress", "--out", str(out)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["mechanism"] == "Threshold" and s["mechanism_params"] == {"threshold": 0.7} and not s["exact"]
    w = json.loads((out / "witness.json").read_text())
    assert w["mechanism"]["name"] == "my_mechanism:Threshold"
    assert main(["audit", "replay", str(out / "witness.json")]) == 0


@pytest.mark.parametrize("target, message", [
    ("no_such_module_xyz:Thing", "cannot import module"),
    ("planted:np", "not a subclass"),
    ("not a path:X", "expected ';' or end of input"),
    ("abm.mechanisms:get", "not a subclass"),
])
def test_bad_import_paths_are_one_line_errors(capsys, target, message):
    assert main(["audit", "dsic", "--mechanism", target, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_an_entry_point_registers_a_mechanism_by_name(tmp_path, monkeypatch):
    pkg = tmp_path / "site"
    (pkg / "tfd_plugin_demo").mkdir(parents=True)
    (pkg / "tfd_plugin_demo" / "__init__.py").write_text(textwrap.dedent('''
        import numpy as np
        from abm.mechanisms import Mechanism, MechanismInfo

        class Everything(Mechanism):
            info = MechanismInfo("everything-to-one", "agent 0 gets every item", "DSIC", True, "", {})

            def _allocate(self, bids):
                return np.zeros(bids.shape[:-2] + bids.shape[-1:], dtype=np.int64)

            def best_response(self, values, bids, agent):
                from abm.mechanisms import BestResponse
                got = np.full(len(values), agent == 0)
                return BestResponse(np.array(values, float), np.where(got, values.sum(-1), 0.0), got | True,
                                    "structural: agent 0 owns everything")
    '''))
    dist = pkg / "tfd_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tfd-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tfd.mechanisms]\neverything-to-one = tfd_plugin_demo:Everything\n")
    monkeypatch.syspath_prepend(str(pkg))
    mech = mechanisms.get("everything-to-one")
    assert mechanisms.spec_name(mech) == "everything-to-one"
    assert "everything-to-one" in [i.name for i in mechanisms.available()]
    s = dsic_audit("everything-to-one", "uniform", 2, 20, profiles=10, seed=11).summary
    assert not s["exact"] and s["proof"]["claimed"] == 20 and s["violations"] == 0  # a plug-in's oracle: a claim
    small = dsic_audit("everything-to-one", "uniform", 2, 6, profiles=10, seed=11).summary
    assert small["exact"] and small["proof"]["exhaustive"] == 20  # ordinal by construction: enumeration proves


def test_the_readme_example_is_the_shipped_file_and_its_commands_run(tmp_path, monkeypatch, capsys, examples_on_path):
    import re
    import shlex

    readme = (EXAMPLES.parent / "README.md").read_text()
    section = readme.split("### Bring your own mechanism", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.+?)\n```", section, re.S)[0]
    shipped = [line.strip() for line in (EXAMPLES / "my_mechanism.py").read_text().splitlines() if line.strip()]
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    it = iter(shipped)
    assert all(any(line == s for s in it) for line in lines), "README snippet drifted from examples/my_mechanism.py"
    monkeypatch.chdir(tmp_path)
    for command in re.findall(r"```bash\n(.+?)\n```", section, re.S)[0].replace("\\\n", " ").splitlines():
        argv = shlex.split(command)
        assert argv[:2] == ["PYTHONPATH=examples", ".venv/bin/tfd"], argv
        assert main(argv[2:] + (["--no-progress"] if argv[3] == "dsic" else [])) == 0
    assert "confirmed" in capsys.readouterr().out


def test_round_robin_beyond_the_solver_size_is_unproven_not_a_defect():
    s = dsic_audit("round-robin", "uniform", 3, 45, profiles=4, budget=20, strategies=[], seed=12).summary
    assert not s["exact"] and s["proof"]["none"] == s["pairs"] and not s["defects"]
    assert "solver not attempted" in s["oracle"]


@pytest.mark.parametrize("scale", [1e-12, 1.0, 1e12])
def test_one_definition_of_a_gain_that_counts_at_every_scale(scale):
    """The audit, the shrinker and replay count a gain relative to the deviator's total value, so
    a prior rescaled by 1e-12 or 1e12 gives the same violations, a witness that shrinks and
    replays as confirmed (an absolute 1e-9 made all three disagree at 1e-12)."""
    a = dsic_audit("round-robin", f"uniform(scale={scale})", 2, 6, profiles=40, seed=3)
    base = dsic_audit("round-robin", "uniform", 2, 6, profiles=40, seed=3)
    assert a.summary["violations"] == base.summary["violations"] > 0
    assert len(a.shrunk.values[0]) < len(a.witness.values[0])
    assert replay(a.witness)["confirmed"] and replay(a.shrunk)["confirmed"]
    assert a.summary["max_gain"] == pytest.approx(base.summary["max_gain"] * scale, rel=1e-9)


@pytest.mark.parametrize("m", [6, 50])
def test_a_rule_that_reads_the_shape_of_the_bids_is_caught_at_every_m(m):
    """Flatness-dependent quotas keep every report's order. Declared ordinal, the guard's nearly
    flat transform shows the rule reads magnitudes and the audit refuses it; declared cardinal, the
    shape probes find the lie (a large constant added to the truth) at m = 50 as the subset search
    does at m = 6."""
    from planted import FlatnessQuota

    with pytest.raises(MechanismError, match="declared ordinal but reads magnitudes"):
        dsic_audit(FlatnessQuota([0.5, 0.5]), "uniform", 2, m, profiles=40, seed=7)
    a = dsic_audit(FlatnessQuotaCardinal([0.5, 0.5]), "uniform", 2, m, profiles=40, seed=7)
    s = a.summary
    assert s["properties"]["ordinal"] == "not declared" and not s["exact"]
    assert s["violations"] > 0 and replay(a.witness)["confirmed"]
