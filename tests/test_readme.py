"""The README's quick start is what CI runs."""

import re

import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = quick_start_commands()
    assert len(commands) == 2, commands
    install_and_run, install_and_test = commands
    assert "tfd " in install_and_run and "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci


def test_the_python_api_snippets_run(tmp_path, monkeypatch):
    # Each README python block that builds on the package's API runs as written (issue 14 starts here).
    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.+?)\n```", text, re.S) if "from abm import mechanisms, theory" in b]
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own README, run as a doctest would


def readme_command_blocks():
    """Every ```bash block after the quick start (which CI runs itself), as lists of commands
    with backslash continuations joined and comments kept (the shell ignores them)."""
    text = (ROOT / "README.md").read_text()
    after = text.split("## Quick start", 1)[1].split("\n## ", 1)[1]
    blocks = []
    for block in re.findall(r"```bash\n(.+?)\n```", after, re.S):
        joined = block.replace("\\\n", " ")
        blocks.append([line.strip() for line in joined.splitlines() if line.strip()])
    return blocks


BLOCKS = readme_command_blocks()
#: blocks whose commands take more than about 20 s here; they run in the suite all the same
SLOW = ("audit mutants", "hill-kertz", "tournament", "scenario run all")


def test_the_readme_shows_commands_and_a_sweep_file_that_exists():
    assert len(BLOCKS) >= 8
    assert any("examples/sweep.toml" in c for b in BLOCKS for c in b)
    toml = re.findall(r"```toml\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    shipped = "\n".join(line for line in (ROOT / "examples" / "sweep.toml").read_text().splitlines()
                        if not line.startswith("#"))
    assert toml and toml[0].strip() == shipped.strip()  # the README shows the shipped file


@pytest.mark.parametrize("block", [pytest.param(b, marks=[pytest.mark.slow] if any(s in " ".join(b) for s in SLOW)
                                                else [], id=b[0][:60]) for b in BLOCKS])
def test_every_readme_command_runs(block, tmp_path):
    # Each block runs as written, in order, in a fresh folder that has the repo's examples/
    # and .venv on hand, through a shell: exit status 0 for every command.
    import shutil
    import subprocess

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    for command in block:
        done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (command, done.stdout[-500:], done.stderr[-800:])
        assert "Traceback" not in done.stderr, command
