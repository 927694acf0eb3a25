"""Files are files or nothing: a full disk or a blocked path is one line, exit 74, and no
folder the run created is left behind (abm/files.py)."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from abm.cli import main
from abm.files import EXIT_IO

COMMANDS = {
    "simulate": ["simulate", "--items", "200", "--instances", "400", "--csv", "--no-progress"],
    "audit dsic": ["audit", "dsic", "--mechanism", "ranking", "--items", "5", "--profiles", "40", "--no-progress"],
    "learn": ["learn", "--mechanism", "welfare-max", "--rounds", "200", "--items", "6", "--no-progress"],
    "design": ["design", "--agents", "2", "--items", "2", "--no-progress"],
    "batch run": ["batch", "run", "--mechanism", "ranking", "--items", "50", "--instances", "50",
                  "--replications", "4", "--csv", "--no-progress"],
}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 12 KiB tmpfs: room for a folder and a small file, not for a run's results."""
    disk = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (the folder-in-the-way test below runs everywhere)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_full_disk_is_one_line_exit_74_and_leaves_nothing(tiny_disk, capsys, command):
    out = tiny_disk / "results" / "run"
    code = main([*COMMANDS[command], "--out", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_IO, err
    assert err.count("\n") == 1 and err.startswith("tfd: error: cannot write") and "no space left" in err, err
    assert os.listdir(tiny_disk) == []  # the folders the run created are gone, with every temporary file


@pytest.mark.parametrize("command", ["simulate", "audit dsic", "learn", "design"])
def test_a_folder_in_the_way_is_one_line_exit_74_and_the_existing_folder_is_kept(tmp_path, capsys, command):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "summary.json").mkdir()  # a folder where a result file goes
    (out / "mine.txt").write_text("the user's own file")
    code = main([*COMMANDS[command], "--out", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_IO, err
    assert err.count("\n") == 1 and "a folder is in the way" in err and "summary.json" in err, err
    left = sorted(p.name for p in out.iterdir())
    assert "mine.txt" in left and not [name for name in left if name.endswith(".tmp")], left


def test_a_refused_run_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "new" / "deeper"
    assert main(["simulate", "--mechanism", "pick-r(r=[0.5, 0.6])", "--out", str(out), "--no-progress"]) == 2
    assert main(["audit", "dsic", "--mechanism", "ranking", "--prior", "uniform; uniform; uniform", "--out", str(out),
                 "--no-progress"]) == 2
    assert not (tmp_path / "new").exists()


def test_replacing_never_leaves_half_a_file(tmp_path):
    from abm import files

    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with files.replacing(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("the writer failed")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
    files.write_json(target, {"a": 1})
    assert target.read_text() == '{\n  "a": 1\n}'


def test_an_output_name_too_long_to_look_up_is_one_line(capsys):
    assert main(["simulate", "--items", "5", "--instances", "2", "--out", "a" * 300, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the name is too long" in err and "Traceback" not in err, err


def test_a_folder_where_the_witness_goes_is_named_not_its_temporary_file(tmp_path, capsys):
    out = tmp_path / "existing"
    (out / "witness.json").mkdir(parents=True)
    code = main(["audit", "dsic", "--mechanism", "welfare-max", "--items", "4", "--profiles", "10", "--no-progress",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_IO and err.count("\n") == 1, err
    assert f"cannot write or read '{out / 'witness.json'}': a folder is in the way" in err, err
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
