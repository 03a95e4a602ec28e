"""The return on investment as a section of the board report (HTML, every text escaped)."""

from __future__ import annotations

import html

import pandas as pd

from analytics.report import table_html


def parts_table(doc: dict) -> pd.DataFrame:
    """Benefits (with 95% intervals) and costs, one row per part."""
    rows = []
    for p in doc["parts"]:
        if p["kind"] == "cost":
            rows.append({"part": p["part"], "kind": "cost", "amount": -p["cost"], "95% from": None, "95% to": None})
        else:
            rows.append({"part": p["part"], "kind": "avoided leavers" if p["kind"] == "retention" else "metric gain",
                         "amount": p["benefit"], "95% from": p["benefit_ci_low"], "95% to": p["benefit_ci_high"]})
    return pd.DataFrame(rows, columns=["part", "kind", "amount", "95% from", "95% to"])


def inputs_table(doc: dict) -> pd.DataFrame:
    rows = [{"input": k, "value": v} for k, v in doc["inputs"].items() if k != "metric_values"]
    rows += [{"input": f"value of one unit of {m}", "value": v} for m, v in doc["inputs"]["metric_values"].items()]
    return pd.DataFrame(rows)


def html_parts(doc: dict) -> list[str]:
    """The board report's "Return on investment" section."""
    e = html.escape
    out = ["<section class='claim'><h2>Return on investment</h2>"]
    if "error" in doc:
        return out + [f"<p class='meta'>{e(doc['error'])}</p></section>"]
    src = doc.get("inputs_source") or {}
    out += [f"<p><b>{e(doc['sentence'])}</b></p>",
            f"<p>Benefit {doc['benefit']:,.0f} (95% interval {doc['benefit_ci_low']:,.0f} to "
            f"{doc['benefit_ci_high']:,.0f}) against a cost of {doc['cost']:,.0f} over "
            f"{int(doc['inputs']['horizon_months'])} months; benefit–cost ratio {doc['bcr']:.2f}.</p>",
            "<p class='meta'>Benefits come only from the causal estimates (fewer leavers from the retention hazard, "
            "objective-metric gains from the productivity claim), each with its uncertainty carried into the "
            "interval by simulation; costs are taken as known. Inputs: "
            + e(f"version {src['version']} saved {src['saved_at']}" if src.get("version") else "the defaults")
            + ".</p>", "<h3>The parts</h3>", table_html(parts_table(doc)), "<h3>Inputs</h3>",
            table_html(inputs_table(doc))]
    out += [f"<p class='note'>Not valued — {e(m['part'])}: {e(m['reason'])}</p>" for m in doc.get("not_valued", [])]
    return out + ["</section>"]
