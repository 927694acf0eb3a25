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


def readme_groups():
    """The README after its quick start (which CI runs itself) as groups of code blocks in
    document order: each ```bash block opens a group, and the ```python blocks that follow it
    join that group (they read what its commands wrote). Bash continuations are joined."""
    text = (ROOT / "README.md").read_text()
    after = text.split("## Quick start", 1)[1].split("\n## ", 1)[1]
    groups = [[]]
    for kind, code in re.findall(r"```(bash|python)\n(.+?)\n```", after, re.S):
        if kind == "bash":
            lines = [line.strip() for line in code.replace("\\\n", " ").splitlines() if line.strip()]
            groups.append([("bash", line) for line in lines])
        else:
            groups[-1].append(("python", code))
    return [g for g in groups if g]


GROUPS = readme_groups()
#: groups whose commands take more than about 20 s here; they run in the suite all the same
SLOW = ("audit mutants", "hill-kertz", "tournament", "scenario run all")


def test_the_readme_shows_commands_and_a_sweep_file_that_exists():
    assert sum(kind == "bash" for g in GROUPS for kind, _ in g) >= 25
    assert sum(kind == "python" for g in GROUPS for kind, _ in g) >= 5
    assert any("examples/sweep.toml" in code for g in GROUPS for _, code in g)
    toml = re.findall(r"```toml\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    shipped = "\n".join(line for line in (ROOT / "examples" / "sweep.toml").read_text().splitlines()
                        if not line.startswith("#"))
    assert toml and toml[0].strip() == shipped.strip()  # the README shows the shipped file


#: commands that serve until stopped: they must come up and answer, then they are stopped
SERVERS = ("tfd explore",)


def _serves(code, cwd):
    """Run a serving command as written until its page answers HTTP 200, then stop it."""
    import os
    import signal
    import subprocess

    from browser_probe import wait_for_page

    # BROWSER=true: Python's webbrowser runs `true` instead of opening a window
    proc = subprocess.Popen(code, shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "BROWSER": "true"})
    try:
        wait_for_page(proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _group_id(group):
    return group[0][1][:60]


@pytest.mark.parametrize("group", [pytest.param(g, id=_group_id(g), marks=[pytest.mark.slow] if any(
    s in code for _, code in g for s in SLOW) else []) for g in GROUPS])
def test_every_readme_command_and_snippet_runs(group, tmp_path, monkeypatch):
    # Each group runs as written, in order, in a fresh folder that has the repo's examples/ and
    # .venv on hand: shell commands must exit 0 without a traceback, Python snippets must run.
    import shutil
    import subprocess

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    monkeypatch.chdir(tmp_path)
    for kind, code in group:
        if kind == "bash" and any(server in code for server in SERVERS):
            _serves(code, tmp_path)
        elif kind == "bash":
            done = subprocess.run(code, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, (code, done.stdout[-500:], done.stderr[-800:])
            assert "Traceback" not in done.stderr, code
        else:
            exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README, run as a doctest would
