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

OVERVIEW = st.Page("pages/overview.py", title="Overview", icon=":material/home:", url_path="overview")


def home() -> None:
    """The root URL opens the Overview at `/overview`, keeping the link's filters.

    The Overview is not the default page itself: the default page's URL is always the root, so
    `/overview` (the README's example, and what shared links name) would be "Page not found"."""
    st.switch_page(OVERVIEW, query_params={k: st.query_params.get_all(k) for k in st.query_params})


leadership = [
    OVERVIEW,
    st.Page("pages/claims.py", title="Claims", icon=":material/fact_check:", url_path="claims"),
    st.Page("pages/engagement.py", title="Engagement & culture", icon=":material/groups:", url_path="engagement"),
    st.Page("pages/activity.py", title="Programme activity", icon=":material/event:", url_path="activity"),
    st.Page("pages/where.py", title="Where it works", icon=":material/grid_view:", url_path="where"),
    st.Page("pages/productivity.py", title="Productivity", icon=":material/speed:", url_path="productivity"),
    st.Page("pages/value.py", title="Value", icon=":material/payments:", url_path="value"),
    st.Page(home, title="Home", url_path="home", default=True, visibility="hidden"),
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
