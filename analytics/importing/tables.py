"""Roster, pairs, sessions and metrics files (Twoway templates or close to them).

Columns are matched by name (case, spaces and punctuation ignored); unknown columns are
reported and ignored. Every value is checked, and every id that refers to another table must
exist there: an unknown id is an error naming the row and column, never a silent orphan.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from analytics.importing import roster
from analytics.importing.dates import parse_datetimes
from analytics.importing.formats import REQUIRED, TEMPLATES, check_duplicate_headers, col_letter, snake
from analytics.importing.labels import parse_number
from analytics.importing.reading import RawTable
from analytics.importing.survey import Issues
from analytics.store import Database
from analytics.store import imports as store
from analytics.vocab import SESSION_FORMATS, generation_of

ALIASES = {"employee_number": "employee_id", "emp_id": "employee_id", "staff_id": "employee_id",
           "manager": "manager_id", "mentor": "mentor_id", "mentee": "mentee_id", "duration": "duration_min",
           "session_date": "date", "month": "period"}
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _rows(mask: pd.Series, n: int = 3) -> str:
    idx = list(mask[mask].index[:n])
    more = int(mask.sum()) - len(idx)
    return ", ".join(map(str, idx)) + (f" and {more} more" if more > 0 else "")


class _Checker:
    def __init__(self, table: RawTable, kind: str, issues: Issues):
        self.table, self.kind, self.issues = table, kind, issues
        names = list(table.cells.iloc[0])
        check_duplicate_headers(names, table.file_name)
        self.pos: dict[str, int] = {}
        extra = []
        for pos, h in enumerate(names):
            key = ALIASES.get(snake(h), snake(h))
            if key in TEMPLATES[kind] and key not in self.pos:
                self.pos[key] = pos
            elif h.strip():
                extra.append(h.strip())
        missing = [c for c in REQUIRED[kind] if c not in self.pos]
        if missing:
            from analytics.errors import TwowayError
            raise TwowayError(f"{table.file_name}, row 1: missing column(s) {', '.join(missing)} for a {kind} file "
                              f"(expected: {', '.join(TEMPLATES[kind])})")
        if extra:
            issues.warn(f"column(s) ignored: {', '.join(extra[:8])}")
        self.data = table.cells.iloc[1:]
        if self.data.empty:
            from analytics.errors import TwowayError
            raise TwowayError(f"{table.file_name} has a header row but no data rows")

    def text(self, col: str) -> pd.Series:
        if col not in self.pos:
            return pd.Series("", index=self.data.index, dtype=object)
        return self.data[self.pos[col]].astype(object).map(lambda s: s.strip())

    def where(self, col: str) -> str:
        return f"column {col_letter(self.pos[col])} {col!r}" if col in self.pos else f"column {col!r}"

    def error(self, mask: pd.Series, col: str, what: str) -> None:
        if mask.any():
            self.issues.error(f"row {_rows(mask)}, {self.where(col)}: {what}")

    def required(self, col: str) -> pd.Series:
        s = self.text(col)
        self.error(s == "", col, "empty, but required")
        return s

    def unique(self, col: str, s: pd.Series, table: str) -> None:
        dup = s.duplicated(keep=False) & (s != "")
        if dup.any():
            first = s[dup].iloc[0]
            self.error(dup & (s == first), col, f"{first!r} appears more than once")
        existing = store.existing_ids(self.db, table, col, s[s != ""])
        if existing:
            k = sorted(existing)[0]
            self.error(s.isin(existing.keys()), col, f"{k!r} already exists (from import #{existing[k]}); "
                       "undo that import first or leave these rows out")

    def known(self, col: str, s: pd.Series, table: str, key: str, also: set | None = None) -> None:
        vals = s[s != ""]
        missing = store.missing_ids(self.db, table, key, vals.unique()) - (also or set())
        if missing:
            bad = s.isin(missing)
            ex = sorted(missing)[:3]
            self.error(bad, col, f"unknown {key} {', '.join(map(repr, ex))}"
                       + (f" ({len(missing)} unknown ids)" if len(missing) > 3 else "")
                       + f": not in {table}")

    def number(self, col: str, lo: float | None = None, hi: float | None = None, integer: bool = False,
               required: bool = False) -> pd.Series:
        s = self.text(col)
        dc = self.table.decimal_comma
        uniq = {u: parse_number(u, dc) for u in s.unique()}
        vals = s.map(lambda u: np.nan if uniq[u] is None else uniq[u]).astype(float)
        self.error((s != "") & vals.isna(), col, "not a number")
        if required:
            self.error(s == "", col, "empty, but required")
        if integer:
            self.error(vals.notna() & (vals != vals.round()), col, "not a whole number")
        if lo is not None or hi is not None:
            out = vals.notna() & ((vals < (lo if lo is not None else -np.inf)) | (vals > (hi if hi is not None else np.inf)))
            self.error(out, col, f"outside {lo:g}–{hi:g}" if lo is not None and hi is not None else "out of range")
        return vals

    def date(self, col: str, required: bool = False) -> pd.Series:
        s = self.text(col)
        parsed = parse_datetimes(s)
        self.error((s != "") & parsed.isna(), col, "not a date (use YYYY-MM-DD)")
        if required:
            self.error(s == "", col, "empty, but required")
        return parsed.dt.date.where(parsed.notna(), None)


def analyse_table(db: Database, table: RawTable, kind: str, *, import_id: int | None, issues: Issues,
                  report: dict, as_of: dt.date | None = None, force: bool = False) -> dict[str, pd.DataFrame]:
    """Check a roster, pairs, sessions or metrics file and build its rows; problems go to `issues`.

    `as_of` (rosters only) makes the roster a dated snapshot; `force` accepts one that ends more
    than 40 % of current employees (see `analytics.importing.roster`).
    """
    c = _Checker(table, kind, issues)
    c.db = db
    report["rows_in_file"] = int(len(c.data))
    n = len(c.data)
    if kind == "employees":
        ids = c.required("employee_id")
        dup = ids.duplicated(keep=False) & (ids != "")
        if dup.any():
            first = ids[dup].iloc[0]
            c.error(dup & (ids == first), "employee_id", f"{first!r} appears more than once")
        birth = c.number("birth_year", 1900, 2100, integer=True)
        hire = c.date("hire_date")
        term = c.date("termination_date")
        snap = roster.snapshot_date(c, as_of)
        mgr = c.text("manager_id")
        c.known("manager_id", mgr, "employees", "employee_id", also=set(ids))
        self_mgr = (mgr != "") & (mgr == ids)
        c.error(self_mgr, "manager_id", "an employee cannot be their own manager")
        email = c.text("email").replace("", None)
        roster.check_emails(c, email, ids)
        frame = pd.DataFrame({
            "employee_id": ids, "department": c.text("department").replace("", None),
            "level": c.text("level").replace("", None), "location": c.text("location").replace("", None),
            "birth_year": pd.array(birth.round(), dtype="Int64"),
            "generation": birth.map(lambda y: None if np.isnan(y) else generation_of(int(y))).astype(object),
            "hire_date": hire, "manager_id": mgr.replace("", None), "email": email,
            "termination_date": _plain_dates(term)})
        frame["hire_date"] = _plain_dates(hire)
        if issues.errors:  # no snapshot plan on top of bad rows
            report["rows"] = n
            report["items"] = []
            return {}
        planned = roster.plan_roster(c, frame, snap, force, import_id, report)
        report["rows"] = n
        report["items"] = []
        return {} if issues.errors else planned
    elif kind == "pairs":
        ids = c.required("pair_id")
        c.unique("pair_id", ids, "pairs")
        mentor, mentee = c.required("mentor_id"), c.required("mentee_id")
        c.known("mentor_id", mentor, "employees", "employee_id")
        c.known("mentee_id", mentee, "employees", "employee_id")
        c.error((mentor != "") & (mentor == mentee), "mentee_id", "mentor and mentee are the same person")
        start, end = c.date("start_date", required=True), c.date("end_date")
        before = pd.to_datetime(pd.Series(end, index=c.data.index)) < pd.to_datetime(pd.Series(start, index=c.data.index))
        c.error(before, "end_date", "before start_date")
        frame = pd.DataFrame({"pair_id": ids, "mentor_id": mentor, "mentee_id": mentee,
                              "cohort": c.text("cohort").replace("", None), "start_date": start, "end_date": end})
        target = "pairs"
    elif kind == "sessions":
        ids = c.required("session_id")
        c.unique("session_id", ids, "sessions")
        pair = c.required("pair_id")
        c.known("pair_id", pair, "pairs", "pair_id")
        date = c.date("date", required=True)
        dur = c.number("duration_min", 0, 24 * 60)
        fmt = c.text("format").str.lower()
        c.error((fmt != "") & ~fmt.isin(SESSION_FORMATS), "format", f"not one of {', '.join(SESSION_FORMATS)}")
        topics = c.text("topics").map(lambda s: [t.strip() for t in s.split(";") if t.strip()] if s else None)
        frame = pd.DataFrame({"session_id": ids, "pair_id": pair, "date": date, "duration_min": dur,
                              "format": fmt.replace("", None), "channel": c.text("channel").replace("", None),
                              "topics": topics, "mentor_rating": c.number("mentor_rating", 1, 5),
                              "mentee_rating": c.number("mentee_rating", 1, 5)})
        target = "sessions"
    elif kind == "metrics":
        emp = c.required("employee_id")
        c.known("employee_id", emp, "employees", "employee_id")
        period = c.required("period")
        c.error((period != "") & ~period.str.match(PERIOD), "period", "not a month written YYYY-MM")
        metric = c.required("metric")
        value = c.number("value", required=True)
        key = pd.DataFrame({"e": emp, "p": period, "m": metric})
        dup = key.duplicated(keep=False)
        c.error(dup, "metric", "the same employee, period and metric appears more than once")
        frame = pd.DataFrame({"employee_id": emp, "period": period, "metric": metric, "value": value})
        target = "metrics"
        defs = _metric_defs(c, metric, import_id)
    else:  # pragma: no cover - callers pass a table kind
        raise ValueError(kind)
    report["rows"] = n
    report["items"] = []
    frame["import_id"] = import_id
    if issues.errors:
        return {}
    out = {target: frame.reset_index(drop=True)}
    if kind == "metrics" and not defs.empty:
        out["metric_defs"] = defs
    return out


def _plain_dates(s: pd.Series) -> pd.Series:
    """datetime.date or None per row (no NaT), for comparisons with a snapshot date."""
    return pd.Series([None if v is None or pd.isna(v) else v for v in s], index=s.index, dtype=object)


HIGHER = {"true": True, "yes": True, "1": True, "higher": True, "y": True,
          "false": False, "no": False, "0": False, "lower": False, "n": False}


def _metric_defs(c: "_Checker", metric: pd.Series, import_id) -> pd.DataFrame:
    """New metric definitions from the optional `higher_is_better` and `unit` columns.

    One direction per metric: a file that contradicts itself, or a metric already defined the
    other way by an earlier import, is an error (undo that import to redefine it).
    """
    hib_text = c.text("higher_is_better").str.lower()
    hib = hib_text.map(HIGHER.get)
    c.error((hib_text != "") & hib.isna(), "higher_is_better", "not true/false (or yes/no, higher/lower)")
    unit = c.text("unit")
    given = pd.DataFrame({"metric": metric, "hib": hib, "unit": unit})[hib.notna() & (metric != "")]
    if given.empty:
        return pd.DataFrame()
    mixed = given.groupby("metric")["hib"].nunique() > 1
    for name in mixed[mixed].index:
        c.error((metric == name) & hib.notna(), "higher_is_better", f"metric {name!r} is both higher- and lower-is-better")
    first = given.drop_duplicates("metric")
    known = store.metric_definitions(c.db, first["metric"])
    for name, (old, by) in known.items():
        new_value = bool(first.loc[first["metric"] == name, "hib"].iloc[0])
        if new_value != old:
            c.error((metric == name) & hib.notna(), "higher_is_better",
                    f"metric {name!r} is already defined as {'higher' if old else 'lower'}-is-better"
                    + (f" by import #{by}" if by else "") + "; undo that import to redefine it")
    fresh = first[~first["metric"].isin(known.keys())]
    return pd.DataFrame({"metric": fresh["metric"].to_numpy(), "higher_is_better": fresh["hib"].astype(bool).to_numpy(),
                         "unit": fresh["unit"].replace("", None).to_numpy(), "import_id": import_id})
