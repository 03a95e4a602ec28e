"""Twoway dashboard entry point: who is signing in, which pages they may open, the shared
filters (sidebar ⇄ URL), the anonymity guard for the whole view, then the chosen page."""

from pathlib import Path

import streamlit as st

from ui import auth, cache, sidebar

st.set_page_config(page_title="Twoway — does reverse mentoring work?", page_icon="🔁", layout="wide")

user = auth.current_user()

leadership = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True, url_path="overview"),
    st.Page("pages/claims.py", title="Claims", icon=":material/fact_check:", url_path="claims"),
    st.Page("pages/engagement.py", title="Engagement & culture", icon=":material/groups:", url_path="engagement"),
    st.Page("pages/activity.py", title="Programme activity", icon=":material/event:", url_path="activity"),
    st.Page("pages/productivity.py", title="Productivity", icon=":material/speed:", url_path="productivity"),
]
analysts = [st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data")]
if (Path(__file__).parent / "pages" / "upload.py").exists():
    analysts.append(st.Page("pages/upload.py", title="Upload data", icon=":material/upload:", url_path="upload"))
# Viewers never get the analyst pages registered, so no URL reaches them.
page = st.navigation({"Leadership": leadership, **({"Analysts": analysts} if user.is_analyst else {})})

latest_import = cache.latest_import()
filters, notices = sidebar.filters_sidebar(show_method=page.title in ("Overview", "Claims"),
                                           latest_import=latest_import)
auth.account_box(user)
for notice in notices:
    st.warning(notice, icon=":material/link_off:")
if filters.as_of is not None and latest_import is not None and filters.as_of < latest_import:
    st.info(f"This link was pinned to import #{filters.as_of}; newer data has arrived since "
            f"(import #{latest_import}), so some figures may differ from what the sender saw.",
            icon=":material/history:")

check = cache.view("check_selection", filters)
if not check.ok and page.title != "Upload data":
    st.title(page.title)
    st.error(check.reason, icon=":material/lock:")
    st.stop()
page.run()
