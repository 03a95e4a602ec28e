"""Productivity: each objective metric, before and after, participants vs everyone else."""

import streamlit as st

from ui import cache, charts
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.text import plain

filters = start_page()
k = cache.min_group()
report = ViewReport("Productivity", filters, k)

st.title("Productivity")  # first paint: the heading and caption before the figures are computed
st.caption(f"{plain(filters.describe())} · groups smaller than {k} people are never shown. These are descriptive: "
           "the Claims page tests whether the programme changed productivity.")
data = cache.view("productivity", filters)

if data["defs"].empty:
    st.info("No objective metrics have been imported yet.")
for metric in data["defs"].itertuples(index=False):
    # the unit is optional: a metric without one reads NULL, which pandas may hand over as NaN
    unit = metric.unit if isinstance(metric.unit, str) and metric.unit.strip() else "value"
    better = "higher is better" if metric.higher_is_better else "lower is better"
    monthly = data["by_period"][data["by_period"]["metric"] == metric.metric]
    report.chart(f"{charts.pretty(metric.metric)} per month", charts.trend(monthly, x="period", y_label=unit),
                 monthly, text=f"Mean {unit} ({better}) of participants and everyone else, 95% confidence intervals.",
                 key=f"monthly-{metric.metric}")
    phases = data["before_after"][data["before_after"]["metric"] == metric.metric]
    report.chart(f"{charts.pretty(metric.metric)}: before and after", charts.points_with_ci(
        phases, x="phase", colour="group", y_label=unit), phases,
        text="Mean of the monthly values (n = person-months). Participants: months before vs from the start of "
             "their first pair. Everyone else: split at the first pair start of the selection. Descriptive levels, "
             "without an interval (one person's months are not independent): the effect with its 95% CI is the "
             "productivity claim's, on the Claims page.", key=f"phase-{metric.metric}")
report.report_button()
