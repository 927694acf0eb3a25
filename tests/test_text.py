"""User-facing text (CLI output, reports, README, comments, docstrings) explains itself: it never
points at the project's internal issue tracker."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACKER = re.compile(r"\bissues? \d+\b|\bissue's\b|\(issue\)", re.IGNORECASE)


def test_no_text_names_an_issue():
    files = [ROOT / "README.md", ROOT / "pyproject.toml", *ROOT.glob("CONTRIBUTING.md")]
    for folder in ("abm", "strategies", "scenarios", "benchmarks", "examples", "docs", "tests", ".ci"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".toml", ".js",
                                                                                            ".vue", ".yaml", ""}]
    hits = [f"{p.relative_to(ROOT)}:{k}: {line.strip()}" for p in files
            for k, line in enumerate(p.read_text(errors="replace").splitlines(), 1) if TRACKER.search(line)]
    assert not hits, "\n".join(hits)
