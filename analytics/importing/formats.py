"""Which tool wrote a file, which kind of data it holds, and what each column is.

Detection looks only at the header rows, in the order below; the first match wins:

- ``qualtrics``: row 3 holds ``{"ImportId": …}`` cells (or row 1 has ``ResponseId`` and row 2
  ``Response ID``); three header rows (ids, question text, ImportIds). The legacy export (before
  2018) has two header rows: ``V1…V10`` over ``ResponseID, ResponseSet…`` or those names twice.
- ``surveymonkey``: row 1 starts with ``Respondent ID`` next to ``Collector ID``/``Start Date``;
  two header rows (question text, then the sub-answer row).
- ``microsoft_forms``: row 1 starts ``ID, Start time, Completion time``.
- ``google_forms``: row 1 starts with ``Timestamp`` (or its translation: ``Zeitstempel``…).
- ``template``: row 1 is a Twoway template (see "Importing data" in README.md).
- ``generic``: anything else, one header row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics.errors import TwowayError
from analytics.importing.labels import normalise
from analytics.importing.reading import RawTable, clip

FORMATS = ("qualtrics", "surveymonkey", "google_forms", "microsoft_forms", "template", "generic")
KINDS = ("employees", "pairs", "sessions", "metrics", "survey")

#: Twoway templates: kind → columns, in the documented order.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "employees": ("employee_id", "department", "level", "location", "birth_year", "hire_date", "manager_id",
                  "email", "termination_date", "effective_date"),
    "pairs": ("pair_id", "mentor_id", "mentee_id", "cohort", "start_date", "end_date"),
    "sessions": ("session_id", "pair_id", "date", "duration_min", "format", "channel", "topics",
                 "mentor_rating", "mentee_rating"),
    "metrics": ("employee_id", "period", "metric", "value", "higher_is_better", "unit"),
    "survey": ("employee_id", "submitted_at"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "employees": ("employee_id",),
    "pairs": ("pair_id", "mentor_id", "mentee_id", "start_date"),
    "sessions": ("session_id", "pair_id", "date"),
    "metrics": ("employee_id", "period", "metric", "value"),
    "survey": (),
}

#: Column names (normalised to snake case) that hold an employee id.
EMPLOYEE_ID_NAMES = ("employee_id", "employeeid", "emp_id", "employee_number", "employee_no", "staff_id",
                     "personnel_number", "worker_id", "person_id")
SUBMITTED_NAMES = ("submitted_at", "submitted", "submission_date", "timestamp", "completed", "completion_time",
                   "completed_at", "end_date", "enddate", "recorded_date", "recordeddate", "date", "response_date")
RESPONSE_ID_NAMES = ("response_id", "responseid", "respondent_id", "respondent", "id")

QUALTRICS_META = {normalise(x) for x in (
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "ExternalDataReference", "LocationLatitude", "LocationLongitude",
    "DistributionChannel", "UserLanguage",
    # legacy exports (two header rows)
    "ResponseID", "ResponseSet", "Name", "EmailAddress", "LocationAccuracy")}
SURVEYMONKEY_META = {normalise(x) for x in (
    "Respondent ID", "Collector ID", "Collector", "Start Date", "End Date", "IP Address", "Email Address",
    "First Name", "Last Name", "Custom Data", "Custom Data 1", "Custom Data 2", "Custom Data 3")}
#: Google Forms' first column, in the languages its exports are most often seen in.
GOOGLE_TIMESTAMP = ("Timestamp", "Marca temporal", "Zeitstempel", "Horodateur", "Carimbo de data/hora",
                    "Tijdstempel", "Informazioni cronologiche", "Sygnatura czasowa", "Tidsstämpel")
GOOGLE_META = {normalise(x) for x in ("Email Address", "Email address", "Username", "Score", *GOOGLE_TIMESTAMP)}
MSFORMS_META = {normalise(x) for x in ("ID", "Start time", "Completion time", "Email", "Name",
                                      "Last modified time", "Total points", "Quiz feedback")}


def snake(text: str) -> str:
    """'Employee ID' → 'employee_id' (for matching column names)."""
    return re.sub(r"[^a-z0-9]+", "_", normalise(text)).strip("_")


def col_letter(pos: int) -> str:
    """Spreadsheet column letter of a 0-based position: 0 → A, 27 → AB."""
    s, n = "", pos + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class Column:
    """One column of a survey export."""

    pos: int
    id: str          # the column id: Qualtrics Q3_2, SurveyMonkey q12_3, otherwise the header
    question: str    # the item's text as the export shows it
    role: str        # item | meta
    header: str = ""  # row-1 text

    def where(self) -> str:
        q = self.question.replace("\n", " ")
        q = q if len(q) <= 50 else q[:47] + "…"
        return f"column {col_letter(self.pos)} {clip(self.id)}" + ("" if q == self.id else f" ({q!r})")


def detect_format(table: RawTable) -> str:
    rows = table.header(3)
    r0 = [normalise(c) for c in rows[0]] if rows else []
    r1 = [normalise(c) for c in rows[1]] if len(rows) > 1 else []
    r2 = [c.strip() for c in rows[2]] if len(rows) > 2 else []
    filled = [c for c in r2 if c]
    if filled and sum(c.startswith('{"ImportId"') for c in filled) >= max(1, len(filled) // 2):
        return "qualtrics"
    if "responseid" in r0 and "response id" in r1:
        return "qualtrics"
    if (r0[:1] == ["v1"] and "responseid" in r1) or ("responseid" in r0 and "responseset" in r0):
        return "qualtrics"  # legacy export: V1…V10 over the names, or the names twice
    if r0[:1] == ["respondent id"] and ({"collector id", "collector", "start date"} & set(r0[:5])):
        return "surveymonkey"
    if r0[:3] == ["id", "start time", "completion time"]:
        return "microsoft_forms"
    if r0[:1] and r0[0] in {normalise(x) for x in GOOGLE_TIMESTAMP}:
        return "google_forms"
    raw = [c.strip() for c in rows[0]] if rows else []
    for kind in ("employees", "pairs", "sessions", "metrics"):
        # every required column and nothing else than the template's (optional ones may be left out)
        if set(REQUIRED[kind]) <= set(raw) <= set(TEMPLATES[kind]) and len(raw) == len(set(raw)):
            return "template"
    if "employee_id" in raw and "submitted_at" in raw:
        return "template"
    return "generic"


def header_rows(fmt: str, table: RawTable) -> int:
    if fmt == "qualtrics":
        rows = table.header(3)
        r2 = [c.strip() for c in rows[2]] if len(rows) > 2 else []
        return 3 if any(c.startswith('{"ImportId"') for c in r2) else 2
    if fmt == "surveymonkey":
        return 2
    return 1


def detect_kind(fmt: str, table: RawTable) -> str:
    if fmt in ("qualtrics", "surveymonkey", "google_forms", "microsoft_forms"):
        return "survey"
    keys = {snake(c) for c in table.header(1)[0]} if len(table.cells) else set()
    if "session_id" in keys:
        return "sessions"
    if {"pair_id", "mentor_id", "mentee_id"} <= keys:
        return "pairs"
    if {"period", "metric", "value"} <= keys:
        return "metrics"
    if keys & set(EMPLOYEE_ID_NAMES) and keys & {"department", "level", "location", "birth_year", "hire_date",
                                                  "manager_id"} and not keys & {"submitted_at"}:
        return "employees"
    return "survey"


def check_duplicate_headers(names: list[str], file_name: str) -> None:
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        key = normalise(name)
        if key == "":
            continue
        if key in seen:
            raise TwowayError(
                f"{file_name}, row 1: columns {col_letter(seen[key])} and {col_letter(pos)} are both named "
                f"{clip(name.strip())}; rename one (duplicated columns)")
        seen[key] = pos


def survey_columns(fmt: str, table: RawTable) -> list[Column]:
    """The columns of a survey export with their ids, question texts and roles."""
    rows = table.header(header_rows(fmt, table))
    width = len(rows[0])
    name = table.file_name
    cols: list[Column] = []
    if fmt == "qualtrics":
        ids, texts = rows[0], rows[1] if len(rows) > 1 else rows[0]
        import_ids = [_import_id(c) for c in rows[2]] if len(rows) > 2 else [None] * width
        seen: dict[str, int] = {}
        for pos in range(width):
            cid = ids[pos].strip()
            if re.fullmatch(r"V\d+", cid) and normalise(texts[pos]) in QUALTRICS_META:
                cid = texts[pos].strip()  # legacy V1…V10: the metadata's name is in row 2
            if cid in seen:
                first = seen[cid]
                if import_ids[pos] and import_ids[pos] != import_ids[first]:
                    cid = f"{cid}#{import_ids[pos]}"  # two questions given the same export tag
                elif not import_ids[pos] and normalise(texts[pos]) != normalise(texts[first]):
                    k = 2
                    while f"{cid}#{k}" in seen:
                        k += 1
                    cid = f"{cid}#{k}"
                else:
                    raise TwowayError(f"{name}, row 1: columns {col_letter(first)} and {col_letter(pos)} "
                                      f"have the same id {clip(cid)} (duplicated columns)")
            seen.setdefault(cid, pos)
            iid = import_ids[pos]
            # Q_RecaptchaScore, Q_RelevantIDDuplicate…, Q_TotalDuration: Qualtrics' own fields
            is_item = bool(re.match(r"(\d+_)?QID\d+", iid)) if iid else (  # 2_QID1: loop & merge
                normalise(cid) not in QUALTRICS_META and not cid.startswith("Q_"))
            cols.append(Column(pos, cid, texts[pos], "item" if is_item else "meta", ids[pos]))
        return cols
    if fmt == "surveymonkey":
        top, sub = rows[0], rows[1] if len(rows) > 1 else [""] * width
        question, qn, k = "", 0, 0
        meta_done = False
        for pos in range(width):
            t = top[pos].strip()
            if t:
                question, k = t, 0
                qn += 1 if meta_done or normalise(t) not in SURVEYMONKEY_META else 0
            k += 1
            if not meta_done and normalise(t) in SURVEYMONKEY_META:
                cols.append(Column(pos, t, t, "meta", t))
                continue
            meta_done = True
            s = sub[pos].strip()
            generic_sub = normalise(s) in ("", "response", "open-ended response") or normalise(s) == normalise(question)
            text = question if generic_sub else s
            multi = (pos + 1 < width and not top[pos + 1].strip()) or k > 1
            cid = f"q{qn}_{k}" if multi else f"q{qn}"
            col = Column(pos, cid, text, "item", question)
            col.combined = question if generic_sub else f"{question} - {s}"  # type: ignore[attr-defined]
            cols.append(col)
        return cols
    names = [c.strip() for c in rows[0]]
    if fmt in ("template", "generic"):
        check_duplicate_headers(names, name)
    meta = {"google_forms": GOOGLE_META, "microsoft_forms": MSFORMS_META}.get(fmt, set())
    seen_names: dict[str, int] = {}
    for pos, h in enumerate(names):
        if not h:
            raise TwowayError(f"{name}, row 1: column {col_letter(pos)} has no header")
        role = "meta" if normalise(h) in meta else "item"
        if fmt in ("template", "generic"):
            key = snake(h)
            if key in EMPLOYEE_ID_NAMES or key in SUBMITTED_NAMES or key in RESPONSE_ID_NAMES:
                role = "meta"
        # Forms export two questions with the same title under the same header: the second
        # column's id becomes "<title> (2)"; its question text stays as the export shows it.
        k = seen_names[normalise(h)] = seen_names.get(normalise(h), 0) + 1
        cols.append(Column(pos, h if k == 1 else f"{h} ({k})", rows[0][pos], role, h))
    return cols


def _import_id(cell: str) -> str | None:
    m = re.search(r'"ImportId"\s*:\s*"([^"]*)"', cell)
    return m.group(1) if m else None
