"""The board report buttons (HTML and PDF): built only when clicked, from the cached views."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import streamlit as st

from analytics import board_report, pdf_report, subgroups
from analytics.errors import TwowayError
from analytics.filters import Filters
from ui import cache, charts
from ui.text import plain_figure
from ui.verdicts import part, populations, pretrend_text

TABLES = (("balance", "Is the comparison group comparable?"), ("cohorts", "By cohort"),
          ("within", "Within the programme"), ("by_generation", "By generation"),
          ("generation_gap", "Generation gap"), ("metrics", "Objective metrics"))


def build_html(card: pd.DataFrame, filters: Filters, k: int, data_date: dt.date | None) -> str:
    """The whole board report: page 1, one section per claim (chart + formatted tables), methods."""
    sections = []
    for row in card.to_dict("records"):
        detail = cache.view("claim_detail", filters, claim_id=row["id"])
        event = part(detail, "event_study")
        bands = cache.view("gain_bands", filters, claim_id=row["id"])
        if isinstance(event, pd.DataFrame) and not event.empty:
            fig = charts.event_study(event)
        elif isinstance(bands, pd.DataFrame) and not bands.dropna(subset=["gain"]).empty:
            fig = (charts.gain_bands(bands) if row["id"] == "dose_response" else
                   charts.gain_bands(bands, x="dept_safety", x_label="Department's baseline psychological safety"))
        else:
            fig = None
        tables = [(title, part(detail, key)) for key, title in TABLES if isinstance(part(detail, key), pd.DataFrame)]
        notes = [pretrend_text(part(detail, "pretrend"))] if part(detail, "pretrend") else []
        sections.append(board_report.ClaimSection(row["id"], plain_figure(fig), tables, notes + list(part(detail, "notes") or [])))
    methods = sorted({str(m) for m in card["method"].dropna()}) + [subgroups.rule_text()]
    saved = cache.view("value_inputs", filters)["saved"]
    value = cache.view("value", filters, inputs=json.dumps(saved.as_dict(), sort_keys=True))
    return board_report.render(card, filters_text=filters.describe(), min_group=k, data_date=data_date,
                               overview_figure=plain_figure(charts.forest(card)), sections=sections, populations=populations(),
                               colours=charts.VERDICT_COLOURS, method_texts=methods, value=value)


def buttons(card: pd.DataFrame, filters: Filters, k: int, data_date: dt.date | None, file_stub: str) -> None:
    """'Board report (HTML)' and 'Board report (PDF)' download buttons."""
    day = (data_date or dt.date.today()).isoformat()
    left, right = st.columns(2)
    left.download_button("Board report (HTML)", lambda: build_html(card, filters, k, data_date).encode("utf-8"),
                         file_name=f"twoway-{file_stub}-board-report-{day}.html", mime="text/html",
                         key=f"board-html-{file_stub}", on_click="ignore", icon=":material/summarize:")
    if pdf_report.available():
        def pdf() -> bytes:
            try:
                return pdf_report.html_to_pdf(build_html(card, filters, k, data_date))
            except TwowayError as exc:  # shown in place of the file
                return str(exc).encode("utf-8")

        right.download_button("Board report (PDF)", pdf, file_name=f"twoway-{file_stub}-board-report-{day}.pdf",
                              mime="application/pdf", key=f"board-pdf-{file_stub}", on_click="ignore",
                              icon=":material/picture_as_pdf:")
    else:
        right.caption("PDF needs Chromium (apt-get install chromium); the HTML report prints to PDF from any browser.")
