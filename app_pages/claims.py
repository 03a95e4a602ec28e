"""Claims: for each claim, the verdict and the evidence behind it."""

import pandas as pd
import streamlit as st

from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.verdicts import badge, label, number, p_text, pretrend_text, scorecard_table

filters = start_page(method=True)
k = cache.min_group()
report = ViewReport("Claims", filters, k)
card = cache.view("scorecard", filters)

st.title("The claims, tested")
st.caption(f"{filters.describe()} · comparison: "
           f"{'matched (re-weighted to look like participants)' if filters.method == 'weighted' else 'unmatched'}"
           f" · groups smaller than {k} people are never shown.")

report.chart("Effect of the programme, claim by claim", charts.forest(card), card,
             text="Standardised effect (in standard deviations of the outcome) with its 95% confidence interval. "
                  "Zero means no difference from the comparison group.", key="claims-forest")
scorecard_table(report, card, "Verdicts at a glance")

for row in card.itertuples(index=False):
    detail = cache.view("claim_detail", filters, claim_id=row.id)
    with st.expander(f"**{row.title}** — {label(row.verdict)}", expanded=False):
        badge(row.verdict)
        st.write(row.sentence)
        cols = st.columns(4)
        cols[0].metric("Estimate (95% CI)", number(row.estimate),
                       help=f"{number(row.ci_low)} to {number(row.ci_high)} in score units; outcome: {row.outcome}")
        cols[0].caption(f"95% CI {number(row.ci_low)} to {number(row.ci_high)}")
        cols[1].metric("Effect size (SD)", number(row.effect_size),
                       help=f"95% CI {number(row.es_ci_low)} to {number(row.es_ci_high)}")
        cols[2].metric("p (Holm-adjusted)", p_text(row.p_adjusted), help=f"unadjusted p {p_text(row.p_value)}")
        cols[3].metric("People", number(row.n, "{:,.0f}"),
                       help=f"participants {number(row.n_treated, '{:,.0f}')}, "
                            f"comparison {number(row.n_comparison, '{:,.0f}')}")
        cols[3].caption(f"{number(row.n_treated, '{:,.0f}')} participants · "
                        f"{number(row.n_comparison, '{:,.0f}')} comparison")
        st.markdown(f"**How this was tested.** {row.method}")

        trends = detail.get("trends")
        if isinstance(trends, pd.DataFrame) and not trends.empty:
            report.chart(f"{row.title}: before and after",
                         charts.trend(trends.rename(columns={"wave_date": "opened", "wave": "survey"})),
                         trends, key=f"trend-{row.id}",
                         text="Mean outcome per survey wave for both groups, with 95% confidence intervals.")
        pretrend = detail.get("pretrend")
        if pretrend:
            st.caption(pretrend_text(pretrend))
        within = detail.get("within")
        if isinstance(within, pd.DataFrame) and not within.empty:
            report.table(f"{row.title}: within the programme", within, key=f"within-{row.id}")
        balance = detail.get("balance")
        if isinstance(balance, pd.DataFrame) and not balance.empty:
            report.table("Is the comparison group comparable?", balance, key=f"balance-{row.id}",
                         text="Share or mean of each background variable; standardised mean differences (SMD) "
                              "below 0.1 mean the groups are alike.")
        naive = detail.get("naive")
        if isinstance(naive, pd.DataFrame) and not naive.empty:
            st.markdown(":gray[**Naive comparisons — biased, shown for context only.** People chose to join, "
                        "so simple before/after or participant/non-participant differences mix the programme's "
                        "effect with who signed up and with change everyone saw.]")
            st.dataframe(naive.style.set_properties(**{"color": "#8b949e"}), hide_index=True, width="stretch")
            report.download(naive, f"{row.id} naive comparisons", key=f"csv-naive-{row.id}")
        for name, title in (("cohorts", "By cohort"), ("by_generation", "By generation"),
                            ("generation_gap", "Generation gap"), ("metrics", "Objective metrics")):
            extra = detail.get(name)
            if isinstance(extra, pd.DataFrame) and not extra.empty:
                report.table(f"{row.title}: {title.lower()}", extra, key=f"{name}-{row.id}")

report.report_button()
