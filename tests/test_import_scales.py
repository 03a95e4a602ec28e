"""Scales decided per item: the mapping, else labels, else the survey's other items; the item's own
answers only when nothing else says; a value beyond the scale is an error naming row and column."""

from __future__ import annotations

import json

import pytest

from analytics.errors import TwowayError
from analytics.importing import ImportFailed, import_file, mapping_from_editor, preview
from analytics.importing.api import labels_from_text
from analytics.importing.labels import frequency_table
from tests.fixtures import REAL_EXPORTS, snapshot
from tests.test_import_helpers import load_org

HEAD = "employee_id,submitted_at,q1,q2,q3,q4\n"
# Every item answers 1–5, except one 7 in q4 (row 4).
ONE_SEVEN = HEAD + "E001,2025-01-01,1,2,3,4\nE002,2025-01-01,5,4,3,2\nE003,2025-01-01,3,3,5,7\nE004,2025-01-01,2,5,1,1\n"


@pytest.fixture
def org(db):
    load_org(db)
    return db


def _write(tmp_path, text, name="s.csv"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


def test_one_seven_among_1_to_5_items_is_an_error(org, tmp_path):
    before = snapshot(org)
    with pytest.raises(ImportFailed, match=r"row 4, column F 'q4': value 7 is outside the item's scale 1–5 "
                                           r"\(the scale of the survey's other items") as info:
        import_file(org, _write(tmp_path, ONE_SEVEN))
    assert len(info.value.report["errors"]) == 1
    assert snapshot(org) == before


def test_the_mapping_gives_an_item_its_own_scale(org, tmp_path):
    mapping = {f"q{i}": {"construct": "engagement", "scale": [1, 5]} for i in (1, 2, 3)}
    mapping["q4"] = {"construct": "belonging", "scale": [1, 7]}
    rep = import_file(org, _write(tmp_path, ONE_SEVEN), mapping=mapping)
    assert {i["item"]: (tuple(i["scale"]), i["scale_from"]) for i in rep["items"]} == {
        "q1": ((1, 5), "mapping"), "q2": ((1, 5), "mapping"), "q3": ((1, 5), "mapping"), "q4": ((1, 7), "mapping")}
    assert rep["scale_confirmed"] is True


def test_items_follow_the_labelled_items(org, tmp_path):
    # q1 has agreement labels (1–5); the numeric q2 takes that scale, so its 6 is an error
    text = "employee_id,submitted_at,q1,q2\nE001,2025-01-01,Agree,4\nE002,2025-01-01,Disagree,6\n"
    with pytest.raises(ImportFailed, match=r"row 3, column D 'q2': value 6 is outside the item's scale 1–5"):
        import_file(org, _write(tmp_path, text))


def test_own_answers_only_when_nothing_else_says(org, tmp_path):
    # one numeric item answering 1–4: the smallest standard 1-based scale holding it is 1–5
    rep = import_file(org, _write(tmp_path, "employee_id,submitted_at,q1\nE001,2025-01-01,1\nE002,2025-01-01,4\n"),
                      dry_run=True)
    assert (rep["items"][0]["scale"], rep["items"][0]["scale_from"]) == ([1, 5], "answers")
    assert rep["scale_confirmed"] is False
    assert any("inferred from the answers" in w for w in rep["warnings"])


def test_two_items_disagreeing_on_their_own_scale_keep_their_own(org, tmp_path):
    # q1 answers 0–10 → 0–10; q2 answers 1–7 → 1–7: no majority, so each its own (and not confirmed)
    text = "employee_id,submitted_at,q1,q2\nE001,2025-01-01,0,7\nE002,2025-01-01,10,1\n"
    rep = import_file(org, _write(tmp_path, text), dry_run=True)
    assert [(i["scale"], i["scale_from"]) for i in rep["items"]] == [([0, 10], "answers"), ([1, 7], "answers")]


def test_four_point_frequency_is_never_read_as_1_to_5(org, tmp_path):
    text = ("employee_id,submitted_at,How often do you try new tools?\nE001,2025-01-01,Never\n"
            "E002,2025-01-01,Frequently\nE003,2025-01-01,Sometimes\nE004,2025-01-01,Rarely\n")
    rep = import_file(org, _write(tmp_path, text), dry_run=True)
    it = rep["items"][0]
    # Never 1, Frequently 4, Sometimes 3, Rarely 2 on 1–4: mean 10 / 4 = 2.5
    assert (it["scale"], it["scale_from"], it["mean"]) == ([1, 4], "labels", 2.5)
    assert rep["scale_confirmed"] is True
    assert frequency_table({"never", "often", "always"}) == "frequency_5"


def test_frequency_answers_that_fit_four_and_five_points_are_not_ready(org, tmp_path):
    """Never, Rarely, Sometimes only: the 4-point (… Frequently) and the 5-point (… Always) scales
    both fit, so the labels do not say the scale's top. The item keeps its label numbers on 1–5
    (the old reading) but the scale is not confirmed (no "Ready") until the mapping states it."""
    text = ("employee_id,submitted_at,How often do you try new tools?\nE001,2025-01-01,Never\n"
            "E002,2025-01-01,Rarely\nE003,2025-01-01,Sometimes\nE004,2025-01-01,Sometimes\n")
    rep = import_file(org, _write(tmp_path, text), dry_run=True)
    it = rep["items"][0]
    # Never 1, Rarely 2, Sometimes 3 on either table: mean (1 + 2 + 3 + 3) / 4 = 2.25
    assert (it["scale"], it["scale_from"], it["mean"]) == ([1, 5], "labels", 2.25)
    assert rep["scale_confirmed"] is False and rep["scale_ambiguous"] == ["How often do you try new tools?"]
    assert any("4-point" in w and "5-point" in w for w in rep["warnings"]), rep["warnings"]
    shown = preview(org, tmp_path / "s.csv")["items"].set_index("item")["detected_scale"]
    assert shown["How often do you try new tools?"] == "1–5 (labels; or 1–4: set it)"  # the mapping step says so
    stated = import_file(org, _write(tmp_path, text), dry_run=True,
                         mapping={"How often do you try new tools?": {"construct": "agility", "scale": [1, 4]}})
    assert stated["items"][0]["scale"] == [1, 4] and stated["scale_confirmed"] is True
    assert "scale_ambiguous" not in stated
    # one item answering "Frequently" settles the table for the survey's other frequency items
    both = ("employee_id,submitted_at,How often do you try new tools?,How often do you share?\n"
            "E001,2025-01-01,Never,Frequently\nE002,2025-01-01,Rarely,Never\n")
    rep2 = import_file(org, _write(tmp_path, both), dry_run=True)
    assert [i["scale"] for i in rep2["items"]] == [[1, 4], [1, 4]] and rep2["scale_confirmed"] is True


def test_a_stated_scale_picks_the_label_table_of_that_length(org, tmp_path):
    """The mapping says 1–7 and the answers are only Agree, Strongly agree and Disagree: they were
    read on the 5-point table (Agree 4) under a 1–7 scale, "Ready", silently wrong. A stated scale
    now picks the 7-point table (Agree 6, Strongly agree 7, Disagree 2), and labels no table of
    that length holds are an error naming the column."""
    text = ("employee_id,submitted_at,I feel I belong in my team\nE001,2025-01-01,Agree\n"
            "E002,2025-01-01,Strongly agree\nE003,2025-01-01,Disagree\n")
    q = "I feel I belong in my team"
    rep = import_file(org, _write(tmp_path, text), dry_run=True,
                      mapping={q: {"construct": "belonging", "scale": [1, 7]}})
    # 7-point agreement: (6 + 7 + 2) / 3 = 5
    assert (rep["items"][0]["scale"], rep["items"][0]["mean"]) == ([1, 7], 5.0) and rep["scale_confirmed"] is True
    five = import_file(org, _write(tmp_path, text), dry_run=True,
                       mapping={q: {"construct": "belonging", "scale": [1, 5]}})
    assert five["items"][0]["mean"] == pytest.approx(11 / 3)  # (4 + 5 + 2) / 3 on the 5-point table
    often = ("employee_id,submitted_at,How often do you try new tools?\nE001,2025-01-01,Often\n"
             "E002,2025-01-01,Never\n")
    before = snapshot(org)
    with pytest.raises(ImportFailed, match=r"column C 'How often do you try new tools\?': its answers are labels of "
                                           r"the 1–5 frequency scale, but the mapping's scale is 1–4"):
        import_file(org, _write(tmp_path, often), mapping={"How often do you try new tools?": {
            "construct": "agility", "scale": [1, 4]}})
    assert snapshot(org) == before


@pytest.mark.skipif(not (REAL_EXPORTS / "surveymonkey_results.csv").is_file(), reason="real exports not present")
def test_real_surveymonkey_frequency_items_are_four_point(db):
    """The OSPO 2018 SurveyMonkey export (748 respondents) asks 'How often…' on Never–Frequently."""
    rep = import_file(db, REAL_EXPORTS / "surveymonkey_results.csv", survey="sm", dry_run=True)
    by_q = {i["question"]: i for i in rep["items"]}
    # expected.json's mapping gives this item scale [1, 4] and mean 2.3795 over the raw answers
    exp = json.loads((REAL_EXPORTS / "expected.json").read_text(encoding="utf-8"))
    sm = next(c for c in exp["good"] if c["file"] == "surveymonkey_results.csv")
    for question, mean in sm["items"].items():
        assert by_q[question]["scale"] == [1, 4]
        assert by_q[question]["mean"] == pytest.approx(mean, abs=exp["tolerance"])


def test_mapping_labels_beyond_the_mapping_scale(org, tmp_path):
    text = "employee_id,submitted_at,q1\nE001,2025-01-01,Never\nE002,2025-01-01,Always\n"
    with pytest.raises(ImportFailed, match=r"column C 'q1': the mapping's labels run 1–5, beyond its scale 1–4"):
        import_file(org, _write(tmp_path, text), mapping={"q1": {"construct": "agility", "scale": [1, 4],
                                                                 "labels": {"Never": 1, "Always": 5}}})


def test_checkbox_columns_are_never_pre_marked_reverse(db, tmp_path):
    text = ('"Timestamp","Employee ID","I feel I belong in my team","Which topics were difficult to discuss?"\n'
            '"2025/03/01 9:00:01 AM","E001","Agree","AI tools, Social media"\n'
            '"2025/03/01 9:30:45 AM","E002","Disagree","AI tools"\n')
    prev = preview(db, _write(tmp_path, text, "gf.csv"))
    items = prev["items"].set_index("item")
    checkbox = items.loc["Which topics were difficult to discuss?"]
    assert (bool(checkbox["import"]), bool(checkbox["reverse"]), checkbox["detected_scale"]) == (
        False, False, "not a rating item")
    rated = items.loc["I feel I belong in my team"]
    assert rated["detected_scale"] == "1–5 (labels)" and rated["answers"] == "Agree · Disagree"


def test_editor_scale_and_labels_make_the_mapping(org, tmp_path):
    text = "employee_id,submitted_at,q1\nE001,2025-01-01,Nunca\nE002,2025-01-01,Siempre\nE003,2025-01-01,A veces\n"
    prev = preview(org, _write(tmp_path, text))
    table = prev["items"].copy()
    table["import"], table["construct"] = True, "agility"
    table["scale_min"], table["scale_max"] = 1.0, 3.0
    table["labels"] = "Nunca=1; A veces=2; Siempre=3"
    mapping = mapping_from_editor(table)
    assert mapping == {"q1": {"construct": "agility", "reverse": False, "scale": [1.0, 3.0],
                              "labels": {"Nunca": 1.0, "A veces": 2.0, "Siempre": 3.0}}}
    rep = import_file(org, tmp_path / "s.csv", mapping=mapping)
    assert rep["items"][0]["mean"] == pytest.approx(2.0) and rep["items"][0]["scale"] == [1, 3]


@pytest.mark.parametrize("text,match", [("Never", "answer=number"), ("Never=x", "'x' is not a number")])
def test_bad_editor_labels(text, match):
    with pytest.raises(TwowayError, match=match):
        labels_from_text(text)


def test_editor_half_a_scale_is_an_error():
    import pandas as pd

    with pytest.raises(TwowayError, match="both the lowest and the highest"):
        mapping_from_editor(pd.DataFrame([{"item": "q1", "import": True, "construct": None, "reverse": False,
                                           "scale_min": 1.0, "scale_max": None, "labels": ""}]))


