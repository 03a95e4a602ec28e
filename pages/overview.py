"""Overview: the headline figures leadership asks for first."""

import plotly.express as px
import streamlit as st

from analytics.filters import Filters
from analytics.headline import engagement_by_group, kpis
from ui.state import data_version, get_db


@st.cache_data(show_spinner=False)
def load_kpis(version: tuple, filter_key: tuple) -> dict:
    return kpis(get_db(), Filters(**dict(filter_key)))


@st.cache_data(show_spinner=False)
def load_groups(version: tuple, filter_key: tuple, group: str):
    return engagement_by_group(get_db(), group, Filters(**dict(filter_key)))


st.title("Does our reverse-mentoring programme work?")
filters = Filters()
version = data_version()
figures = load_kpis(version, filters.key())
st.caption(f"Figures as of {figures['as_of']:%d %B %Y}, the date of the latest data.")

cols = st.columns(5)
cols[0].metric("Employees", f"{figures['employees']:,}")
cols[1].metric("Programme participants", f"{figures['participants']:,}")
cols[2].metric("Active pairs", f"{figures['active_pairs']:,}")
cols[3].metric("Sessions, last 91 days", f"{figures['sessions_quarter']:,}")
rate = figures["response"]
cols[4].metric("Latest survey response rate", f"{rate['rate']:.0%}" if rate else "—",
               help=f"{rate['respondents']:,} of {rate['invited']:,} in {rate['survey']}" if rate else None)

st.subheader("Engagement by group, latest survey wave")
group = st.radio("Group by", ["department", "generation", "level", "location"], horizontal=True)
table = load_groups(version, filters.key(), group)
shown = table[~table["suppressed"]]
fig = px.bar(shown, x=group, y="mean", error_y=shown["ci_high"] - shown["mean"],
             labels={"mean": "Mean engagement (1–5)", group: group.capitalize()}, range_y=[1, 5])
st.plotly_chart(fig, width="stretch")
if table["suppressed"].any():
    st.info(f"{int(table['suppressed'].sum())} group(s) hidden: fewer respondents than the anonymity threshold.")
