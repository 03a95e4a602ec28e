"""Ingredients of Cronbach's alpha, aggregated in DuckDB once per data version.

Reading every answer for each filtered view made the Data page's reliability table take most
of its time on big stores (27 s of 31 s at 200,000 people). Item and sum-score variances are
built from sums, so one pass over the released answers per (data version, k, as_of) keeps, per
survey × construct × reporting group *of that wave* (the respondent's block in `wave_roster`:
who counted at the wave, with the attributes they had then), the complete respondents' count
and the sums and sums of squares of each item and of the sum score (`build`, stored with the
released maps, in the published snapshot too). A filtered view then adds up, in DuckDB, the
rows of the wave blocks it selects: every roster filter selects whole blocks of each wave inside
`released()` (their labels are the block's labels), so this is exact, and a person who moved
between waves counts in the department they were in at each wave, as on every survey figure
(issue #10, "Who counts"). A cohort filter does not select whole blocks (a person's block
records the cohort of their first pair only): it reads the answers directly, as before.
"""

from __future__ import annotations

import pandas as pd

from analytics.filters import LIST_KEYS, Filters
from analytics.store.database import Database
from analytics.store.schema import SCORE_SQL

_COLS = ["survey", "construct", "k", "n", "sum_item_var", "total_var"]


def _answers(emp_join: str = "", src: str = "") -> str:
    """One value per (survey, respondent, construct, item), with the respondent's block at that
    wave (`wave_roster`; NULL for an unlinked answer), from the tables of schema `src` (qualified
    with its catalog; the search path's when empty). `emp_join` may narrow the answers by a join
    on `wave_roster` (alias of its own) over ``r``."""
    p = f"{src}." if src else ""
    return f"""SELECT r.survey, r.respondent, i.construct, r.item, avg({SCORE_SQL}) AS value,
                      any_value(e.block_id) AS block_id
               FROM {p}responses r
               JOIN {p}items i ON i.survey = r.survey AND i.item = r.item
               LEFT JOIN {p}wave_roster e ON e.survey = r.survey AND e.employee_id = r.employee_id
               {emp_join}
               WHERE r.value IS NOT NULL AND i.construct IS NOT NULL
               GROUP BY r.survey, r.respondent, i.construct, r.item"""


def _sums(db: Database, answers: str, params: list, src: str = "",
          into: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Per (survey, construct, block): complete respondents n, Σ total, Σ total²; and per item Σx, Σx².

    With `into` (a qualified schema) the two tables are stored there as alpha_totals and
    alpha_items instead of returned.
    """
    p = f"{src}." if src else ""
    db.execute("CREATE OR REPLACE TEMP TABLE _twoway_rel_v AS " + answers, params)
    try:
        db.execute(f"""CREATE OR REPLACE TEMP TABLE _twoway_rel_c AS
            WITH k AS (SELECT survey, construct, count(*) AS k FROM {p}items
                       WHERE construct IS NOT NULL GROUP BY survey, construct)
            SELECT v.survey, v.respondent, v.construct, any_value(v.block_id) AS block_id, sum(v.value) AS total
            FROM _twoway_rel_v v JOIN k ON k.survey = v.survey AND k.construct = v.construct
            GROUP BY v.survey, v.respondent, v.construct, k.k HAVING count(*) = k.k""")
        totals = """SELECT survey, construct, block_id, count(*) AS n, sum(total) AS st,
                           sum(total * total) AS stt
                    FROM _twoway_rel_c GROUP BY ALL"""
        items = """SELECT v.survey, v.construct, c.block_id, v.item, sum(v.value) AS sx,
                          sum(v.value * v.value) AS sxx
                   FROM _twoway_rel_v v JOIN _twoway_rel_c c
                     ON c.survey = v.survey AND c.respondent = v.respondent AND c.construct = v.construct
                   GROUP BY ALL"""
        if into is not None:
            db.execute(f"CREATE OR REPLACE TABLE {into}.alpha_totals AS {totals}")
            db.execute(f"CREATE OR REPLACE TABLE {into}.alpha_items AS {items}")
            return None
        totals, items = db.query_df(totals), db.query_df(items)
    finally:
        db.execute("DROP TABLE IF EXISTS _twoway_rel_v")
        db.execute("DROP TABLE IF EXISTS _twoway_rel_c")
    return totals, items


def build(db: Database, M: str, R: str) -> None:
    """Store the per-block sums of the released answers of schema `R` in schema `M` (both
    qualified), with the other compact tables (`analytics.store.compact`)."""
    _sums(db, _answers(src=R), [], src=R, into=M)


def _selected_sums(db: Database, filters: Filters | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored per-block sums added up in DuckDB over the wave blocks `filters` selects (every
    block, and the unlinked answers, when None): one row per survey × construct (× item). Block
    ids are unique per wave, so selecting them by the labels of `wave_roster` selects each
    wave's own groups."""
    if not getattr(db._local, "rel_stack", None):
        raise RuntimeError("item_variances() needs released data: call it inside released()")
    where, params = "TRUE", []
    if filters is not None:
        w, params = filters.employee_where("e", include_cohort=False)
        where = f"block_id IN (SELECT DISTINCT block_id FROM wave_roster e WHERE {w})"
    totals = db.query_df(f"""SELECT survey, construct, sum(n) AS n, sum(st) AS st, sum(stt) AS stt
                             FROM alpha_totals WHERE {where} GROUP BY survey, construct""", params)
    items = db.query_df(f"""SELECT survey, construct, item, sum(sx) AS sx, sum(sxx) AS sxx
                            FROM alpha_items WHERE {where} GROUP BY survey, construct, item""", params)
    return totals, items


def _variances(totals: pd.DataFrame, items: pd.DataFrame, k: pd.DataFrame) -> pd.DataFrame:
    """Sample variances from summed counts, sums and sums of squares, per survey × construct."""
    if totals.empty:
        return pd.DataFrame(columns=_COLS)
    t = totals.groupby(["survey", "construct"], as_index=False)[["n", "st", "stt"]].sum()
    t = t[t["n"] >= 2]
    t["total_var"] = (t["stt"] - t["st"] ** 2 / t["n"]) / (t["n"] - 1)
    it = items.groupby(["survey", "construct", "item"], as_index=False)[["sx", "sxx"]].sum()
    it = it.merge(t[["survey", "construct", "n"]], on=["survey", "construct"])
    it["item_var"] = (it["sxx"] - it["sx"] ** 2 / it["n"]) / (it["n"] - 1)
    iv = it.groupby(["survey", "construct"], as_index=False)["item_var"].sum().rename(
        columns={"item_var": "sum_item_var"})
    out = t.merge(k, on=["survey", "construct"]).merge(iv, on=["survey", "construct"])
    out["n"] = out["n"].astype(int)
    out["k"] = out["k"].astype(int)
    return out[_COLS].sort_values(["construct", "survey"]).reset_index(drop=True)


def item_variances(db: Database, filters: Filters = Filters()) -> pd.DataFrame:
    """survey, construct, k (items), n (complete respondents), sum_item_var, total_var per wave.

    Alpha is then k/(k−1)·(1 − sum_item_var/total_var). Inside `released()` only. A respondent
    counts in each wave with the attributes they had then (`wave_roster`). Unlinked (anonymous)
    answers count only when no roster filter is set. Waves outside the filters' date range are
    left out.
    """
    from analytics.store.claims import _date_clause

    dsql, dparams = _date_clause(filters)
    waves = set(db.query_df(f"SELECT survey FROM waves w WHERE {dsql}", dparams)["survey"])
    k = db.query_df("SELECT survey, construct, count(*) AS k FROM items WHERE construct IS NOT NULL "
                    "GROUP BY survey, construct")
    roster = any(getattr(filters, key) for key in LIST_KEYS)
    if filters.cohort:
        where, params = filters.employee_where("f", include_cohort=True)
        totals, items = _sums(db, _answers(f"JOIN wave_roster f ON f.survey = r.survey "
                                              f"AND f.employee_id = r.employee_id AND {where}"), params)
    else:
        totals, items = _selected_sums(db, filters if roster else None)
    totals = totals[totals["survey"].isin(waves)]
    items = items[items["survey"].isin(waves)]
    return _variances(totals, items, k)
