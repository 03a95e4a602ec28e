"""Plotly figures for the pages, built from guarded frames (suppressed values are NaN).

Figures only draw what they are given; they compute nothing but layout. A suppressed point is
simply absent, and the page says why next to the chart.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

VERDICT_COLOURS = {
    "supported": "#1a7f37",
    "contradicted": "#c62828",
    "no_effect": "#5b6b7b",
    "inconclusive": "#d18b00",
    "insufficient_data": "#9aa5b1",
}
VERDICT_LABELS = {
    "supported": "Supported",
    "contradicted": "Contradicted",
    "no_effect": "No effect",
    "inconclusive": "Inconclusive",
    "insufficient_data": "Not enough data",
}
GROUP_COLOURS = {"participants": "#1f6feb", "matched comparison": "#8b949e", "comparison": "#8b949e",
                 "everyone else": "#8b949e"}
SCALE_LABEL = "Mean score (1–5)"
PALETTE = ("#1f6feb", "#8b949e", "#d18b00", "#1a7f37", "#8250df", "#c62828", "#0598bc", "#bf3989")
# Set once as the default: passing template= re-validates the whole template on every figure
# (~0.1 s each), which made the ten-chart Claims page spend seconds on layout alone.
pio.templates.default = "plotly_white"
px.defaults.color_discrete_sequence = list(PALETTE)
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2), hovermode="x unified")


def pretty(name: str) -> str:
    return str(name).replace("_", " ").capitalize()


def trend(df: pd.DataFrame, x: str = "opened", y: str = "mean", colour: str | None = "group",
          title: str = "", y_label: str = SCALE_LABEL, facet: str | None = None) -> go.Figure:
    """Lines with markers and 95% CI error bars, one per `colour` value (small multiples by `facet`).

    Built from graph_objects rather than plotly.express, which costs ~0.15 s per figure.
    """
    data = df.dropna(subset=[y])
    if data.empty:
        return go.Figure()
    panels = list(dict.fromkeys(data[facet])) if facet else [None]
    cols = min(4, len(panels)) or 1
    rows = -(-len(panels) // cols)
    if facet:
        fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True, shared_yaxes=True,
                            subplot_titles=[pretty(p) for p in panels], vertical_spacing=0.12)
    else:
        fig = go.Figure()
    series = list(dict.fromkeys(data[colour])) if colour else [None]
    for i, panel in enumerate(panels):
        part = data[data[facet] == panel] if facet else data
        for j, name in enumerate(series):
            line = part[part[colour] == name] if colour else part
            if line.empty:
                continue
            err = None
            if {"ci_low", "ci_high"} <= set(line.columns):
                err = dict(type="data", symmetric=False, array=(line["ci_high"] - line[y]).tolist(),
                           arrayminus=(line[y] - line["ci_low"]).tolist(), thickness=1.2, width=4)
            colour_of = GROUP_COLOURS.get(str(name)) or PALETTE[j % len(PALETTE)]
            n = line["n"].tolist() if "n" in line else [None] * len(line)
            trace = go.Scatter(x=line[x].tolist(), y=line[y].tolist(), mode="lines+markers",
                               name=pretty(name) if name is not None else y_label, legendgroup=str(name),
                               showlegend=i == 0 and name is not None, error_y=err,
                               line=dict(color=colour_of, width=2), marker=dict(color=colour_of, size=7),
                               customdata=n, hovertemplate="%{y:.2f} (n=%{customdata})")
            if facet:
                fig.add_trace(trace, row=i // cols + 1, col=i % cols + 1)
            else:
                fig.add_trace(trace)
    fig.update_layout(title=title or None, height=260 * rows + 120 if facet else 420,
                      legend=dict(orientation="h", y=-0.15, title=pretty(colour) if colour else None),
                      margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified")
    fig.update_yaxes(title_text=y_label, row=None if not facet else 1, col=None if not facet else 1)
    if not facet:
        fig.update_xaxes(title_text="Survey wave" if x == "opened" else pretty(x))
    return fig


def forest(scorecard: pd.DataFrame) -> go.Figure:
    """Standardised effect (SD units) with its 95% CI for every claim, coloured by verdict."""
    d = scorecard.dropna(subset=["effect_size"]).iloc[::-1]
    fig = go.Figure()
    for verdict, part in d.groupby("verdict", sort=False):
        fig.add_trace(go.Scatter(
            x=part["effect_size"], y=part["title"], mode="markers", name=VERDICT_LABELS.get(verdict, verdict),
            marker=dict(size=11, color=VERDICT_COLOURS.get(verdict, "#444")),
            error_x=dict(type="data", symmetric=False, array=part["es_ci_high"] - part["effect_size"],
                         arrayminus=part["effect_size"] - part["es_ci_low"]),
            hovertemplate="%{y}<br>effect %{x:.2f} SD<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=list(d["title"]))  # scorecard order, top down
    fig.add_vline(x=0, line_color="#444", line_width=1)
    fig.update_layout(xaxis_title="Effect in standard deviations (95% CI)", height=90 + 38 * max(len(d), 1),
                      **{**_LAYOUT, "hovermode": "closest"})
    return fig


def heatmap(df: pd.DataFrame, group: str) -> go.Figure:
    """Construct × group means; hidden cells show '—' (the reason is in the caption)."""
    means = df.pivot_table(index="construct", columns=group, values="mean", dropna=False, aggfunc="first")
    means.index = [pretty(c) for c in means.index]
    text = means.map(lambda v: "—" if pd.isna(v) else f"{v:.2f}")
    fig = go.Figure(go.Heatmap(z=means.values, x=list(means.columns), y=list(means.index), text=text.values,
                               texttemplate="%{text}", colorscale="RdYlGn", zmin=2.5, zmax=4.5,
                               colorbar=dict(title="Mean"), hoverongaps=False,
                               hovertemplate="%{y} · %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=120 + 40 * len(means), **{**_LAYOUT, "hovermode": "closest"})
    return fig


def bars(df: pd.DataFrame, x: str, y: str, colour: str | None = None, title: str = "",
         y_label: str | None = None, barmode: str = "stack", horizontal: bool = False) -> go.Figure:
    data = df.dropna(subset=[y])
    if horizontal:
        fig = px.bar(data, y=x, x=y, color=colour, orientation="h", barmode=barmode,
                     labels={y: y_label or pretty(y), x: pretty(x)})
    else:
        fig = px.bar(data, x=x, y=y, color=colour, barmode=barmode, labels={y: y_label or pretty(y), x: pretty(x)},
                     color_discrete_map=GROUP_COLOURS)
    fig.update_layout(title=title, **{**_LAYOUT, "hovermode": "closest"})
    return fig


def points_with_ci(df: pd.DataFrame, x: str, y: str = "mean", colour: str | None = None,
                   y_label: str = SCALE_LABEL) -> go.Figure:
    """Grouped means with CI bars (before/after, cohorts)."""
    data = df.dropna(subset=[y]).copy()
    data["_up"] = data["ci_high"] - data[y]
    data["_down"] = data[y] - data["ci_low"]
    fig = px.scatter(data, x=x, y=y, color=colour, error_y="_up", error_y_minus="_down",
                     color_discrete_map=GROUP_COLOURS, labels={y: y_label, x: pretty(x)}, hover_data=["n"])
    fig.update_traces(marker=dict(size=12))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"})
    return fig
