"""Twoway dashboard entry point: builds the page list and hands over to st.navigation."""

import streamlit as st

st.set_page_config(page_title="Twoway — does reverse mentoring work?", page_icon="🔁", layout="wide")

pages = {
    "Leadership": [
        st.Page("pages/overview.py", title="Overview", icon="🏠", default=True, url_path="overview"),
    ],
}
st.navigation(pages).run()
