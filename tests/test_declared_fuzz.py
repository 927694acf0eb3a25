"""Fuzz generated from the declarations (:mod:`abm.declare`), not from hand lists.

Every declared option of every ``tfd`` command, every declared parameter of the Python entry
points and of the strategies gets values its declaration refuses: out of range, of the wrong
type, NaN, infinite, huge, empty. Each must be refused in one line (exit 2 from the command line,
a :class:`TfdError` from Python) naming the parameter, before any work, leaving nothing on disk;
and one bad value gets one message wherever it is given.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import math
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies as strategy_registry
from abm import declare
from abm.cli import build_parser, main
from abm.errors import StrategyError, TfdError

#: what each command needs besides the option under test, so that only that option is wrong
NEEDS = {("audit", "dsic"): ["--mechanism", "pick-r", "--profiles", "2", "--items", "3"],
         ("audit", "bic"): ["--mechanism", "ranking", "--profiles", "2", "--samples", "2", "--items", "3"],
         ("simulate",): ["--items", "3", "--instances", "2"],
         ("design",): ["--agents", "2", "--items", "1"],
         ("learn",): ["--rounds", "2", "--items", "3"],
         ("evolve",): ["--generations", "2", "--items", "3"],
         ("tournament",): ["--rounds", "2", "--items", "3", "--players", "truthful"],
         ("theory", "alpha"): ["--r", "0.5,0.5"], ("theory", "ef-margins"): ["--r", "0.5,0.5"],
         ("theory", "optimal-r"): [], ("theory", "universal-r"): [], ("theory", "choose-r"): [],
         ("theory", "equal-quota"): [], ("theory", "hill-kertz"): ["--cells", "10"],
         ("theory", "coupling-bound"): ["--items", "10"], ("theory", "bai-golz"): ["--prior", "uniform; uniform"],
         ("theory", "correlated"): ["--prior", "copula(uniform, uniform, rho=0.5)"],
         ("theory", "contiguous"): ["--prior", "checkerboard(uniform, uniform, cells=[[0.3, 0.2], [0.2, 0.3]])"],
         ("batch", "run"): ["--out", "res", "--instances", "2", "--items", "3"],
         ("audit", "mutants"): ["--items", "3", "--profiles", "2", "--workers", "1", "--only", "control: exchange"]}


def _declared_commands():
    """(command path, Entry) of every leaf command whose flags come from a declaration."""
    out = []

    def walk(parser, path):
        entry = parser._defaults.get("_entry")
        if entry is not None:
            out.append((path, entry))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, path + (name,))

    walk(build_parser(), ())
    return out


COMMANDS = _declared_commands()
NUMERIC = [(path, o) for path, entry in COMMANDS for o in entry.options
           if o.base in (int, float, list) and path in NEEDS]


def _bad_numbers(option) -> st.SearchStrategy:
    """Values (Python numbers and junk) that ``option``'s declaration refuses."""
    low, high, open_low, open_high = option.bounds
    integral = option.base is int
    junk = [float("nan"), float("inf"), float("-inf"), "", "abc", "1,,2", "1e400"]
    choices = [st.sampled_from(junk)]
    if low is not None:
        below = (st.integers(max_value=low - 1) if integral else
                 st.floats(max_value=low, allow_nan=False, allow_infinity=False).filter(
                     lambda x: x < low or (open_low and x == low)))
        choices.append(below)
    if high is not None:
        above = (st.integers(min_value=high + 1) if integral else
                 st.floats(min_value=high, allow_nan=False, allow_infinity=False).filter(
                     lambda x: x > high or (open_high and x == high)))
        choices.append(above)
    if integral:
        choices.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != int(x)
                                                                               if math.isfinite(x) else True))
    return st.one_of(*choices)


def _text(value) -> str:
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


def _run(argv):
    """``tfd argv`` in a fresh folder: (exit status, stdout, stderr, files left behind)."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(argv)
        finally:
            os.chdir(here)
        left = os.listdir(folder)
    return code, out.getvalue(), err.getvalue(), left


@pytest.mark.parametrize("path, option", NUMERIC, ids=[f"{' '.join(p)} {o.flag}" for p, o in NUMERIC])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_a_value_its_declaration_refuses_is_one_line_on_the_command_line(path, option, data):
    value = data.draw(_bad_numbers(option))
    typed = _text(value) if option.base is not list else data.draw(st.sampled_from(["", ",", "a,b", "nan", "1,,2"]))
    code, out, err, left = _run([*path, *NEEDS[path], f"{option.flag}={typed}", "--no-progress"]
                                if "no_progress" in _entry_of(path) else [*path, *NEEDS[path], f"{option.flag}={typed}"])
    assert code == 2, (path, option.flag, typed, code, err[-300:])
    assert err.count("\n") == 1 and err.startswith("tfd: error: ") and not out, err
    if typed.strip():  # an empty text may be refused by argparse's own reading first
        assert f"{option.label} must be " in err, err
    assert left == [], left


def _entry_of(path):
    return dict(COMMANDS)[path]


#: the Python entry points and what each needs besides the parameter under test
def _api():
    from abm.audit import bic_audit, dsic_audit
    from abm.design import design
    from abm.learning import learn
    from abm.mutants import run_zoo
    from abm.population import moran
    from abm.simulate import simulate
    from abm.tournament import tournament

    small = {"n_items": 3}
    return [(simulate, {**small, "instances": 2}), (dsic_audit, {"mechanism": "pick-r", "profiles": 2, **small}),
            (bic_audit, {"mechanism": "ranking", "types": 2, "samples": 2, **small}), (design, {"n_agents": 2, "n_items": 1}),
            (learn, {"rounds": 2, **small}), (moran, {"generations": 2, **small}),
            (tournament, {"rounds": 2, "players": ["truthful"], **small}),
            (run_zoo, {**small, "profiles": 2, "workers": 1, "only": ["control: exchange"]})]


API = [(func, needs, o) for func, needs in _api() for o in func.entry.options if o.base in (int, float, list)
       and o.name in inspect.signature(func).parameters]


@pytest.mark.parametrize("func, needs, option", API, ids=[f"{f.__name__} {o.name}" for f, _, o in API])
@settings(max_examples=6, deadline=None, derandomize=True)
@given(data=st.data())
def test_a_value_its_declaration_refuses_is_refused_from_python(func, needs, option, data):
    value = data.draw(_bad_numbers(option) | st.sampled_from([True, "3", complex(1, 1), [1], {}]))
    if option.base is list:
        value = data.draw(st.sampled_from([[], "0,1", [float("nan")], [-1.0] if option.bounds[0] is None else [-1],
                                           [1, "a"], 3]))
    with pytest.raises(TfdError) as refused:
        func(**{**needs, option.name: value})
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{option.label} must be "), message


COMMON = [(path, o) for path, o in NUMERIC if o.base is int and o.bounds[0] is not None]


@pytest.mark.parametrize("path, option", COMMON[:12], ids=[f"{' '.join(p)} {o.flag}" for p, o in COMMON[:12]])
def test_one_bad_value_gets_one_message_from_the_command_line_and_from_python(path, option):
    bad = option.bounds[0] - 1
    _, _, err, _ = _run([*path, *NEEDS[path], f"{option.flag}={bad}"])
    with pytest.raises(TfdError) as refused:
        option.check(bad)
    assert err == f"tfd: error: {str(refused.value).replace(f'got {bad}', f'got {str(bad)!r}')}\n"


def _declared_strategies():
    out = []
    for name in strategy_registry.names():
        entry = getattr(strategy_registry.base.REGISTRY[name].__init__, "entry", None)
        if entry is not None:
            out.extend((name, o) for o in entry.options)
    return out


STRATEGY_PARAMETERS = _declared_strategies()


def test_the_learners_declare_their_parameters():
    declared = {name for name, _ in STRATEGY_PARAMETERS}
    assert {"hedge", "exp3", "shading-curve", "deadline-schedule", "item-policy", "item-policy-sealed"} <= declared


@pytest.mark.parametrize("name, option", STRATEGY_PARAMETERS, ids=[f"{n} {o.name}" for n, o in STRATEGY_PARAMETERS])
@settings(max_examples=6, deadline=None, derandomize=True)
@given(data=st.data())
def test_a_strategy_parameter_its_declaration_refuses_is_refused(name, option, data):
    bad = (data.draw(_bad_numbers(option) | st.sampled_from([True, "3"])) if option.base in (int, float)
           else data.draw(st.sampled_from(["nosuch", 3, ""])))
    with pytest.raises(StrategyError, match=f"^{option.name} must be "):
        strategy_registry.get(name, **{option.name: bad})


def test_every_declared_command_reads_its_flags_from_one_declaration():
    """The flags a command shows are its declaration's, each once, with the declared help."""
    paths = {path for path, _ in COMMANDS}
    assert {("simulate",), ("audit", "dsic"), ("audit", "bic"), ("design",), ("learn",), ("evolve",),
            ("tournament",), ("audit", "mutants"), ("audit", "replay"), ("batch", "run"), ("batch", "inspect")} <= paths
    for path, entry in COMMANDS:
        flags = [o.flag for o in entry.options]
        assert len(flags) == len(set(flags)), path
        assert all(o.help for o in entry.options), path


def _page_fields():
    from abm.explore.parameters import PAGE

    return [o for o in PAGE.options if o.base in (int, float)]


@pytest.mark.parametrize("option", _page_fields(), ids=[o.name for o in _page_fields()])
@settings(max_examples=8, deadline=None, derandomize=True)
@given(data=st.data())
def test_a_page_field_its_declaration_refuses_is_a_message_on_the_page(option, data):
    from abm.explore.session import Explorer

    bad = data.draw(_bad_numbers(option) | st.sampled_from([True, complex(1, 1), [1], None]))
    page = Explorer(**{option.name: bad})
    assert page.internal is None, page.internal
    assert page.error is not None and "\n" not in page.error and page.error.startswith(f"{option.label} must be "), \
        page.error


def test_every_command_is_declared():
    """Every leaf command's flags come from a declaration: none is added by hand beside it."""
    leaves = []

    def walk(parser, path):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            leaves.append((path, parser))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, path + (name,))

    walk(build_parser(), ())
    assert len(leaves) >= 25
    for path, parser in leaves:
        entry = parser._defaults.get("_entry")
        assert entry is not None, f"tfd {' '.join(path)} adds its flags by hand"
        declared = {o.name for o in entry.options}
        by_hand = {a.dest for a in parser._actions if not isinstance(a, argparse._HelpAction)} - declared
        assert not by_hand, (path, by_hand)
