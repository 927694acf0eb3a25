"""Write docs/open-questions.md and the copulas the counterexample search reached (docs/data/*.npy)
from a run of ``tfd scenario run open-question-contiguous --full``.

    .venv/bin/python docs/generate_open_questions.py tfd-report/open-question-contiguous [", a note on the machine"]

Each figure on the page is read from the scenario's own tables; nothing is typed in.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main(folder: Path, machine_note: str = "") -> None:
    summary = json.loads((folder / "summary.json").read_text())
    search = pd.read_parquet(folder / "counterexample_search.parquet")
    cells = pd.read_parquet(folder / "counterexample_copulas.parquet")
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    saved = {}
    for start, rows in cells.groupby("start", sort=False):
        axes = [c for c in rows.columns if c.startswith("q") and c[1:].isdigit()]
        k = int(rows[axes[0]].max()) + 1
        tensor = np.zeros((k,) * len(axes))
        tensor[tuple(rows[a].to_numpy() for a in axes)] = rows["mass"].to_numpy()
        name = f"counterexample-{start}.npy"
        np.save(data / name, tensor)
        saved[start] = name
    lines = ["# The open question after appendix B: the counterexample search", "",
             f"Measured by `tfd scenario run open-question-contiguous --{summary['mode']}` (seed {summary['seed']}, "
             f"testbed {summary['version']}) on {platform.machine()} with {os.cpu_count()} cores{machine_note}, "
             f"{summary['seconds']:.0f} s for the "
             "whole scenario; this page is written by `docs/generate_open_questions.py` from its tables.", "",
             "The search minimizes, over checkerboard copulas of three agents with k = "
             f"{int(search['k'].iloc[0])} and every cell's density at least {search['floor'].iloc[0]:.0%} of the "
             "independent one, the best smallest EF margin of a quantile-contiguous Pick-r (the maximum over orders "
             "and shares). CMA-ES moves the log cell masses; each start's final copula is checked by the full "
             "search and its margin computed in exact rational arithmetic.", "",
             "| start | copulas | seconds | smallest best margin (checked, exact) | order | shares | copula |",
             "|---|---|---|---|---|---|---|"]
    for _, r in search.iterrows():
        shares = ", ".join(f"{x:.4f}" for x in json.loads(r["shares"]))
        lines.append(f"| {r['start']} | {int(r['evaluations']):,} | {r['seconds']:.0f} | {r['checked']:.5f} | "
                     f"{r['order']} | {shares} | [`data/{saved[r['start']]}`](data/{saved[r['start']]}) |")
    best = search.loc[search["checked"].idxmin()]
    lines += ["", f"Every margin is positive: no counterexample. The smallest, {best['checked']:.5f}, came from the "
              f"{best['start']} start. Rebuild a copula and its best allocation with", "", "```bash",
              f".venv/bin/tfd theory contiguous --prior \"checkerboard(uniform, uniform, uniform, "
              f"file='docs/data/{saved[best['start']]}')\"", "```", ""]
    (HERE / "open-questions.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'open-questions.md'} and {len(saved)} copulas in {data}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tfd-report/open-question-contiguous"),
         sys.argv[2] if len(sys.argv) > 2 else "")
