"""The anonymity guard: primary, complementary and selection-level suppression.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics import privacy
from analytics.privacy import check_selection, min_group_size, suppress


def test_threshold_comes_from_the_environment_and_never_drops_below_two(monkeypatch):
    monkeypatch.delenv("TWOWAY_MIN_GROUP_SIZE", raising=False)
    assert min_group_size() == 5
    monkeypatch.setenv("TWOWAY_MIN_GROUP_SIZE", "8")
    assert min_group_size() == 8
    monkeypatch.setenv("TWOWAY_MIN_GROUP_SIZE", "1")
    assert min_group_size() == 2
    monkeypatch.setenv("TWOWAY_MIN_GROUP_SIZE", "lots")
    assert min_group_size() == 5
    assert min_group_size(12) == 12


def test_small_cells_are_blanked_with_a_reason():
    t = pd.DataFrame({"g": ["a", "b", "c"], "n": [10, 4, 0], "mean": [3.0, 4.0, float("nan")]})
    out = suppress(t, 5, value_cols=["mean"], complementary=False)
    # b has 4 < 5 people: hidden; c has nobody (nothing to protect): left as is.
    assert list(out["suppressed"]) == [False, True, False]
    assert math.isnan(out.loc[1, "mean"]) and math.isnan(out.loc[1, "n"])
    assert out.loc[1, "reason"] == "hidden: fewer than 5 people"
    assert out.loc[0, "mean"] == 3.0 and out.loc[0, "reason"] == ""


def test_one_hidden_cell_drags_the_next_smallest_with_it():
    # Departments 40, 30, 3, 20 of a visible total 93: hiding only the 3 lets anyone compute
    # it as 93 - 40 - 30 - 20, so the next smallest (20) is hidden too: 3 + 20 = 23 >= 5.
    t = pd.DataFrame({"g": list("abcd"), "n": [40, 30, 3, 20], "mean": [3.1, 3.4, 4.9, 3.0]})
    out = suppress(t, 5, value_cols=["mean"])
    assert list(out["suppressed"]) == [False, False, True, True]
    assert out.loc[3, "reason"] == privacy.reason_complement(5)


def test_two_tiny_hidden_cells_are_not_enough_together():
    # 1 and 2 people hidden: together 3 < 5, still a group of under five; hide 6 as well.
    t = pd.DataFrame({"g": list("abcd"), "n": [1, 2, 6, 50], "mean": [1.0, 2.0, 3.0, 4.0]})
    out = suppress(t, 5, value_cols=["mean"])
    assert list(out["suppressed"]) == [True, True, True, False]


def test_complementary_suppression_works_within_each_partition():
    t = pd.DataFrame({"wave": ["w1"] * 3 + ["w2"] * 3, "g": list("abcabc"), "n": [3, 10, 12, 9, 10, 12],
                      "mean": [1, 2, 3, 4, 5, 6]})
    out = suppress(t, 5, value_cols=["mean"], partition=["wave"])
    # w1: a (3) hidden, b (10) hidden as complement; w2 untouched.
    assert list(out["suppressed"]) == [True, True, False, False, False, False]


def test_no_partition_can_be_recovered_by_subtraction_on_random_tables():
    rng = pd.Series(range(200)).sample(frac=1, random_state=3).to_numpy()
    for seed in range(50):
        ns = [(int(x) * (seed + 7)) % 23 for x in rng[seed:seed + 6]]
        out = suppress(pd.DataFrame({"n": ns, "v": 1.0}), 5, value_cols=["v"])
        hidden = [n for n, s in zip(ns, out["suppressed"]) if s and n > 0]
        everything_hidden = len(hidden) == len([n for n in ns if n > 0])
        assert all(n >= 5 for n, s in zip(ns, out["suppressed"]) if not s and n > 0)
        if hidden and not everything_hidden:
            assert len(hidden) >= 2 and sum(hidden) >= 5, ns


def test_a_selection_that_differs_from_a_wider_view_by_a_few_people_is_refused():
    # Sales (100) and "Sales, every level but Director" (97): the 3 Sales directors would be
    # the difference of two allowed views.
    cells = pd.DataFrame({"department": [True, True, False, False], "level": [True, False, True, False],
                          "n": [97, 3, 400, 30]})
    check = check_selection(cells, ["department", "level"], 5)
    assert not check.ok and check.n == 97
    assert "level" in check.reason


def test_a_selection_with_large_differences_is_allowed():
    cells = pd.DataFrame({"department": [True, True, False, False], "level": [True, False, True, False],
                          "n": [50, 50, 400, 30]})
    assert check_selection(cells, ["department", "level"], 5) == privacy.SelectionCheck(True, 50)


def test_a_selection_equal_to_a_wider_view_is_allowed():
    # Selecting every level of Sales is the same people as Sales: difference 0, nothing revealed.
    cells = pd.DataFrame({"department": [True, False], "level": [True, True], "n": [100, 400]})
    assert check_selection(cells, ["department", "level"], 5).ok


@pytest.mark.parametrize("n", [0, 4])
def test_a_small_selection_is_refused(n):
    cells = pd.DataFrame({"department": [True, False], "n": [n, 600]})
    check = check_selection(cells, ["department"], 5)
    assert not check.ok and "fewer than 5" in check.reason


def test_the_organisation_minus_a_small_selection_is_refused():
    # Everyone but one small department: org (600) minus selection (597) = 3 people.
    cells = pd.DataFrame({"department": [True, False], "n": [597, 3]})
    assert not check_selection(cells, ["department"], 5).ok
