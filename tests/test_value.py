"""Return on investment from causal estimates: arithmetic by hand, interval against the planted one."""

import math

import pytest
from scipy import stats

from analytics.value import Benefit, Costs, Programme, compute_value, programme_cost

COSTS = Costs(fixed=10_000, per_pair=500, hourly_cost_mentor=40, hourly_cost_mentee=100, prep_hours_per_pair=2,
              replacement_cost=30_000, metric_values={"tasks_completed": 50}, horizon_months=12)
PROGRAMME = Programme(pairs=20, session_hours_mentors=160.0, session_hours_mentees=160.0)
BENEFITS = [
    Benefit("retention (mentees)", "retention", people=40, effect=-0.05, se=0.02, unit_value=30_000),
    Benefit("tasks_completed", "metric", people=40, effect=0.5, se=0.25, unit_value=50),
]


def test_costs_by_hand():
    # fixed 10,000 + 20 pairs × 500 + mentors (160 h + 20 × 2 h) × 40 + mentees (160 + 40) × 100
    total, parts = programme_cost(COSTS, PROGRAMME)
    assert total == 10_000 + 10_000 + 200 * 40 + 200 * 100 == 48_000
    assert [p["part"] for p in parts] == ["fixed", "per pair", "mentors' time", "mentees' time"]


def test_benefit_bcr_and_roi_by_hand():
    r = compute_value(BENEFITS, COSTS, PROGRAMME)
    # retention: 40 × 0.05 = 2 avoided leavers × 30,000 = 60,000
    # tasks: +0.5 per person-month × 40 people × 12 months × 50 = 12,000
    assert r.benefit == pytest.approx(72_000)
    assert r.cost == pytest.approx(48_000)
    assert r.bcr == pytest.approx(1.5)
    assert r.roi_pct == pytest.approx(50.0)


def test_interval_matches_the_planted_normal():
    # The benefit is linear in two independent normal estimates, so B ~ N(72,000, sd) with
    # sd² = (40 × 30,000 × 0.02)² + (40 × 12 × 50 × 0.25)²  and ROI = (B − C) / C.
    sd = math.hypot(40 * 30_000 * 0.02, 40 * 12 * 50 * 0.25)
    z = stats.norm.ppf(0.975)
    r = compute_value(BENEFITS, COSTS, PROGRAMME)
    assert r.roi_ci_low == pytest.approx((72_000 - z * sd - 48_000) / 48_000 * 100, abs=3)  # 3 Monte-Carlo SEs of the 2.5% quantile (~1 point)
    assert r.roi_ci_high == pytest.approx((72_000 + z * sd - 48_000) / 48_000 * 100, abs=3)  # 3 Monte-Carlo SEs of the 2.5% quantile (~1 point)
    assert r.p_loss == pytest.approx(stats.norm.cdf((48_000 - 72_000) / sd), abs=0.005)
    assert "includes a loss" in r.sentence


def test_a_sure_gain_says_so():
    sure = [Benefit("retention", "retention", 100, -0.2, 0.01, 30_000)]
    r = compute_value(sure, COSTS, PROGRAMME)
    assert r.roi_ci_low > 0 and "whole interval is a gain" in r.sentence


def test_same_inputs_same_interval():
    assert compute_value(BENEFITS, COSTS, PROGRAMME) == compute_value(BENEFITS, COSTS, PROGRAMME)


@pytest.mark.parametrize("raw, message", [
    ({"fixed": -1}, "fixed must be a number of 0 or more"),
    ({"fixed": float("nan")}, "fixed must be a number"),
    ({"per_pair": "ten"}, "per_pair must be a number"),
    ({"horizon_months": 0}, "horizon_months"),
    ({"metric_values": {"tasks": "x"}}, "one unit of 'tasks'"),
    ({"budget": 5}, "unknown cost input"),
])
def test_bad_inputs_are_one_clear_message(raw, message):
    with pytest.raises(ValueError, match=message):
        Costs.from_mapping(raw)


def test_zero_cost_is_refused():
    with pytest.raises(ValueError, match="cost is 0"):
        compute_value(BENEFITS, Costs(fixed=0, per_pair=0, hourly_cost_mentor=0, hourly_cost_mentee=0),
                      PROGRAMME)


def test_estimates_without_a_money_value_say_so():
    unvalued = [Benefit("tasks_completed (mentees)", "metric", 40, 0.5, 0.25, 0.0)]
    r = compute_value(unvalued, COSTS, PROGRAMME)
    assert r.benefit == 0 and "No estimate has a money value yet" in r.sentence
    assert "No estimate has a money value" not in compute_value(BENEFITS, COSTS, PROGRAMME).sentence
