"""The Claims page's evaluation map: Kirkpatrick's four levels and the published reference bands.

The panel places each measure on its level and says where the programme has evidence and where
it has none yet; the bands put an effect beside what the mentoring literature reports (context,
never a verdict), with the sources one click away.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.outcomes.evaluation_map import LEVELS, REFERENCE_BANDS, band_for, reference_bands
from ui.charts import OKABE_ITO
from ui.text import plain
from ui.verdicts import label

BAND_NAME = "Published range (meta-analysis)"
_NO_VERDICT = {"not measured": "no evidence yet", "descriptive only": "descriptive (ratings)"}


def with_reference_bands(fig: go.Figure, card: pd.DataFrame) -> go.Figure:
    """Add each applicable published band to the forest plot as a thick grey bar on its claim's row."""
    first = True
    for row in card.to_dict("records"):
        band = band_for(row["id"])
        if band is None:
            continue
        fig.add_trace(go.Scatter(
            x=[band.d_low, band.d_high], y=[row["title"], row["title"]], mode="lines", name=BAND_NAME,
            line=dict(color=OKABE_ITO["grey"], width=14), opacity=0.35, showlegend=first, legendgroup="band",
            hovertemplate=f"Published range {band.d_low:.2f} to {band.d_high:.2f} SD<extra></extra>"))
        first = False
    if not first:  # draw the bands under the markers
        fig.data = (*fig.data[-sum(1 for t in fig.data if t.name == BAND_NAME):],
                    *[t for t in fig.data if t.name != BAND_NAME])
    return fig


def kirkpatrick_panel(emap: pd.DataFrame) -> None:
    """Four compact columns, one per level: each measure with its verdict, or that evidence is missing."""
    st.subheader("Where the evidence sits (Kirkpatrick's four levels)")
    have = emap.groupby("level")["evidence"].any()
    st.caption("Reaction, learning, behaviour, results: a programme can score well on reactions and have no "
               "evidence on results. " + ("Missing: level " + ", ".join(str(i) for i in LEVELS if not have.get(i, False))
                                          + "." if not have.all() else "Every level has evidence."))
    for col, (level, name) in zip(st.columns(len(LEVELS)), LEVELS.items()):
        rows = emap[emap["level"] == level]
        with col.container(border=True, key=f"kirkpatrick-{level}"):
            st.markdown(f"**{level} · {name}**")
            for r in rows.itertuples(index=False):
                verdict = _NO_VERDICT.get(r.verdict) or label(r.verdict)
                mark = "✓" if r.evidence else "○"
                st.markdown(plain(f"{mark} {r.measure}: {verdict}"))


def sources_expander() -> None:
    """The bands' sources and the conversion formula (docs/REFERENCE_EFFECTS.md)."""
    with st.expander("Published effect sizes and their sources"):
        st.caption("Correlations converted to standard deviations with d = 2r / √(1 − r²) (Borenstein et al. "
                   "2009, eq. 7.5). The bands summarise traditional mentoring, mostly cross-sectional, so a causal "
                   "effect is expected to be smaller; they are context, never a verdict.")
        table = reference_bands().rename(columns={"r_low": "r from", "r_high": "r to", "d_low": "SD from",
                                                  "d_high": "SD to", "claims": "drawn beside"})
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption(f"{len(REFERENCE_BANDS)} band(s); the full notes are in docs/REFERENCE_EFFECTS.md.")
