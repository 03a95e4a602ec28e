"""The demo organisation: deterministic, realistic, and shaped the way the claims need."""

from __future__ import annotations

import duckdb
import pytest

from analytics.demo import PLANTED, build_demo
from analytics.errors import TwowayError
from analytics.store import Database
from analytics.vocab import GENERATION_NAMES, generation_of
from tests.fixtures import snapshot


def _data(path):
    db = Database(path, read_only=True)
    try:
        snap = snapshot(db)
    finally:
        db.close()
    snap.pop("imports")  # holds the wall-clock time of the build
    snap.pop("meta")
    return snap


def test_same_seed_same_organisation(tmp_path):
    build_demo(tmp_path / "a.duckdb", seed=3, n_employees=300)
    build_demo(tmp_path / "b.duckdb", seed=3, n_employees=300)
    build_demo(tmp_path / "c.duckdb", seed=4, n_employees=300)
    a, b, c = (_data(tmp_path / f"{x}.duckdb") for x in "abc")
    assert a == b
    assert a["responses"] != c["responses"]


def test_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "x.duckdb"
    build_demo(path, n_employees=100)
    with pytest.raises(TwowayError, match="already exists"):
        build_demo(path, n_employees=100)
    build_demo(path, n_employees=120, force=True)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM employees").fetchone()[0] == 120


@pytest.fixture(scope="module")
def con(demo_path):
    c = duckdb.connect(str(demo_path), read_only=True)
    yield c
    c.close()


def test_all_four_generations_and_pew_cutoffs(con):
    rows = con.execute("SELECT birth_year, generation FROM employees").fetchall()
    assert all(gen == generation_of(year) for year, gen in rows)
    counts = dict(con.execute("SELECT generation, count(*) FROM employees GROUP BY 1").fetchall())
    assert set(counts) == set(GENERATION_NAMES)
    assert all(n >= 5 for n in counts.values())


def test_manager_tree_is_a_tree(con):
    # Everyone but the chief executive has a manager who exists; no one manages themselves.
    orphans = con.execute("""SELECT count(*) FROM employees e WHERE e.manager_id IS NOT NULL
        AND e.manager_id NOT IN (SELECT employee_id FROM employees)""").fetchone()[0]
    roots = con.execute("SELECT count(*) FROM employees WHERE manager_id IS NULL").fetchone()[0]
    selfs = con.execute("SELECT count(*) FROM employees WHERE manager_id = employee_id").fetchone()[0]
    assert (orphans, roots, selfs) == (0, 1, 0)


def test_pairs_are_junior_to_senior(con):
    # levels as they were when the pair started (people are promoted later in the roster history)
    bad = con.execute("""
        WITH at_start AS (
            SELECT p.pair_id, h.employee_id, h.level FROM pairs p JOIN employee_history h
              ON h.employee_id IN (p.mentor_id, p.mentee_id)
             AND (h.valid_from IS NULL OR h.valid_from <= p.start_date)
             AND (h.valid_to IS NULL OR p.start_date < h.valid_to))
        SELECT count(*) FROM pairs p
        JOIN employees m ON m.employee_id = p.mentor_id JOIN employees s ON s.employee_id = p.mentee_id
        JOIN at_start ml ON ml.pair_id = p.pair_id AND ml.employee_id = p.mentor_id
        JOIN at_start sl ON sl.pair_id = p.pair_id AND sl.employee_id = p.mentee_id
        WHERE m.birth_year <= s.birth_year OR ml.level NOT IN ('Associate', 'Specialist')
           OR sl.level IN ('Associate', 'Specialist')""").fetchone()[0]
    assert bad == 0
    assert con.execute("SELECT count(DISTINCT cohort) FROM pairs").fetchone()[0] == 3


def test_sessions_inside_pair_dates(con):
    outside = con.execute("""
        SELECT count(*) FROM sessions s JOIN pairs p USING (pair_id)
        WHERE s.date < p.start_date OR s.date > coalesce(p.end_date, DATE '2025-12-31')""").fetchone()[0]
    assert outside == 0
    formats = {r[0] for r in con.execute("SELECT DISTINCT format FROM sessions").fetchall()}
    assert formats == {"scheduled", "informal"}


def test_likert_values_in_range_and_realistic_nonresponse(con):
    lo, hi, frac_int = con.execute(
        "SELECT min(value), max(value), avg((value = round(value))::INT) FROM responses").fetchone()
    assert (lo, hi, frac_int) == (1, 5, 1)
    rates = [r[0] for r in con.execute("""
        SELECT count(DISTINCT respondent) / any_value(w.invited) FROM responses r JOIN waves w USING (survey)
        GROUP BY survey""").fetchall()]
    assert len(rates) == 4 and all(0.6 < r < 0.95 for r in rates)


def test_every_construct_has_items_and_one_reverse_coded(con):
    rows = con.execute("""SELECT construct, count(*), sum(reverse::INT) FROM items
                          WHERE survey = 'pulse-2025-q1' GROUP BY 1""").fetchall()
    assert len(rows) == 8 and all(n == 3 and rev == 1 for _, n, rev in rows)


def test_participants_self_select(con):
    # The trap the claims engine must survive: participants start higher, before any mentoring.
    part, other = con.execute("""
        WITH s AS (SELECT r.employee_id, avg(CASE WHEN i.reverse THEN 6 - r.value ELSE r.value END) AS v
                   FROM responses r JOIN items i USING (survey, item)
                   WHERE r.survey = 'pulse-2025-q1' AND i.construct = 'productivity' GROUP BY 1),
             p AS (SELECT mentor_id AS id FROM pairs UNION SELECT mentee_id FROM pairs)
        SELECT avg(v) FILTER (WHERE employee_id IN (SELECT id FROM p)),
               avg(v) FILTER (WHERE employee_id NOT IN (SELECT id FROM p)) FROM s""").fetchone()
    assert part > other + 0.1


def test_planted_truths_cover_every_claim():
    assert set(PLANTED) == {"productivity", "leadership", "agility", "engagement", "innovation", "belonging",
                            "mentor_confidence", "informal_learning", "dose_response",
                            "psych_safety_moderation", "retention", "promotion"}
    assert set(PLANTED.values()) <= {"supported", "no_effect", "contradicted"}
