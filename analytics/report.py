"""A self-contained HTML report of the current view, for leadership decks.

One file, no network: plotly.js is inlined once (include_plotlyjs=True on the first chart), so
the charts stay interactive offline. Every text is HTML-escaped; tables are the same guarded
frames the dashboard shows, so suppressed cells stay blank with their reasons.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from analytics.formatting import for_people, number


@dataclass
class Section:
    """One heading with optional text, chart and table."""

    title: str
    text: str = ""
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2rem auto;
     padding:0 1rem;color:#1f2933}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#52606d;font-size:.9rem} .note{color:#8a4b08;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.25rem .5rem}
th{background:#f5f7fa}
"""


def render(title: str, sections: list[Section], filters_text: str, min_group: int,
           generated: dt.datetime | None = None, data_note: str = "") -> str:
    """The report as one HTML string."""
    generated = generated or dt.datetime.now().replace(microsecond=0)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='meta'>View: {html.escape(filters_text)} · groups smaller than {int(min_group)} people are "
        f"hidden · generated {generated:%d %B %Y %H:%M}{(' · ' + html.escape(data_note)) if data_note else ''}</p>",
    ]
    plotly_included = False
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        if s.text:
            parts.append(f"<p>{html.escape(s.text)}</p>")
        if s.figure is not None:
            parts.append(s.figure.to_html(full_html=False, include_plotlyjs=not plotly_included,
                                          config={"displaylogo": False}))
            plotly_included = True
        if s.table is not None and not s.table.empty:
            parts.append(table_html(s.table))
        for note in s.notes:
            parts.append(f"<p class='note'>{html.escape(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def table_html(df: pd.DataFrame) -> str:
    """A table as people read it: human column names, counts whole, the rest to two or three
    decimals, never an exponent (the old 1.27e+03), "—" for hidden or missing cells.

    >>> "1,270.46" in table_html(pd.DataFrame({"estimate": [1270.456]}))
    True
    """
    shown = for_people(df, p_as_text=True)
    return shown.to_html(index=False, escape=True, na_rep="—",
                         float_format=lambda v: number(v, 3 if abs(v) < 1 else 2))
