"""End to end, exactly as an analyst would do it: files in, verdicts and dashboard out.

The default demo organisation (2,000 people, seed 7: the size at which its planted truths are
reliably recovered) is exported to the files a real company would have — the roster, pairs,
session log and metrics as Twoway templates, and the four survey waves as four different tools
write them (Qualtrics, SurveyMonkey, Google Forms with text labels, the Twoway wide template),
each written here by its own small writer, never by Twoway's code. Everything is imported into a
fresh database through ``python -m analytics import`` and judged with ``python -m analytics
claims``. The expectation comes from outside the import path: the verdicts planted in
``analytics.demo.PLANTED`` and the scorecard of the original demo database, which the import
must reproduce because no information is lost on the way (same people, pairs, sessions,
metrics and answers; survey opening dates are the first submission's day in both).

Metric definitions (higher or lower is better, unit) travel in metrics.csv's optional
``higher_is_better`` and ``unit`` columns, so the productivity detail of the imported data keeps
the lower-is-better cycle time the right way round — asserted below.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.demo import PLANTED, build_demo

ROOT = Path(__file__).resolve().parents[1]
WAVES = ("pulse-2025-q1", "pulse-2025-q2", "pulse-2025-q3", "pulse-2025-q4")
PAGES = ["pages/claims.py", "pages/engagement.py", "pages/activity.py", "pages/productivity.py", "pages/data.py"]
LIKERT = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree", 5: "Strongly agree"}


# -- helpers --------------------------------------------------------------------------------------
def _env() -> dict:
    """The caller's environment without Twoway settings, so nothing but the arguments counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWOWAY_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def cli(*args) -> subprocess.CompletedProcess:
    """`python -m analytics ...` exactly as a script runs it."""
    return subprocess.run([sys.executable, "-m", "analytics", *map(str, args)], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)


def cli_json(*args):
    res = cli(*args, "--json")
    assert res.returncode == 0, f"{' '.join(map(str, args))}\n{res.stderr}\n{res.stdout[:2000]}"
    return json.loads(res.stdout)


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def num(v) -> str:
    """A number as a person would type it: 4 not 4.0; blank when missing."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def day(v) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


# -- reading the demo (the "company's systems") ---------------------------------------------------------
def read_demo(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df()
               for t in ("employees", "pairs", "metrics", "items", "metric_defs")}
        out["sessions"] = con.execute("SELECT * EXCLUDE (topics), array_to_string(topics, ';') AS topics "
                                      "FROM sessions ORDER BY session_id").df()
        out["responses"] = con.execute("SELECT survey, respondent, employee_id, item, value, submitted_at "
                                       "FROM responses ORDER BY survey, respondent, item").df()
    return out


def wide(demo: dict, survey: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One wave as one row per respondent (blank = not answered) and its items in survey order."""
    r = demo["responses"][demo["responses"]["survey"] == survey]
    w = r.pivot(index=["employee_id", "submitted_at"], columns="item", values="value").reset_index()
    items = demo["items"][demo["items"]["survey"] == survey].reset_index(drop=True)
    w = w.sort_values("submitted_at", kind="stable").reset_index(drop=True)  # tools export in time order
    return w, items


# -- writers: one per tool, each in that tool's own layout ----------------------------------------------
def write_templates(demo: dict, d: Path) -> dict[str, Path]:
    e = demo["employees"]
    files = {"employees": write_csv(d / "employees.csv", [
        ["employee_id", "department", "level", "location", "birth_year", "hire_date", "manager_id"],
        *([r.employee_id, r.department, r.level, r.location, num(r.birth_year), day(r.hire_date),
           r.manager_id if isinstance(r.manager_id, str) else ""] for r in e.itertuples())])}
    files["pairs"] = write_csv(d / "pairs.csv", [
        ["pair_id", "mentor_id", "mentee_id", "cohort", "start_date", "end_date"],
        *([p.pair_id, p.mentor_id, p.mentee_id, p.cohort, day(p.start_date), day(p.end_date)]
          for p in demo["pairs"].itertuples())])
    files["sessions"] = write_csv(d / "sessions.csv", [
        ["session_id", "pair_id", "date", "duration_min", "format", "channel", "topics", "mentor_rating",
         "mentee_rating"],
        *([s.session_id, s.pair_id, day(s.date), num(s.duration_min), s.format, s.channel, s.topics,
           num(s.mentor_rating), num(s.mentee_rating)] for s in demo["sessions"].itertuples())])
    direction = dict(zip(demo["metric_defs"]["metric"], demo["metric_defs"]["higher_is_better"]))
    unit = dict(zip(demo["metric_defs"]["metric"], demo["metric_defs"]["unit"]))
    files["metrics"] = write_csv(d / "metrics.csv", [
        ["employee_id", "period", "metric", "value", "higher_is_better", "unit"],
        *([m.employee_id, m.period, m.metric, num(m.value), "true" if direction[m.metric] else "false",
           unit[m.metric]] for m in demo["metrics"].itertuples())])
    return files


QUALTRICS_META = [  # (column id, question text, ImportId cell)
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/London"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/London"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]
QUALTRICS_PROMPT = "How much do you agree with each statement?\nPart {}"


def write_qualtrics(w: pd.DataFrame, items: pd.DataFrame, path: Path) -> dict:
    """Three header rows, one matrix question per construct (Q<k>_<j>: '<prompt> - <statement>'),
    numeric answers, the employee id as embedded data after the questions, two preview rows."""
    cols, mapping = [], {}
    for k, (construct, block) in enumerate(items.groupby("construct", sort=False), start=1):
        for j, it in enumerate(block.itertuples(), start=1):
            text = f"{QUALTRICS_PROMPT.format(k)} - {it.question}"
            cols.append((it.item, f"Q{k}_{j}", text, f'{{"ImportId":"QID{k}_{j}"}}'))
            mapping[text] = {"construct": it.construct, "reverse": bool(it.reverse)}
    header = [[c[0] for c in QUALTRICS_META] + [c[1] for c in cols] + ["employee_id"],
              [c[1] for c in QUALTRICS_META] + [c[2] for c in cols] + ["employee_id"],
              [c[2] for c in QUALTRICS_META] + [c[3] for c in cols] + ['{"ImportId":"employee_id"}']]

    def row(i, emp, when, status, answers):
        start = when - pd.Timedelta(seconds=200 + i % 300)
        rid = "R_" + hashlib.sha1(f"{emp}{i}{status}".encode()).hexdigest()[:15]
        meta = [start.strftime("%Y-%m-%d %H:%M:%S"), when.strftime("%Y-%m-%d %H:%M:%S"), str(status),
                "" if status else f"10.{i % 250}.{i % 7}.{i % 13}", "100", str(200 + i % 300), "1",
                when.strftime("%Y-%m-%d %H:%M:%S"), rid, "", "", "", "", "51.5", "-0.12",
                "preview" if status else "email", "EN-GB"]
        return meta + answers + [emp]

    body = [row(i, r.employee_id, r.submitted_at, 0, [num(getattr(r, c[0])) for c in cols])
            for i, r in enumerate(w.itertuples())]
    # Two previews by the survey owner, recorded after the real answers of two real employees: if
    # they were kept they would replace those answers (last submission wins) and shift the scores.
    for i, r in enumerate(w.head(2).itertuples()):
        body.insert(0, row(10_000 + i, r.employee_id, r.submitted_at + pd.Timedelta(days=3), 1,
                           ["1"] * len(cols)))
    write_csv(path, header + body)
    return mapping


SM_META = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
           "First Name", "Last Name", "Custom Data 1"]


def write_surveymonkey(w: pd.DataFrame, items: pd.DataFrame, path: Path) -> dict:
    """Two header rows: two matrix questions (question text once, statements in row 2), numeric
    answers, the employee id in Custom Data 1 and dates as MM/DD/YYYY hh:mm:ss AM."""
    half = (len(items) + 1) // 2
    top, sub, order, mapping = list(SM_META), [""] * len(SM_META), [], {}
    for b, block in enumerate((items.iloc[:half], items.iloc[half:]), start=1):
        for j, it in enumerate(block.itertuples()):
            top.append(f"Thinking about your work, how much do you agree? ({b} of 2)" if j == 0 else "")
            sub.append(it.question)
            order.append(it.item)
            mapping[it.question] = {"construct": it.construct, "reverse": bool(it.reverse)}
    fmt = "%m/%d/%Y %I:%M:%S %p"
    body = [[str(118_400_000_000 + i), "431234567", (r.submitted_at - pd.Timedelta(minutes=4)).strftime(fmt),
             r.submitted_at.strftime(fmt), f"10.1.{i % 250}.{i % 9}", "", "", "", r.employee_id]
            + [num(getattr(r, item)) for item in order] for i, r in enumerate(w.itertuples())]
    write_csv(path, [top, sub] + body)
    return mapping


def write_google_forms(w: pd.DataFrame, items: pd.DataFrame, path: Path) -> dict:
    """One header row starting with Timestamp, an 'Employee ID' short-answer question, the
    statements as headers and text answers ('Strongly agree' … 'Strongly disagree')."""
    mapping = {it.question: {"construct": it.construct, "reverse": bool(it.reverse)} for it in items.itertuples()}
    body = [[r.submitted_at.strftime("%Y/%m/%d %I:%M:%S %p") + " GMT+1", r.employee_id]
            + [LIKERT[int(v)] if pd.notna(v := getattr(r, it.item)) else "" for it in items.itertuples()]
            for r in w.itertuples()]
    write_csv(path, [["Timestamp", "Employee ID", *items["question"]]] + body)
    return mapping


def write_template_survey(w: pd.DataFrame, items: pd.DataFrame, path: Path) -> dict:
    """Twoway's wide survey template: employee_id, submitted_at, one column per item id."""
    mapping = {it.item: {"construct": it.construct, "reverse": bool(it.reverse)} for it in items.itertuples()}
    body = [[r.employee_id, r.submitted_at.strftime("%Y-%m-%d %H:%M:%S")]
            + [num(getattr(r, it.item)) for it in items.itertuples()] for r in w.itertuples()]
    write_csv(path, [["employee_id", "submitted_at", *items["item"]]] + body)
    return mapping


SURVEY_WRITERS = {  # wave → (file name, writer, expected format, expected id column, dropped rows)
    "pulse-2025-q1": ("pulse_q1_qualtrics.csv", write_qualtrics, "qualtrics", "employee_id", {"Survey Preview": 2}),
    "pulse-2025-q2": ("pulse_q2_surveymonkey.csv", write_surveymonkey, "surveymonkey", "Custom Data 1", {}),
    "pulse-2025-q3": ("pulse_q3_google_forms.csv", write_google_forms, "google_forms", "Employee ID", {}),
    "pulse-2025-q4": ("pulse_q4_template.csv", write_template_survey, "template", "employee_id", {}),
}


# -- independent read-back --------------------------------------------------------------------------
SCORES_SQL = """
    SELECT r.survey, r.employee_id, i.construct,
           avg(CASE WHEN i.reverse THEN i.scale_min + i.scale_max - r.value ELSE r.value END) AS score,
           count(r.value) AS n
    FROM responses r JOIN items i USING (survey, item)
    WHERE r.value IS NOT NULL
    GROUP BY ALL ORDER BY ALL"""


def scores(path: Path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(SCORES_SQL).df()


def table(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).df()


# -- the test ---------------------------------------------------------------------------------------------
def test_files_from_four_survey_tools_reach_the_planted_verdicts(tmp_path, monkeypatch):
    original = tmp_path / "original.duckdb"
    build_demo(original, seed=7, n_employees=2000)
    demo = read_demo(original)
    files_dir = tmp_path / "files"
    files_dir.mkdir()

    # 1. the files an analyst brings
    files = write_templates(demo, files_dir)
    waves = {}
    for survey, (name, writer, fmt, id_col, dropped) in SURVEY_WRITERS.items():
        w, items = wide(demo, survey)
        mapping = writer(w, items, files_dir / name)
        mapping_file = files_dir / f"{survey}.mapping.json"
        mapping_file.write_text(json.dumps(mapping, indent=1), encoding="utf-8")
        waves[survey] = (files_dir / name, mapping_file, fmt, id_col, dropped, len(w), len(items))

    # 2. imported into a fresh database through the CLI, in dependency order
    new = tmp_path / "imported.duckdb"
    expected_rows = {"employees": len(demo["employees"]), "pairs": len(demo["pairs"]),
                     "sessions": len(demo["sessions"]), "metrics": len(demo["metrics"])}
    for import_id, (kind, path) in enumerate(files.items(), start=1):
        rep = cli_json("import", path, "--db", new)
        assert (rep["format"], rep["kind"], rep["rows"], rep["errors"], rep["import_id"]) == \
            ("template", kind, expected_rows[kind], [], import_id), rep
        assert rep["warnings"] == [], rep["warnings"]
    for import_id, (survey, (path, mapping_file, fmt, id_col, dropped, n_resp, n_items)) in enumerate(
            waves.items(), start=5):
        rep = cli_json("import", path, "--db", new, "--survey", survey, "--mapping", mapping_file)
        got = {k: rep.get(k) for k in ("format", "kind", "rows", "errors", "import_id", "id_column", "dropped",
                                       "linked")}
        assert got == {"format": fmt, "kind": "survey", "rows": n_resp, "errors": [], "import_id": import_id,
                       "id_column": id_col, "dropped": dropped, "linked": n_resp}, (survey, got, rep["warnings"])
        assert rep["unlinked"]["count"] == 0 and "duplicates" not in rep, (survey, rep.get("duplicates"))
        # numbers carry no scale of their own (labels do): inferred as 1–5 from the answers, and said so
        inferred = [] if fmt == "google_forms" else [
            f'scale 1–5 inferred from the answers for {n_items} item(s); give "scale" in the mapping to be sure']
        assert rep["warnings"] == inferred, (survey, rep["warnings"])
        assert len(rep["items"]) == n_items and all(i["scale"] == [1, 5] for i in rep["items"]), survey
        # each item's n and mean agree with the demo's own answers to that question
        demo_items = demo["items"][demo["items"]["survey"] == survey]
        answers = demo["responses"][demo["responses"]["survey"] == survey].merge(demo_items, on=["survey", "item"])
        by_q = answers.groupby("question")["value"].agg(["size", "mean"])
        for it in rep["items"]:
            q = it["question"].split(" - ", 1)[-1] if fmt == "qualtrics" else it["question"]
            if fmt == "template":
                q = demo_items.set_index("item").loc[q, "question"]
            assert it["n"] == by_q.loc[q, "size"] and it["mean"] == pytest.approx(by_q.loc[q, "mean"], abs=1e-6), \
                (survey, it)

    formats = table(new, "SELECT survey, source_format FROM waves").set_index("survey")["source_format"].to_dict()
    assert formats == {s: w[2] for s, w in waves.items()}

    # 3. nothing was lost: the same rows and the same person × wave × construct scores
    for sql in ("SELECT employee_id, department, level, location, birth_year, generation, hire_date, manager_id "
                "FROM employees ORDER BY ALL",
                "SELECT pair_id, mentor_id, mentee_id, cohort, start_date, end_date FROM pairs ORDER BY ALL",
                "SELECT session_id, pair_id, date, duration_min, format, channel, topics, mentor_rating, "
                "mentee_rating FROM sessions ORDER BY session_id",
                "SELECT employee_id, period, metric, value FROM metrics ORDER BY ALL",
                "SELECT survey, opened FROM waves ORDER BY ALL"):
        pd.testing.assert_frame_equal(table(new, sql), table(original, sql), check_dtype=False, obj=sql[:40])
    # A wave's dates: an import knows only the submissions (first and last day), the demo its
    # fortnight-long window. Only `opened` times the analysis, and both agree on it (above).
    last_day = demo["responses"].groupby("survey")["submitted_at"].max().dt.normalize()
    closed = table(new, "SELECT survey, closed FROM waves").set_index("survey")["closed"]
    assert (pd.to_datetime(closed).sort_index() == last_day.sort_index()).all(), closed
    pd.testing.assert_frame_equal(scores(new), scores(original), check_dtype=False, rtol=1e-12)

    # 4. the scorecard: the planted verdicts, and the original database's estimates
    card = {c["id"]: c for c in cli_json("claims", "--db", new)}
    planted = {c["id"]: c for c in cli_json("claims", "--db", original)}
    # the files carry today's roster only, so the lossless reference is the original with its roster
    # history flattened to today's rows (no transfers, promotions or leaving dates): what the files say
    flat = tmp_path / "flat.duckdb"
    shutil.copy(original, flat)
    with duckdb.connect(str(flat)) as con:
        con.execute("DELETE FROM employee_history")
        con.execute("INSERT INTO employee_history (employee_id, department, level, location, manager_id, email, "
                    "import_id) SELECT employee_id, department, level, location, manager_id, email, import_id "
                    "FROM employees")
        con.execute("UPDATE employees SET termination_date = NULL")
    reference = {c["id"]: c for c in cli_json("claims", "--db", flat)}
    # The exported roster is one file (today's), so the imported copy has no roster history: its
    # retention and promotion claims cannot be judged, and say so; the original reaches the planted
    # verdicts. The lossless comparison is with the flattened original (unadjusted p: the families
    # may differ by the outcome tests).
    outcome = {"retention", "promotion"}
    # every planted effect found; a planted null never called an effect (it may stay inconclusive:
    # see tests/test_claims.py::test_scorecard_on_the_demo_gets_every_planted_truth)
    effects = {k for k, v in PLANTED.items() if v != "no_effect"}
    assert {k: planted[k]["verdict"] for k in effects} == {k: PLANTED[k] for k in effects}
    assert all(planted[k]["verdict"] in ("no_effect", "inconclusive") for k in PLANTED if k not in effects)
    assert {k: c["verdict"] for k, c in card.items() if k not in outcome} == \
        {k: c["verdict"] for k, c in reference.items() if k not in outcome}
    assert all(card[k]["verdict"] == "insufficient_data" and "roster history" in card[k]["reason"] for k in outcome)
    for claim_id, ref in reference.items():
        if claim_id in outcome:
            continue
        got = card[claim_id]
        assert (got["n"], got["n_treated"], got["n_comparison"]) == (ref["n"], ref["n_treated"], ref["n_comparison"])
        # lossless, so equal up to floating-point summation order
        for key in ("estimate", "p_value", "effect_size", "es_ci_low", "es_ci_high"):
            assert got[key] == pytest.approx(ref[key], rel=1e-6, abs=1e-9), (claim_id, key)

    # Metric definitions came with metrics.csv: same directions and units, same productivity detail.
    assert table(new, "SELECT metric, higher_is_better, unit FROM metric_defs ORDER BY metric").values.tolist() == \
        demo["metric_defs"][["metric", "higher_is_better", "unit"]].sort_values("metric").values.tolist()
    from analytics.claims import claim_detail
    from analytics.store import Database

    details = {}
    for label, path in (("new", new), ("original", flat)):
        with Database(path) as db:
            details[label] = claim_detail(db, "productivity", min_group=5)["metrics"].set_index("metric")
    for metric in ("tasks_completed", "cycle_time_days"):
        assert details["new"].loc[metric, "higher_is_better"] == details["original"].loc[metric, "higher_is_better"]
        assert details["new"].loc[metric, "estimate"] == pytest.approx(
            details["original"].loc[metric, "estimate"], rel=1e-9, abs=1e-12), metric
    assert details["new"].loc["cycle_time_days", "higher_is_better"] == False  # noqa: E712

    # 5. the dashboard opens every page on the imported data
    from streamlit.testing.v1 import AppTest

    app_db = tmp_path / "app.duckdb"
    shutil.copy(new, app_db)
    monkeypatch.setenv("TWOWAY_DB", str(app_db))
    monkeypatch.delenv("TWOWAY_MIN_GROUP_SIZE", raising=False)
    monkeypatch.delenv("TWOWAY_ROLES", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title, page
