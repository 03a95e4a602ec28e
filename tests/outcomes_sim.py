"""A small organisation with a planted leaving and promotion process, for the outcome-claim tests.

Everything here is the planted truth, written independently of the engine: three levels
(junior, senior, top), two departments with different hazards, a company-wide bad quarter, and
from the month after a participant's start a hazard ratio per role on the complementary log-log
scale, 1 - h' = (1 - h) ** HR. Participants do not leave before their start (they were employed
when their pair started). Hazards are memoryless, so repeated promotions happen.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.store import Database

LEVELS = ("Junior", "Senior", "Top")
FIRST = dt.date(2023, 1, 1)
MONTHS = 30
#: monthly hazards by level (junior, senior, top) and department factor
LEAVE = np.array([0.02, 0.015, 0.0])
PROMOTE = np.array([0.03, 0.015, 0.0])
DEPT = np.array([0.8, 1.25])
#: The suite's planted hazard ratios: mentees leave less, mentors are promoted more; the other two are nulls.
PLANTED = {("retention", "mentors"): 1.0, ("retention", "mentees"): 0.6,
           ("promotion", "mentors"): 1.5, ("promotion", "mentees"): 1.0}


def _m(i: int) -> dt.date:
    y, m = divmod(FIRST.month - 1 + i, 12)
    return dt.date(FIRST.year + y, m + 1, 1)


def organisation(rng, hr: dict, n: int = 500, pair_share: float = 0.2) -> dict:
    """Roster, roster history (leavers, promotions) and pairs as frames.

    `hr` maps (outcome, role) to the planted hazard ratio, e.g. {("retention", "mentees"): 0.6}.
    Pairs start in months 12, 15 or 18 (a junior mentor with a senior mentee).
    """
    level = np.where(rng.random(n) < 0.6, 0, 1)
    level[0] = 2
    dept = rng.integers(0, 2, n)
    juniors, seniors = np.flatnonzero(level == 0), np.flatnonzero(level == 1)
    n_pairs = int(pair_share * n)
    mentors = rng.choice(juniors, n_pairs, replace=False)
    mentees = rng.choice(seniors, n_pairs, replace=False)
    start = rng.choice([12, 15, 18], n_pairs)
    start_m = np.full(n, np.inf)
    start_m[mentors] = start
    start_m[mentees] = start
    role = np.zeros(n, int)
    role[mentors], role[mentees] = 1, 2
    key = {1: "mentors", 2: "mentees"}
    hr_leave = np.array([1.0] + [hr.get(("retention", key[r]), 1.0) for r in (1, 2)])[role]
    hr_up = np.array([1.0] + [hr.get(("promotion", key[r]), 1.0) for r in (1, 2)])[role]
    lv = level.copy()
    left = np.full(n, -1)
    moves = []
    for m in range(MONTHS):
        after = m > start_m
        bad = 1.5 if 20 <= m <= 22 else 1.0
        at_work = left < 0
        h = LEAVE[lv] * DEPT[dept] * bad
        h = np.where(after, 1 - (1 - h) ** hr_leave, np.where(role > 0, 0.0, h))
        go = at_work & (rng.random(n) < h)
        left[go] = m
        p = PROMOTE[lv] * DEPT[dept]
        p = np.where(after, 1 - (1 - p) ** hr_up, p)
        up = at_work & ~go & (rng.random(n) < p) & (lv < 2)
        lv[up] += 1
        moves += [(i, m, lv[i]) for i in np.flatnonzero(up)]
    ids = np.array([f"X{i:04d}" for i in range(n)], dtype=object)
    names = np.array(LEVELS, dtype=object)
    dept_name = np.array(["North", "South"], dtype=object)[dept]
    boss = np.where(np.arange(n) == 0, None, ids[0])
    leave_day = [(_m(int(x)) + dt.timedelta(days=14)) if x >= 0 else None for x in left]
    seg = [(i, None, names[level[i]]) for i in range(n)] + [(i, _m(m), names[lvl]) for i, m, lvl in moves]
    seg.sort(key=lambda s: (s[0], s[1] or dt.date.min))
    rows = []
    for k, (i, frm, lvl) in enumerate(seg):
        nxt = seg[k + 1] if k + 1 < len(seg) and seg[k + 1][0] == i else None
        rows.append({"employee_id": ids[i], "valid_from": frm, "valid_to": nxt[1] if nxt else leave_day[i],
                     "department": dept_name[i], "level": lvl, "location": "HQ", "manager_id": boss[i]})
    history = pd.DataFrame(rows)
    roster = pd.DataFrame({"employee_id": ids, "department": dept_name, "level": names[lv], "location": "HQ",
                           "birth_year": np.where(level == 0, 1995, 1975).astype("int32"),
                           "generation": np.where(rng.random(n) < 0.5, "Millennial", "Gen X").astype(object),
                           "hire_date": pd.Timestamp("2018-01-01"), "manager_id": boss,
                           "termination_date": pd.to_datetime(pd.Series(leave_day, dtype=object))})
    pairs = pd.DataFrame({"pair_id": [f"P{i:04d}" for i in range(n_pairs)], "mentor_id": ids[mentors],
                          "mentee_id": ids[mentees], "cohort": [f"C{s}" for s in start],
                          "start_date": [_m(int(s)) + dt.timedelta(days=9) for s in start], "end_date": None})
    return {"roster": roster, "history": history, "pairs": pairs}


def write(db: Database, org: dict) -> None:
    """Put the organisation into the store as its only import (replacing a previous one)."""
    with db.transaction():
        for table in ("pairs", "employee_history", "employees", "imports"):
            db.execute(f"DELETE FROM {table}")
        db.execute("INSERT INTO imports (import_id, file_name, sha256, kind, rows, imported_at, status, details) "
                   "VALUES (1, 'sim', 'sim', 'demo', 0, now()::TIMESTAMP, 'ok', '{}')")
        db.insert_df("employees", org["roster"].assign(import_id=1))
        db.insert_df("employee_history", org["history"].assign(import_id=1))
        db.insert_df("pairs", org["pairs"].assign(import_id=1))
        db.bump_data_version()
