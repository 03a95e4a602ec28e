"""Twoway dashboard entry point: who is signing in, which pages they may open, then the page.

Each page starts with `ui.sidebar.start_page`, which draws the shared filters (kept in sync
with the URL), checks the role again and applies the anonymity guard to the whole view.

A fresh server maps the first deep link it sees straight to `pages/<name>.py` (Streamlit's old
folder-based navigation); `ui.auth.require_app_entry` sends such a session back here with its
page and query string, so shared links always get the navigation and the role check.
"""

import streamlit as st

from ui import auth

st.set_page_config(page_title="Twoway — does reverse mentoring work?", page_icon="🔁", layout="wide")

auth.mark_app_entry()
user = auth.current_user()

leadership = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True, url_path="overview"),
    st.Page("pages/claims.py", title="Claims", icon=":material/fact_check:", url_path="claims"),
    st.Page("pages/engagement.py", title="Engagement & culture", icon=":material/groups:", url_path="engagement"),
    st.Page("pages/activity.py", title="Programme activity", icon=":material/event:", url_path="activity"),
    st.Page("pages/productivity.py", title="Productivity", icon=":material/speed:", url_path="productivity"),
]
analysts = [
    st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
    st.Page("pages/upload.py", title="Upload data", icon=":material/upload:", url_path="upload"),
]
# Viewers never get the analyst pages registered, so no URL reaches them.
allowed = {"Leadership": leadership, **({"Analysts": analysts} if user.is_analyst else {})}
page = st.navigation(allowed)
auth.resume_wanted_page([p for group in allowed.values() for p in group])
page.run()
