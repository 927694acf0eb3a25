"""The README's quick start is what CI runs."""

import re
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
