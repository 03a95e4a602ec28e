"""Metric definitions travel with metrics.csv: direction per metric, checked, and undone together."""

from __future__ import annotations

import pytest

from analytics.importing import ImportFailed, import_file, undo_import
from analytics.errors import TwowayError
from tests.fixtures import snapshot
from tests.test_import_helpers import EXPORTS


@pytest.fixture
def roster(db):
    for name in ("employees.csv",):
        import_file(db, EXPORTS / name)
    return db


def _write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _defs(db):
    return db.query("SELECT metric, higher_is_better, unit FROM metric_defs ORDER BY metric").rows


def test_direction_and_unit_are_stored_and_undone(roster, tmp_path):
    path = _write(tmp_path, "m.csv", [
        "employee_id,period,metric,value,higher_is_better,unit",
        "E001,2025-01,cycle_time_days,4.5,false,days",
        "E001,2025-02,cycle_time_days,4.1,,",
        "E002,2025-01,tickets_closed,7,yes,tickets",
    ])
    report = import_file(roster, path)
    assert _defs(roster) == [("cycle_time_days", False, "days"), ("tickets_closed", True, "tickets")]
    assert roster.query("SELECT count(*) FROM metrics").scalar() == 3
    undo_import(roster, report["import_id"])
    assert _defs(roster) == [] and roster.query("SELECT count(*) FROM metrics").scalar() == 0


def test_without_the_columns_nothing_is_defined(roster):
    import_file(roster, EXPORTS / "metrics.csv")
    assert _defs(roster) == []


@pytest.mark.parametrize("lines, message", [
    (["employee_id,period,metric,value,higher_is_better", "E001,2025-01,x,1,maybe"], "row 2, column E 'higher_is_better': not true/false"),
    (["employee_id,period,metric,value,higher_is_better", "E001,2025-01,x,1,true", "E002,2025-01,x,2,false"],
     "'x' is both higher- and lower-is-better"),
])
def test_contradictions_are_errors_and_write_nothing(roster, tmp_path, lines, message):
    before = snapshot(roster)
    with pytest.raises((ImportFailed, TwowayError)) as err:
        import_file(roster, _write(tmp_path, "bad.csv", lines))
    assert isinstance(err.value, ImportFailed)  # a checked file: the report lists every problem
    assert any(message in e for e in err.value.report["errors"]), err.value.report["errors"]
    assert snapshot(roster) == before


def test_a_metric_defined_earlier_cannot_be_flipped_by_a_later_file(roster, tmp_path):
    import_file(roster, _write(tmp_path, "a.csv", ["employee_id,period,metric,value,higher_is_better",
                                                   "E001,2025-01,x,1,lower"]))
    before = snapshot(roster)
    with pytest.raises((ImportFailed, TwowayError)) as err:
        import_file(roster, _write(tmp_path, "b.csv", ["employee_id,period,metric,value,higher_is_better",
                                                       "E002,2025-01,x,1,higher"]))
    assert isinstance(err.value, ImportFailed)
    assert any("already defined as lower-is-better by import #2" in e for e in err.value.report["errors"])
    assert snapshot(roster) == before
    # the same direction again is fine and adds no second definition
    import_file(roster, _write(tmp_path, "c.csv", ["employee_id,period,metric,value,higher_is_better",
                                                   "E002,2025-02,x,3,no"]))
    assert _defs(roster) == [("x", False, None)]
