"""Overview: in ten seconds, does the programme work, for whom, and how sure are we?

The first screen holds the bottom line: one sentence, then every claim's verdict, who it holds
for and its effect with a 95% CI. Activity counts and charts come below, drawn after the
bottom line has reached the browser.
"""
import pandas as pd
import streamlit as st

from analytics import bottom_line
from analytics.headline_change import delta
from ui import board, cache, charts
from ui.page import open_page
from ui.text import plain
from ui.verdicts import (TERMS_SCORECARD, bottom_line_rows, glossary_popover, scorecard_frame,
                         scorecard_table, whole)

page = open_page("Overview", "Does reverse mentoring work here?",
                 lambda f, k: f"Anonymity: no figure describes fewer than {k} people.", method=True)
filters, k, figures, report = page.filters, page.k, page.headline, page.report
card = cache.view("scorecard", filters)
summary = bottom_line.summary_sentence(card)
st.markdown(f"#### {plain(summary)}")
st.markdown(bottom_line_rows(card), unsafe_allow_html=True)
links = st.columns([3, 2, 2, 2])
links[0].page_link("pages/claims.py", label="The evidence behind each verdict", icon=":material/arrow_forward:",
                   query_params=filters.to_params())
links[1].page_link("pages/where.py", label="Where it works", icon=":material/grid_view:",
                   query_params=filters.to_params())
with links[2]:
    glossary_popover(TERMS_SCORECARD)
report.note("The bottom line", summary)


@st.fragment
def below_the_fold() -> None:
    """Activity counts with their change over the quarter, then the effect chart and the sentences."""
    change = cache.view("headline_change", filters)
    st.subheader("Programme activity")
    cols = st.columns(5)
    cols[0].metric("Employees", whole(figures["employees"]))
    cols[1].metric("Programme participants", whole(figures["participants"]))
    cols[2].metric("Active pairs", whole(figures["active_pairs"]),
                   delta=delta(figures["active_pairs"], change["active_pairs"]), delta_color="off",
                   help=f"Pairs running on {figures['as_of']:%d %B %Y}; the change is against "
                        f"{change['as_of']:%d %B %Y}, a quarter earlier.")
    cols[3].metric("Sessions this quarter", whole(figures["sessions_quarter"]),
                   delta=delta(figures["sessions_quarter"], change["sessions_quarter"]), delta_color="off",
                   help="Sessions in the 91 days up to the latest data; the change is against the 91 days before.")
    rate = figures["response_rate"]
    cols[4].metric("Survey response rate", "—" if rate is None else f"{rate:.0%}",
                   delta=delta(rate, change["response_rate"], percent=True), delta_color="off",
                   help=None if rate is None else f"{figures['respondents']:,} of {figures['invited']:,} "
                                                   f"in {plain(figures['response_survey'])}"
                   + (f"; the change is against {plain(change['response_survey'])}" if change["response_survey"] else ""))
    for note in figures["notes"]:
        st.caption(f"🔒 {plain(note)}")
    report.note("Programme activity", " · ".join(
        f"{label}: {whole(figures[key])}" for label, key in (("Employees", "employees"),
                                                              ("Programme participants", "participants"),
                                                              ("Active pairs", "active_pairs"),
                                                              ("Sessions this quarter", "sessions_quarter")))
        + ("" if rate is None else f" · Survey response rate: {rate:.0%} ({figures['response_survey']})"))
    # the event study alone (stored with the snapshot for the unfiltered view), not the whole claim detail
    event = cache.view("event_study", filters, claim_id="engagement")
    if isinstance(event, pd.DataFrame) and not event.empty:  # the per-role engine's event study of the headline claim
        report.chart("Engagement: effect by wave since the start", charts.event_study(event), event,
                     key="overview-event",
                     text="Participants minus their comparison group by survey waves since the start, with 95% CIs "
                          "and the ±0.2 SD band; the points before the start are the placebo check.")
    report.chart("Effect of the programme, claim by claim", charts.forest(card), scorecard_frame(card),
                 text="Each claim's effect in standard deviations (SD) with its 95% confidence interval, "
                      "participants against their comparison group. Inside the shaded ±0.2 SD band an effect is "
                      "too small to matter.", key="overview-forest")
    scorecard_table(report, card)
    st.subheader("Reports")
    board.buttons(card, filters, k, figures["as_of"], "overview")
    report.report_button()


below_the_fold()
