"""Plotly figures for the pages, built from guarded frames (suppressed values are NaN).

Figures only draw what they are given; they compute nothing but layout. A suppressed point is
simply absent, and the page says why next to the chart.
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from analytics import bottom_line

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/): distinguishable with
# every common colour-vision deficiency, and every chip also carries its word.
OKABE_ITO = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000", "grey": "#8C8C8C"}
VERDICT_COLOURS = {
    "supported": OKABE_ITO["green"],
    "contradicted": OKABE_ITO["vermillion"],
    "no_effect": OKABE_ITO["blue"],
    "inconclusive": OKABE_ITO["orange"],
    "insufficient_data": OKABE_ITO["grey"],
}
VERDICT_LABELS = dict(bottom_line.VERDICT_LABELS)
GROUP_COLOURS = {"participants": OKABE_ITO["blue"], "matched comparison": OKABE_ITO["grey"],
                 "comparison": OKABE_ITO["grey"], "everyone else": OKABE_ITO["grey"],
                 "mentors": OKABE_ITO["orange"], "mentees": OKABE_ITO["purple"], "pooled": OKABE_ITO["black"]}
SCALE_LABEL = "Mean score (1–5)"
PALETTE = tuple(OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "grey"))
#: Diverging, colour-blind-safe scale for effects: vermillion (harm) – white (none) – blue (gain).
EFFECT_SCALE = [[0.0, OKABE_ITO["vermillion"]], [0.5, "#F7F7F7"], [1.0, OKABE_ITO["blue"]]]
#: Sequential, colour-blind-safe scale for levels (light to dark blue).
LEVEL_SCALE = [[0.0, "#F7FBFF"], [1.0, OKABE_ITO["blue"]]]
SESOI = 0.2
#: Words for values people read in legends and axes (one label per concept across pages).
WORDS = {"gen z": "Gen Z", "gen x": "Gen X", "gen_z": "Gen Z", "gen_x": "Gen X", "participants": "Participants",
         "comparison": "Comparison group", "matched comparison": "Matched comparison group",
         "everyone else": "Everyone else", "mentor": "Mentors", "mentee": "Mentees", "mentors": "Mentors (juniors)",
         "mentees": "Mentees (seniors)", "pooled": "Mentors and mentees", "active_pairs": "Active pairs",
         "ongoing": "Active pairs", "psychological_safety": "Psychological safety", "n": "People"}
# Set once as the default: passing template= re-validates the whole template on every figure
# (~0.1 s each), which made the ten-chart Claims page spend seconds on layout alone.
pio.templates.default = "plotly_white"
px.defaults.color_discrete_sequence = list(PALETTE)
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2), hovermode="x unified")


def pretty(name) -> str:
    """A value or column name in words: 'gen z' → 'Gen Z', 'active_pairs' → 'Active pairs'."""
    text = str(name)
    if text.lower() in WORDS:
        return WORDS[text.lower()]
    if any(c.isupper() for c in text[1:]):  # already written by a person ('Gen X', 'New York')
        return text
    return text.replace("_", " ").capitalize()


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


def _sesoi_band(fig: go.Figure, sesoi: float, vertical: bool = True) -> None:
    """The ±SESOI band: inside it an effect is too small to matter ('no effect' lives here)."""
    if vertical:
        fig.add_vrect(x0=-sesoi, x1=sesoi, fillcolor=OKABE_ITO["sky"], opacity=0.18, line_width=0, layer="below")
        fig.add_vline(x=0, line_color="#444", line_width=1)
    else:
        fig.add_hrect(y0=-sesoi, y1=sesoi, fillcolor=OKABE_ITO["sky"], opacity=0.18, line_width=0, layer="below")
        fig.add_hline(y=0, line_color="#444", line_width=1)


def forest(scorecard: pd.DataFrame, sesoi: float = SESOI) -> go.Figure:
    """Standardised effect (SD) with its 95% CI per claim, coloured by verdict, over the ±SESOI band.

    Claims without an estimate stay as labelled rows ("Not enough data") so nothing silently
    disappears; with the per-role engine (a ``by_role`` column) each role gets its own marker.
    """
    d = scorecard.iloc[::-1]
    titles = list(d["title"])
    fig = go.Figure()
    roles = []
    if "by_role" in d.columns:
        roles = [dict(r, title=row["title"]) for row in d.to_dict("records") for r in (row.get("by_role") or [])
                 if r.get("role") != "pooled"]
    est = d.dropna(subset=["effect_size"])
    for verdict, part in est.groupby("verdict", sort=False):
        fig.add_trace(go.Scatter(
            x=part["effect_size"], y=part["title"], mode="markers", name=VERDICT_LABELS.get(verdict, verdict),
            marker=dict(size=12, color=VERDICT_COLOURS.get(verdict, "#444"), symbol="diamond" if roles else "circle"),
            error_x=dict(type="data", symmetric=False, array=part["es_ci_high"] - part["effect_size"],
                         arrayminus=part["effect_size"] - part["es_ci_low"], color=VERDICT_COLOURS.get(verdict)),
            hovertemplate="%{y}<br>effect %{x:.2f} SD<extra></extra>"))
    if roles:
        r = pd.DataFrame(roles).dropna(subset=["effect_size"])
        for role, part in r.groupby("role", sort=False):
            fig.add_trace(go.Scatter(
                x=part["effect_size"], y=part["title"], mode="markers", name=pretty(role),
                marker=dict(size=8, color=GROUP_COLOURS.get(role, "#444"), symbol="circle-open", line_width=2),
                error_x=dict(type="data", symmetric=False, array=part["es_ci_high"] - part["effect_size"],
                             arrayminus=part["effect_size"] - part["es_ci_low"], thickness=1),
                hovertemplate=f"%{{y}}<br>{pretty(role)}: %{{x:.2f}} SD<extra></extra>"))
    missing = d[d["effect_size"].isna()]
    if not missing.empty:
        fig.add_trace(go.Scatter(x=[0] * len(missing), y=missing["title"], mode="text",
                                 text=["Not enough data"] * len(missing), textfont=dict(color=OKABE_ITO["grey"]),
                                 name="Not enough data", hoverinfo="skip", showlegend=False))
    fig.update_yaxes(categoryorder="array", categoryarray=titles)  # scorecard order, top down
    _sesoi_band(fig, sesoi)
    fig.update_layout(xaxis_title=f"Effect in standard deviations, 95% CI (shaded: ±{sesoi:g} SD, too small to "
                                  "matter)", height=110 + 38 * max(len(d), 1), **{**_LAYOUT, "hovermode": "closest"})
    return fig


def event_study(frame: pd.DataFrame, sesoi: float = SESOI) -> go.Figure:
    """Effect by survey wave relative to the start (−2, −1 placebo; 0, +1 … after), 95% CIs, ±SESOI.

    `frame` is the engine's tidy event-study frame: ``e`` (waves since start; ``event_time`` is
    accepted too), ``effect_size`` or ``estimate``, ``ci_low``/``ci_high`` (or ``es_ci_*``) and
    optionally ``role``.
    """
    d = frame.rename(columns={"event_time": "e"}).copy()
    y, lo, hi = ("effect_size", "es_ci_low", "es_ci_high") if "effect_size" in d else ("estimate", "ci_low", "ci_high")
    d = d.dropna(subset=[y])
    unit = "months" if "period" in d and (d["period"] == "month").any() else "waves"
    fig = go.Figure()
    series = list(dict.fromkeys(d["role"])) if "role" in d else [None]
    for j, role in enumerate(series):
        part = d[d["role"] == role] if role is not None else d
        colour = GROUP_COLOURS.get(str(role)) or PALETTE[j % len(PALETTE)]
        fig.add_trace(go.Scatter(
            x=part["e"], y=part[y], mode="lines+markers", name=pretty(role) if role is not None else "Effect",
            marker=dict(size=9, color=colour, symbol=["circle-open" if e < 0 else "circle" for e in part["e"]]),
            line=dict(color=colour, width=2),
            error_y=dict(type="data", symmetric=False, array=part[hi] - part[y], arrayminus=part[y] - part[lo]),
            hovertemplate="%{x:+d} " + unit + ": %{y:.2f}<extra></extra>"))
    if y == "effect_size":
        _sesoi_band(fig, sesoi, vertical=False)
    else:
        fig.add_hline(y=0, line_color="#444", line_width=1)
    if unit == "months":  # the start month (e = −1) is neither before nor after
        fig.add_vrect(x0=-1.5, x1=-0.5, fillcolor="#999", opacity=0.15, line_width=0,
                      annotation_text="start month", annotation_position="top")
    else:
        fig.add_vline(x=-0.5, line_dash="dash", line_color="#444", annotation_text="start",
                      annotation_position="top")
    title = ("Months since the start month" if unit == "months" else "Survey waves since the start")
    fig.update_layout(xaxis_title=f"{title} (open markers: before, the placebo check)",
                      yaxis_title="Participants minus comparison" + (" (SD)" if y == "effect_size" else ""),
                      height=380, **{**_LAYOUT, "hovermode": "closest"})
    fig.update_xaxes(dtick=1)
    return fig


def effect_heatmap(grid: pd.DataFrame, sesoi: float = SESOI) -> go.Figure:
    """Claim × subgroup effects (SD) on a diverging colour-blind-safe scale; '—' for hidden cells.

    The group names are data: they go in as they are, and `ViewReport.chart` escapes the whole
    figure (`ui.text.plain_figure`); `link_cells` then makes the numbers bold and links.
    """
    g, values, claims, z, _, _ = _effect_cells(grid, sesoi)
    span = _span(z, sesoi)
    names = [pretty(v) for v in values]
    fig = go.Figure(go.Heatmap(z=z.values, x=names, y=claims, colorscale=EFFECT_SCALE,
                               zmin=-span, zmax=span, zmid=0, hoverongaps=False,
                               colorbar=dict(title="Effect (SD)"),
                               hovertemplate="%{y}<br>%{x}: %{z:.2f} SD<extra></extra>"))
    for i, title in enumerate(claims):
        for j, value in enumerate(values):
            v = z.iloc[i, j]
            fig.add_annotation(x=names[j], y=title, text="—" if pd.isna(v) else f"{v:+.2f}", showarrow=False,
                               font=dict(color=_ink(v, span), size=12))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=130 + 42 * max(len(claims), 1), **{**_LAYOUT, "hovermode": "closest"})
    return fig


#: A link `link_cells` may put on a number: our own relative Claims URL, percent-encoded (urlencode).
_SAFE_URL = re.compile(r"claims\?[A-Za-z0-9%&=._~+-]*")


def link_cells(fig: go.Figure, grid: pd.DataFrame, links: dict | None = None, sesoi: float = SESOI) -> go.Figure:
    """After escaping: each number of `effect_heatmap` bold with * when significant under the
    subgroup rule, and linked (annotation ``<a href>``) to that subgroup's Claims view when
    `links` maps (claim id, value) → URL. Only numbers and our own percent-encoded URLs go into
    the markup, so no text from the data can become a tag."""
    g, values, claims, z, sig, ids = _effect_cells(grid, sesoi)
    span = _span(z, sesoi)
    k = 0
    for i, title in enumerate(claims):
        for j, value in enumerate(values):
            v = z.iloc[i, j]
            star = bool(sig.iloc[i, j]) if pd.notna(sig.iloc[i, j]) else False
            text = "—" if pd.isna(v) else f"{v:+.2f}{'*' if star else ''}"
            if star:
                text = f"<b>{text}</b>"
            url = (links or {}).get((ids.get(title), value))
            if url and pd.notna(v) and _SAFE_URL.fullmatch(url):
                text = f'<a href="{url}" target="_self" style="color:{_ink(v, span)}">{text}</a>'
            fig.layout.annotations[k].text = text
            k += 1
    return fig


def _effect_cells(grid: pd.DataFrame, sesoi: float):
    g = grid.dropna(subset=["id"]).copy()
    values = list(dict.fromkeys(grid["value"]))
    claims = list(dict.fromkeys(g["title"]))
    z = g.pivot_table(index="title", columns="value", values="effect_size", aggfunc="first", dropna=False)
    z = z.reindex(index=claims, columns=values)
    sig = g.pivot_table(index="title", columns="value", values="significant", aggfunc="first", dropna=False)
    sig = sig.reindex(index=claims, columns=values)
    return g, values, claims, z, sig, dict(zip(g["title"], g["id"]))


def _span(z: pd.DataFrame, sesoi: float) -> float:
    return max(float(pd.to_numeric(z.stack(), errors="coerce").abs().max() or 0), 2 * sesoi)


def _ink(v, span: float) -> str:
    return "#ffffff" if pd.notna(v) and abs(v) > 0.55 * span else "#1f2933"  # legible on dark cells


def gain_bands(bands: pd.DataFrame, x: str = "band", x_label: str = "Sessions per participant") -> go.Figure:
    """Mean engagement gain (after minus before) with 95% CIs per band: the dose or safety claim."""
    d = bands.dropna(subset=["gain"])
    fig = go.Figure(go.Scatter(
        x=d[x], y=d["gain"], mode="markers+lines" if x == "band" else "markers+text",
        text=d["department"] if "department" in d else None, textposition="top center",
        marker=dict(size=11, color=OKABE_ITO["blue"]), line=dict(color=OKABE_ITO["blue"], width=1, dash="dot"),
        error_y=dict(type="data", symmetric=False, array=d["ci_high"] - d["gain"], arrayminus=d["gain"] - d["ci_low"]),
        customdata=d["n"], hovertemplate="%{x}: %{y:.2f} (n=%{customdata})<extra></extra>"))
    fig.add_hline(y=0, line_color="#444", line_width=1)
    fig.update_layout(xaxis_title=x_label, yaxis_title="Mean engagement gain (score points)", height=380,
                      **{**_LAYOUT, "hovermode": "closest"})
    return fig


def heatmap(df: pd.DataFrame, group: str) -> go.Figure:
    """Construct × group means; hidden cells show '—' (the reason is in the caption)."""
    means = df.pivot_table(index="construct", columns=group, values="mean", dropna=False, aggfunc="first")
    means.index = [pretty(c) for c in means.index]
    means.columns = [pretty(c) for c in means.columns]
    text = means.map(lambda v: "—" if pd.isna(v) else f"{v:.2f}")
    fig = go.Figure(go.Heatmap(z=means.values, x=list(means.columns), y=list(means.index), text=text.values,
                               texttemplate="%{text}", colorscale=LEVEL_SCALE, zmin=2.5, zmax=4.5,
                               colorbar=dict(title="Mean"), hoverongaps=False,
                               hovertemplate="%{y} · %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=120 + 40 * len(means), **{**_LAYOUT, "hovermode": "closest"})
    return fig


def bars(df: pd.DataFrame, x: str, y: str, colour: str | None = None, title: str = "",
         y_label: str | None = None, barmode: str = "stack", horizontal: bool = False) -> go.Figure:
    data = df.dropna(subset=[y]).copy()
    colours = {**GROUP_COLOURS, **{pretty(k): v for k, v in GROUP_COLOURS.items()}}
    if colour:  # legend entries in words: 'Gen Z', 'Mentors', not 'gen z' / 'mentor'
        data[colour] = data[colour].map(pretty)
    if horizontal:
        fig = px.bar(data, y=x, x=y, color=colour, orientation="h", barmode=barmode,
                     labels={y: y_label or pretty(y), x: pretty(x), **({colour: pretty(colour)} if colour else {})})
    else:
        fig = px.bar(data, x=x, y=y, color=colour, barmode=barmode, color_discrete_map=colours,
                     labels={y: y_label or pretty(y), x: pretty(x), **({colour: pretty(colour)} if colour else {})})
    fig.update_layout(title=title, **{**_LAYOUT, "hovermode": "closest"})
    return fig


def points_with_ci(df: pd.DataFrame, x: str, y: str = "mean", colour: str | None = None,
                   y_label: str = SCALE_LABEL) -> go.Figure:
    """Grouped means with CI bars (before/after, cohorts)."""
    data = df.dropna(subset=[y]).copy()
    if colour:
        data[colour] = data[colour].map(pretty)
    data["_up"] = data["ci_high"] - data[y]
    data["_down"] = data[y] - data["ci_low"]
    fig = px.scatter(data, x=x, y=y, color=colour, error_y="_up", error_y_minus="_down",
                     color_discrete_map={**GROUP_COLOURS, **{pretty(k): v for k, v in GROUP_COLOURS.items()}}, labels={y: y_label, x: pretty(x)}, hover_data=["n"])
    fig.update_traces(marker=dict(size=12))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"})
    return fig
