"""Engagement & culture: every survey construct over time, by group, and the generation gap."""

import streamlit as st

from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import set_view_param, start_page, view_param
from ui.text import plain

GROUPS = {"department": "Department", "generation": "Generation", "level": "Level", "location": "Location"}


def _group_changed() -> None:
    group = st.session_state.get("heatmap_group") or "department"
    set_view_param("group", None if group == "department" else group)


filters = start_page()
k = cache.min_group()
report = ViewReport("Engagement & culture", filters, k)

st.title("Engagement & culture")
st.caption(f"{plain(filters.describe())} · groups smaller than {k} people are never shown.")

trends = cache.view("construct_trends", filters, participants=True)
st.info("Descriptive views: levels of each survey score, not the programme's effect. Participants chose to "
        "join, so they may score higher before they start; the Claims and Where it works pages compare them "
        "with a matched group.", icon=":material/info:")
report.chart("Each construct over the survey waves (descriptive)", charts.trend(trends, facet="construct"), trends,
             text="Mean score (1–5) of programme participants and everyone else in the view, with 95% confidence "
                  "intervals. Descriptive: the Claims page compares participants with a matched group.",
             key="constructs")

wanted = view_param("group", GROUPS, default="department")
if st.session_state.get("heatmap_group") != wanted:
    st.session_state["heatmap_group"] = wanted
group = st.segmented_control("Heatmap by", list(GROUPS), format_func=GROUPS.get, key="heatmap_group",
                             on_change=_group_changed) or "department"
heat = cache.view("construct_heatmap", filters, group=group)
survey = heat["survey"].iloc[0] if not heat.empty else "—"
report.chart(f"Constructs by {GROUPS[group].lower()}, {survey} (descriptive)", charts.heatmap(heat, group), heat,
             text="Mean score in the latest wave of the selected range (levels, not effects: the Where it works "
                  "page shows effects by group). '—' marks a hidden cell: too few people, "
                  "or hidden so that a small group cannot be worked out from the others.", key="heatmap")

belonging = cache.view("group_trend", filters, group="generation", construct="belonging")
report.chart("Belonging by generation over time (descriptive)", charts.trend(belonging, colour="generation"), belonging,
             text="Does every generation feel valued? Mean belonging per wave, with 95% confidence intervals.",
             key="belonging-generation")
gap = cache.view("belonging_gap", filters)
# the oldest generation shown stands in when the anonymity layer merged the Boomers into "Other"
young, old = (gap["young"].iloc[0], gap["old"].iloc[0]) if not gap.empty else ("Gen Z", "Boomer")
report.chart("The generation gap in belonging", charts.trend(gap, y="gap", colour=None,
                                                             y_label=f"{young} minus {old} (score points)"),
             gap, text=f"{young} minus {old}, per wave. Above zero: the youngest generation feels more valued than "
                       "the oldest shown (a generation too small to show on its own is part of \"Other\"). Shown "
                       "only for waves where both generations have enough people.", key="belonging-gap")
report.report_button()
