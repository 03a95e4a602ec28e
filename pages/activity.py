"""Programme activity: are pairs meeting, how often, about what, and how do they rate it?"""

import streamlit as st

from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.text import plain
from ui.verdicts import whole

filters = start_page()
k = cache.min_group()
st.title("Programme activity")  # first paint: the heading before the figures are computed
data = cache.view("activity", filters)
inactive = data["inactive"]
report = ViewReport("Programme activity", filters, k, data_date=inactive["as_of"])
st.caption(f"{plain(filters.describe())} · as of {inactive['as_of']:%d %B %Y} · groups smaller than {k} people are "
           "never shown.")
cols = st.columns(3)
cols[0].metric("Pairs", whole(inactive["pairs"]))
cols[1].metric("Active pairs", whole(inactive["ongoing"]), help="Pairs that have started and not ended.")
cols[2].metric(f"Inactive pairs (no session in {inactive['days']} days)", whole(inactive["inactive"]))
report.note("Pairs", f"{whole(inactive['pairs'])} pairs, {whole(inactive['ongoing'])} ongoing, "
                     f"{whole(inactive['inactive'])} with no session in {inactive['days']} days.")

report.chart("Sessions per month", charts.bars(data["monthly"], "month", "sessions", colour="format"),
             data["monthly"], key="monthly")
report.chart("Dose: sessions per pair", charts.bars(data["dose"], "sessions per pair", "pairs"), data["dose"],
             key="dose")
mix = data["mix"]
left, right = st.columns(2)
with left:
    formats = mix[mix["kind"] != "topic"]
    report.chart("Formats and channels", charts.bars(formats, "value", "sessions", colour="kind", barmode="group"),
                 formats, key="formats")
with right:
    topics = mix[mix["kind"] == "topic"]
    report.chart("Topics", charts.bars(topics, "value", "sessions", horizontal=True), topics, key="topics")
report.chart("Session ratings by cohort", charts.bars(data["ratings"], "cohort", "rating", colour="rated_by",
                                                      barmode="group", y_label="Mean rating (1–5)"),
             data["ratings"], text="Mean rating of sessions given by mentors and by mentees.", key="ratings")
report.table("Cohorts compared", data["cohorts"], key="cohorts")
report.report_button()
