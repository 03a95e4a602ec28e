"""The small-frame anonymity rules: threshold, small-cell suppression, whole groups, empty selections.

Expected values are worked out by hand in the comments. The reporting groups themselves are
tested in tests/test_privacy_released.py and the attacker in tests/test_privacy_attacks.py.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics import privacy
from analytics.privacy import check_selection, min_group_size, suppress, whole_groups


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


@pytest.mark.parametrize("n", [0, 4])
def test_a_small_selection_is_refused(n):
    check = check_selection(n, 5)
    assert not check.ok and check.n == n and "fewer than 5" in check.reason


def test_a_selection_of_k_people_is_allowed():
    assert check_selection(5, 5) == privacy.SelectionCheck(True, 5)


def test_whole_groups_drops_groups_with_fewer_than_k_eligible_members():
    # block 1: a, b, c (3 people, one of them twice); block 2: d, e; block 3: f, g, h.
    # With k = 3 block 2 (2 people) goes entirely; rows of a kept block all stay.
    f = pd.DataFrame({"block_id": [1, 1, 1, 1, 2, 2, 3, 3, 3],
                      "employee_id": ["a", "a", "b", "c", "d", "e", "f", "g", "h"]})
    out = whole_groups(f, 3)
    assert out["employee_id"].tolist() == ["a", "a", "b", "c", "f", "g", "h"]
    assert whole_groups(f, 4).empty  # no block has 4 distinct people


def test_whole_groups_by_block_and_role():
    # one block, 5 comparison people and 2 participants: the 2 participants form a group of
    # their own in a (block, role) split and are dropped; the 5 others stay.
    f = pd.DataFrame({"block_id": [7] * 7, "participant": [False] * 5 + [True] * 2, "unit": range(7)})
    out = whole_groups(f, 5, ["block_id", "participant"], "unit")
    assert out["unit"].tolist() == [0, 1, 2, 3, 4]
