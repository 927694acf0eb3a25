"""Finding, running and reporting the scenarios of the ``scenarios`` package."""

from __future__ import annotations

import html
import importlib
import pkgutil
from pathlib import Path

from abm import files
from abm.errors import TfdError, did_you_mean
from abm.scenario import Context

__all__ = ["available", "run_scenario", "run_all", "write_report"]


def available() -> dict:
    """Scenario modules by name (each defines NAME, TITLE, DESCRIPTION, ORDER and run(ctx))."""
    import scenarios

    found = {}
    for info in pkgutil.iter_modules(scenarios.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"scenarios.{info.name}")
        found[mod.NAME] = mod
    return dict(sorted(found.items(), key=lambda kv: (kv[1].ORDER, kv[0])))


def run_scenario(name: str, out, mode: str = "default", seed: int = 0, progress=None) -> dict:
    mods = available()
    if name not in mods:
        raise TfdError(f"unknown scenario {name!r}{did_you_mean(name, ['all', *mods])}; accepted: all, {', '.join(mods)}")
    mod = mods[name]
    ctx = Context(name, mod.TITLE, Path(out), mode, seed, progress)
    mod.run(ctx)
    summary = ctx.finish()
    summary["description"] = mod.DESCRIPTION
    files.write_json(Path(out) / "summary.json", summary)
    return summary


def run_all(out, mode: str = "default", seed: int = 0, progress=None, names=None, on_done=None) -> list[dict]:
    """Every scenario (or ``names``) into ``out``, then the report; ``on_done(result)`` after each."""
    out = Path(out)
    results = []
    for n in names or available():
        results.append(run_scenario(n, out / n, mode, seed, progress))
        if on_done is not None:
            on_done(results[-1])
    write_report(out, results)
    return results


_MARK = {"reproduced": "reproduced", "not reproduced": "NOT REPRODUCED", "inconclusive": "inconclusive"}
_COLOR = {"reproduced": "#1a7f37", "not reproduced": "#cf222e", "inconclusive": "#9a6700"}


def _num(x):
    return "" if x is None else f"{x:.6g}"


def _rule(c: dict) -> str:
    return c["rule"] + (f" ({c['threshold_reason']})" if c.get("threshold_reason") else "")


def write_report(out, results: list[dict]) -> tuple[Path, Path]:
    """``report.md`` and ``report.html`` gathering every claim's verdict and every figure."""
    out = Path(out)
    counts = {}
    for r in results:
        for c in r["claims"]:
            counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    md = ["# Truthful fair division under stochastic valuations: reproduction report", "",
          f"Mode `{results[0]['mode'] if results else '-'}`, seed {results[0]['seed'] if results else '-'}. "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ".", "",
          "| scenario | claims | reproduced | inconclusive | not reproduced |", "|---|---|---|---|---|"]
    for r in results:
        v = [c["verdict"] for c in r["claims"]]
        md.append(f"| [{r['title']}](#{r['scenario']}) | {len(v)} | {v.count('reproduced')} | "
                  f"{v.count('inconclusive')} | {v.count('not reproduced')} |")
    for r in results:
        md += ["", f"## {r['title']}", f"<a id=\"{r['scenario']}\"></a>", "", r.get("description", ""), "",
               "| claim | paper | rule (why this threshold) | measured | interval | verdict | note |",
               "|---|---|---|---|---|---|---|"]
        for c in r["claims"]:
            md.append(f"| {c['claim']} | {_num(c['paper_value'])} | {_rule(c)} | {_num(c['measured'])} | "
                      f"[{_num(c['ci_low'])}, {_num(c['ci_high'])}] | **{_MARK[c['verdict']]}** | {c['note']} |")
        md.append("")
        md += [f"![{f}]({r['scenario']}/{f})" for f in r["figures"]]
        md.append("\nData: " + ", ".join(f"`{r['scenario']}/{t}`" for t in r["tables"]) + f" ({r['seconds']} s)")
    files.write_text(out / "report.md", "\n".join(md) + "\n")

    h = ["<!doctype html><html><head><meta charset='utf-8'><title>tfd reproduction report</title>",
         "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}"
         "img{max-width:48%;margin:4px;border:1px solid #eee}.v{font-weight:bold}</style></head><body>",
         "<h1>Truthful fair division under stochastic valuations: reproduction report</h1>",
         f"<p>{html.escape(md[2].replace('`', ''))}</p><table><tr><th>scenario</th><th>claims</th><th>reproduced</th>"
         "<th>inconclusive</th><th>not reproduced</th></tr>"]
    for r in results:
        v = [c["verdict"] for c in r["claims"]]
        h.append(f"<tr><td><a href='#{r['scenario']}'>{html.escape(r['title'])}</a></td><td>{len(v)}</td>"
                 f"<td>{v.count('reproduced')}</td><td>{v.count('inconclusive')}</td>"
                 f"<td>{v.count('not reproduced')}</td></tr>")
    h.append("</table>")
    for r in results:
        h.append(f"<h2 id='{r['scenario']}'>{html.escape(r['title'])}</h2><p>{html.escape(r.get('description', ''))}</p>")
        h.append("<table><tr><th>claim</th><th>paper</th><th>rule (why this threshold)</th><th>measured</th>"
                 "<th>interval</th><th>verdict</th><th>note</th></tr>")
        for c in r["claims"]:
            h.append(f"<tr><td>{html.escape(c['claim'])}</td><td>{_num(c['paper_value'])}</td>"
                     f"<td>{html.escape(_rule(c))}</td>"
                     f"<td>{_num(c['measured'])}</td><td>[{_num(c['ci_low'])}, {_num(c['ci_high'])}]</td>"
                     f"<td class='v' style='color:{_COLOR[c['verdict']]}'>{_MARK[c['verdict']]}</td>"
                     f"<td>{html.escape(c['note'])}</td></tr>")
        h.append("</table>")
        h += [f"<img src='{r['scenario']}/{f}' alt='{html.escape(f)}'>" for f in r["figures"]]
    h.append("</body></html>")
    files.write_text(out / "report.html", "\n".join(h))
    return out / "report.md", out / "report.html"
