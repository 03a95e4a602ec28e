"""The sidebar's, the activity page's and the productivity page's figures from the compact tables
(issue #11: `analytics.store.compact._build_pages`) equal the previous per-view SQL.

The expected values come from `tests/page_references.py`, the queries the fast paths replaced,
which read the released sessions, metric values and rosters row by row. Both run on the same
release (same k, same pinned version), for filters that select by department, by several roster
columns, by cohort, and nothing; a pinned version and a second threshold build their compact
tables in memory, so they are covered too.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics import views
from analytics.filters import Filters
from analytics.store import Database
from tests.fixtures import rows_sorted
from analytics.store import dashboard as sql
from analytics.store.released import released
from tests import page_references as ref

FILTERS = {
    "all": Filters(),
    "department": Filters(department=("Engineering",)),
    "two columns": Filters(department=("Engineering", "Other"), generation=("Millennial", "Gen Z")),
    "location": Filters(location=("Other",)),  # the small demo's pairs are in merged groups
    "cohort": Filters(cohort=("2025-A",)),
    "cohort and department": Filters(cohort=("2025-A",), department=("Other",)),
    "pinned": Filters(as_of=1),
}


@pytest.fixture(scope="module")
def plain(demo_path):
    """The demo read directly (not a snapshot: nothing memoised, compact tables built in memory)."""
    with Database(demo_path, read_only=True) as db:
        yield db


def _same(a, b, where: str) -> None:
    """Equal figures: frames with the same columns, types and rows (floats to 1e-9 relative:
    means and SDs combined from per-group sums differ from one pass in the last bits)."""
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), where
        pd.testing.assert_frame_equal(rows_sorted(a), rows_sorted(b), check_exact=False, rtol=1e-9, atol=1e-12,
                                      obj=where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same(a[key], b[key], f"{where}/{key}")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _with_references(monkeypatch) -> None:
    for name in ("filter_values", "selection_size", "sessions_by_month", "pair_activity", "session_mix",
                 "metric_defs", "metric_by_period", "metric_before_after"):
        monkeypatch.setattr(sql, name, getattr(ref, name))


def _page_figures(db: Database, filters: Filters, k: int, activity=views.activity) -> dict:
    with released(db, k, filters.as_of):
        return {"options": views.filter_options(db, k, filters.as_of).values,
                "selection": views.check_selection(db, filters, k),
                "activity": activity(db, filters, k),
                "productivity": views.productivity(db, filters, k)}


@pytest.mark.parametrize("k", [5, 7])
@pytest.mark.parametrize("name", list(FILTERS))
def test_the_pages_from_the_compact_tables_equal_the_previous_queries(plain, monkeypatch, name, k):
    filters = FILTERS[name]
    fast = _page_figures(plain, filters, k)
    with monkeypatch.context() as m:
        _with_references(m)
        slow = _page_figures(plain, filters, k, activity=ref.activity)
    _same(fast, slow, f"{name}, k={k}")
    assert fast["selection"].ok
    if name in ("all", "department", "cohort", "cohort and department", "location"):  # the views are not empty
        assert fast["activity"]["inactive"]["pairs"] and len(fast["activity"]["mix"])
    if not filters.cohort and name != "two columns":
        assert len(fast["productivity"]["by_period"]) and len(fast["productivity"]["before_after"])


@pytest.mark.parametrize("name", ["all", "location", "cohort and department", "pinned"])
def test_each_query_equals_its_previous_version(plain, name):
    """The store functions themselves, row by row (the pair rows too, which the page only sums)."""
    filters = FILTERS[name]
    where, params = filters.employee_where()
    c = filters.cohort
    with released(plain, 5, filters.as_of):
        as_of = sql.latest_date(plain)
        pairs = {
            "filter_values": (sql.filter_values(plain), ref.filter_values(plain)),
            "selection_size": (sql.selection_size(plain, where, params), ref.selection_size(plain, where, params)),
            "sessions_by_month": (sql.sessions_by_month(plain, where, params, c),
                                  ref.sessions_by_month(plain, where, params, c)),
            "pair_activity": (sql.pair_activity(plain, where, params, as_of, 60, c),
                              ref.pair_activity(plain, where, params, as_of, 60, c)),
            "session_mix": (sql.session_mix(plain, where, params, c, 3), ref.session_mix(plain, where, params, c, 3)),
            "metric_defs": (sql.metric_defs(plain), ref.metric_defs(plain)),
            "metric_by_period": (sql.metric_by_period(plain, where, params, c),
                                 ref.metric_by_period(plain, where, params, c)),
            "metric_before_after": (sql.metric_before_after(plain, where, params, c),
                                    ref.metric_before_after(plain, where, params, c)),
        }
    for what, (fast, slow) in pairs.items():
        _same(fast, slow, f"{name}: {what}")
    assert len(pairs["pair_activity"][0]) and len(pairs["sessions_by_month"][0])


def test_an_earlier_date_counts_the_sessions_up_to_it(plain):
    """`pair_activity` for a date before the last session cannot use the pairs' totals: it counts
    the sessions up to that date, as before."""
    where, params = Filters().employee_where()
    with released(plain, 5):
        last = sql.latest_date(plain)
        early = last - dt.timedelta(days=120)
        fast = sql.pair_activity(plain, where, params, early, 60)
        slow = ref.pair_activity(plain, where, params, early, 60)
        _same(fast, slow, "early")
        assert fast["sessions"].sum() < sql.pair_activity(plain, where, params, last, 60)["sessions"].sum()


def test_selection_size_counts_people_in_any_roster_once(plain):
    """Independently of both queries: the distinct people of the four released rosters."""
    with released(plain, 5):
        ids = set()
        for rel in ("employees", "wave_roster", "month_roster", "roster_now"):
            frame = plain.query_df(f"SELECT employee_id, department FROM {rel}")
            ids |= set(frame.loc[frame["department"] == "Engineering", "employee_id"])
        where, params = Filters(department=("Engineering",)).employee_where()
        assert sql.selection_size(plain, where, params) == len(ids) > 0


def test_metric_means_and_sds_equal_numpy_on_the_released_values(plain):
    """Independently of both queries: one month's participant mean and SD from the values."""
    with released(plain, 5):
        rows = plain.query_df("""SELECT m.metric, m.period, m.value,
                                        m.employee_id IN (SELECT mentor_id FROM pairs UNION SELECT mentee_id FROM pairs) AS part
                                 FROM metrics m JOIN month_roster e USING (period, employee_id)
                                 WHERE m.value IS NOT NULL AND e.department = 'Engineering'""")
        where, params = Filters(department=("Engineering",)).employee_where()
        got = sql.metric_by_period(plain, where, params)
    metric, period = rows["metric"].iloc[0], rows["period"].max()
    for part in (True, False):
        v = rows[(rows["metric"] == metric) & (rows["period"] == period) & (rows["part"] == part)]["value"].to_numpy()
        row = got[(got["metric"] == metric) & (got["period"] == period) & (got["participant"] == part)].iloc[0]
        assert row["n"] == len(v)
        assert np.isclose(row["mean"], v.mean(), rtol=1e-12) and np.isclose(row["sd"], v.std(ddof=1), rtol=1e-10)
