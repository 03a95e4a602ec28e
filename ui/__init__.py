"""Streamlit-side helpers shared by the pages: the cached store, the sidebar, access control.

Only this package and the pages import streamlit; `analytics` stays free of it.
"""
