"""One grammar for a mechanism with parameters, ``pick-r(r=[0.3, 0.7])``, in every command.

A mechanism's parameters used to be generated flags sharing each command's namespace, so a
parameter named ``seed`` crashed every command. Now the mechanism is one text, read by
:mod:`abm.mechanisms.grammar` from its declaration, and any parameter name works anywhere.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from abm import mechanisms
from abm.cli import main
from abm.errors import MechanismError
from abm.priors import parse_prior
from abm.mechanisms.base import REGISTRY, Claim, Example, Mechanism, MechanismInfo, Param


class Clash(Mechanism):
    """Highest bid wins, with parameters whose names every command also uses as flags."""

    info = MechanismInfo(name="clash", summary="highest bid wins; parameters named like the commands' flags",
                         claim=Claim.NONE, ordinal=False, reference="a test of the mechanism grammar",
                         parameters={"seed": Param("int", "an int named seed"),
                                     "out": Param("float", "a float named out"),
                                     "json": Param("bool", "a bool named json")},
                         example=Example({"seed": 3, "out": 0.5, "json": True}))

    def __init__(self, seed: int = 0, out: float = 0.0, json: bool = False):
        self.seed_value, self.out_value, self.json_value = seed, out, json

    @property
    def params(self) -> dict:
        return {"seed": self.seed_value, "out": self.out_value, "json": self.json_value}

    def _allocate(self, bids):
        return np.argmax(bids, axis=-2)


TEXT = "clash(seed=3, out=0.5, json=true)"


@pytest.fixture
def clash(monkeypatch):
    monkeypatch.setitem(REGISTRY, "clash", Clash)
    return TEXT


COMMANDS = {
    "simulate": ["simulate", "--mechanism", TEXT, "--items", "5", "--instances", "4", "--seed", "1", "--json",
                 "--no-progress"],
    "audit dsic": ["audit", "dsic", "--mechanism", TEXT, "--items", "3", "--profiles", "2", "--budget", "5",
                   "--seed", "1", "--json", "--no-progress"],
    "audit bic": ["audit", "bic", "--mechanism", TEXT, "--items", "3", "--types", "2", "--samples", "4",
                  "--json", "--no-progress"],
    "learn": ["learn", "--mechanism", TEXT, "--rounds", "4", "--items", "3", "--seed", "1", "--json",
              "--no-progress"],
    "evolve": ["evolve", "--mechanism", TEXT, "--generations", "3", "--population", "4", "--matches", "2",
               "--items", "3", "--json", "--no-progress"],
    "tournament": ["tournament", "--mechanisms", f"{TEXT},ranking", "--players", "truthful,shade", "--rounds", "2",
                   "--items", "3", "--json", "--no-progress"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_parameter_named_like_a_flag_works_in_every_command(clash, capsys, command):
    assert main(COMMANDS[command]) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    text = json.dumps(out)
    assert "clash" in text
    if command == "simulate":
        assert out["mechanism_params"] == {"seed": 3, "out": 0.5, "json": True}
        assert out["seed"] == 1  # the command's own --seed, not the mechanism's


def test_a_parameter_named_like_a_flag_works_in_batch_and_the_explorer(clash, capsys, tmp_path):
    from abm.explore.session import Explorer

    out = tmp_path / "sweep"
    assert main(["batch", "run", "--mechanism", TEXT, "--items", "3", "--instances", "2", "--out", str(out),
                 "--no-progress", "--json"]) == 0, capsys.readouterr().err
    import pandas as pd

    frame = pd.read_parquet(out / "runs")
    assert set(frame["mechanism"]) == {"clash"}
    page = Explorer(mechanism="clash", params="seed=3, out=0.5, json=true")
    assert page.error is None and page.allocation.mechanism.params == {"seed": 3, "out": 0.5, "json": True}


def test_the_grammar_in_a_sweep_file(tmp_path, capsys):
    sweep = tmp_path / "s.toml"
    sweep.write_text('instances = 2\nitems = [4]\nmechanisms = ["pick-r(r=[1/3, 2/3])", "picking(picker=1, sizes=[3])"]\n')
    assert main(["batch", "run", str(sweep), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    import pandas as pd

    frame = pd.read_parquet(tmp_path / "o" / "runs")
    assert sorted(set(frame["mechanism"])) == ["pick-r", "picking"]


def test_parse_reads_values_by_their_declared_kind_and_text_reads_back():
    mech = mechanisms.parse("pick-r(r=[1/3, 2/3])")
    assert mech.shares(2) == [Fraction(1, 3), Fraction(2, 3)]
    assert mechanisms.text(mech) == "pick-r(r=[1/3, 2/3])"
    for text in ["pick-r(r=[0.29, 0.71])", "picking(picker=0, sizes=[3, 5])", "ranking",
                 "exchange(endowment=[0, 2, 5])", "qt-s(s=[0.5, 1])"]:
        assert mechanisms.text(mechanisms.parse(text, prior=parse_prior("uniform"))) == text
    assert mechanisms.parse("pick-r(r=[0.3, 0.7])").params == mechanisms.get("pick-r", r=[0.3, 0.7]).params


@pytest.mark.parametrize("text, message", [
    ("picking(picker=1.5)", "takes a whole number"),
    ("picking(picker=true)", "takes a whole number"),
    ("pick-r(r=[0.3, inf])", "finite"),
    ("pick-r(r=[0.3, 0.7], r=[1])", "given twice"),
    ("pick-r(0.3)", "by name"),
    ("pick-r(r=[0.3, 0.7]); ranking", "expected one name"),
    ("pick-r(r=[1/0])", "divides by zero"),
    ("ranking(r=[1])", "does not take r"),
    ("composition(components=[1])", "from Python only"),
    ("pick-correlated(eps=fast)", "takes a number"),
    ("pick-r(r=open('x'))", "takes a list of numbers"),
])
def test_bad_mechanism_text_is_refused_by_its_declaration(text, message):
    with pytest.raises(MechanismError, match=message):
        mechanisms.parse(text)


def test_a_parameter_given_in_the_text_and_as_an_argument_is_refused():
    with pytest.raises(MechanismError, match="given twice"):
        mechanisms.get("pick-r(r=[0.3, 0.7])", r=[0.5, 0.5])


def test_the_generated_flags_are_gone(capsys):
    assert main(["simulate", "--r", "0.3,0.7", "--items", "3", "--instances", "2", "--no-progress"]) == 2
    assert "unrecognized arguments: --r" in capsys.readouterr().err
