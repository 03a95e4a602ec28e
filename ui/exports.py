"""Charts with their data: every figure is drawn with a formula-safe CSV of exactly the numbers
behind it, and collected for the page's self-contained HTML report."""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import report
from analytics.filters import Filters
from analytics.formatting import COLUMN_LABELS, for_people
from analytics.privacy import REASON, SUPPRESSED
from analytics.safe_export import to_csv_bytes
from ui.text import plain, plain_figure


def suppression_notes(df: pd.DataFrame | None) -> list[str]:
    """One line per distinct reason, with how many values it hid."""
    if df is None or SUPPRESSED not in df or not df[SUPPRESSED].any():
        return []
    counts = df.loc[df[SUPPRESSED], REASON].value_counts()
    return [f"{n} value{'s' if n > 1 else ''} {reason}." for reason, n in counts.items()]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "data"


class ViewReport:
    """Draws a page's charts and tables, and offers their data and the whole view for download."""

    def __init__(self, title: str, filters: Filters, min_group: int, data_date: dt.date | None = None):
        self.title, self.filters, self.min_group = title, filters, min_group
        self.data_date = data_date
        self.sections: list[report.Section] = []

    def file_name(self, table: str, ext: str = "csv") -> str:
        """'twoway-<page>-<table>-<data date>.csv': which page, which table, as of when."""
        day = (self.data_date or dt.date.today()).isoformat()
        return f"twoway-{_slug(self.title)}-{_slug(table)}-{day}.{ext}"

    def chart(self, title: str, fig: go.Figure | None, data: pd.DataFrame | None = None, text: str = "",
              key: str | None = None, then: Callable[[go.Figure], object] | None = None) -> None:
        """A subheading, the figure, why anything is hidden, and a CSV of its data.

        Titles, texts and figures may hold names from imported data: drawn as plain text. `then`
        runs on the escaped figure, for our own markup that holds no data (`charts.link_cells`)."""
        fig = plain_figure(fig)
        if fig is not None and then is not None:
            then(fig)
        st.subheader(plain(title))
        if text:
            st.caption(plain(text))
        notes = suppression_notes(data)
        all_hidden = data is not None and not data.empty and SUPPRESSED in data and bool(data[SUPPRESSED].all())
        if data is not None and data.empty:
            st.info("No data for this view.")
        elif all_hidden:
            st.info("Every value of this chart is hidden to protect anonymity; widen the filters to see it.",
                    icon=":material/lock:")
            fig = None
        elif fig is not None:
            st.plotly_chart(fig, width="stretch", key=key)
        for note in notes:
            st.caption(f"🔒 {plain(note)}")
        if data is not None and not data.empty:
            self.download(data, title, key=f"csv-{key or _slug(title)}")
        self.sections.append(report.Section(title, text, fig, _for_report(data), notes))

    def table(self, title: str, data: pd.DataFrame, text: str = "", key: str | None = None,
              column_config: dict | None = None) -> None:
        st.subheader(plain(title))
        if text:
            st.caption(plain(text))
        shown = for_people(data.drop(columns=[SUPPRESSED], errors="ignore"), p_as_text=True)
        config = {COLUMN_LABELS.get(k, k): v for k, v in (column_config or {}).items()}
        st.dataframe(shown, hide_index=True, width="stretch", column_config=config or None)
        notes = suppression_notes(data)
        for note in notes:
            st.caption(f"🔒 {plain(note)}")
        self.download(data, title, key=f"csv-{key or _slug(title)}")
        self.sections.append(report.Section(title, text, None, _for_report(data), notes))

    def note(self, title: str, text: str) -> None:
        self.sections.append(report.Section(title, text))

    def download(self, data: pd.DataFrame, title: str, key: str) -> None:
        """The table as a CSV people can read: human column names, rounded, no exponents."""
        frame = for_people(data.drop(columns=[SUPPRESSED], errors="ignore"))
        st.download_button("Download data (CSV)", lambda: to_csv_bytes(frame),
                           file_name=self.file_name(title), mime="text/csv", key=key,
                           on_click="ignore", type="tertiary", icon=":material/download:")

    def html(self, sections: list[report.Section] | None = None, data_note: str = "") -> str:
        return report.render(f"Twoway — {self.title}", self.sections if sections is None else sections,
                             self.filters.describe(), self.min_group, data_note=data_note)

    def report_button(self, data_note: str = "") -> None:
        """The 'Download this view as an HTML report' button (self-contained, works offline)."""
        sections = list(self.sections)

        def build() -> bytes:  # runs only when clicked: the report inlines plotly.js (~4 MB)
            return self.html(sections, data_note).encode("utf-8")

        st.download_button("Download this view as an HTML report", build,
                           file_name=self.file_name("report", "html"), mime="text/html",
                           key=f"report-{_slug(self.title)}", on_click="ignore", icon=":material/description:")


def _for_report(df: pd.DataFrame | None) -> pd.DataFrame | None:
    if df is None:
        return None
    return df.drop(columns=[SUPPRESSED], errors="ignore").head(200)
