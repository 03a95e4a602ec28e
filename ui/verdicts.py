"""How a verdict looks: a coloured badge, a compact scorecard table, the numbers in words."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analytics.report import Section
from ui.charts import VERDICT_COLOURS, VERDICT_LABELS
from ui.exports import ViewReport

BADGE_COLOURS = {"supported": "green", "contradicted": "red", "no_effect": "gray", "inconclusive": "orange",
                 "insufficient_data": "gray"}
SCORECARD_COLUMNS = ["title", "verdict", "sentence", "estimate", "ci_low", "ci_high", "effect_size", "es_ci_low",
                     "es_ci_high", "p_value", "p_adjusted", "n", "n_treated", "n_comparison", "mde", "method",
                     "outcome", "id"]


def label(verdict: str) -> str:
    return VERDICT_LABELS.get(verdict, verdict)


def badge(verdict: str) -> None:
    st.badge(VERDICT_LABELS.get(verdict, verdict), color=BADGE_COLOURS.get(verdict, "gray"))


def number(v, fmt: str = "{:.2f}") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def p_text(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _colour(verdict_label: str) -> str:
    code = {v: k for k, v in VERDICT_LABELS.items()}.get(verdict_label, "")
    colour = VERDICT_COLOURS.get(code)
    return f"color: {colour}; font-weight: 600" if colour else ""


def scorecard_table(report: ViewReport, card: pd.DataFrame, title: str = "The claims, tested") -> None:
    """Verdict and one plain sentence per claim (wrapped, static); the CSV holds every column."""
    compact = pd.DataFrame({"Claim": card["title"], "Verdict": card["verdict"].map(label),
                            "In one sentence": card["sentence"]})
    st.subheader(title)
    st.caption("Each claim is tested against a comparison group of colleagues who were not (yet) in the programme.")
    st.table(compact.style.hide(axis="index").map(_colour, subset=["Verdict"]))
    full = card[[c for c in SCORECARD_COLUMNS if c in card.columns]]
    report.download(full, "scorecard", key="csv-scorecard")
    report.sections.append(Section(title, "", None, compact))


def pretrend_text(pretrend: dict) -> str:
    """The pre-trend check in one sentence: did both groups move alike before the programme?"""
    if pretrend.get("sentence"):
        return str(pretrend["sentence"])
    est, lo, hi, p = (pretrend.get(k) for k in ("estimate", "ci_low", "ci_high", "p_value"))
    return (f"Before the programme, participants' trend differed from the comparison group's by {number(est)} "
            f"(95% CI {number(lo)} to {number(hi)}, p = {p_text(p)}); "
            + ("no sign that the groups were already drifting apart." if p is not None and p >= 0.05
               else "the groups were already drifting apart, so read the estimate with care."))
