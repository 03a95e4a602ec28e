"""Twoway dashboard entry point: who is signing in, which pages they may open, then the page.

Each page starts with `ui.sidebar.start_page`, which draws the shared filters (kept in sync
with the URL), checks the role again and applies the anonymity guard to the whole view.
"""

from pathlib import Path

import streamlit as st

from ui import auth

st.set_page_config(page_title="Twoway — does reverse mentoring work?", page_icon="🔁", layout="wide")

user = auth.current_user()

leadership = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True, url_path="overview"),
    st.Page("app_pages/claims.py", title="Claims", icon=":material/fact_check:", url_path="claims"),
    st.Page("app_pages/engagement.py", title="Engagement & culture", icon=":material/groups:", url_path="engagement"),
    st.Page("app_pages/activity.py", title="Programme activity", icon=":material/event:", url_path="activity"),
    st.Page("app_pages/productivity.py", title="Productivity", icon=":material/speed:", url_path="productivity"),
]
analysts = [st.Page("app_pages/data.py", title="Data", icon=":material/database:", url_path="data")]
if (Path(__file__).parent / "app_pages" / "upload.py").exists():
    analysts.append(st.Page("app_pages/upload.py", title="Upload data", icon=":material/upload:", url_path="upload"))
# Viewers never get the analyst pages registered, so no URL reaches them.
st.navigation({"Leadership": leadership, **({"Analysts": analysts} if user.is_analyst else {})}).run()
