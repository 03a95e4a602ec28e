"""How a page that reports on a scope opens: the sidebar and its checks, the threshold, the data
date, the page's report, then its title and one caption that says as of when, for whom and what
is hidden — the same four facts in the same order on every such page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from analytics.filters import Filters
from ui import cache
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.text import plain


@dataclass(frozen=True)
class Page:
    """What the page's body draws with: the filters in force, the anonymity threshold `k`, the
    headline figures (their `as_of` is the data date) and the report the page adds sections to."""

    filters: Filters
    k: int
    headline: dict
    report: ViewReport


def open_page(report_title: str, title: str, caption: Callable[[Filters, int], str],
              method: bool = False) -> Page:
    """Start the page (`start_page`), then draw its title and the caption
    "Data as of … · Scope: … · <caption(filters, k)>" before any figure is computed (first paint).

    `caption` gives our own text for the filters in force and the threshold; the scope comes from
    the URL, so it is drawn as plain text.
    """
    filters = start_page(method=method)
    k = cache.min_group()
    headline = cache.view("headline", filters)
    report = ViewReport(report_title, filters, k, data_date=headline["as_of"])
    st.title(title)
    st.caption(f"Data as of {headline['as_of']:%d %B %Y} · Scope: {plain(filters.describe())} · "
               f"{caption(filters, k)}")
    return Page(filters, k, headline, report)
