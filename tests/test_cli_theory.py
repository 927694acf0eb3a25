"""tfd theory: every subcommand prints its numbers under the documented JSON keys."""

import json
import math

import pytest

from abm.cli import main

CASES = [
    (["alpha", "--r", "0.2928932188134524", "--prior", "uniform"], {"alpha", "r", "s"}),
    (["alpha", "--s", "0.5,1", "--prior", "beta(a=2, b=5)"], {"alpha", "r", "s"}),
    (["ef-margins", "--r", "0.3,0.3,0.4"], {"margins", "min_margin", "envy_free"}),
    (["optimal-r", "--agents", "3", "--prior", "beta(a=2, b=5)"], {"alpha", "r", "s", "values"}),
    (["universal-r", "--agents", "2"], {"alpha", "r", "s", "a_n", "gap"}),
    (["choose-r", "--prior", "truncexpon(b=3)"], {"r", "case", "margin", "alpha", "reason"}),
    (["equal-quota", "--agents", "3"], {"eps", "r", "margins", "min_margin", "alpha"}),
    (["hill-kertz", "--agents", "2", "--cells", "100"], {"a_n", "upper", "error"}),
    (["hill-kertz", "--agents", "3", "--cells", "50", "--table"], {"a_n", "beta", "rows"}),
    (["kertz"], {"beta"}),
    (["fallback-bound"], {"paper_bound", "exact"}),
    (["bai-golz", "--prior", "uniform; beta(a=2, b=3)"], {"weights", "residual", "win_probabilities"}),
    (["correlated", "--prior", "copula(uniform, beta(a=2, b=5), rho=0.5)"], {"tau", "picker", "share"}),
    (["coupling-bound", "--agents", "2", "--items", "1000"], {"bound"}),
]


@pytest.mark.parametrize("args, keys", CASES)
def test_theory_json(capsys, args, keys):
    assert main(["theory", *args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert keys <= set(data)


def test_theory_numbers_are_the_papers(capsys):
    main(["theory", "universal-r", "--agents", "2", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["alpha"] == pytest.approx((2 + math.sqrt(2)) / 4, abs=1e-9)
    main(["theory", "fallback-bound", "--json"])
    assert json.loads(capsys.readouterr().out)["paper_bound"] == pytest.approx(7 / 8, abs=1e-9)


@pytest.mark.parametrize("args, message", [
    (["alpha"], "exactly one of --r"),
    (["alpha", "--r", "0.5,0.6"], "sum to 1"),
    (["alpha", "--r", "0.5", "--prior", "uniform; beta(a=2, b=2)"], "i.i.d."),
    (["alpha", "--r", "0.3,0.3,0.4", "--prior", "uniform; uniform"], "describes 2 agents"),
    (["optimal-r", "--agents", "0"], "positive integer"),
    (["choose-r", "--prior", "beta(a=5, b=2)"], "number of items"),
    (["bai-golz", "--prior", "copula(uniform, rho=0.1)"], "independent agents"),
    (["correlated", "--prior", "norm"], "not bounded"),
    (["nosuch"], "invalid choice"),
])
def test_theory_errors_are_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["theory", *args]))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
