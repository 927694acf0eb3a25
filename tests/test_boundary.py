"""Numbers and files at the boundary: refused in one line, with the first bad entry or key named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from abm import mechanisms
from abm.cli import main
from abm.errors import MechanismError, TfdError


@pytest.mark.parametrize("bids, message", [
    (np.zeros((0, 2, 3)), "no instances"),
    (np.ones((2, 3)) * (1 + 1j), "real numbers"),
    (np.ma.masked_array(np.ones((2, 3)), mask=[[0, 1, 0], [0, 0, 0]]), r"hidden entries \(the first at \[0, 1\]\)"),
    (np.array([[1.0, np.nan, 2.0], [1.0, 1.0, 1.0]]), r"bids\[0, 1\] is NaN"),
    (np.array([[1.0, 2.0, 3.0], [1.0, 0.5, np.inf]]), r"bids\[1, 2\] is infinite"),
    (np.array([[1.0, 2.0, 3.0], [1.0, -0.5, 1.0]]), r"bids\[1, 1\] is negative"),
    (np.array([["a", "b"], ["c", "d"]]), "numeric array"),
    (np.array([[1, None], [2, 3]], dtype=object), "numeric array"),
])
def test_bids_must_be_real_finite_nonnegative_numbers(bids, message):
    with pytest.raises(MechanismError, match=message):
        mechanisms.parse("pick-r").allocate(bids)


def test_a_masked_array_with_nothing_hidden_is_allocated_as_its_values():
    bids = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    owner = mechanisms.parse("pick-r").allocate(np.ma.masked_array(bids))
    assert owner.tolist() == mechanisms.parse("pick-r").allocate(bids).tolist()


@pytest.mark.parametrize("cells, message", [
    (np.ones((3, 3)) * (1 + 0j), "real numbers"),
])
def test_complex_cell_masses_are_refused(tmp_path, cells, message):
    from abm.priors import parse_prior

    np.save(tmp_path / "cells.npy", cells)
    with pytest.raises(TfdError, match=message):
        parse_prior(f"checkerboard(uniform, uniform, file='{tmp_path / 'cells.npy'}')")


DESIGN = [
    (["--agents", "10000000"], "from 2 to 64"),
    (["--agents", "1000", "--items", "1"], "from 2 to 64"),
    (["--agents", "2", "--items", "1", "--levels", "0,1e-320"], "outside [1e-50, 1e+50]"),
    (["--agents", "2", "--items", "1", "--levels", "0,1e300"], "outside [1e-50, 1e+50]"),
    (["--agents", "2", "--items", "1", "--levels", "0,1", "--probs", "1e-300,1"], "below the 1e-100"),
    (["--agents", "2", "--items", "1", "--levels", "1e-50,1e50", "--probs", "1e-50,1"], "found no optimum"),
    (["--agents", "2", "--items", "2", "--discretize", "1000000"], "memory"),
]


@pytest.mark.parametrize("args, message", DESIGN)
def test_design_refuses_what_has_no_certified_optimum(capsys, args, message):
    assert main(["design", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("kwargs, message", [
    ({"sizes": [-1]}, "sizes must be a non-empty list of integers >= 1"), ({"sizes": []}, "sizes must be a non-empty"),
    ({"domain": "cardinal", "levels": "0,1,5"}, "levels must be a non-empty list of finite numbers"),
    ({"domain": "cardinal", "levels": [0, float("inf")]}, "finite numbers"),
    ({"seed": -1}, "seed must be"), ({"n_agents": 2.5}, r"n_agents \(--agents\) must be an integer from 2 to 64"),
])
def test_design_api_refuses_bad_arguments_as_the_cli_does(kwargs, message):
    from abm.design import design

    with pytest.raises(TfdError, match=message):
        design(**{"n_agents": 2, "n_items": 1, **kwargs})


def test_json_files_refuse_duplicate_keys_nan_pipes_and_depth(tmp_path):
    import os

    from abm import readers

    (tmp_path / "dup.json").write_text('{"a": 1, "a": 2}')
    (tmp_path / "nan.json").write_text('{"a": NaN}')
    (tmp_path / "deep.json").write_text("[" * 100 + "]" * 100)
    os.mkfifo(tmp_path / "fifo.json")
    for name, message in [("dup", "written twice"), ("nan", "not a JSON number"), ("deep", "nests deeper"),
                          ("fifo", "not a regular file")]:
        with pytest.raises(TfdError, match=message):
            readers.json_file(tmp_path / f"{name}.json", "test file")


def test_a_witness_with_a_key_twice_is_refused(tmp_path, capsys):
    (tmp_path / "w.json").write_text('{"mechanism": {"name": "ranking"}, "mechanism": {"name": "pick-r"}}')
    assert main(["audit", "replay", str(tmp_path / "w.json")]) == 2
    assert "'mechanism' is written twice" in capsys.readouterr().err


def test_sweep_files_refuse_duplicate_keys(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text("mechanisms:\n  - name: pick-r\n    name: ranking\n")
    assert main(["batch", "run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "key 'name' is written twice" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_the_batch_test_hook_reads_its_variable_through_the_checks(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TFD_BATCH_STOP_AFTER", "abc")
    assert main(["batch", "run", "--mechanism", "ranking", "--items", "4", "--instances", "2", "--out",
                 str(tmp_path / "o"), "--no-progress"]) == 2
    assert "TFD_BATCH_STOP_AFTER" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_batch_inspect_refuses_metadata_that_disagrees_with_its_parts(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["batch", "run", "--mechanism", "ranking", "--items", "4", "--instances", "2", "--replications", "2",
                 "--out", str(out), "--no-progress"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    meta["runs"] = 1
    (out / "metadata.json").write_text(json.dumps(meta))
    capsys.readouterr()
    assert main(["batch", "inspect", str(out)]) == 2
    assert "says 1 runs but its parts hold 2" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["abm.mechanisms.base:Mechanism", "abm.mechanisms:Mechanism"])
def test_a_mechanism_class_with_no_rule_is_refused_in_one_line(capsys, target):
    from abm.cli import main

    assert main(["simulate", "--mechanism", target, "--items", "3", "--instances", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "defines no allocation rule" in err, err
