"""The demo's roster history: leavers and promotions that the rest of the demo respects."""

import duckdb
import pytest


@pytest.fixture(scope="module")
def con(demo_path):
    c = duckdb.connect(str(demo_path), read_only=True)
    yield c
    c.close()


def test_the_history_has_leavers_and_promotions(con):
    left, promoted = con.execute("""
        SELECT count(*) FILTER (WHERE nxt.employee_id IS NULL), count(*) FILTER (WHERE nxt.employee_id IS NOT NULL)
        FROM employee_history h LEFT JOIN employee_history nxt
          ON nxt.employee_id = h.employee_id AND nxt.valid_from = h.valid_to
        WHERE h.valid_to IS NOT NULL""").fetchone()
    n = con.execute("SELECT count(*) FROM employees").fetchone()[0]
    # monthly leaving hazards of 0.6–1.5 % over almost three years: roughly a quarter to a half leave
    assert 0.15 * n < left < 0.6 * n and promoted > 0.1 * n, (left, promoted, n)


def test_the_roster_is_the_latest_history_row(con):
    bad = con.execute("""
        WITH last AS (SELECT * FROM employee_history
                      QUALIFY row_number() OVER (PARTITION BY employee_id ORDER BY valid_from DESC NULLS LAST) = 1)
        SELECT count(*) FROM employees e JOIN last l USING (employee_id)
        WHERE e.level IS DISTINCT FROM l.level OR e.termination_date IS DISTINCT FROM l.valid_to""").fetchone()[0]
    assert bad == 0


def test_leavers_stop_answering_having_metrics_and_meeting(con):
    after = con.execute("""
        SELECT (SELECT count(*) FROM responses r JOIN waves w USING (survey) JOIN employees e USING (employee_id)
                WHERE e.termination_date <= w.opened),
               (SELECT count(*) FROM metrics m JOIN employees e USING (employee_id)
                WHERE e.termination_date <= CAST(m.period || '-01' AS DATE)),
               (SELECT count(*) FROM sessions s JOIN pairs p USING (pair_id)
                JOIN employees a ON a.employee_id = p.mentor_id JOIN employees b ON b.employee_id = p.mentee_id
                WHERE s.date >= least(coalesce(a.termination_date, DATE '9999-01-01'),
                                      coalesce(b.termination_date, DATE '9999-01-01')))""").fetchone()
    assert after == (0, 0, 0)


def test_participants_were_employed_at_their_start(con):
    assert con.execute("""SELECT count(*) FROM pairs p JOIN employees e ON e.employee_id IN (p.mentor_id, p.mentee_id)
                          WHERE e.termination_date <= p.start_date""").fetchone()[0] == 0
