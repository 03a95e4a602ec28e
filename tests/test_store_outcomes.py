"""Leavers, promotions and the level order from the roster history (worked by hand)."""

import datetime as dt

import pandas as pd
import pytest

from analytics.errors import TwowayError
from analytics.outcomes.retention import hazard_input
from analytics.store import outcomes as q
from tests.fixtures import add_employees

D = dt.date


def _org(db):
    # CEO (Director) <- M1 (Manager) <- A1, A2, A3 (Associate)
    add_employees(db, [
        {"employee_id": "CEO", "level": "Director", "department": "Ops", "hire_date": D(2010, 1, 1)},
        {"employee_id": "M1", "level": "Manager", "department": "Ops", "manager_id": "CEO", "hire_date": D(2015, 1, 1)},
        {"employee_id": "A1", "level": "Associate", "department": "Ops", "manager_id": "M1", "hire_date": D(2024, 3, 10)},
        {"employee_id": "A2", "level": "Associate", "department": "IT", "manager_id": "M1", "hire_date": D(2020, 1, 1)},
        {"employee_id": "A3", "level": "Associate", "department": "IT", "manager_id": "M1", "hire_date": D(2020, 1, 1)},
    ])
    # A1 leaves on 2025-06-15; A2 is promoted on 2025-04-01 (one row ends, the next starts that day);
    # A3 transfers department on 2025-05-01 (not a promotion, not a leaver).
    db.execute("UPDATE employee_history SET valid_to = DATE '2025-06-15' WHERE employee_id = 'A1'")
    db.execute("UPDATE employee_history SET valid_to = DATE '2025-04-01' WHERE employee_id IN ('A2')")
    db.execute("UPDATE employee_history SET valid_to = DATE '2025-05-01' WHERE employee_id IN ('A3')")
    db.execute("INSERT INTO employee_history (employee_id, valid_from, department, level, manager_id) VALUES "
               "('A2', DATE '2025-04-01', 'IT', 'Manager', 'CEO'), ('A3', DATE '2025-05-01', 'Ops', 'Associate', 'M1')")
    db.execute("INSERT INTO pairs (pair_id, mentor_id, mentee_id, cohort, start_date) VALUES "
               "('P1', 'A1', 'M1', '2025-A', DATE '2025-02-10')")


def month(y, m):
    return y * 12 + m - 1


def test_level_order_from_the_manager_tree(db):
    _org(db)
    # depths: Director 0, Manager 1, Associate 2 -> lowest first
    assert q.level_order(db) == ["Associate", "Manager", "Director"]


def test_level_order_setting(db, monkeypatch):
    _org(db)
    monkeypatch.setenv(q.LEVEL_ORDER_ENV, "Associate, Manager, Director")
    assert q.level_order(db) == ["Associate", "Manager", "Director"]
    monkeypatch.setenv(q.LEVEL_ORDER_ENV, "Associate, Director")
    with pytest.raises(TwowayError, match="missing: Manager"):
        q.level_order(db)


def test_people_by_hand(db):
    _org(db)
    p = q.people(db, ["Associate", "Manager", "Director"]).set_index("employee_id")
    assert p.loc["A1", "left"] == month(2025, 6) and pd.isna(p.loc["A1", "promoted"])
    assert p.loc["A1", "entry"] == month(2024, 3)                 # hired in March 2024
    assert p.loc["A1", "start_mentor"] == month(2025, 2) and pd.isna(p.loc["A1", "start_mentee"])
    assert p.loc["M1", "start_mentee"] == month(2025, 2)
    assert p.loc["A2", "promoted"] == month(2025, 4) and pd.isna(p.loc["A2", "left"])
    assert pd.isna(p.loc["A3", "promoted"]) and pd.isna(p.loc["A3", "left"])   # a transfer is neither
    assert p.loc["A3", "department"] == "IT"                      # covariates at entry
    # window: 12 months before the first start (Feb 2025) to the latest roster date (June 2025)
    assert q.window(db) == (month(2025, 2) - 12, month(2025, 6))


def test_hazard_input_pools_and_events(db):
    _org(db)
    p = q.people(db, ["Associate", "Manager", "Director"])
    win = q.window(db)
    mentors = hazard_input(p, "retention", "mentors", win).set_index("unit")
    ids = dict(zip(p["unit"], p["employee_id"]))
    # the mentors' pool is the Associates (the level mentors come from): A1 (treated), A2, A3
    assert sorted(ids[u] for u in mentors.index) == ["A1", "A2", "A3"]
    promo = hazard_input(p, "promotion", "mentees", win)
    # mentees come from Manager; the top level (Director) is never at risk of promotion
    assert sorted(ids[u] for u in promo["unit"]) == ["M1"]
