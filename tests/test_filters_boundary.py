"""`Filters` refuses arguments of the wrong shape when code builds one (issue #11, item 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.filters import Filters


def test_a_bare_string_is_an_error_not_five_letters():
    with pytest.raises(TypeError, match=r"department=.*not the string 'Sales'"):
        Filters(department="Sales")
    for key in ("location", "generation", "level", "cohort"):
        with pytest.raises(TypeError, match=key):
            Filters(**{key: "x"})


def test_a_list_is_kept_as_a_tuple_so_filters_stay_hashable():
    f = Filters(department=["Sales", "Ops"])
    assert f.department == ("Sales", "Ops")
    assert hash(f) == hash(Filters(department=("Sales", "Ops")))
    assert f == Filters(department=("Sales", "Ops"))


@pytest.mark.parametrize("kwargs, error", [
    ({"department": ("Sales", 3)}, TypeError),
    ({"department": {"Sales"}}, TypeError),
    ({"department": None}, TypeError),
    ({"date_from": "2025-01-01"}, TypeError),
    ({"date_to": dt.datetime(2025, 1, 1, 12)}, TypeError),
    ({"method": "median"}, ValueError),
    ({"as_of": 0}, ValueError),
    ({"as_of": "3"}, ValueError),
    ({"as_of": True}, ValueError),
    ({"notices": "one notice"}, TypeError),
])
def test_wrong_types_and_values_are_refused(kwargs, error):
    with pytest.raises(error):
        Filters(**kwargs)


def test_valid_arguments_and_the_round_trip_through_the_cache_key():
    f = Filters(department=("Sales",), date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 6, 30),
                method="unweighted", as_of=4, notices=("a notice",))
    assert Filters(**dict(f.key())) == f  # how ui.cache rebuilds filters from its key
    assert Filters() == Filters.parse({})


def test_parse_still_turns_outside_mistakes_into_notices():
    f = Filters.parse({"department": "Sales", "method": "median"})
    assert f.department == ("Sales",)  # one URL value is one value, not letters
    assert f.method == "weighted" and len(f.notices) == 1
