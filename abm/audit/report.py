"""Writing audit results: tidy frames (Parquet and CSV), summary.json, witnesses, the p_t plot."""

from __future__ import annotations

from pathlib import Path

from abm import files
from abm import __version__
from abm.jsonable import to_jsonable
from abm.errors import TfdError

__all__ = ["write_audit", "plot_p_t"]


def plot_p_t(p_t, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for agent, g in p_t.groupby("agent"):
        ax.plot(g["position"], g["p"], marker="o", ms=3, label=f"agent {agent}")
        ax.fill_between(g["position"], g["ci_low"], g["ci_high"], alpha=0.2)
    ax.set_xlabel("reported rank position t (1 = top)")
    ax.set_ylabel("P(win the item at position t)")
    ax.set_title(title)
    ax.set_ylim(0, 1)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    files.save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path


def write_audit(result, out, kind: str) -> dict[str, str]:
    """Write an audit's outputs into folder ``out``; returns what was written where."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TfdError(f"--out {str(out)!r} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    frame = result.frame.copy()
    for k, v in result.summary.items():
        if k in ("mechanism", "prior", "n_agents", "n_items", "seed"):
            frame[k] = v
    files.write_frame(frame, out / f"{kind}.parquet")
    files.write_frame(frame, out / f"{kind}.csv")
    written["frame"] = str(out / f"{kind}.parquet")
    files.write_json(out / "summary.json", to_jsonable({"version": __version__, **result.summary}))
    written["summary"] = str(out / "summary.json")
    if getattr(result, "witness", None) is not None:
        files.write_text(out / "witness.json", result.witness.to_json())
        written["witness"] = str(out / "witness.json")
    if getattr(result, "shrunk", None) is not None:
        files.write_text(out / "witness-shrunk.json", result.shrunk.to_json())
        written["shrunk_witness"] = str(out / "witness-shrunk.json")
    if getattr(result, "p_t", None) is not None:
        files.write_frame(result.p_t, out / "p_t.csv")
        plot_p_t(result.p_t, out / "p_t.png", f"{result.summary['mechanism']}: win probability by reported rank")
        written["p_t_plot"] = str(out / "p_t.png")
    return written
