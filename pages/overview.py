"""Overview: in one minute, does the programme work and where?"""

import streamlit as st

from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.text import plain
from ui.verdicts import scorecard_table, whole

filters = start_page(method=True)
k = cache.min_group()
figures = cache.view("headline", filters)
report = ViewReport("Overview", filters, k)

st.title("Does our reverse-mentoring programme work?")
st.caption(f"{plain(filters.describe())} · figures as of {figures['as_of']:%d %B %Y}, the date of the latest data · "
           f"groups smaller than {k} people are never shown.")



cols = st.columns(5)
cols[0].metric("Employees", whole(figures["employees"]))
cols[1].metric("Programme participants", whole(figures["participants"]))
cols[2].metric("Active pairs", whole(figures["active_pairs"]))
cols[3].metric("Sessions this quarter", whole(figures["sessions_quarter"]), help="Sessions in the 91 days up to the "
               "latest data.")
rate = figures["response_rate"]
cols[4].metric("Survey response rate", "—" if rate is None else f"{rate:.0%}",
               help=None if rate is None else f"{figures['respondents']:,} of {figures['invited']:,} "
                                               f"in {plain(figures['response_survey'])}")
for note in figures["notes"]:
    st.caption(f"🔒 {plain(note)}")
report.note("Headline figures", " · ".join(
    f"{label}: {whole(figures[key])}" for label, key in (("Employees", "employees"), ("Participants", "participants"),
                                                          ("Active pairs", "active_pairs"),
                                                          ("Sessions this quarter", "sessions_quarter")))
    + ("" if rate is None else f" · Survey response rate: {rate:.0%} ({figures['response_survey']})"))

trends, comparison = cache.view("engagement_comparison", filters)
report.chart("Engagement over survey waves: participants vs comparison",
             charts.trend(trends, y_label="Mean engagement (1–5)"), trends,
             text=f"Mean engagement per wave with 95% confidence intervals. Comparison: {comparison}.",
             key="overview-engagement")

scorecard_table(report, cache.view("scorecard", filters))
st.page_link("pages/claims.py", label="See the evidence behind each verdict", icon=":material/arrow_forward:",
             query_params=filters.to_params())
report.report_button()
