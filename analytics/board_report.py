"""The board report: the bottom line on page 1, one section per claim, a methods appendix.

One self-contained HTML file (plotly.js inlined once, so the charts work offline); the PDF is
the same HTML printed by Chromium (`analytics.pdf_report`). Page 1 holds what a board needs
in ten seconds: the summing-up sentence, the verdict table, the overview chart, the data date,
the filters and the anonymity note. Every text is HTML-escaped; every number goes through
`analytics.formatting`, so it reads as on the dashboard.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from analytics import bottom_line, glossary
from analytics.formatting import count, number, p_text
from analytics.report import table_html

_STYLE = """
@page{size:A4;margin:14mm 12mm}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:1.5rem auto;
     padding:0 1rem;color:#1f2933;font-size:13px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:18px 0 6px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:12px 0 4px}
.meta{color:#52606d;font-size:12px;margin:2px 0} .bottom{font-size:16px;font-weight:600;margin:10px 0}
table{border-collapse:collapse;font-size:12px;margin:6px 0;width:100%} td,th{border:1px solid #ddd;
     padding:3px 6px;text-align:left;vertical-align:top} th{background:#f5f7fa}
td.num{text-align:right;white-space:nowrap}
.chip{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:11px;
      white-space:nowrap}
.claim{break-before:page} .page1{break-after:page} .note{color:#8a4b08;font-size:12px}
dl dt{font-weight:600;margin-top:6px} dl dd{margin:0 0 0 1rem}
"""


@dataclass
class ClaimSection:
    """One claim's part of the report: its chart and its formatted tables (already guarded)."""

    claim_id: str
    figure: go.Figure | None = None
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verdict_table(card: pd.DataFrame, populations: dict[str, str] | None = None) -> pd.DataFrame:
    """Page 1's table: claim, verdict, for whom, effect (SD) with its 95% CI, Holm-adjusted p.

    >>> card = pd.DataFrame({"id": ["e"], "title": ["It raises engagement"], "verdict": ["supported"],
    ...     "effect_size": [0.2871], "es_ci_low": [0.1], "es_ci_high": [0.47], "p_adjusted": [0.0004]})
    >>> verdict_table(card).iloc[0].tolist()
    ['It raises engagement', 'Supported', 'Mentors and mentees (pooled)', '+0.29', '0.10 to 0.47', '< 0.001']
    """
    rows = []
    for r in card.to_dict("records"):
        has = pd.notna(r.get("effect_size"))
        rows.append({"Claim": r["title"], "Verdict": bottom_line.VERDICT_LABELS.get(r["verdict"], r["verdict"]),
                     "For whom": bottom_line.who_for(r, (populations or {}).get(r["id"])),
                     "Effect (SD)": number(r.get("effect_size"), signed=True) if has else "—",
                     "95% CI (SD)": f"{number(r.get('es_ci_low'))} to {number(r.get('es_ci_high'))}" if has else "—",
                     "p (Holm)": p_text(r.get("p_adjusted"))})
    return pd.DataFrame(rows, columns=["Claim", "Verdict", "For whom", "Effect (SD)", "95% CI (SD)", "p (Holm)"])


def _fig(fig: go.Figure | None, first: list[bool], height: int | None = None) -> str:
    if fig is None or not fig.data:
        return ""
    if height:
        fig = go.Figure(fig).update_layout(height=height)
    out = fig.to_html(full_html=False, include_plotlyjs=first[0], config={"displaylogo": False, "staticPlot": True},
                      default_width="100%")
    first[0] = False
    return out


def _verdict_rows(table: pd.DataFrame, colours: dict[str, str], card: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for (_, row), verdict in zip(table.iterrows(), card["verdict"]):
        cells = []
        for col, v in row.items():
            if col == "Verdict":
                cells.append(f"<td><span class='chip' style='background:{colours.get(verdict, '#8C8C8C')}'>"
                             f"{html.escape(str(v))}</span></td>")
            else:
                cls = " class='num'" if col in ("Effect (SD)", "95% CI (SD)", "p (Holm)") else ""
                cells.append(f"<td{cls}>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(card: pd.DataFrame, *, filters_text: str, min_group: int, data_date: dt.date | None,
           overview_figure: go.Figure | None = None, sections: list[ClaimSection] | None = None,
           populations: dict[str, str] | None = None, colours: dict[str, str] | None = None,
           method_texts: list[str] | None = None, generated: dt.datetime | None = None,
           title: str = "Twoway — does our reverse-mentoring programme work?", value: dict | None = None) -> str:
    """The board report as one self-contained HTML string."""
    generated = generated or dt.datetime.now().replace(microsecond=0)
    first = [True]
    by_id = {r["id"]: r for r in card.to_dict("records")}
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
             "<section class='page1'>", f"<h1>{e(title)}</h1>",
             f"<p class='meta'>Data as of {e(f'{data_date:%d %B %Y}') if data_date else 'unknown'} · "
             f"Scope: {e(filters_text)} · generated {generated:%d %B %Y %H:%M}</p>",
             f"<p class='meta'>Anonymity: no figure describes fewer than {int(min_group)} people; smaller groups "
             "are hidden, and so is any view that would reveal them by subtraction.</p>",
             f"<p class='bottom'>{e(bottom_line.summary_sentence(card))}</p>",
             _verdict_rows(verdict_table(card, populations), colours or {}, card),
             "<p class='meta'>Effect: the programme's effect in standard deviations of the outcome (SD), "
             "participants against a comparison group of colleagues, with its 95% confidence interval; p adjusted "
             "for testing all claims at once (Holm). The methods appendix explains every term.</p>",
             _fig(overview_figure, first, height=360), "</section>"]
    for s in sections or []:
        r = by_id.get(s.claim_id)
        if r is None:
            continue
        verdict = bottom_line.VERDICT_LABELS.get(r["verdict"], r["verdict"])
        parts += ["<section class='claim'>", f"<h2>{e(r['title'])} — {e(verdict)}</h2>",
                  f"<p><b>{e(str(r.get('sentence') or ''))}</b></p>",
                  f"<p>{e(bottom_line.plain_reading(r, r.get('design') or 'did'))}</p>",
                  f"<p class='meta'>{e(bottom_line.counts_sentence(r))} "
                  f"p = {e(p_text(r.get('p_value')))}, Holm-adjusted {e(p_text(r.get('p_adjusted')))}; "
                  f"smallest detectable effect {e(number(r.get('mde')))} SD.</p>",
                  f"<p class='meta'>{e(str(r.get('method') or ''))}</p>", _fig(s.figure, first, height=340)]
        for name, table in s.tables:
            if table is not None and not table.empty:
                parts += [f"<h3>{e(name)}</h3>", table_html(table)]
        parts += [f"<p class='note'>{e(n)}</p>" for n in s.notes]
        parts.append("</section>")
    if value is not None:  # the return on investment (analytics.value_data.value_document)
        from analytics.value_report import html_parts

        parts += html_parts(value)
    parts += ["<section class='claim'><h2>Methods appendix</h2>"]
    parts += [f"<p>{e(t)}</p>" for t in method_texts or []]
    parts.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in glossary.TERMS.items()) + "</dl>")
    parts.append(f"<p class='meta'>{count(len(card))} claims tested; verdict rule and claim definitions: "
                 "docs/CLAIMS.md of the Twoway repository.</p></section></body></html>")
    return "\n".join(p for p in parts if p)
