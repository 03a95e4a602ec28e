"""Released data: what every figure is computed from, so that no figure describes fewer than k people.

Inside `released(db, k, as_of)` the data table names (employees, responses, metrics, pairs,
sessions, waves, items, metric_defs) resolve to views in an in-memory catalog — the same
mechanism as `pinning.pinned` — so the dashboard and claims SQL, unchanged, read only:

* **employees** of *reporting groups* ("blocks") with at least k people. A block is the set of
  employees sharing (role, timing, department, location, generation, level), where role is
  none / mentor / mentee / both (from pairs) and timing is every cohort the person has a pair
  in (a cohort filter selects anyone with a pair in that cohort, so the key must carry them all)
  and the start wave of their first pair. Small blocks are merged by local recoding: for the blocks that are too
  small only, location becomes "Other", then generation, then level, then department, until
  the block has ≥ k people and ≥ k respondents in every survey wave it has answers in. Role and
  timing are never merged (participants vs comparison and every cohort split must stay unions
  of whole blocks); what still cannot reach k takes in the smallest other block of its role and
  timing (which then reads "Other" too), and only what cannot reach k even so is withheld
  (`_absorb_small`). Department, location, generation
  and level read as the block's labels, birth_year is withheld, and `block_id`, `role` and
  `timing` are added, so every filter selects whole blocks. These are today's groups
  (headcounts, programme figures, the claims engine).
* **wave_roster** / **month_roster**: who counts at each survey wave / metrics month — people
  employed then, keyed by role, timing and the attributes they had then, small (block, period)
  cells merged per period the same way (`_build_period_blocks`); the dashboard's survey and
  metric figures filter and group these.
* **responses** whose two cells (subject's group at the wave, survey, construct) and (current
  group, survey, construct) both have ≥ k distinct subjects among released answers (to a
  fixpoint) — the subject of a leadership answer is the respondent's manager at the wave, and a
  leadership answer counts only from a respondent whose own answers in that wave are released;
  answers nobody could link to an employee form one group per wave and answer to the
  participation question (role and cohort, for anonymous surveys that ask it), released when it
  has ≥ k respondents;
* **metrics** whose cells (group in the month, month, metric) and (current group, month,
  metric) both have ≥ k people with a released value;
* **pairs** whose mentor and mentee are released, with ≥ k mentees per mentee block and ≥ k
  mentors per mentor block; a pair belongs to its mentee's block on the activity page;
* **sessions** whose cell (mentee's block, month, format) holds at least k people (2 per pair).

Pinned links (`as_of` an older import): blocks stay those of the latest data; a cell is
released at version v only when it has ≥ k contributors at v and, for every later version v',
the number of contributors whose rows changed between v and v' is 0 or ≥ k. So two versions of
a figure differ by nothing or by at least k people.

Blocks and cells are small materialised maps (employee → block, allowed cells), built in DuckDB
once per (data version, k, as_of) and joined by views, so big stores stay memory-light. The
catalog lives in memory, never in the user's file.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import duckdb
import pandas as pd

from analytics.store import compact
from analytics.store.database import Database
from analytics.store.pinning import as_of_select
from analytics.store.schema import DATA_TABLES

CATALOG = "twoway_rel"
#: Dimensions generalised to OTHER for small blocks, least important first.
MERGE_ORDER: tuple[str, ...] = ("location", "generation", "level", "department")
#: The label of a merged value.
OTHER = "Other"
#: The block key: role and timing are never merged.
KEY: tuple[str, ...] = ("role", "timing", "department", "location", "generation", "level")

#: Stores with at most this many answers get their released rows copied into memory (faster
#: figures); bigger ones read them through views over the small maps (memory-light).
MATERIALISE_ROWS = 1_000_000

_STATE = "_twoway_released"
_STATE_LOCK = threading.Lock()


def _state(db: Database) -> dict:
    """Shared by every thread of `db`: a lock, and per root connection (one snapshot file) the data
    version its catalog was built for and the schemas built so far."""
    with _STATE_LOCK:
        st = getattr(db, _STATE, None)
        if st is None:
            st = {"lock": threading.RLock(), "roots": {}}
            setattr(db, _STATE, st)
        return st


def _thread(db: Database):
    """This thread's stack of released schemas (the search path is a setting of its connection)."""
    db._conn  # noqa: B018 — make sure this thread has its connection, so `_local.gen` is set
    loc = db._local
    if not hasattr(loc, "rel_stack"):
        loc.rel_stack = []
    return loc


def _home(db: Database) -> str:
    return '"' + str(db.query("SELECT current_database()").scalar()).replace('"', '""') + '".main'


def _latest_import(db: Database, home: str) -> int:
    return int(db.query(f"SELECT coalesce(max(import_id), 0) FROM {home}.imports WHERE status = 'ok'").scalar())


def _reset_catalog(db: Database) -> None:
    attached = {r[0] for r in db.query("SELECT database_name FROM duckdb_databases()").rows}
    if CATALOG in attached:
        db.execute(f"DETACH {CATALOG}")
    db.execute(f"ATTACH ':memory:' AS {CATALOG} (READ_ONLY false)")  # also on a read-only store


@contextlib.contextmanager
def released(db: Database, k: int, as_of: int | None = None) -> Iterator[Database]:
    """Queries on `db` inside this block read released data only (see the module docstring).

    Re-entrant: a public function that calls another one inside the block keeps the outer
    release. `as_of` at or after the latest import is the latest data. Each thread reads through
    its own connection (`Database` keeps one per thread) with its own search path; the in-memory
    catalog is shared by the threads of one snapshot and built once per data version, under a lock.
    """
    k = int(k)
    st = _state(db)
    loc = _thread(db)
    outer = bool(loc.rel_stack)
    if outer:
        home, root = loc.rel_home, loc.rel_root
    else:
        home = _home(db)
        with st["lock"]:
            root = st["roots"].setdefault(loc.gen, {"version": None, "built": {}, "active": 0})
    with st["lock"]:
        if not outer:
            version = db.data_version()
            if root["version"] != version:
                if root["active"] == 0:
                    _reset_catalog(db)
                    root["built"] = {}
                root["version"] = version
            root["active"] += 1
        try:
            latest = _latest_import(db, home)
            v = int(as_of) if as_of is not None and 0 < int(as_of) < latest else None
            key = (root["version"], k, v)
            if key not in root["built"]:
                root["built"][key] = _build(db, home, k, v, latest, f"d{root['version']}_")
            schema = root["built"][key][0]
        except BaseException:
            if not outer:
                root["active"] -= 1
            raise
    previous = loc.rel_stack[-1] if loc.rel_stack else None
    loc.rel_stack.append(schema)
    loc.rel_home, loc.rel_root = home, root
    try:
        db.execute(_search_path_sql(schema, home))
        yield db
    finally:
        loc.rel_stack.pop()
        if previous is None:
            db.execute("RESET search_path")
            with st["lock"]:
                root["active"] -= 1
        else:
            db.execute(_search_path_sql(previous, home))


def _search_path_sql(schema: str, home: str) -> str:
    path = f"{CATALOG}.{schema},{home}".replace("'", "''")
    return f"SET search_path = '{path}'"


def active(db: Database) -> bool:
    """Whether `db` is inside `released()` (the claims engine asserts it)."""
    return bool(getattr(db._local, "rel_stack", None))


#: Covariate columns `block_ids` adds for propensity weights (the roster's own values).
WEIGHT_COVARIATES: tuple[str, ...] = ("w_department", "w_level", "w_generation", "tenure_band")


def block_ids(db: Database) -> pd.DataFrame:
    """employee_id → the claims engine's reporting group of each released employee, with the
    roster's own department, level and generation at the person's baseline as w_department,
    w_level, w_generation (inside `released()` only).

    The engine selects and describes a person by their attributes at their baseline (their first
    wave in `wave_roster` among the waves linked to the roster; see `store.claims.panel_roster`), so its group (`block_id`, text) is
    the person's current block *and* their block at that wave: every filtered sample is then a
    union of whole groups of one partition, whatever the filter (docs/PRIVACY.md, point 7).
    The covariate weights are fitted on the roster's values: merged labels would make "Other" a
    marker of the small programme groups and wreck the balance. Weights only shape an estimate
    over whole reporting groups; no table shows them (docs/PRIVACY.md, limits).
    """
    from analytics.store.roster import wave_roster_select

    if not active(db):
        raise RuntimeError("block_ids() needs released data: call it inside released()")
    home = db._local.rel_home
    return db.query_df(f"""
        WITH base AS (SELECT wr.employee_id, wr.survey, wr.block_id AS wave_block
                      FROM wave_roster wr JOIN waves w ON w.survey = wr.survey
                      -- waves linked to the roster only: an anonymous wave is never a baseline
                      WHERE wr.survey IN (SELECT survey FROM c_panel)
                      QUALIFY row_number() OVER (PARTITION BY wr.employee_id
                                                 ORDER BY w.opened NULLS LAST, w.survey) = 1),
        raw AS ({wave_roster_select(home + '.')})
        SELECT e.employee_id, e.block_id::VARCHAR || '/' || coalesce(base.wave_block::VARCHAR, '-') AS block_id,
               coalesce(raw.department, r.department) AS w_department, coalesce(raw.level, r.level) AS w_level,
               r.generation AS w_generation
        FROM employees e JOIN {home}.employees r USING (employee_id)
        LEFT JOIN base USING (employee_id)
        LEFT JOIN raw ON raw.survey = base.survey AND raw.employee_id = e.employee_id""")


# -- building --------------------------------------------------------------------------------------
def _build(db: Database, home: str, k: int, v: int | None, latest: int, prefix: str = "") -> tuple[str, str]:
    """Create (or find) the maps for (k, as_of=v) and the views over them.

    Returns the views' schema (in the in-memory catalog) and the qualified schema of the blocks.

    `prefix` (the data version) keeps the schemas of two data versions apart, so a thread still
    reading an older version is never disturbed by the build of a newer one. When the snapshot
    file carries maps precomputed at publish time for this k (`precompute`), the latest data's
    views read those and nothing is built; the blocks stored there also serve pinned versions.
    """
    stored = _stored(db, home, k)
    tag = f"{prefix}{k}_{'latest' if v is None else v}"
    views = f"r_{tag}"
    R = f"{CATALOG}.{views}"
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {R}")
    base = _base_schema(db, home, v, prefix)
    if stored is not None and v is None:
        M, B = stored
    else:
        B = stored[1] if stored is not None else f"{CATALOG}.{prefix}blocks_{k}"
        if stored is None and not _exists_q(db, B, "emp"):
            _build_blocks(db, home, k, B)
        M = f"{CATALOG}.m_{tag}"
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {M}")
        _build_maps(db, home, base, k, v, latest, M, B)
    _build_views(db, base, M, B, R)
    if not _exists_q(db, M, "done"):
        _build_derived(db, base, M, R)
        _build_views(db, base, M, B, R)
    return views, B


def _build_maps(db: Database, home: str, base: str, k: int, v: int | None, latest: int, M: str, B: str) -> None:
    """The allowed-cell maps of (k, as_of=v) into schema `M` (qualified), from the blocks in `B`."""
    vv = latest if v is None else v
    pair_k = (k + 1) // 2  # a pair is two people

    # employees: blocks released at this version
    db.execute(f"""CREATE OR REPLACE TABLE {M}.emp AS
        WITH u AS (SELECT b.block_id AS c1, e.employee_id AS who, coalesce(e.import_id, 0) AS imp
                   FROM {home}.employees e JOIN {B}.emp b USING (employee_id) WHERE NOT b.withheld)
        SELECT e.employee_id, b.block_id
        FROM {base}.employees e JOIN {B}.emp b USING (employee_id)
        WHERE b.block_id IN ({_allowed_cells("u", 1, vv, k)})""")
    # people per period (survey wave 'w', metrics month 'm'): the (block, period) cells released now
    db.execute(f"""CREATE OR REPLACE TABLE {M}.pemp AS
        WITH u AS (SELECT block_id AS c1, employee_id AS who, imp FROM {B}.pemp WHERE NOT withheld)
        SELECT kind, period, employee_id, block_id FROM {B}.pemp
        WHERE NOT withheld AND imp <= {vv} AND block_id IN ({_allowed_cells("u", 1, vv, k)})""")
    in_wave = f"EXISTS (SELECT 1 FROM {M}.pemp p WHERE p.kind = 'w' AND p.period = u.c2 AND p.employee_id = u.who)"

    # responses, stage 1: answers about the respondent themself
    # an answer about oneself has two cells: (group at the wave, survey, construct), which the
    # dashboard reads, and (current group, survey, construct), which the claims engine reads until
    # it reads `wave_roster`. It is released when both hold >= k released answers: repeated until
    # stable, since dropping a thin cell of one kind can thin a cell of the other.
    # (ok_p / ok_c: the person is released in that period / today at this version)
    db.execute(f"""CREATE OR REPLACE TABLE {M}.self_u AS
        SELECT wb.block_id AS wb, cb.block_id AS cb, r.survey, i.construct, r.employee_id AS who,
               coalesce(r.import_id, 0) AS imp, mp.employee_id IS NOT NULL AS ok_p,
               me.employee_id IS NOT NULL AS ok_c
        FROM {home}.responses r JOIN {home}.items i ON i.survey = r.survey AND i.item = r.item
        JOIN {B}.pemp wb ON wb.kind = 'w' AND wb.period = r.survey AND wb.employee_id = r.employee_id AND NOT wb.withheld
        JOIN {B}.emp cb ON cb.employee_id = r.employee_id AND NOT cb.withheld
        LEFT JOIN {M}.pemp mp ON mp.kind = 'w' AND mp.period = r.survey AND mp.employee_id = r.employee_id
        LEFT JOIN {M}.emp me ON me.employee_id = r.employee_id
        WHERE r.value IS NOT NULL AND i.construct IS NOT NULL AND i.construct <> 'leadership'
        GROUP BY ALL""")
    _two_partitions(db, f"{M}.self_u", f"{M}.self_cells", f"{M}.cur_cells", "survey", "construct", vv, k,
                    "ok_p", "ok_c")
    db.execute(f"""CREATE OR REPLACE TABLE {M}.self_resp AS
        SELECT DISTINCT r.survey, r.employee_id
        FROM {base}.responses r JOIN {base}.items i ON i.survey = r.survey AND i.item = r.item
        JOIN {M}.pemp em ON em.kind = 'w' AND em.period = r.survey AND em.employee_id = r.employee_id
        JOIN {M}.self_cells c ON c.c1 = em.block_id AND c.c2 = r.survey AND c.c3 = i.construct
        JOIN {M}.emp ce ON ce.employee_id = r.employee_id
        JOIN {M}.cur_cells cc ON cc.c1 = ce.block_id AND cc.c2 = r.survey AND cc.c3 = i.construct
        WHERE r.value IS NOT NULL""")
    # answers nobody could link to an employee: one group per wave and answer to the participation
    # question (role and cohort; one group when the survey does not ask), released with >= k
    # respondents — so the wave's total is a sum of released groups and never exposes a small one
    db.execute(f"""CREATE OR REPLACE TABLE {M}.anon_cells AS
        WITH u AS (SELECT r.survey AS c1, {_PART_GROUP.format(p="p")} AS c2, r.respondent AS who,
                          coalesce(r.import_id, 0) AS imp
                   FROM {home}.responses r JOIN {home}.items i ON i.survey = r.survey AND i.item = r.item
                   LEFT JOIN {home}.participation p ON p.survey = r.survey AND p.respondent = r.respondent
                   WHERE r.value IS NOT NULL AND r.employee_id IS NULL AND i.construct IS NOT NULL
                     AND i.construct <> 'leadership' GROUP BY ALL)
        {_allowed_cells("u", 2, vv, k)}""")
    # stage 2: leadership answers, about the respondent's manager
    db.execute(f"""CREATE OR REPLACE TABLE {M}.lead_cells AS
        WITH u AS (SELECT em.block_id AS c1, r.survey AS c2, rr.manager_id AS who, coalesce(r.import_id, 0) AS imp
                   FROM {home}.responses r JOIN {home}.items i ON i.survey = r.survey AND i.item = r.item
                   JOIN {B}.pemp rr ON rr.kind = 'w' AND rr.period = r.survey AND rr.employee_id = r.employee_id
                   JOIN {B}.pemp em ON em.kind = 'w' AND em.period = r.survey
                                   AND em.employee_id = rr.manager_id AND NOT em.withheld
                   JOIN {M}.self_resp sr ON sr.survey = r.survey AND sr.employee_id = r.employee_id
                   WHERE r.value IS NOT NULL AND i.construct = 'leadership'
                   GROUP BY ALL)
        {_allowed_cells("u", 2, vv, k, restrict=in_wave + f" AND who IN (SELECT employee_id FROM {M}.emp)")}""")

    # metrics
    db.execute(f"""CREATE OR REPLACE TABLE {M}.metric_u AS
        SELECT mb.block_id AS wb, cb.block_id AS cb, m.period, m.metric, m.employee_id AS who,
               coalesce(m.import_id, 0) AS imp, mp.employee_id IS NOT NULL AS ok_p,
               me.employee_id IS NOT NULL AS ok_c
        FROM {home}.metrics m
        JOIN {B}.pemp mb ON mb.kind = 'm' AND mb.period = m.period AND mb.employee_id = m.employee_id AND NOT mb.withheld
        JOIN {B}.emp cb ON cb.employee_id = m.employee_id AND NOT cb.withheld
        LEFT JOIN {M}.pemp mp ON mp.kind = 'm' AND mp.period = m.period AND mp.employee_id = m.employee_id
        LEFT JOIN {M}.emp me ON me.employee_id = m.employee_id
        WHERE m.value IS NOT NULL GROUP BY ALL""")
    _two_partitions(db, f"{M}.metric_u", f"{M}.metric_cells", f"{M}.metric_cur_cells", "period", "metric", vv, k,
                    "ok_p", "ok_c")

    # pairs: both members released, and whole per mentee block and per mentor block
    db.execute(f"""CREATE OR REPLACE TABLE {M}.pairs AS
        SELECT p.pair_id, p.mentor_id, p.mentee_id, a.block_id AS mentor_block, b.block_id AS mentee_block,
               coalesce(p.import_id, 0) AS imp
        FROM {home}.pairs p JOIN {B}.emp a ON a.employee_id = p.mentor_id AND NOT a.withheld
        JOIN {B}.emp b ON b.employee_id = p.mentee_id AND NOT b.withheld""")
    db.execute(f"CREATE OR REPLACE TABLE {M}.pairs_ok AS SELECT pair_id FROM {base}.pairs "
               f"WHERE mentor_id IN (SELECT employee_id FROM {M}.emp) AND mentee_id IN (SELECT employee_id FROM {M}.emp)")
    for _ in range(5):  # dropping a pair can shrink the other member's block: repeat until stable
        before = db.query(f"SELECT count(*) FROM {M}.pairs_ok").scalar()
        db.execute(f"""CREATE OR REPLACE TABLE {M}.pairs_ok AS
            WITH cand AS (SELECT * FROM {M}.pairs WHERE pair_id IN (SELECT pair_id FROM {M}.pairs_ok)
                          OR imp > {vv}),
            ue AS (SELECT mentee_block AS c1, mentee_id AS who, imp FROM cand),
            um AS (SELECT mentor_block AS c1, mentor_id AS who, imp FROM cand)
            SELECT pair_id FROM {M}.pairs_ok
            WHERE pair_id IN (SELECT pair_id FROM {M}.pairs
                              WHERE mentee_block IN ({_allowed_cells("ue", 1, vv, k)})
                                AND mentor_block IN ({_allowed_cells("um", 1, vv, k)}))""")
        if db.query(f"SELECT count(*) FROM {M}.pairs_ok").scalar() == before:
            break

    # sessions: (mentee block, month, format) with at least k people (⌈k/2⌉ pairs)
    db.execute(f"""CREATE OR REPLACE TABLE {M}.session_cells AS
        WITH u AS (SELECT p.mentee_block AS c1, date_trunc('month', s.date)::DATE AS c2,
                          coalesce(s.format, '') AS c3, s.pair_id AS who, coalesce(s.import_id, 0) AS imp
                   FROM {home}.sessions s JOIN {M}.pairs p USING (pair_id) GROUP BY ALL)
        {_allowed_cells("u", 3, vv, pair_k, restrict=f"who IN (SELECT pair_id FROM {M}.pairs_ok)")}""")

    # one row per (wave, released respondent): their group and whether their leadership answers count
    db.execute(f"""CREATE OR REPLACE TABLE {M}.resp_map AS
        SELECT x.survey, x.employee_id, em.block_id, ce.block_id AS cur_block,
               (sr.employee_id IS NOT NULL AND lc.c1 IS NOT NULL) AS lead_ok
        FROM (SELECT DISTINCT survey, employee_id FROM {base}.responses WHERE employee_id IS NOT NULL) x
        JOIN {M}.pemp em ON em.kind = 'w' AND em.period = x.survey AND em.employee_id = x.employee_id
        LEFT JOIN {M}.emp ce ON ce.employee_id = x.employee_id
        LEFT JOIN {B}.pemp rr ON rr.kind = 'w' AND rr.period = x.survey AND rr.employee_id = x.employee_id
        LEFT JOIN {M}.pemp mg ON mg.kind = 'w' AND mg.period = x.survey AND mg.employee_id = rr.manager_id
        LEFT JOIN {M}.lead_cells lc ON lc.c1 = mg.block_id AND lc.c2 = x.survey
        LEFT JOIN {M}.self_resp sr ON sr.survey = x.survey AND sr.employee_id = x.employee_id""")
    # who counts at each wave and month, with the labels of their group then (no birth year, no e-mail)
    # (a map of one row per person and period, kept as a table at any size: every survey and
    # metric figure joins it, and a view would redo its three-way join each time)
    for rel, kind, col in (("wave_roster", "w", "survey"), ("month_roster", "m", "period"),
                           ("roster_now", "n", "period")):
        db.execute(f"""CREATE OR REPLACE TABLE {M}.{rel} AS
            SELECT p.period AS {col}, p.employee_id, b.department, b.level, b.location, b.generation,
                   b.manager_id, e.hire_date, p.block_id, b.role, b.timing
            FROM {M}.pemp p JOIN {B}.pemp b USING (kind, period, employee_id)
            JOIN {base}.employees e USING (employee_id)
            WHERE p.kind = '{kind}'""")


#: The released per-period rosters (tables of the maps, views of every release).
ROSTERS: tuple[str, ...] = ("wave_roster", "month_roster", "roster_now")


def _build_views(db: Database, base: str, M: str, B: str, R: str) -> None:
    """The views every figure reads (schema `R`), over the raw tables `base` and the maps in `M`."""
    emp_cols = [r[0] for r in db.query(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'employees' ORDER BY column_index").rows]
    sel = []
    for c in emp_cols:
        if c in ("department", "location", "generation", "level"):
            sel.append(f"b.{c}")
        elif c == "birth_year":
            sel.append("CAST(NULL AS INTEGER) AS birth_year")
        elif c == "email":
            sel.append("CAST(NULL AS VARCHAR) AS email")
        else:
            sel.append(f"e.{c}")
    db.execute(f"""CREATE OR REPLACE VIEW {R}.employees AS
        SELECT {', '.join(sel)}, b.block_id, b.role, b.timing
        FROM {base}.employees e JOIN {M}.emp m USING (employee_id) JOIN {B}.emp b USING (employee_id)""")
    # the roster history of released people, read with their group's labels (so a filter on the
    # history selects whole groups too) and without e-mail addresses
    db.execute(f"""CREATE OR REPLACE VIEW {R}.employee_history AS
        SELECT h.* REPLACE (b.department AS department, b.level AS level, b.location AS location,
                            CAST(NULL AS VARCHAR) AS email)
        FROM {base}.employee_history h JOIN {M}.emp m USING (employee_id) JOIN {B}.emp b USING (employee_id)""")
    db.execute(f"""CREATE OR REPLACE VIEW {R}.responses AS
        SELECT r.* FROM {base}.responses r
        JOIN {base}.items i ON i.survey = r.survey AND i.item = r.item
        LEFT JOIN {M}.resp_map m ON m.survey = r.survey AND m.employee_id = r.employee_id
        LEFT JOIN {M}.self_cells sc ON sc.c1 = m.block_id AND sc.c2 = r.survey AND sc.c3 = i.construct
        LEFT JOIN {M}.cur_cells cc ON cc.c1 = m.cur_block AND cc.c2 = r.survey AND cc.c3 = i.construct
        LEFT JOIN {base}.participation pp ON pp.survey = r.survey AND pp.respondent = r.respondent
                                          AND r.employee_id IS NULL
        LEFT JOIN {M}.anon_cells ac ON ac.c1 = r.survey AND ac.c2 = {_PART_GROUP.format(p="pp")}
                                   AND r.employee_id IS NULL
        WHERE r.value IS NOT NULL AND i.construct IS NOT NULL
          AND ((m.employee_id IS NOT NULL AND i.construct <> 'leadership' AND sc.c1 IS NOT NULL
                   AND cc.c1 IS NOT NULL)
               OR (m.employee_id IS NOT NULL AND i.construct = 'leadership' AND m.lead_ok)
               OR (r.employee_id IS NULL AND i.construct <> 'leadership' AND ac.c1 IS NOT NULL))""")
    db.execute(f"""CREATE OR REPLACE VIEW {R}.metrics AS
        SELECT m.* FROM {base}.metrics m
        JOIN {M}.pemp em ON em.kind = 'm' AND em.period = m.period AND em.employee_id = m.employee_id
        JOIN {M}.metric_cells c ON c.c1 = em.block_id AND c.c2 = m.period AND c.c3 = m.metric
        JOIN {M}.emp ce ON ce.employee_id = m.employee_id
        JOIN {M}.metric_cur_cells cc ON cc.c1 = ce.block_id AND cc.c2 = m.period AND cc.c3 = m.metric
        WHERE m.value IS NOT NULL""")
    # who counts at each wave and month, with the labels of their group then (no birth year, no e-mail)
    # (a map of one row per person and period, kept as a table at any size: every survey and
    # metric figure joins it, and a view would redo its three-way join each time)
    for rel in ROSTERS:  # tables built with the maps (`_build_maps`), so a stored snapshot has them
        db.execute(f"CREATE OR REPLACE VIEW {R}.{rel} AS SELECT * FROM {M}.{rel}")
    db.execute(f"""CREATE OR REPLACE VIEW {R}.pairs AS
        SELECT p.* FROM {base}.pairs p WHERE p.pair_id IN (SELECT pair_id FROM {M}.pairs_ok)""")
    db.execute(f"""CREATE OR REPLACE VIEW {R}.sessions AS
        SELECT s.* FROM {base}.sessions s JOIN {M}.pairs p USING (pair_id)
        JOIN {M}.session_cells c ON c.c1 = p.mentee_block AND c.c2 = date_trunc('month', s.date)::DATE
                                AND c.c3 = coalesce(s.format, '')
        WHERE s.pair_id IN (SELECT pair_id FROM {M}.pairs_ok)""")
    for t in ("waves", "items", "metric_defs", "participation"):
        db.execute(f"CREATE OR REPLACE VIEW {R}.{t} AS SELECT * FROM {base}.{t}")
    for t in ("employees", "responses", "metrics", "pairs", "sessions"):
        if _exists_q(db, M, f"rel_{t}"):  # released rows copied once (`_build_derived`)
            db.execute(f"CREATE OR REPLACE VIEW {R}.{t} AS SELECT * FROM {M}.rel_{t}")
    if _exists_q(db, M, "done"):
        for t in compact.TABLES:
            db.execute(f"CREATE OR REPLACE VIEW {R}.{t} AS SELECT * FROM {M}.{t}")


def _build_derived(db: Database, base: str, M: str, R: str, on_disk: bool = False) -> None:
    """Tables computed once from the released views: a small store's released rows, the compact
    tables figures read (`analytics.store.compact`), then `done`."""
    small = db.query(f"SELECT count(*) FROM {base}.responses").scalar() <= MATERIALISE_ROWS
    # a small store: copy the released rows once, so each figure skips the joins; a snapshot being
    # published (stored on disk, not in memory) copies every table but the answers, which the
    # figures read through the compact tables
    for t in ("employees", "responses", "metrics", "pairs", "sessions"):
        if small or (on_disk and t != "responses"):
            db.execute(f"CREATE OR REPLACE TABLE {M}.rel_{t} AS SELECT * FROM {R}.{t}")
            db.execute(f"CREATE OR REPLACE VIEW {R}.{t} AS SELECT * FROM {M}.rel_{t}")
    compact.build(db, M, R)
    db.execute(f"CREATE OR REPLACE TABLE {M}.done AS SELECT TRUE AS done")


#: An unlinked answer's group: its answer to the participation question (role | cohort), '' if none.
_PART_GROUP = "coalesce({p}.role || '|' || coalesce({p}.cohort, ''), '')"


def _two_partitions(db: Database, u: str, period_cells: str, cur_cells: str, c2: str, c3: str, v: int, k: int,
                    restrict_period: str, restrict_cur: str, rounds: int = 50) -> None:
    """Cells of `u` (wb, cb, c2, c3, who, imp, ok_p, ok_c) allowed in both partitions: (wb, c2, c3) into
    `period_cells` and (cb, c2, c3) into `cur_cells`, each counted over the rows the other allows,
    repeated until neither changes (a row is released when both its cells are)."""
    def build(target: str, mine: str, other: str, other_cells: str | None, restrict: str) -> None:
        join = (f"JOIN {other_cells} o ON o.c1 = s.{other} AND o.c2 = s.{c2} AND o.c3 = s.{c3}"
                if other_cells else "")
        db.execute(f"""CREATE OR REPLACE TABLE {target} AS
            WITH u AS (SELECT s.{mine} AS c1, s.{c2} AS c2, s.{c3} AS c3, s.who, s.imp, s.ok_p, s.ok_c
                       FROM {u} s {join})
            {_allowed_cells("u", 3, v, k, restrict=restrict)}""")

    # The current cells are a function of the period cells and vice versa: once a round leaves
    # the period cells as they were, the current cells built from them are unchanged too and
    # both are stable. Where the two partitions coincide (nobody moved or left) that is after
    # one round. (The set is compared by its size and a hash sum.)
    def state() -> tuple:
        return db.query(f"SELECT count(*), sum(hash(c1, c2, c3)) FROM {period_cells}").first()

    build(period_cells, "wb", "cb", None, restrict_period)
    before = state()
    for _ in range(rounds):
        build(cur_cells, "cb", "wb", period_cells, restrict_cur)
        build(period_cells, "wb", "cb", cur_cells, restrict_period)
        now = state()
        if now == before:
            break
        before = now


def _allowed_cells(u: str, n_cols: int, v: int, k: int, restrict: str = "TRUE") -> str:
    """SELECT of the cells (c1..cN) of relation `u` (cells, who, imp) released at version `v`.

    A cell is released when at least `k` contributors (`who`, passing `restrict`) have rows at v
    and, for every later version, the contributors with rows added after v number 0 or ≥ k.
    """
    cols = ", ".join(f"c{i}" for i in range(1, n_cols + 1))
    return f"""SELECT {cols} FROM (
            SELECT {cols} FROM {u} WHERE imp <= {v} AND {restrict}
            GROUP BY ALL HAVING count(DISTINCT who) >= {k}
            EXCEPT
            SELECT {cols} FROM (
                SELECT {cols}, vs.vp, count(DISTINCT who) AS d
                FROM {u} JOIN (SELECT DISTINCT imp AS vp FROM {u} WHERE imp > {v}) vs
                  ON {u}.imp > {v} AND {u}.imp <= vs.vp
                GROUP BY ALL) WHERE d > 0 AND d < {k})"""


# -- precomputed at publish time ---------------------------------------------------------------------
#: Schemas of a published snapshot holding its released maps and blocks (`precompute`).
STORED_MAPS, STORED_BLOCKS = "twoway_rel_m", "twoway_rel_b"


def _fingerprint() -> str:
    """Names the rules the stored tables were built by: the source of this module, of the as-of
    SELECT and of the modules whose tables are stored with the maps, so tables stored by other
    rules (an older or newer Twoway) are never used."""
    import hashlib
    from pathlib import Path

    here = Path(__file__).parent
    h = hashlib.sha256()
    for mod in (here / "released.py", here / "pinning.py", here / "compact.py", here / "quality.py",
                here / "programme.py", here / "schema.py"):
        h.update(Path(mod).read_bytes())
    return h.hexdigest()[:16]


FINGERPRINT = _fingerprint()


def _meta_version(db: Database, home: str) -> str:
    row = db.query(f"SELECT value FROM {home}.meta WHERE key = 'data_version'").first()
    return str(row[0]) if row else "0"


def _stored(db: Database, home: str, k: int) -> tuple[str, str] | None:
    """The (maps, blocks) schemas precomputed in this file for `k`, if they match its data and rules."""
    cat = home.rsplit(".", 1)[0]
    M, B = f"{cat}.{STORED_MAPS}", f"{cat}.{STORED_BLOCKS}"
    try:
        row = db.query(f"SELECT k, latest, data_version, fingerprint FROM {M}.info").first()
    except duckdb.CatalogException:
        return None
    if row is None or tuple(row) != (int(k), _latest_import(db, home), _meta_version(db, home), FINGERPRINT):
        return None
    return M, B


def stored_raw(db: Database, table: str) -> str | None:
    """The qualified name of a figure about the imported (not released) data that `precompute`
    stored in this file, when it matches the file's data; None otherwise."""
    if table not in RAW_TABLES:
        raise ValueError(f"unknown stored table {table!r}")
    home = _home(db)
    cat = home.rsplit(".", 1)[0]
    try:
        row = db.query(f"SELECT latest, data_version, fingerprint FROM {cat}.{STORED_MAPS}.info").first()
    except duckdb.CatalogException:
        return None
    if row is None or tuple(row) != (_latest_import(db, home), _meta_version(db, home), FINGERPRINT):
        return None
    return f"{cat}.{STORED_MAPS}.{table}"


#: Figures about the imported data stored at publish time (read outside `released()`).
RAW_TABLES: tuple[str, ...] = ("raw_waves",)


def precompute(db: Database, k: int) -> None:
    """Build the released maps of the latest data for `k` into `db`'s own file (a snapshot being
    published, open read-write), so readers of the snapshot skip the build (`_build` finds them).

    Only tables are stored (maps, blocks, derived tables), each reader makes its views over them
    in memory: a stored view would name the file's catalog, which differs between the file being
    written and the published snapshot. Other k or pinned versions are still built by readers.
    """
    k = int(k)
    home = _home(db)
    cat = home.rsplit(".", 1)[0]
    M, B = f"{cat}.{STORED_MAPS}", f"{cat}.{STORED_BLOCKS}"
    for schema in (M, B):
        db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        db.execute(f"CREATE SCHEMA {schema}")
    _reset_catalog(db)
    try:
        latest = _latest_import(db, home)
        _build_blocks(db, home, k, B)
        _build_maps(db, home, home, k, None, latest, M, B)
        R = f"{CATALOG}.r_publish"
        db.execute(f"CREATE SCHEMA {R}")
        _build_views(db, home, M, B, R)
        _build_derived(db, home, M, R, on_disk=True)
        from analytics.store.programme import links_sql

        db.execute(f"CREATE TABLE {M}.raw_waves AS {links_sql(home)}")
        db.execute(f"CREATE TABLE {M}.info AS SELECT ?::INTEGER AS k, ?::INTEGER AS latest, "
                   f"?::VARCHAR AS data_version, ?::VARCHAR AS fingerprint",
                   [k, latest, _meta_version(db, home), FINGERPRINT])
    finally:
        db.execute(f"DETACH {CATALOG}")


def _exists_q(db: Database, schema: str, table: str) -> bool:
    """Whether table `schema.table` exists (`schema` qualified with its catalog, as built here)."""
    try:
        db.query(f"SELECT 1 FROM {schema}.{table} LIMIT 0")
        return True
    except duckdb.CatalogException:
        return False


def _exists(db: Database, schema: str, table: str) -> bool:
    return bool(db.query("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
                         "AND table_name = ?", [CATALOG, schema, table]).scalar())


def _base_schema(db: Database, home: str, v: int | None, prefix: str = "") -> str:
    """The raw tables as of import `v` (the latest when None), as a qualified schema name."""
    if v is None:
        return home
    schema = f"{prefix}asof_{int(v)}"
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{schema}")
    for table in DATA_TABLES:
        db.execute(f"CREATE OR REPLACE VIEW {CATALOG}.{schema}.{table} AS " + as_of_select(home, table, v))
    return f"{CATALOG}.{schema}"


def _build_blocks(db: Database, home: str, k: int, S: str) -> None:
    """Give every employee (latest data) a block key; merge small blocks; mark what stays small
    (into schema `S`, qualified with its catalog)."""
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {S}")
    db.execute(f"""CREATE OR REPLACE TABLE {S}.emp AS
        WITH p AS (SELECT mentor_id AS id, 'mentor' AS role, cohort, start_date FROM {home}.pairs
                   UNION ALL SELECT mentee_id, 'mentee', cohort, start_date FROM {home}.pairs),
        agg AS (SELECT id, CASE WHEN count(DISTINCT role) > 1 THEN 'both' ELSE any_value(role) END AS role,
                       nullif(array_to_string(list_sort(list_distinct(list(cohort))), '+'), '') AS cohort, min(start_date) AS start
                FROM p GROUP BY id)
        SELECT e.employee_id, coalesce(agg.role, 'none') AS role,
               CASE WHEN agg.id IS NULL THEN ''
                    ELSE coalesce(agg.cohort, 'no cohort') || ' | wave '
                         || (SELECT count(*) FROM {home}.waves w WHERE w.opened < agg.start) END AS timing,
               e.department, e.location, e.generation, e.level,
               FALSE AS withheld, 0 AS block_id
        FROM {home}.employees e LEFT JOIN agg ON agg.id = e.employee_id""")
    db.execute(f"""CREATE OR REPLACE TABLE {S}.resp AS
        SELECT DISTINCT r.employee_id, r.survey
        FROM {home}.responses r JOIN {home}.items i ON i.survey = r.survey AND i.item = r.item
        WHERE r.value IS NOT NULL AND r.employee_id IS NOT NULL
          AND i.construct IS NOT NULL AND i.construct <> 'leadership'""")
    key = ", ".join(KEY)
    small = f"""WITH b AS (SELECT employee_id, dense_rank() OVER (ORDER BY {key}) AS bid FROM {S}.emp
                           WHERE NOT withheld),
                size AS (SELECT bid FROM b GROUP BY bid HAVING count(*) < {k}),
                wave AS (SELECT b.bid FROM {S}.resp r JOIN b USING (employee_id)
                         GROUP BY b.bid, r.survey HAVING count(*) < {k})
                SELECT employee_id FROM b WHERE bid IN (SELECT bid FROM size UNION SELECT bid FROM wave)"""
    # A person whose pair partner is withheld would lose that pair, and a cohort filter or a
    # participant flag (both read the released pairs) would then split their block: people
    # keyed "cohort A" without a released pair in A. So such a person is withheld too, and the
    # merging starts again without them, until every released person has all of their pairs.
    db.execute(f"CREATE OR REPLACE TABLE {S}.emp0 AS SELECT * FROM {S}.emp")
    db.execute(f"CREATE OR REPLACE TABLE {S}.forced (employee_id VARCHAR)")
    for _ in range(20):
        db.execute(f"CREATE OR REPLACE TABLE {S}.emp AS SELECT * REPLACE "
                   f"(employee_id IN (SELECT employee_id FROM {S}.forced) AS withheld) FROM {S}.emp0")
        for dim in MERGE_ORDER:
            db.execute(f"CREATE OR REPLACE TEMP TABLE _twoway_small AS {small}")
            if not db.query("SELECT count(*) FROM _twoway_small").scalar():
                break
            db.execute(f"UPDATE {S}.emp SET {dim} = '{OTHER}' "
                       f"WHERE employee_id IN (SELECT employee_id FROM _twoway_small)")
        _absorb_small(db, S, small)
        db.execute(f"CREATE OR REPLACE TEMP TABLE _twoway_small AS {small}")
        db.execute(f"UPDATE {S}.emp SET withheld = TRUE WHERE employee_id IN (SELECT employee_id FROM _twoway_small)")
        more = db.query(f"""SELECT count(*) FROM (
            SELECT p.mentee_id AS id FROM {home}.pairs p JOIN {S}.emp w ON w.employee_id = p.mentor_id AND w.withheld
            UNION SELECT p.mentor_id FROM {home}.pairs p JOIN {S}.emp w ON w.employee_id = p.mentee_id AND w.withheld)
            WHERE id NOT IN (SELECT employee_id FROM {S}.emp WHERE withheld)""").scalar()
        if not more:
            break
        db.execute(f"""INSERT INTO {S}.forced
            SELECT p.mentee_id FROM {home}.pairs p JOIN {S}.emp w ON w.employee_id = p.mentor_id AND w.withheld
            UNION SELECT p.mentor_id FROM {home}.pairs p JOIN {S}.emp w ON w.employee_id = p.mentee_id AND w.withheld
            UNION SELECT employee_id FROM {S}.emp WHERE withheld""")
    db.execute("DROP TABLE IF EXISTS _twoway_small")
    db.execute(f"""UPDATE {S}.emp SET block_id = b.bid
        FROM (SELECT employee_id, dense_rank() OVER (ORDER BY {key}) AS bid FROM {S}.emp WHERE NOT withheld) b
        WHERE b.employee_id = {S}.emp.employee_id""")
    _build_period_blocks(db, home, k, S)


def _absorb_small(db: Database, S: str, small: str, rounds: int = 5) -> None:
    """Give what is still small after every merge a host instead of withholding it.

    After the four merges a small block is a (role, timing) group's leftover, every attribute
    "Other". The smallest other block of the same role and timing then becomes "Other" in all
    four too and so joins it (a host per round, at most `rounds`); what is still small after that
    is withheld as before. Role and timing stay as they were, so blocks remain a partition that
    every filter selects whole, each of ≥ k people (docs/PRIVACY.md, point 1).

    Why: the leftovers are people whose labels are rare for their role and cohort — above all
    participants whose *promotion* moved them to a level few of their cohort hold. Withholding
    them selected the promotion claim's sample on its outcome (docs/CLAIMS.md, "Known limit").
    """
    other = " AND ".join(f"coalesce({d} = '{OTHER}', FALSE)" for d in MERGE_ORDER)
    dims = ", ".join(MERGE_ORDER)
    dims_order = ", ".join(f"{d} NULLS LAST" for d in MERGE_ORDER)
    for _ in range(rounds):
        db.execute(f"CREATE OR REPLACE TEMP TABLE _twoway_small AS {small}")
        if not db.query("SELECT count(*) FROM _twoway_small").scalar():
            return
        db.execute(f"""UPDATE {S}.emp SET {", ".join(f"{d} = '{OTHER}'" for d in MERGE_ORDER)}
            FROM (SELECT role, timing, {dims} FROM (
                      SELECT role, timing, {dims}, row_number() OVER (PARTITION BY role, timing
                                                    ORDER BY count(*), {dims_order}) AS rn
                      FROM {S}.emp
                      WHERE NOT withheld AND employee_id NOT IN (SELECT employee_id FROM _twoway_small)
                        AND NOT ({other})
                        AND (role, timing) IN (SELECT DISTINCT role, timing FROM {S}.emp
                                               WHERE employee_id IN (SELECT employee_id FROM _twoway_small))
                      GROUP BY role, timing, {dims}) WHERE rn = 1) h
            WHERE {" AND ".join(f"{S}.emp.{c} IS NOT DISTINCT FROM h.{c}" for c in ("role", "timing", *MERGE_ORDER))}
              AND NOT {S}.emp.withheld""")


def _build_period_blocks(db: Database, home: str, k: int, S: str) -> None:
    """Blocks per period: every (person, survey wave), (person, metrics month) and (person, data
    date) of someone employed then, keyed by role, timing and the attributes they had then; small
    (block, period) cells are merged to "Other" per period as `_build_blocks` does, what stays
    small is withheld.

    An attribute the person has today too starts from today's block label (merged or not), so
    where nobody moved or left a period's blocks are today's blocks and an answer's two cells
    (point 3 of docs/PRIVACY.md) coincide: per-period groups cost nothing where the roster did
    not change. Only movers' old values and the groups that leavers thinned are merged anew.

    `{S}.pemp(kind, period, employee_id, manager_id, key…, imp, withheld, block_id)`: kind 'w'
    (period = survey) or 'm' (period = 'YYYY-MM'); block_id is unique per (kind, period, key),
    so a cell keyed by block_id is a cell of one period.
    """
    from analytics.store.roster import EMPLOYED_ON_SQL, month_roster_select, wave_roster_select

    db.execute(f"""CREATE OR REPLACE TABLE {S}.pemp AS
        WITH per AS (SELECT 'w' AS kind, survey AS period, * EXCLUDE (survey) FROM ({wave_roster_select(home + '.')})
                     UNION ALL BY NAME
                     SELECT 'm' AS kind, period, * EXCLUDE (period) FROM ({month_roster_select(home + '.')})
                     -- the roster on the data date (last session or survey close; open rows if none)
                     UNION ALL BY NAME
                     SELECT 'n' AS kind, 'now' AS period, h.employee_id, h.department, h.level, h.location,
                            h.manager_id, e.generation, coalesce(h.import_id, 0) AS history_import
                     FROM {home}.employee_history h JOIN {home}.employees e USING (employee_id)
                     CROSS JOIN (SELECT greatest((SELECT max(date) FROM {home}.sessions),
                                                 (SELECT max(closed) FROM {home}.waves)) AS day) d
                     WHERE CASE WHEN d.day IS NULL THEN h.valid_to IS NULL
                                ELSE {EMPLOYED_ON_SQL.format(h="h", day="d.day")} END
                     -- people written straight into `employees` with no history row: as they are, always
                     UNION ALL BY NAME
                     SELECT x.kind, x.period, e.employee_id, e.department, e.level, e.location, e.manager_id,
                            e.generation, 0 AS history_import
                     FROM {home}.employees e
                     CROSS JOIN (SELECT 'w' AS kind, survey AS period FROM {home}.waves
                                 UNION ALL SELECT DISTINCT 'm', period FROM {home}.metrics
                                 UNION ALL SELECT 'n', 'now') x
                     WHERE e.employee_id NOT IN (SELECT employee_id FROM {home}.employee_history))
        SELECT per.kind, per.period, per.employee_id, per.manager_id, cur.role, cur.timing,
               {', '.join(f"CASE WHEN per.{d} IS NOT DISTINCT FROM e.{d} THEN cur.{d} ELSE per.{d} END AS {d}"
                          for d in ("department", "location", "generation", "level"))},
               greatest(per.history_import, coalesce(e.import_id, 0)) AS imp,
               FALSE AS withheld, 0 AS block_id
        FROM per JOIN {S}.emp cur USING (employee_id) JOIN {home}.employees e USING (employee_id)
        WHERE NOT cur.withheld""")
    # who is active in a period: answered a self-report item in the wave / has a metric value in the month
    db.execute(f"""CREATE OR REPLACE TABLE {S}.pact AS
        SELECT 'w' AS kind, survey AS period, employee_id FROM {S}.resp
        UNION SELECT 'm', period, employee_id FROM {home}.metrics WHERE value IS NOT NULL""")
    key = ", ".join(KEY)
    # a (block, period) cell is small with fewer than k people, or 1 to k-1 of them active
    small = f"""SELECT kind, period, employee_id FROM (
                    SELECT p.kind, p.period, p.employee_id, count(*) OVER w AS n, count(a.employee_id) OVER w AS n_act
                    FROM {S}.pemp p LEFT JOIN {S}.pact a USING (kind, period, employee_id)
                    WHERE NOT p.withheld
                    WINDOW w AS (PARTITION BY p.kind, p.period, {', '.join('p.' + c for c in KEY)}))
                WHERE n < {k} OR (n_act > 0 AND n_act < {k})"""
    match = (f"{S}.pemp.kind = s.kind AND {S}.pemp.period = s.period AND {S}.pemp.employee_id = s.employee_id")
    settled = False  # nothing small left (then there is nothing to withhold either)
    for dim in MERGE_ORDER:
        db.execute(f"CREATE OR REPLACE TEMP TABLE _twoway_psmall AS {small}")
        if not db.query("SELECT count(*) FROM _twoway_psmall").scalar():
            settled = True
            break
        db.execute(f"UPDATE {S}.pemp SET {dim} = '{OTHER}' FROM _twoway_psmall s WHERE {match}")
    if not settled:
        db.execute(f"CREATE OR REPLACE TEMP TABLE _twoway_psmall AS {small}")
        db.execute(f"UPDATE {S}.pemp SET withheld = TRUE FROM _twoway_psmall s WHERE {match}")
    db.execute("DROP TABLE IF EXISTS _twoway_psmall")
    db.execute(f"""CREATE OR REPLACE TABLE {S}.pemp AS
        SELECT p.* REPLACE (coalesce(s.bid, 0) AS block_id) FROM {S}.pemp p
        LEFT JOIN (SELECT kind, period, employee_id, dense_rank() OVER (ORDER BY kind, period, {key}) AS bid
                   FROM {S}.pemp WHERE NOT withheld) s USING (kind, period, employee_id)""")


# -- figures about the release itself (docs/PRIVACY.md) -----------------------------------------------
def accuracy_cost(db: Database, k: int) -> dict:
    """How much the release hides: shares of people merged per dimension, withheld people and answers."""
    with released(db, k):
        loc = db._local
        B = next(b for (version, kk, v), (_, b) in loc.rel_root["built"].items()
                 if version == loc.rel_root["version"] and kk == int(k) and v is None)
        home = loc.rel_home
        row = db.query(f"""SELECT count(*) AS people, count(*) FILTER (WHERE b.withheld) AS withheld,
                {', '.join(f"count(*) FILTER (WHERE b.{d} = '{OTHER}' AND e.{d} IS DISTINCT FROM '{OTHER}') AS {d}"
                           for d in MERGE_ORDER)},
                count(DISTINCT b.block_id) FILTER (WHERE NOT b.withheld) AS blocks
            FROM {home}.employees e JOIN {B}.emp b USING (employee_id)""").dicts()[0]
        answers_raw = db.query(f"SELECT count(*) FROM {home}.responses WHERE value IS NOT NULL").scalar()
        answers = db.query("SELECT count(*) FROM responses").scalar()
        metrics_raw = db.query(f"SELECT count(*) FROM {home}.metrics WHERE value IS NOT NULL").scalar()
        metrics = db.query("SELECT count(*) FROM metrics").scalar()
        sessions_raw = db.query(f"SELECT count(*) FROM {home}.sessions").scalar()
        sessions = db.query("SELECT count(*) FROM sessions").scalar()
    n = max(row["people"], 1)
    out = {"k": int(k), "people": row["people"], "blocks": row["blocks"], "withheld_people": row["withheld"] / n}
    out.update({f"merged_{d}": row[d] / n for d in MERGE_ORDER})
    out.update(withheld_answers=1 - answers / max(answers_raw, 1), withheld_metric_values=1 - metrics / max(metrics_raw, 1),
               withheld_sessions=1 - sessions / max(sessions_raw, 1))
    return out
