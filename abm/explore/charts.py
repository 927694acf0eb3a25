"""The explorer's charts, as ECharts options built from the
:class:`~abm.explore.session.Explorer`'s history frames.

The browser draws them (solara's ``FigureEcharts``, with the ECharts build that
``solara-assets`` ships, so the page needs no CDN); the server only builds these plain,
JSON-ready dicts, which takes microseconds where rendering a Matplotlib figure per
chart took 0.15 s a step here. Intervals are drawn as bands: a transparent lower line
with the band's width stacked on it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

RATES = {"ef": "envy-free", "ef1": "EF1", "prop": "proportional"}
#: agent colours (Tableau 10)
PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#9c755f"]
#: greys for the cells of items an agent does not own, by quartile of its value's quantile
GREYS = ["#eeeeee", "#d4d4d4", "#b4b4b4", "#949494"]
#: points drawn per line at most; longer histories are thinned evenly (the last point kept)
MAX_POINTS = 400


def _num(x) -> float | None:
    """A JSON number, or None (ECharts' gap) for NaN and infinities."""
    x = float(x)
    return x if math.isfinite(x) else None


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= MAX_POINTS:
        return frame
    keep = np.unique(np.r_[np.linspace(0, len(frame) - 1, MAX_POINTS).round().astype(int), len(frame) - 1])
    return frame.iloc[keep]


def _base(title: str, x_name: str = "instances") -> dict:
    return {
        "animation": False,  # steps arrive faster than an animation would finish
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "textStyle": {"fontSize": 11}},
        "grid": {"left": 56, "right": 24, "top": 36, "bottom": 58},
        "xAxis": {"type": "category", "name": x_name, "nameLocation": "middle", "nameGap": 24,
                  "boundaryGap": False, "data": []},
        "yAxis": {"type": "value", "scale": True},
        "series": [],
    }


def _band(name: str, low, high, colour: str, stack: str) -> list[dict]:
    """Two stacked series that fill between ``low`` and ``high`` (no legend entry, no tooltip)."""
    low = [_num(v) for v in low]
    width = [None if a is None or b is None else b - a for a, b in zip(low, (_num(v) for v in high))]
    common = {"type": "line", "stack": stack, "symbol": "none", "lineStyle": {"opacity": 0}, "silent": True,
              "tooltip": {"show": False}}
    return [{**common, "name": f"{name} low", "data": low},
            {**common, "name": f"{name} band", "data": width, "areaStyle": {"color": colour, "opacity": 0.2}}]


def _line(name: str, values, colour: str) -> dict:
    return {"type": "line", "name": name, "data": [_num(v) for v in values], "symbol": "none",
            "lineStyle": {"width": 2, "color": colour}, "itemStyle": {"color": colour}}


def _legend_only(option: dict) -> None:
    option["legend"]["data"] = [s["name"] for s in option["series"] if not s.get("silent")]


def placeholder(name: str) -> dict:
    """An empty chart that says what will appear once a step has run."""
    return {"animation": False, "title": {"text": f"{name}: no steps yet", "left": "center", "top": "middle",
                                          "textStyle": {"fontSize": 13, "color": "#888"}}}


def welfare_chart(history: pd.DataFrame, prediction, confidence: float) -> dict:
    """The cumulative welfare ratio E[SW] / E[OPT] with its interval, and the theory's line."""
    option = _base(f"welfare ratio so far ({confidence:.0%} interval)")
    h = _thin(history)
    option["xAxis"]["data"] = [int(v) for v in h["instances"]]
    line = _line("simulated", h["welfare_ratio"], PALETTE[0])
    values = [v for v in np.r_[h["ratio_low"], h["ratio_high"], h["welfare_ratio"]] if np.isfinite(v)]
    if prediction.value is not None:
        line["markLine"] = {"symbol": "none", "silent": True,
                            "lineStyle": {"type": "dashed", "color": "#b22222", "width": 1.5},
                            "label": {"formatter": f"{prediction.label}: {prediction.value:.4f}",
                                      "position": "insideStartTop", "color": "#b22222", "fontSize": 11},
                            "data": [{"yAxis": float(prediction.value)}]}
        values.append(float(prediction.value))
    if values:  # the axis must reach the theory's line, not only the data
        lo, hi = min(values), max(values)
        pad = max(1e-3, 0.1 * (hi - lo))
        option["yAxis"].update({"min": round(lo - pad, 3), "max": round(hi + pad, 3),
                                # the ends are where the data put them, not round numbers
                                "axisLabel": {"showMinLabel": False, "showMaxLabel": False}})
    option["series"] = _band("interval", h["ratio_low"], h["ratio_high"], PALETTE[0], "ratio") + [line]
    _legend_only(option)
    return option


def rates_chart(history: pd.DataFrame, confidence: float) -> dict:
    """Envy-freeness, EF1 and proportionality rates so far, with Clopper-Pearson intervals."""
    option = _base(f"fairness rates so far ({confidence:.0%} intervals)")
    h = _thin(history)
    option["xAxis"]["data"] = [int(v) for v in h["instances"]]
    option["yAxis"].update({"min": 0, "max": 1, "scale": False})
    for colour, (key, name) in zip(PALETTE, RATES.items()):
        option["series"] += _band(name, h[f"{key}_low"], h[f"{key}_high"], colour, key)
        option["series"].append(_line(name, h[f"{key}_rate"], colour))
    _legend_only(option)
    return option


def gains_chart(gains: pd.DataFrame, confidence: float) -> dict:
    """Each agent's mean gain over truthful play (its utility minus what the truth would have
    got against the same bids of the others), with its t interval."""
    option = _base(f"gain over truthful play ({confidence:.0%} intervals)")
    first = True
    for agent, rows in gains.groupby("agent", sort=True):
        rows = _thin(rows)
        if first:
            option["xAxis"]["data"] = [int(v) for v in rows["instances"]]
            first = False
        colour = PALETTE[(int(agent) - 1) % len(PALETTE)]
        name = f"agent {agent} ({rows['strategy'].iloc[-1]})"
        option["series"] += _band(name, rows["gain_low"], rows["gain_high"], colour, f"agent{agent}")
        option["series"].append(_line(name, rows["mean_gain"], colour))
    if option["series"]:
        option["series"][-1]["markLine"] = {"symbol": "none", "silent": True, "label": {"show": False},
                                            "lineStyle": {"color": "#888", "width": 1}, "data": [{"yAxis": 0}]}
    _legend_only(option)
    return option


def instance_chart(table: pd.DataFrame, n_agents: int) -> dict:
    """One instance: a column per item, ordered by the highest quantile any agent has for it
    (left: most coveted), a row per agent. The owner's cell is in its colour and labelled
    with the pick number or the owner's rank; other cells are grey, darker for a higher
    quantile of that agent's value. Hover a cell for its numbers."""
    m = int(table["position"].max())
    # colour codes: 0..n-1 the owner, n + the quartile of its value's quantile for the others
    quartile = np.minimum(3, (4 * table["quantile"].to_numpy()).astype(int))
    code = np.where(table["owns"], table["agent"] - 1, n_agents + quartile)
    tip = ("agent " + table["agent"].astype(str) + ", item " + table["item"].astype(str)
           + ": value " + table["value"].map("{:.4g}".format) + " (quantile " + table["quantile"].map("{:.3f}".format)
           + "), bid " + table["bid"].map("{:.4g}".format) + "; owner agent " + table["owner"].astype(str)
           + np.where(table["owns"], "; label " + table["label"], ""))
    # rows [x, y, colour code, label, tooltip], read by position: the heatmap takes x and y,
    # the visual map dimension 2, the label dimension 3, the tooltip dimension 4
    data = pd.DataFrame({"x": table["position"] - 1, "y": table["agent"] - 1, "code": code,
                         "label": table["label"], "tip": tip}).to_numpy().tolist()
    pieces = [{"value": i, "label": f"agent {i + 1}", "color": PALETTE[i % len(PALETTE)]} for i in range(n_agents)]
    pieces += [{"value": n_agents + k, "label": label, "color": GREYS[k]}
               for k, label in enumerate(["not owned: q < .25", ".25-.5", ".5-.75", "q > .75"])]
    return {
        "animation": False,
        "title": {"text": "one instance of the last step", "left": "center", "textStyle": {"fontSize": 13},
                  "subtext": f"labels: {table['caption'].iloc[0]}",
                  "subtextStyle": {"fontSize": 11, "width": 440, "overflow": "break"}},
        "tooltip": {"trigger": "item", "formatter": "{@[4]}"},
        "grid": {"left": 64, "right": 16, "top": 72, "bottom": 64},
        "xAxis": {"type": "category", "data": list(range(1, m + 1)), "axisLabel": {"show": False},
                  "name": f"{m} items, most coveted first (by the highest quantile any agent has for it)",
                  "nameLocation": "middle", "nameGap": 10, "nameTextStyle": {"fontSize": 11},
                  "axisTick": {"show": False}, "splitArea": {"show": False}},
        "yAxis": {"type": "category", "data": [f"agent {i + 1}" for i in range(n_agents)], "inverse": True},
        "visualMap": {"type": "piecewise", "dimension": 2, "pieces": pieces, "orient": "horizontal",
                      "left": "center", "bottom": 0, "itemWidth": 12, "itemHeight": 10,
                      "textStyle": {"fontSize": 10}},
        "series": [{"type": "heatmap", "data": data,
                    "label": {"show": m <= 60, "formatter": "{@[3]}", "color": "#fff", "fontSize": 9 if m <= 30 else 7},
                    "itemStyle": {"borderColor": "#fff", "borderWidth": 1}}],
    }
