"""How a verdict looks: a coloured badge, a compact scorecard table, the numbers in words."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analytics.report import Section
from ui.charts import VERDICT_LABELS
from ui.exports import ViewReport

BADGE_COLOURS = {"supported": "green", "contradicted": "red", "no_effect": "gray", "inconclusive": "orange",
                 "insufficient_data": "gray"}
ICONS = {"supported": "✅", "contradicted": "❌", "no_effect": "➖", "inconclusive": "❔", "insufficient_data": "⏳"}
SCORECARD_COLUMNS = ["title", "verdict", "sentence", "estimate", "ci_low", "ci_high", "effect_size", "es_ci_low",
                     "es_ci_high", "p_value", "p_adjusted", "n", "n_treated", "n_comparison", "mde", "method",
                     "outcome", "id"]


def label(verdict: str) -> str:
    return f"{ICONS.get(verdict, '')} {VERDICT_LABELS.get(verdict, verdict)}".strip()


def badge(verdict: str) -> None:
    st.badge(VERDICT_LABELS.get(verdict, verdict), color=BADGE_COLOURS.get(verdict, "gray"))


def number(v, fmt: str = "{:.2f}") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def p_text(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def scorecard_table(report: ViewReport, card: pd.DataFrame) -> None:
    """Verdict and one plain sentence per claim; the CSV holds every column."""
    compact = pd.DataFrame({"Claim": card["title"], "Verdict": card["verdict"].map(label),
                            "In one sentence": card["sentence"]})
    st.subheader("The claims, tested")
    st.caption("Each claim is tested against a comparison group; see the Claims page for the evidence.")
    st.dataframe(compact, hide_index=True, width="stretch",
                 column_config={"Claim": st.column_config.TextColumn(width="medium"),
                                "Verdict": st.column_config.TextColumn(width="small"),
                                "In one sentence": st.column_config.TextColumn(width="large")})
    full = card[[c for c in SCORECARD_COLUMNS if c in card.columns]]
    report.download(full, "scorecard", key="csv-scorecard")
    report.sections.append(Section("The claims, tested", "", None, compact))
