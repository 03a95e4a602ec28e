"""Data (analysts): what has been imported, and how good it is."""

import streamlit as st

from analytics.claims.scores import ALPHA_FLAG
from analytics.waves import wave_flags
from ui import cache
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.state import get_db
from ui.text import plain

filters = start_page(analysts_only=True)
k = cache.min_group()
report = ViewReport("Data quality", filters, k)

# first paint: the heading goes out before any figure is computed, and the reliability table
# (the slowest part: a pass over every answer on a new data version) is filled in last
st.title("Data")
st.caption(f"{plain(filters.describe())} · groups smaller than {k} people are never shown.")
st.page_link("pages/upload.py", label="Upload data", icon=":material/upload:")
quality = cache.view("data_quality", filters)

report.table("Survey response rates", quality["rates"][
    ["survey", "title", "opened", "closed", "invited_selected", "respondents", "rate", "unlinked", "suppressed",
     "reason"]], key="rates",
    text="Respondents in the view and the invited base (the wave's invitation count without filters, else the "
         "view's head count). Unlinked: respondents nobody could match to an employee (whole organisation).",
    column_config={"rate": st.column_config.NumberColumn("response rate", format="percent"),
                   "opened": st.column_config.DateColumn(), "closed": st.column_config.DateColumn(),
                   "invited_selected": st.column_config.NumberColumn("invited")})
flags = wave_flags(get_db(), k)
flagged = flags[flags["flag"].notna()] if not flags.empty else flags
if not flagged.empty:
    st.warning(f"{len(flagged)} survey wave(s) may not belong to the programme or give no response rate; "
               "waves without a linked respondent are shown as not linked, never as a 0 % response rate.",
               icon=":material/flag:")
    report.table("Flagged survey waves", flagged[["survey", "title", "opened", "respondents", "linked", "invited",
                                                  "flag"]], key="wave_flags",
                 text="Foreign or test surveys (nobody linked to the roster), waves without an invitation count, "
                      "small waves, and waves far outside the organisation's own survey period.",
                 column_config={"opened": st.column_config.DateColumn()})
reliability_slot = st.container()  # drawn in place, after the quicker tables below
report.table("Survey items mapped to constructs", quality["items"], key="items")
report.table("Import history", quality["imports"], key="imports")
with reliability_slot:
    report.table("Construct reliability", cache.view("reliability", filters), key="reliability",
                 text=f"Cronbach's alpha per construct (mean over waves, and the lowest wave); flagged below "
                      f"{ALPHA_FLAG}: the items may not measure one thing.")
report.report_button()
