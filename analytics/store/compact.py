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
* ``c_waves`` — per wave: respondents, linked people, unlinked respondents (`programme.links_sql`);
* ``c_labels`` — every released label of each roster column (today's groups, every wave, month
  and the data date): the filter choices; ``c_people`` — each released person's distinct label
  sets over those rosters, so a selection's size is one small count (`dashboard.selection_size`);
* the programme activity page's tables, per today's reporting group of the pair's mentee
  (``block_id``: a pair belongs to its mentee's group, and every roster filter selects whole
  groups) and the pair's cohort (one per pair), so a selection is a union of whole rows:
  ``c_pairs`` (one row per released pair: its sessions, minutes, last date, mean ratings),
  ``c_session_months`` (per month and format: sessions, pairs, minutes) and ``c_session_mix``
  (per kind — format, channel, topic — and value: sessions, pairs). Distinct pairs add up over
  these rows because a pair is in one group and one cohort;
* ``c_metric_cells`` — the productivity page's metric figures per (group in the month
  (`month_roster`), month, metric, participant, phase): people, values, mean and m2, combined
  exactly like ``c_scores``; ``c_month_blocks`` the month groups' labels (for the filters).

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
                           "alpha_totals", "alpha_items", "c_waves", "c_metrics", "c_metric_months",
                           "c_labels", "c_people", "c_pairs", "c_session_months", "c_session_mix",
                           "c_metric_cells", "c_month_blocks")

#: Roster columns a page may filter and group by (`dashboard.GROUP_COLUMNS`).
LABEL_COLUMNS: tuple[str, ...] = ("department", "level", "location", "generation")
#: The released relations that say who was in which group when (`analytics.store.released`).
ROSTERS: tuple[str, ...] = ("employees", "wave_roster", "month_roster", "roster_now")


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
    _build_pages(db, M, R)


def _build_pages(db: Database, M: str, R: str) -> None:
    """The sidebar's, the activity page's and the productivity page's compact tables (see the
    module docstring), from the released views of schema `R` into schema `M`.

    Each is the previous per-view query grouped once more by the reporting group and cohort a
    filter selects, so a view sums a few thousand rows instead of joining the sessions or the
    3 million metric values again (`analytics.store.dashboard` reads them).
    """
    labels = " UNION ALL ".join(
        f"SELECT '{col}' AS col, {col} AS value FROM {R}.{rel} WHERE {col} IS NOT NULL"
        for col in LABEL_COLUMNS for rel in ROSTERS)  # names from the constants above
    db.execute(f"CREATE OR REPLACE TABLE {M}.c_labels AS SELECT DISTINCT col, value FROM ({labels})")
    cols = ", ".join(LABEL_COLUMNS)
    people = " UNION ".join(f"SELECT employee_id, {cols} FROM {R}.{rel}" for rel in ROSTERS)
    db.execute(f"CREATE OR REPLACE TABLE {M}.c_people AS {people}")
    # one row per released pair, with its mentee's group today; sessions of any date (the page
    # asks for those up to the data date, which is on or after every released session)
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_pairs AS
        SELECT p.pair_id, p.mentee_id, any_value(e.block_id) AS block_id, p.cohort, p.start_date, p.end_date,
               count(s.session_id) AS sessions, coalesce(sum(s.duration_min), 0) AS minutes,
               max(s.date) AS last_date,
               avg(s.mentor_rating) AS mentor_rating, avg(s.mentee_rating) AS mentee_rating,
               count(s.mentor_rating) AS mentor_ratings, count(s.mentee_rating) AS mentee_ratings
        FROM {R}.pairs p JOIN {R}.employees e ON e.employee_id = p.mentee_id
        LEFT JOIN {R}.sessions s ON s.pair_id = p.pair_id
        GROUP BY p.pair_id, p.mentee_id, p.cohort, p.start_date, p.end_date""")
    sb = f"""SELECT s.*, p.block_id, p.cohort FROM {R}.sessions s JOIN {M}.c_pairs p USING (pair_id)"""
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_session_months AS
        SELECT block_id, cohort, date_trunc('month', date)::DATE AS month, format, count(*) AS sessions,
               count(DISTINCT pair_id) AS pairs, sum(duration_min) AS minutes
        FROM ({sb}) GROUP BY ALL""")
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_session_mix AS
        WITH sb AS ({sb})
        SELECT block_id, cohort, 'format' AS kind, format AS value, count(*) AS sessions,
               count(DISTINCT pair_id) AS pairs FROM sb GROUP BY ALL
        UNION ALL
        SELECT block_id, cohort, 'channel', coalesce(channel, 'not recorded'), count(*), count(DISTINCT pair_id)
          FROM sb GROUP BY ALL
        UNION ALL
        SELECT block_id, cohort, 'topic', topic, count(*), count(DISTINCT pair_id)
          FROM (SELECT block_id, cohort, pair_id, unnest(topics) AS topic FROM sb) GROUP BY ALL""")
    # metric values per month group, month, metric, participant (any released pair) and phase
    # (before/after the start of the person's first pair; everyone else split at the first start)
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_metric_cells AS
        WITH starts AS (SELECT id AS employee_id, min(start_date) AS start
                        FROM (SELECT mentor_id AS id, start_date FROM {R}.pairs
                              UNION ALL SELECT mentee_id, start_date FROM {R}.pairs)
                        GROUP BY id),
        cut AS (SELECT min(start) AS first_start FROM starts)
        SELECT e.block_id, m.metric, m.period, st.start IS NOT NULL AS participant,
               CASE WHEN strptime(m.period || '-01', '%Y-%m-%d')::DATE
                         < date_trunc('month', coalesce(st.start, (SELECT first_start FROM cut)))
                    THEN 'before' ELSE 'after' END AS phase,
               count(DISTINCT m.employee_id) AS people, count(*) AS n, avg(m.value) AS mean,
               coalesce(var_samp(m.value) * (count(*) - 1), 0) AS m2
        FROM {R}.metrics m JOIN {R}.month_roster e ON e.period = m.period AND e.employee_id = m.employee_id
             LEFT JOIN starts st ON st.employee_id = m.employee_id
        WHERE m.value IS NOT NULL
        GROUP BY ALL""")
    db.execute(f"""CREATE OR REPLACE TABLE {M}.c_month_blocks AS
        SELECT DISTINCT block_id, {cols} FROM {R}.month_roster""")


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
