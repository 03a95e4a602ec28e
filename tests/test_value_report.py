"""The return on investment in the board report: the figures of the value document, escaped."""

from __future__ import annotations

import pandas as pd

from analytics import board_report
from analytics.store import Database
from analytics.value_data import value_document


def test_the_board_report_has_the_roi_section_with_its_interval_and_inputs(demo_path):
    with Database.reader(demo_path) as db:
        doc = value_document(db, 5, override={"metric_values": {"tasks_completed": 20}})
    card = pd.DataFrame(columns=["id", "title", "verdict", "method"])
    html = board_report.render(card, filters_text="Everyone", min_group=5, data_date=None, value=doc)
    assert "<h2>Return on investment</h2>" in html
    assert doc["sentence"].replace("'", "&#x27;") in html
    assert f"{doc['benefit_ci_low']:,.0f} to {doc['benefit_ci_high']:,.0f}" in html
    assert "value of one unit of tasks_completed" in html
    for m in doc["not_valued"]:
        assert f"Not valued — {m['part']}" in html
    for p in doc["parts"]:
        assert f"<td>{p['part']}</td>" in html


def test_outside_text_in_the_section_is_escaped():
    doc = {"sentence": "<script>alert(1)</script>", "benefit": 1.0, "benefit_ci_low": 0.0, "benefit_ci_high": 2.0,
           "cost": 1.0, "bcr": 1.0, "inputs": {"horizon_months": 12, "metric_values": {"<b>m</b>": 1.0}},
           "parts": [{"part": "<img src=x>", "kind": "metric", "benefit": 1.0, "benefit_ci_low": 0.0,
                      "benefit_ci_high": 2.0}], "not_valued": [{"part": "<i>r</i>", "reason": "<u>why</u>"}]}
    html = "".join(board_report_parts(doc))
    for tag in ("<script>", "<img", "<b>m", "<i>r", "<u>why"):
        assert tag not in html


def board_report_parts(doc):
    from analytics.value_report import html_parts

    return html_parts(doc)
