"""Claims: for each claim, the verdict and the evidence behind it."""

import streamlit as st

from analytics.claims import SUBGROUP_RULE
from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.text import plain
from ui.verdicts import claim_evidence, claim_summary, focused_claim, label, scorecard_table

filters = start_page(method=True)
k = cache.min_group()
report = ViewReport("Claims", filters, k)
card = cache.view("scorecard", filters)

st.title("The claims, tested")
st.caption(f"{plain(filters.describe())} · comparison: "
           f"{'matched (re-weighted to look like participants)' if filters.method == 'weighted' else 'unmatched'}"
           f" · groups smaller than {k} people are never shown.")

report.chart("Effect of the programme, claim by claim", charts.forest(card), card,
             text="Standardised effect (in standard deviations of the outcome) with its 95% confidence interval. "
                  "Zero means no difference from the comparison group.", key="claims-forest")
scorecard_table(report, card, "Verdicts at a glance")
if not filters.is_empty():
    st.info(SUBGROUP_RULE)

st.subheader("The evidence, claim by claim")
st.caption("Open a claim to see both groups before and after, how comparable they are, and the naive "
           "comparisons a quick analysis would have made.")
focus = focused_claim(card)
for row in card.itertuples(index=False):
    section = st.expander(f"**{plain(row.title)}** — {label(row.verdict)}", expanded=row.id == focus,
                          key=f"claim-{row.id}", on_change="rerun")
    with section:
        claim_summary(row, report)
        if section.open:  # charts and tables only for the claims someone opened
            claim_evidence(row, cache.view("claim_detail", filters, claim_id=row.id), report)

report.report_button()
