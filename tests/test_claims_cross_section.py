"""The repeated cross-section DiD for anonymous surveys with a participation question.

Planted truth: per-role effects are recovered, "supported" stays at its nominal rate (2.5 %: a
two-sided 5 % test in the claimed direction) when nothing works, and the estimate from cell
aggregates equals a respondent-level fit on the raw data (a second route).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analytics.claims.cross_section import DESIGN, cross_section_did, estimate_role, from_store
from analytics.importing import import_file
from analytics.store import cross_section as store

WAVES = [dt.date(2024, 1, 15), dt.date(2024, 4, 15), dt.date(2024, 7, 15), dt.date(2024, 10, 15)]
COHORTS = {"2024-Q2": dt.date(2024, 4, 1), "2024-Q4": dt.date(2024, 10, 1)}
SHOCK = [0.0, 0.1, -0.05, 0.2]
BASE = {"none": 3.0, "mentor": 3.4, "mentee": 3.2}  # participants differ at baseline (selection)


def simulate(rng, tau: dict, n_none: int = 100, n_group: int = 25) -> pd.DataFrame:
    """Fresh respondents each wave; future participants already say which cohort they are in."""
    rows = []
    for w, (day, shock) in enumerate(zip(WAVES, SHOCK)):
        groups = [("none", None, None, n_none)] + [(r, c, s, n_group) for r in ("mentor", "mentee")
                                                     for c, s in COHORTS.items()]
        for role, cohort, start, n in groups:
            post = start is not None and day >= start
            y = BASE[role] + shock + (tau[role] if post else 0.0) + rng.normal(0, 0.8, n)
            rows.append(pd.DataFrame({"wave_date": day, "role": role, "cohort": cohort, "start": start, "y": y}))
    return pd.concat(rows, ignore_index=True)


def cells_of(raw: pd.DataFrame) -> pd.DataFrame:
    g = raw.assign(y2=raw["y"] ** 2).groupby(["wave_date", "role", "cohort", "start"], dropna=False)
    out = g.agg(n=("y", "size"), mean=("y", "mean"), y2=("y2", "sum")).reset_index()
    return out.assign(ss=out["y2"] - out["n"] * out["mean"] ** 2).drop(columns="y2")


def test_cells_give_the_respondent_level_fit(rng=np.random.default_rng(1)):
    raw = simulate(rng, {"mentor": 0.5, "mentee": 0.2})
    got = estimate_role(cells_of(raw), "agility", "mentor")
    # second route: OLS with HC1 on the raw respondents (wave and group dummies, post)
    d = raw[raw["role"].isin(["none", "mentor"])].copy()
    d["post"] = ((d["role"] == "mentor") & (pd.to_datetime(d["wave_date"]) >= pd.to_datetime(d["start"]))).astype(float)
    d["group"] = np.where(d["role"] == "mentor", "m:" + d["cohort"].fillna(""), "none")
    X = pd.get_dummies(d[["wave_date", "group"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "const", 1.0)
    X["post"] = d["post"].to_numpy()
    fit = sm.OLS(d["y"].to_numpy(), X).fit(cov_type="HC1")
    assert got.estimate == pytest.approx(fit.params["post"], abs=1e-9)
    assert got.se == pytest.approx(fit.bse["post"], rel=1e-9)
    assert got.p_value == pytest.approx(fit.pvalues["post"], rel=1e-7)


def test_planted_effect_per_role_is_recovered():
    rng = np.random.default_rng(7)
    res = cross_section_did(cells_of(simulate(rng, {"mentor": 0.5, "mentee": 0.25}, n_none=300, n_group=80)),
                            "agility").set_index("role")
    for role, tau in (("mentor", 0.5), ("mentee", 0.25)):
        r = res.loc[role]
        assert r["ci_low"] < tau < r["ci_high"]
        assert abs(r["estimate"] - tau) < 3 * r["se"]
        assert r["design"] == DESIGN and "no person is followed" in r["sentence"]
    assert res.loc["mentor", "verdict"] == "supported"
    assert res.loc["mentor", "n_treated"] == 4 * 2 * 80 and res.loc["mentor", "n_comparison"] == 4 * 300


def simulate_cells(rng, n_none: int = 60, n_group: int = 15, sd: float = 0.8) -> pd.DataFrame:
    """Cell aggregates drawn directly under no effect: mean ~ N(mu, sd²/n), ss ~ sd²·chi²(n − 1)."""
    rows = []
    for day, shock in zip(WAVES, SHOCK):
        for role, cohort, start, n in [("none", None, None, n_none)] + [
                (r, c, s, n_group) for r in ("mentor", "mentee") for c, s in COHORTS.items()]:
            rows.append({"wave_date": day, "role": role, "cohort": cohort, "start": start, "n": n,
                         "mean": BASE[role] + shock + rng.normal(0, sd / np.sqrt(n)),
                         "ss": sd ** 2 * rng.chisquare(n - 1)})
    return pd.DataFrame(rows)


def test_supported_stays_at_the_nominal_rate_under_no_effect():
    rng = np.random.default_rng(2026)
    reps, supported, pvals = 150, 0, []
    for _ in range(reps):
        res = cross_section_did(simulate_cells(rng), "agility")
        supported += int((res["verdict"] == "supported").sum())
        pvals += res["p_value"].tolist()
    rate = supported / (2 * reps)
    # nominal 2.5 %; with 300 tests a rate above 6 % has probability < 0.001 if the test is right
    assert rate <= 0.06
    assert stats.kstest(pvals, "uniform").pvalue > 0.001


def test_no_answers_before_the_start_is_insufficient():
    rng = np.random.default_rng(3)
    raw = simulate(rng, {"mentor": 0.5, "mentee": 0.2})
    raw["start"] = raw["start"].where(raw["start"].isna(), dt.date(2023, 1, 1))  # everyone started before wave 1
    r = estimate_role(cells_of(raw), "agility", "mentor")
    assert r.verdict == "insufficient_data" and "before their start" in r.reason
    assert np.isnan(r.estimate)


def test_groups_without_timing_use_the_programme_start():
    rng = np.random.default_rng(4)
    raw = simulate(rng, {"mentor": 0.6, "mentee": 0.0}, n_none=200, n_group=60)
    raw = raw[(raw["cohort"] != "2024-Q4")]
    raw.loc[raw["role"] != "none", ["cohort", "start"]] = None
    cells = cells_of(raw)
    assert estimate_role(cells, "agility", "mentor").verdict == "insufficient_data"
    r = estimate_role(cells, "agility", "mentor", programme_start=dt.date(2024, 4, 1))
    assert r.ci_low < 0.6 < r.ci_high


# -- from an imported anonymous survey ---------------------------------------------------------------
PART_Q = "Are you part of the reverse-mentoring programme?"


def _survey(path, day, answers):
    lines = [f'"Timestamp","{PART_Q}","Start quarter","I adapt quickly to new tools"']
    for i, (role, quarter, value) in enumerate(answers):
        lines.append(f'"{day} 9:{i // 60:02d}:{i % 60:02d} AM","{role}","{quarter}","{value}"')
    path.write_text("\n".join(lines) + "\n")
    return path


MAPPING = {PART_Q: {"participation": True}, "Start quarter": {"cohort": True},
           "I adapt quickly to new tools": {"construct": "agility", "scale": [1, 5]}}


def test_an_imported_anonymous_survey_gives_per_role_estimates(db, tmp_path):
    rng = np.random.default_rng(5)
    raw = simulate(rng, {"mentor": 0.8, "mentee": 0.0}, n_none=30, n_group=8)
    raw["value"] = raw["y"].round().clip(1, 5).astype(int)
    label = {"none": "No", "mentor": "Yes, as a mentor", "mentee": "Yes, as a mentee"}
    for w, day in enumerate(WAVES):
        part = raw[raw["wave_date"] == day]
        answers = [(label[r.role], r.cohort or "", r.value) for r in part.itertuples()]
        answers.append(("Yes, as a mentor", "2024-Q2", 3))  # a lone extra respondent per wave …
        rep = import_file(db, _survey(tmp_path / f"w{w}.csv", day.strftime("%Y/%m/%d"), answers), survey=f"w{w}",
                          mapping=MAPPING)
        assert rep["participation"]["groups"] == {"mentor": 17, "mentee": 16, "none": 30}
        assert rep["person_key"] == "response" and [i["item"] for i in rep["items"]] == [
            "I adapt quickly to new tools"]
    cells, dropped = store.participation_cells(db, "agility", k=5)
    assert dropped == 0 and set(cells["n"]) == {30, 8, 9}  # … joins its cohort's cell (8 + 1)
    # hand route: the same cells from the raw values (plus the extra respondents)
    extra = pd.DataFrame({"wave_date": WAVES, "role": "mentor", "cohort": "2024-Q2", "start": COHORTS["2024-Q2"],
                          "y": 3.0})
    expected = cells_of(pd.concat([raw.assign(y=raw["value"].astype(float)), extra], ignore_index=True))
    want = cross_section_did(expected, "agility").set_index("role")
    got = from_store(db, "agility", k=5).set_index("role")
    for role in ("mentor", "mentee"):
        assert got.loc[role, "estimate"] == pytest.approx(want.loc[role, "estimate"], abs=1e-9)
        assert got.loc[role, "se"] == pytest.approx(want.loc[role, "se"], rel=1e-9)
    # with a threshold of 10 the cohort cells (8–9 people) never leave the database
    cells10, dropped10 = store.participation_cells(db, "agility", k=10)
    assert set(cells10["role"]) == {"none"} and dropped10 == 4 * 4
    assert from_store(db, "agility", k=10)["verdict"].eq("insufficient_data").all()


def test_participation_answers_that_say_neither_are_errors(db, tmp_path):
    path = _survey(tmp_path / "bad.csv", "2024/01/15", [("No", "", 3), ("Maybe", "", 4)])
    with pytest.raises(Exception, match=r"row 3, column B .*'Maybe' to the participation question says neither"):
        import_file(db, path, survey="bad", mapping=MAPPING)


@pytest.mark.parametrize("entry,match", [
    ({"participation": True, "construct": "agility"}, "has no construct, scale or labels"),
    ({"participation": "yes"}, "participation must be true or false"),
])
def test_participation_mapping_entries_are_validated(entry, match):
    from analytics.errors import TwowayError
    from analytics.importing import load_mapping

    with pytest.raises(TwowayError, match=match):
        load_mapping({PART_Q: entry})


def test_cohort_without_participation_question_is_an_error(db, tmp_path):
    path = _survey(tmp_path / "c.csv", "2024/01/15", [("No", "", 3), ("No", "", 4)])
    with pytest.raises(Exception, match="marks a cohort column .* but no participation question"):
        import_file(db, path, survey="c", mapping={"Start quarter": {"cohort": True},
                                                   "I adapt quickly to new tools": "agility"})


# -- through the engine: the scorecard of an organisation whose only survey is anonymous -----------
def _import_anonymous(db, tmp_path, tau, seed, n_none=30, n_group=8, extra_lone=False):
    rng = np.random.default_rng(seed)
    raw = simulate(rng, tau, n_none=n_none, n_group=n_group)
    raw["value"] = raw["y"].round().clip(1, 5).astype(int)
    label = {"none": "No", "mentor": "Yes, as a mentor", "mentee": "Yes, as a mentee"}
    for w, day in enumerate(WAVES):
        part = raw[raw["wave_date"] == day]
        answers = [(label[r.role], r.cohort or "", r.value) for r in part.itertuples()]
        import_file(db, _survey(tmp_path / f"w{w}.csv", day.strftime("%Y/%m/%d"), answers), survey=f"w{w}",
                    mapping=MAPPING)
    return raw


def test_the_scorecard_answers_from_an_anonymous_survey_per_role(db, tmp_path):
    """Mentors +0.8 on agility, mentees nothing, no person ids anywhere: the agility claim gets a
    verdict per role from the participation question (Holm family of the engine), says which
    design it rests on, and the numbers are the cross-section estimator's."""
    from analytics.claims import scorecard
    from analytics.claims.anonymous import NOTE

    raw = _import_anonymous(db, tmp_path, {"mentor": 0.8, "mentee": 0.0}, seed=8, n_none=60, n_group=20)
    card = scorecard(db, min_group=5).set_index("id")
    row = card.loc["agility"]
    roles = {e["role"]: e for e in row["by_role"]}
    assert set(roles) == {"mentors", "mentees"}  # no pooled summary for this design
    assert roles["mentors"]["verdict"] == "supported" and roles["mentees"]["verdict"] != "supported"
    assert row["verdict"] == "supported" and row["headline_role"] == "mentors"
    assert "repeated cross-section" in row["sentence"] and NOTE in row["notes"]
    assert "take part" in row["method"]
    # the same estimate as the cross-section estimator on the raw cells (hand route: cells_of the raw values)
    want = cross_section_did(cells_of(raw.assign(y=raw["value"].astype(float))), "agility").set_index("role")
    assert roles["mentors"]["estimate"] == pytest.approx(want.loc["mentor", "estimate"], abs=1e-9)
    assert roles["mentors"]["n_treated"] == want.loc["mentor", "n_treated"]
    # p_adjusted comes from the engine's Holm family: the only primary tests with a p-value are these two
    from statsmodels.stats.multitest import multipletests

    # R: p.adjust(c(p_mentors, p_mentees), method = "holm")
    want_adj = multipletests([roles["mentors"]["p_value"], roles["mentees"]["p_value"]], method="holm")[1]
    assert [roles["mentors"]["p_adjusted"], roles["mentees"]["p_adjusted"]] == pytest.approx(list(want_adj))
    # claims the participation question cannot answer stay "insufficient data", with the reason
    assert card.loc["leadership", "verdict"] == "insufficient_data"


def test_small_participation_groups_are_never_released(db, tmp_path):
    """Cohort groups of 4 under k = 5: their answers are withheld from every figure, so the wave's
    total minus the released groups cannot expose them."""
    from analytics.store import Database  # noqa: F401  (the fixture is a Database)
    from analytics.store.released import released

    _import_anonymous(db, tmp_path, {"mentor": 0.5, "mentee": 0.0}, seed=9, n_none=30, n_group=4)
    with released(db, 5):
        n = db.query("SELECT count(DISTINCT respondent) FROM responses WHERE survey = 'w0'").scalar()
        cells, _ = store.participation_cells(db, "agility", 5)
    assert n == 30                                   # only the non-participants' group is released
    assert set(cells["role"]) == {"none"}


# -- a mixed organisation: waves linked to the roster and an anonymous survey (issue #10) ------------
def test_a_mixed_organisation_uses_its_anonymous_survey_where_the_linked_waves_say_nothing(demo_path, tmp_path):
    """The 600-person demo (four waves linked to the roster) plus four anonymous 2024 waves that
    ask agility and the participation question (mentors +0.8). Where the linked waves measure
    agility, the panel's test stands (it follows people) and the notes name the anonymous waves
    that were not used; where they do not, the agility claim rests on the anonymous waves, with
    the cross-section estimator's numbers; a filtered view says it cannot use them."""
    import shutil

    from analytics.claims import scorecard
    from analytics.claims.anonymous import NOTE_MIXED, unused_note
    from analytics.filters import Filters
    from analytics.store import Database

    path = tmp_path / "mixed.duckdb"
    shutil.copyfile(demo_path, path)
    with Database(path) as db:
        before = scorecard(db, min_group=5).set_index("id").loc["agility"]
        raw = _import_anonymous(db, tmp_path, {"mentor": 0.8, "mentee": 0.0}, seed=8, n_none=60, n_group=20)
        anon = ("w0", "w1", "w2", "w3")
        row = scorecard(db, min_group=5).set_index("id").loc["agility"]
        # the panel's tests are unchanged (same people, same Holm family), and the note says why
        assert [(e["role"], e["estimate"], e["p_adjusted"]) for e in row["by_role"]] == \
            [(e["role"], e["estimate"], e["p_adjusted"]) for e in before["by_role"]]
        assert unused_note(anon, filtered=False) in row["notes"] and "'w0', 'w1', 'w2', 'w3'" in row["notes"][-1]
        assert "repeated cross-section" not in row["sentence"]
        dept = db.query("SELECT min(department) FROM employees").scalar()
        part = scorecard(db, Filters(department=(dept,)), min_group=5).set_index("id").loc["agility"]
        assert unused_note(anon, filtered=True) in part["notes"]
        # the linked waves stop asking agility: the claim now rests on the anonymous waves
        db.execute("UPDATE items SET construct = NULL WHERE construct = 'agility' AND survey NOT IN ('w0', 'w1', "
                   "'w2', 'w3')")
        db.bump_data_version()
        card = scorecard(db, min_group=5).set_index("id")
    row = card.loc["agility"]
    roles = {e["role"]: e for e in row["by_role"]}
    assert set(roles) == {"mentors", "mentees"} and NOTE_MIXED in row["notes"]
    assert "repeated cross-section" in row["sentence"] and "take part" in row["method"]
    # hand route: the cross-section estimator on the anonymous answers' own cells
    want = cross_section_did(cells_of(raw.assign(y=raw["value"].astype(float))), "agility").set_index("role")
    assert roles["mentors"]["estimate"] == pytest.approx(want.loc["mentor", "estimate"], abs=1e-9)
    assert roles["mentors"]["n_treated"] == want.loc["mentor", "n_treated"]
    assert roles["mentors"]["verdict"] == "supported"
    # the other claims still come from the linked panel (their notes never mention the anonymous waves)
    assert "repeated cross-section" not in card.loc["innovation", "sentence"]
