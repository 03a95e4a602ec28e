"""How a verdict looks: a coloured badge, a compact scorecard table, the numbers in words."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from ui import charts

from analytics.report import Section
from ui.charts import VERDICT_COLOURS, VERDICT_LABELS
from ui.exports import ViewReport
from ui.text import plain, plain_table

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
    st.table(plain_table(compact).style.hide(axis="index").map(_colour, subset=["Verdict"]))
    full = card[[c for c in SCORECARD_COLUMNS if c in card.columns]]
    report.download(full, "scorecard", key="csv-scorecard")
    report.sections.append(Section(title, "", None, compact))


def pretrend_text(pretrend) -> str:
    """The pre-trend check in one sentence: did both groups move alike before the programme?"""
    if getattr(pretrend, "sentence", None):
        return str(pretrend.sentence)
    est, lo, hi, p = (getattr(pretrend, k, None) for k in ("estimate", "ci_low", "ci_high", "p_value"))
    return (f"Before the programme, participants' trend differed from the comparison group's by {number(est)} "
            f"(95% CI {number(lo)} to {number(hi)}, p = {p_text(p)}); "
            + ("no sign that the groups were already drifting apart." if p is not None and p >= 0.05
               else "the groups were already drifting apart, so read the estimate with care."))


def focused_claim(card: pd.DataFrame) -> str | None:
    """The claim a link asks to open (``?claim=<id>``), if it is one of ours."""
    wanted = st.query_params.get("claim")
    return wanted if wanted in set(card["id"]) else None


def claim_summary(row, report: ViewReport) -> None:
    """Verdict, the sentence, the numbers and the method: cheap, always drawn."""
    badge(row.verdict)
    st.markdown(plain(row.sentence))
    cols = st.columns(4)
    cols[0].metric("Estimate", number(row.estimate), help=f"In score units; outcome: {plain(row.outcome)}")
    cols[0].caption(f"95% CI {number(row.ci_low)} to {number(row.ci_high)}")
    cols[1].metric("Effect size (SD)", number(row.effect_size))
    cols[1].caption(f"95% CI {number(row.es_ci_low)} to {number(row.es_ci_high)}")
    cols[2].metric("p (Holm-adjusted)", p_text(row.p_adjusted))
    cols[2].caption(f"unadjusted p {p_text(row.p_value)}")
    cols[3].metric("People", number(row.n, "{:,.0f}"))
    cols[3].caption(f"{number(row.n_treated, '{:,.0f}')} participants · "
                    f"{number(row.n_comparison, '{:,.0f}')} comparison")
    st.markdown(f"**How this was tested.** {plain(row.method)}")
    notes = list(getattr(row, "notes", None) or [])
    if notes:
        st.markdown("**Checks.**\n" + "\n".join(f"- {plain(n)}" for n in notes))
    report.note(f"{row.title} — {label(row.verdict)}", " ".join([row.sentence, row.method, *notes]))


def claim_evidence(row, detail, report: ViewReport) -> None:
    """Both groups over time, pre-trends, balance, the biased naive comparisons (greyed), extras."""
    trends = getattr(detail, "trends", None)
    if isinstance(trends, pd.DataFrame) and not trends.empty:
        report.chart(f"{row.title}: before and after",
                     charts.trend(trends.rename(columns={"wave_date": "opened", "wave": "survey"})),
                     trends, key=f"trend-{row.id}",
                     text="Mean outcome per survey wave for both groups, with 95% confidence intervals.")
    if getattr(detail, "pretrend", None):
        st.caption(plain(pretrend_text(detail.pretrend)))
    roles = getattr(detail, "roles", None)
    if isinstance(roles, pd.DataFrame) and not roles.empty:
        report.table(f"{row.title}: each role", roles, key=f"roles-{row.id}",
                     text="Mentors (juniors) and mentees (seniors) are tested separately; the pooled row is a summary.")
    within = getattr(detail, "within", None)
    if isinstance(within, pd.DataFrame) and not within.empty:
        report.table(f"{row.title}: within the programme", within, key=f"within-{row.id}")
    balance = getattr(detail, "balance", None)
    if isinstance(balance, pd.DataFrame) and not balance.empty:
        report.table("Is the comparison group comparable?", balance, key=f"balance-{row.id}",
                     text="Share or mean of each background variable; standardised mean differences (SMD) "
                          "below 0.1 mean the groups are alike.")
    naive = getattr(detail, "naive", None)
    if isinstance(naive, pd.DataFrame) and not naive.empty:
        st.markdown(":gray[**Naive comparisons — biased, shown for context only.** People chose to join, "
                    "so simple before/after or participant/non-participant differences mix the programme's "
                    "effect with who signed up and with change everyone saw.]")
        st.dataframe(naive.style.set_properties(**{"color": "#8b949e"}), hide_index=True, width="stretch")
        report.download(naive, f"{row.id} naive comparisons", key=f"csv-naive-{row.id}")
    for name, title in (("cohorts", "By cohort"), ("by_generation", "By generation"),
                        ("generation_gap", "Generation gap"), ("metrics", "Objective metrics")):
        extra = getattr(detail, name, None)
        if isinstance(extra, pd.DataFrame) and not extra.empty:
            report.table(f"{row.title}: {title.lower()}", extra, key=f"{name}-{row.id}")


def whole(v) -> str:
    """A count for a metric tile: thousands separated, "—" when withheld (None)."""
    return number(v, "{:,}")
