"""Engagement & culture: every survey construct over time, by group, and the generation gap."""

import streamlit as st

from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.text import plain

GROUPS = {"department": "Department", "generation": "Generation", "level": "Level", "location": "Location"}

filters = start_page()
k = cache.min_group()
report = ViewReport("Engagement & culture", filters, k)

st.title("Engagement & culture")
st.caption(f"{plain(filters.describe())} · groups smaller than {k} people are never shown.")

trends = cache.view("construct_trends", filters, participants=True)
report.chart("Each construct over the survey waves", charts.trend(trends, facet="construct"), trends,
             text="Mean score (1–5) of programme participants and everyone else in the view, with 95% confidence "
                  "intervals. Descriptive: the Claims page compares participants with a matched group.",
             key="constructs")

group = st.segmented_control("Heatmap by", list(GROUPS), format_func=GROUPS.get, default="department",
                             key="heatmap_group") or "department"
heat = cache.view("construct_heatmap", filters, group=group)
survey = heat["survey"].iloc[0] if not heat.empty else "—"
report.chart(f"Constructs by {GROUPS[group].lower()}, {survey}", charts.heatmap(heat, group), heat,
             text="Mean score in the latest wave of the selected range. '—' marks a hidden cell: too few people, "
                  "or hidden so that a small group cannot be worked out from the others.", key="heatmap")

belonging = cache.view("group_trend", filters, group="generation", construct="belonging")
report.chart("Belonging by generation over time", charts.trend(belonging, colour="generation"), belonging,
             text="Does every generation feel valued? Mean belonging per wave, with 95% confidence intervals.",
             key="belonging-generation")
gap = cache.view("belonging_gap", filters)
report.chart("The generation gap in belonging", charts.trend(gap, y="gap", colour=None,
                                                             y_label="Gen Z minus Boomers (score points)"),
             gap, text="Above zero: the youngest generation feels more valued than the oldest. Shown only for waves "
                       "where both generations have enough people.", key="belonging-gap")
report.report_button()
