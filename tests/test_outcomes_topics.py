"""The exploratory topic screen: planted topic effects, the null, and the anonymity rule."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analytics.outcomes.topics import topic_screen

TOPICS = ["ai_tools", "social_media", "work_life", "transparency"]


def _people(rng, n=200, ai_effect=0.5):
    rows = []
    for role in ("mentees", "mentors"):
        t = rng.random((n, len(TOPICS))) < 0.5
        baseline = rng.normal(3.5, 0.6, n)
        cohort = rng.choice(["2025-A", "2025-B"], n)
        effect = ai_effect if role == "mentees" else 0.0  # planted: AI tools help mentees only
        gain = 0.2 - 0.3 * (baseline - 3.5) + effect * t[:, 0] + rng.normal(0, 0.5, n)
        frame = pd.DataFrame(t.astype(int), columns=TOPICS).assign(role=role, gain=gain, baseline=baseline,
                                                                  cohort=cohort)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_one_fit_matches_statsmodels_by_hand():
    rng = np.random.default_rng(3)
    people = _people(rng)
    out = topic_screen(people, TOPICS, k=5).set_index(["role", "topic"])
    m = people[people.role == "mentees"]
    X = pd.get_dummies(m[["ai_tools", "baseline", "cohort"]], columns=["cohort"], drop_first=True, dtype=float)
    fit = sm.OLS(m["gain"], sm.add_constant(X)).fit(cov_type="HC3", use_t=True)   # R: lm(gain ~ ai + baseline + cohort); coeftest(vcovHC(type="HC3"))
    assert out.loc[("mentees", "ai_tools"), "estimate"] == pytest.approx(fit.params["ai_tools"])
    assert out.loc[("mentees", "ai_tools"), "p_value"] == pytest.approx(fit.pvalues["ai_tools"])


def test_planted_topic_is_found_for_its_role_only():
    out = topic_screen(_people(np.random.default_rng(4)), TOPICS, k=5).set_index(["role", "topic"])
    assert out.loc[("mentees", "ai_tools"), "flag"] == "larger gain"
    assert out.loc[("mentors", "ai_tools"), "flag"] == "no clear association"
    assert out.loc[("mentees", "ai_tools"), "ci_low"] < 0.5 < out.loc[("mentees", "ai_tools"), "ci_high"]


def test_family_wise_error_under_the_null():
    rng = np.random.default_rng(5)
    any_flag = [(topic_screen(_people(rng, n=120, ai_effect=0.0), TOPICS, 5)["flag"] != "no clear association").any()
                for _ in range(100)]
    assert np.mean(any_flag) <= 0.08   # Holm over 8 tests keeps it at 5%


def test_small_topic_groups_are_not_tested_or_shown():
    people = _people(np.random.default_rng(6), n=40)
    people.loc[people.role == "mentors", "transparency"] = 0
    people.loc[people.index[people.role == "mentors"][:3], "transparency"] = 1   # only 3 discussed it
    row = topic_screen(people, TOPICS, k=5).set_index(["role", "topic"]).loc[("mentors", "transparency")]
    assert row["flag"] == "not tested" and np.isnan(row["n_with"]) and np.isnan(row["estimate"])
