"""The staggered discrete-time hazard behind the retention and promotion claims."""

import numpy as np
import pandas as pd
import pytest

from analytics.outcomes.hazard import person_months, staggered_hazard


def _simulate(rng, hr: float, n: int = 300, months: int = 18) -> pd.DataFrame:
    """Planted truth: a monthly leaving hazard by department rising over calendar time; people in
    the low-hazard department join more often (selection); after their start month the hazard
    is multiplied by `hr` on the complementary log-log scale, (1 - h') = (1 - h) ** hr."""
    dept = rng.integers(0, 3, n)
    month = np.arange(months)
    base = np.array([0.012, 0.024, 0.04])[dept][:, None] * (1 + 0.03 * month)[None, :]
    joins = rng.random(n) < np.array([0.45, 0.3, 0.15])[dept]
    start = np.where(joins, rng.choice([3, 6, 9], n), np.nan)
    after = np.isfinite(start)[:, None] & (month[None, :] > np.nan_to_num(start, nan=1e9)[:, None])
    h = np.where(after, 1 - (1 - base) ** hr, base)
    event = rng.random((n, months)) < h
    first = np.where(event.any(axis=1), event.argmax(axis=1), np.nan)
    return pd.DataFrame({"unit": np.arange(n), "entry": 0, "exit": first, "start": start,
                         "dept": dept.astype(str)})


def test_one_month_matches_the_closed_form():
    # With one calendar month the model is saturated: each group's hazard is its event share, and
    # the cloglog coefficient is log(-log(1 - h1)) - log(-log(1 - h0)) (worked by hand).
    # 10 treated with 4 events, 20 untreated with 5 events.
    people = pd.DataFrame({
        "unit": range(30), "entry": 1, "start": [0] * 10 + [np.nan] * 20,
        "exit": [1] * 4 + [np.nan] * 6 + [1] * 5 + [np.nan] * 15})
    est = staggered_hazard(person_months(people, 1, 1), horizon=1)
    h1, h0 = 4 / 10, 5 / 20
    assert est.hazard_ratio == pytest.approx(np.log(1 - h1) / np.log(1 - h0), rel=1e-6)
    assert est.prob_treated == pytest.approx(h1, rel=1e-6)
    assert est.prob_untreated == pytest.approx(h0, rel=1e-6)
    assert (est.n_treated, est.n_comparison, est.events_treated, est.events_comparison) == (10, 20, 4, 5)


def test_the_start_month_is_not_after():
    people = pd.DataFrame({"unit": [1], "entry": [0], "exit": [np.nan], "start": [2]})
    pm = person_months(people, 0, 3)
    assert pm["treated"].tolist() == [0, 0, 0, 1]


def test_needs_both_groups():
    people = pd.DataFrame({"unit": [1, 2], "entry": 0, "exit": [1, np.nan], "start": np.nan})
    with pytest.raises(ValueError, match="both with and without"):
        staggered_hazard(person_months(people, 0, 2))


@pytest.fixture(scope="module")
def runs():
    rng = np.random.default_rng(20261201)
    out = {}
    for hr in (0.6, 1.0):
        out[hr] = [staggered_hazard(person_months(_simulate(rng, hr), 0, 17), covariates=("dept",), n_draws=400)
                   for _ in range(200)]
    return out


@pytest.mark.slow
def test_planted_hazard_ratio_is_recovered_with_nominal_coverage(runs):
    est = runs[0.6]
    covered = np.mean([e.hr_ci_low <= 0.6 <= e.hr_ci_high for e in est])
    assert 0.93 <= covered <= 0.97
    assert np.median([e.hazard_ratio for e in est]) == pytest.approx(0.6, abs=0.06)
    # fewer leavers among participants: the 12-month difference is negative on average
    assert np.mean([e.prob_diff for e in est]) < 0


@pytest.mark.slow
def test_no_effect_is_significant_at_the_nominal_rate(runs):
    est = runs[1.0]
    false_positive = np.mean([e.p_value < 0.05 for e in est])
    assert false_positive <= 0.07
    covered = np.mean([e.prob_diff_ci_low <= 0 <= e.prob_diff_ci_high for e in est])
    assert covered >= 0.92
