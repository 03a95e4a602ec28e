"""Compact tables of the released data, built once per (data version, k, as_of) with the maps.

A figure used to read the released answers (14.7 M rows at 200,000 people, through the views
that join the maps) for every chart. These tables hold the same information at the grain the
figures need, so a chart reads thousands of rows instead:

* ``c_cell`` — (survey, employee_id) → cell_id. A *cell* is the set of released employees
  sharing a reporting group at that wave (`wave_roster`: who counts at each wave, with the
  attributes they had then) and the set of cohorts of their released pairs. Every roster filter
  selects whole groups of each wave (the released labels are the group's labels) and the
  cohort filter and the participant flag depend only on a person's released pairs, so every
  selection the survey figures make, and every split they draw, is a union of whole cells:
  sums over cells are exact. Cell ids differ between waves.
* ``c_scores`` — per (cell of the subject at the wave, wave, construct): n subjects, mean score and the sum
  of squared deviations (m2) of the dashboard's construct scores (`SCORES`: a person's mean
  item score; leadership answers count for the respondent's manager). Means and
  SDs of any union of cells follow exactly (Chan et al.'s pairwise combination).
* ``c_respondents`` — per (wave, cell): distinct respondents linked to the cell's people;
  ``c_unlinked`` — per wave: distinct respondents linked to nobody.
* ``c_panel`` — the claims engine's person × wave construct scores (`claims.panel_scores`),
  one row per released respondent and wave;
* ``alpha_totals``, ``alpha_items`` — the reliability sums per block (`analytics.store.quality`);
* ``c_metrics`` — the engine's person × month metric table (`claims.panel_metrics`): per
  (employee, metric) the monthly mean of every month, as columns p0 … p{P−1} in the month order
  of ``c_metric_months`` (period → j; column names are numbers, never data);
* ``c_waves`` — per wave: respondents, linked people, unlinked respondents (`programme.links_sql`).

They are built from the released views themselves (whatever those release), inside
`analytics.store.released`, and stored in the published snapshot with the maps.
"""

from __future__ import annotations

from analytics.store.database import Database
from analytics.store.schema import SCORE_SQL
from analytics.vocab import CONSTRUCTS

#: A person's construct score in a wave (the dashboard's): the mean of their mapped items after
#: reverse coding. Leadership items describe the respondent's manager *at the wave*, so they
#: count for that manager. Over the released views of schema {R}.
SCORES = f"""
          SELECT r.survey, i.construct,
                 CASE WHEN i.construct = 'leadership' THEN resp.manager_id ELSE r.employee_id END AS subject,
                 avg({SCORE_SQL}) AS score
          FROM {{R}}.responses r
          JOIN {{R}}.items i ON i.survey = r.survey AND i.item = r.item
          JOIN {{R}}.wave_roster resp ON resp.survey = r.survey AND resp.employee_id = r.employee_id
          WHERE r.value IS NOT NULL AND i.construct IS NOT NULL
          GROUP BY ALL"""

#: The compact tables (each readable by its name inside `released()`).
TABLES: tuple[str, ...] = ("c_cell", "c_scores", "c_respondents", "c_unlinked", "c_panel",
                           "alpha_totals", "alpha_items", "c_waves", "c_metrics", "c_metric_months")


def build(db: Database, M: str, R: str) -> None:
    """Create the compact tables in schema `M` from the released views in schema `R` (both qualified)."""
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_cell AS
        WITH p AS (SELECT mentor_id AS id, cohort FROM {R}.pairs UNION ALL SELECT mentee_id, cohort FROM {R}.pairs),
        c AS (SELECT id, array_to_string(list_sort(list_distinct(list(coalesce(cohort, '')))), chr(31)) || chr(30) AS ck
              FROM p GROUP BY id)
        SELECT e.survey, e.employee_id,
               (dense_rank() OVER (ORDER BY e.survey, e.block_id, coalesce(c.ck, '')))::INTEGER AS cell_id
        FROM {R}.wave_roster e LEFT JOIN c ON c.id = e.employee_id""")
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_scores AS
        WITH scores AS ({SCORES.format(R=R)})
        SELECT c.cell_id, s.survey, s.construct, count(*)::BIGINT AS n, avg(s.score) AS mean,
               coalesce(var_samp(s.score) * (count(*) - 1), 0) AS m2
        FROM scores s JOIN {M}.c_cell c ON c.survey = s.survey AND c.employee_id = s.subject
        GROUP BY ALL""")
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_respondents AS
        SELECT r.survey, c.cell_id, count(DISTINCT r.respondent)::BIGINT AS respondents
        FROM {R}.responses r JOIN {M}.c_cell c ON c.survey = r.survey AND c.employee_id = r.employee_id
        GROUP BY ALL""")
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_unlinked AS
        SELECT survey, count(DISTINCT respondent)::BIGINT AS unlinked
        FROM {R}.responses WHERE employee_id IS NULL GROUP BY survey""")
    code = " ".join(f"WHEN '{c}' THEN {k}" for k, c in enumerate(CONSTRUCTS))  # names from the vocabulary
    cols = ", ".join(f"avg(CASE WHEN it.reverse THEN it.flip - r.value ELSE r.value END) "
                     f"FILTER (WHERE it.c = {k})::DOUBLE AS {c}" for k, c in enumerate(CONSTRUCTS))
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_panel AS
        WITH it AS (SELECT i.survey, i.item, CASE i.construct {code} END AS c, i.reverse,
                           i.scale_min + i.scale_max AS flip
                    FROM {R}.items i WHERE i.construct IS NOT NULL)
        SELECT r.employee_id, r.survey, {cols}
        FROM {R}.responses r JOIN it ON it.survey = r.survey AND it.item = r.item
        WHERE r.value IS NOT NULL AND r.employee_id IS NOT NULL
        GROUP BY r.employee_id, r.survey""")
    months = [r[0] for r in db.query(f"SELECT DISTINCT period FROM {R}.metrics WHERE value IS NOT NULL "
                                     "ORDER BY period").rows]
    db.execute(f"CREATE OR REPLACE TABLE {M}.c_metric_months (period VARCHAR, j INTEGER)")
    if months:
        db.executemany(f"INSERT INTO {M}.c_metric_months VALUES (?, ?)", [(p, j) for j, p in enumerate(months)])
    mcols = "".join(f", avg(value) FILTER (WHERE period = ?)::DOUBLE AS p{j}" for j in range(len(months)))
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_metrics AS
        SELECT employee_id, metric{mcols} FROM {R}.metrics WHERE value IS NOT NULL
        GROUP BY employee_id, metric""", months)
    from analytics.store import programme, quality

    db.execute(f"CREATE OR REPLACE TABLE {M}.c_waves AS {programme.links_sql(R)}")
    quality.build(db, M, R)


def combine(rows: str, keys: list[str]) -> str:
    """SELECT of n, mean and sd per `keys` from a relation `rows` of (keys…, n, mean, m2) per cell.

    Pairwise combination: mean = Σ nᵢ·meanᵢ / N, and the sum of squared deviations is
    Σ m2ᵢ + Σ nᵢ·(meanᵢ − mean)², so no sum of squares is differenced (no cancellation).
    sd is NULL for a single subject, as `stddev_samp` is.
    """
    k = ", ".join(keys)
    part = f"PARTITION BY {k}" if keys else ""
    return f"""SELECT {k}{', ' if keys else ''}sum(n)::BIGINT AS n, any_value(gmean) AS mean,
                      CASE WHEN sum(n) > 1 THEN sqrt(sum(m2 + n * (mean - gmean) * (mean - gmean)) / (sum(n) - 1)) END AS sd
               FROM (SELECT *, sum(n * mean) OVER w / sum(n) OVER w AS gmean FROM {rows} WINDOW w AS ({part}))
               {'GROUP BY ' + k if keys else ''}"""
