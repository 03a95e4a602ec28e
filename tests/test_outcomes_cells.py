"""The aggregated-cell path of the hazard (what the claims engine fits) against the person-month path."""

import numpy as np
import pandas as pd
import pytest

from analytics.outcomes.hazard import hazard_from_cells, person_months, risk_cells, staggered_hazard


def _people(rng, n=400, months=24, hr=0.6):
    """Staggered entry: participants enter the month after their start, others at month 0."""
    dept = rng.integers(0, 3, n)
    joins = rng.random(n) < 0.3
    start = np.where(joins, rng.choice([2, 5, 8], n), np.nan)
    entry = np.where(joins, np.nan_to_num(start) + 1, 0)
    base = np.array([0.02, 0.03, 0.05])[dept]
    h = np.where(joins, 1 - (1 - base) ** hr, base)
    month = np.arange(months)
    event = (rng.random((n, months)) < h[:, None]) & (month[None, :] >= entry[:, None])
    first = np.where(event.any(axis=1), event.argmax(axis=1), np.nan)
    return pd.DataFrame({"unit": np.arange(n), "entry": entry, "exit": first, "start": start,
                         "dept": dept.astype(str)})


def test_cells_equal_grouped_person_months():
    p = _people(np.random.default_rng(1))
    pm = person_months(p, 0, 23)
    rc = risk_cells(p, 0, 23, ("dept",))
    want = pm.assign(dept=pm["dept"].astype(str)).groupby(["month", "dept", "treated"])["event"].agg(
        ["sum", "count"]).reset_index()
    got = rc.cells.sort_values(["month", "dept", "treated"]).reset_index(drop=True)
    assert got[["sum", "count"]].to_numpy().tolist() == want[["sum", "count"]].to_numpy().tolist()
    assert (rc.events_treated, rc.events_comparison) == (int(pm.loc[pm.treated == 1, "event"].sum()),
                                                         int(pm.loc[pm.treated == 0, "event"].sum()))


def test_same_fit_and_probabilities_as_the_person_month_model():
    # staggered_hazard (expanded person-months, design-matrix probabilities) is the reference
    p = _people(np.random.default_rng(2))
    ref = staggered_hazard(person_months(p, 0, 23), covariates=("dept",), n_draws=500)
    got = hazard_from_cells(risk_cells(p, 0, 23, ("dept",)), ("dept",), n_draws=500)
    assert got.hazard_ratio == pytest.approx(ref.hazard_ratio, rel=1e-8)
    assert got.se == pytest.approx(ref.se, rel=1e-6)
    assert got.prob_treated == pytest.approx(ref.prob_treated, rel=1e-8)
    assert got.prob_untreated == pytest.approx(ref.prob_untreated, rel=1e-8)
    assert got.prob_diff_ci_low == pytest.approx(ref.prob_diff_ci_low, rel=1e-6)


def test_participants_must_enter_after_their_start():
    p = pd.DataFrame({"unit": [0], "entry": [0], "exit": [np.nan], "start": [3]})
    with pytest.raises(ValueError, match="after their start"):
        risk_cells(p, 0, 5)
