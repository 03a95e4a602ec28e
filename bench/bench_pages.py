"""Each dashboard page's data at scale: cold, cold with one department, warm; and a pandas baseline.

    .venv/bin/python bench/bench_pages.py --db /tmp/demo200k.duckdb [--runs 3] [--pages data,activity]

Pages (`PAGES`): overview, claims, claim:<id> (the Claims page with that claim open, for every
claim), where, engagement, activity, productivity, data, value, upload (its import history).

Every measurement runs in a fresh process (empty caches, no released maps yet), the way a
newly started app instance meets its first viewer. A page's data is exactly the `analytics.views`
calls the page and its sidebar make (`PAGES`), through the same functions `ui.cache` calls:

* **cold**: the first call of the page's views in the process — opening the store (its latest
  published snapshot, which carries the released data precomputed at publish time), entering
  the anonymity layer and every query; the modules an app instance imports at start-up
  (`analytics.views`) are imported before the clock starts, the claims engine after;
* **cold, one department**: the same with `Filters(department=(<largest department>,))`;
* **warm**: the same calls again in that process. Views on a published snapshot are memoised
  per snapshot token (`analytics.views.memo`), so this is a look-up and a copy, as the app's
  `st.cache_data` hit on a rerun is;
* **peak**: the process's peak resident memory (the app's share for that page);
* the claims engine's results for the unfiltered view and for every one-department view
  (scorecard, details, event studies, gain bands; the Value page's engine figures unfiltered)
  are stored with the snapshot at publish (`analytics.store.stored_results`), so "one
  department" and the Where page's default grouping read them; any other filtered view of an
  engine page runs the claims engine;
* **pandas**: a straightforward pandas version of the same aggregates — read the tables it needs
  into pandas, join and group there (no anonymity layer, so it does less work) — in a fresh
  process too. `ratio` is pandas time / Twoway cold time. Each page's version computes every table
  the page shows (activity: monthly sessions and minutes, the dose bands, the cohort table with
  medians, hours, inactive pairs and ratings, the format / channel / topic mix); the Upload page
  has no sidebar, so its version reads the import history alone.

Before the first run the project's modules are byte-compiled (`compileall`, into the
git-ignored `__pycache__` folders), as an installed app's are: with PYTHONDONTWRITEBYTECODE set
(as in this sandbox) every fresh process would otherwise compile each module it imports lazily
(the snapshot reader, the importer, the claims engine) from source, a cost the pandas baseline's
libraries, installed with their bytecode, never pay (`--no-compile` measures that way anyway).

Medians of `--runs` runs. The machine is shared: keep `--runs` small. Figures are printed, never
asserted (docs/CONTRIBUTING.md: speed targets live in bench scripts).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The views each page asks for (pages/*.py and ui/sidebar.py), as (view, kwargs): the names of
#: `ui.cache.VIEWS`, called through that same table. "claim:<id>" is the Claims page with that
#: claim's section open; "where" asks every department's scorecard (the page's default split);
#: "value" the Value page with the saved inputs.
SIDEBAR = [("filter_options", {}), ("check_selection", {})]
CLAIM_IDS = ("productivity", "leadership", "agility", "engagement", "innovation", "belonging", "mentor_confidence",
             "informal_learning", "dose_response", "psych_safety_moderation", "retention", "promotion")
CLAIMS_PAGE = SIDEBAR + [("headline", {}), ("scorecard", {}), ("evaluation_map", {})]
PAGES: dict[str, list[tuple[str, dict]]] = {
    "overview": SIDEBAR + [("headline", {}), ("scorecard", {}), ("headline_change", {}),
                           ("event_study", {"claim_id": "engagement"})],
    "claims": CLAIMS_PAGE,
    **{f"claim:{c}": CLAIMS_PAGE + [("claim_detail", {"claim_id": c}), ("gain_bands", {"claim_id": c})]
       for c in CLAIM_IDS},
    "where": SIDEBAR + [("headline", {}), ("where_department", {})],
    "engagement": SIDEBAR + [("construct_trends", {"participants": True}),
                             ("construct_heatmap", {"group": "department"}),
                             ("group_trend", {"group": "generation", "construct": "belonging"}),
                             ("belonging_gap", {})],
    "activity": SIDEBAR + [("activity", {})],
    "productivity": SIDEBAR + [("productivity", {})],
    "data": SIDEBAR + [("data_quality", {}), ("wave_flags", {}), ("reliability", {})],
    "value": SIDEBAR + [("value_inputs", {}), ("value", {})],
    "upload": [("import_history", {})],
}
TARGET = {"cold": 2.0, "dept": 2.0, "warm": 0.3}


def _call(db, name: str, filters, k: int, kw: dict):
    from analytics import views

    if name == "filter_options":
        return views.filter_options(db, k, filters.as_of)
    if name == "import_history":  # pages/upload.py: the import history table
        from analytics.importing import import_history

        return import_history(db)
    if name == "wave_flags":
        from analytics.waves import wave_flags

        return wave_flags(db, k)
    if name == "where_department":  # pages/where.py: one scorecard per department the filters allow
        from analytics.subgroups import subgroup_filters

        values = views.filter_options(db, k, filters.as_of).values.get("department", [])
        out = []
        for _, sub in subgroup_filters(filters, "department", values):
            if _call(db, "check_selection", sub, k, {}).ok:
                out.append(_call(db, "scorecard", sub, k, {}))
        return out
    if name == "value":  # the page's default: the saved inputs
        import json as _json

        saved = _call(db, "value_inputs", filters, k, {})["saved"]
        kw = {"inputs": _json.dumps(saved.as_dict(), sort_keys=True)}
    from ui.cache import VIEWS

    return VIEWS[name](db, filters, k, **kw)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_twoway(db_path: str, page: str, dept: bool) -> dict:
    # what an app instance imports when it starts (ui.cache imports analytics.views); the claims
    # engine is imported on first use there, so it stays inside the timed part
    from analytics import privacy, views  # noqa: F401
    import ui.cache  # noqa: F401  (the app's table of views; streamlit is imported at start-up too)
    from analytics.filters import Filters
    from analytics.store import Database

    started = time.perf_counter()

    db = Database.reader(db_path)
    k = privacy.min_group_size()
    filters = Filters()
    if dept:
        top = db.query("SELECT department FROM employees GROUP BY department ORDER BY count(*) DESC, department "
                       "LIMIT 1").scalar()
        filters = Filters(department=(top,))
        started = time.perf_counter()  # the look-up of the department is not page work
    parts = {}
    for name, kw in PAGES[page]:
        t = time.perf_counter()
        _call(db, name, filters, k, kw)
        parts[name] = time.perf_counter() - t
    cold = time.perf_counter() - started
    t = time.perf_counter()
    for name, kw in PAGES[page]:
        _call(db, name, filters, k, kw)
    warm = time.perf_counter() - t
    return {"seconds": cold, "warm": warm, "peak_mb": _peak_mb(), "parts": parts}


# -- the pandas baseline --------------------------------------------------------------------------
def _load(con, table: str, cols: str = "*"):
    return con.execute(f"SELECT {cols} FROM {table}").df()


def worker_pandas(db_path: str, page: str) -> dict:
    """Load what the page needs into pandas and group there: the straightforward way."""
    import duckdb
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    con = duckdb.connect(db_path, read_only=True)
    if page == "upload":  # the page's one table, and it has no sidebar (no filter choices to load)
        _load(con, "imports", "import_id, imported_at, file_name, kind, rows, status").sort_values(
            "import_id", ascending=False).head(200)
        return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}
    emp = _load(con, "employees", "employee_id, department, location, generation, level")
    pairs = _load(con, "pairs")
    part = set(pairs["mentor_id"]).union(pairs["mentee_id"])
    emp["participant"] = emp["employee_id"].isin(part)
    opts = {c: sorted(emp[c].dropna().unique()) for c in ("department", "location", "generation", "level")}
    assert opts
    engine = page in ("overview", "claims", "where") or page.startswith("claim:")
    if engine or page in ("engagement", "data"):
        resp = _load(con, "responses", "survey, respondent, employee_id, item, value")
        items = _load(con, "items", "survey, item, construct")
        r = resp.merge(items, on=["survey", "item"]).merge(emp, on="employee_id", how="left")
        r = r[r["value"].notna() & r["construct"].notna()]
        if page == "engagement":
            r.groupby(["survey", "construct", "participant"])["value"].agg(["mean", "std", "count"])
        if engine:  # the claims' person x wave score panel, and its cell means by participant and wave
            panel = r.groupby(["employee_id", "survey", "construct"])["value"].mean().reset_index()
            panel = panel.merge(emp[["employee_id", "participant", "department"]], on="employee_id")
            by = ["survey", "construct", "participant"] + (["department"] if page == "where" else [])
            panel.groupby(by)["value"].agg(["mean", "std", "count"])
        if page == "overview":
            last = pd.Timestamp(_load(con, "sessions", "max(date) AS d")["d"].iloc[0])
            s = _load(con, "sessions", "pair_id, date")
            s[pd.to_datetime(s["date"]) >= last - pd.Timedelta(days=91)].shape
            r.groupby("survey")["respondent"].nunique()
        if page == "engagement":
            r.groupby(["survey", "construct", "department"])["value"].agg(["mean", "std", "count"])
            r[r["construct"] == "belonging"].groupby(["survey", "generation"])["value"].agg(["mean", "std", "count"])
        if page == "data":
            r.groupby("survey")["respondent"].nunique()
            # Cronbach's alpha per wave and construct on complete answers
            w = (r.groupby(["survey", "construct", "respondent", "item"])["value"].mean().reset_index())
            k = items.dropna().groupby(["survey", "construct"]).size().rename("k").reset_index()
            cnt = w.groupby(["survey", "construct", "respondent"]).size().rename("m").reset_index().merge(k)
            full = cnt[cnt["m"] == cnt["k"]][["survey", "construct", "respondent"]]
            w = w.merge(full)
            iv = w.groupby(["survey", "construct", "item"])["value"].var().groupby(level=[0, 1]).sum()
            tv = w.groupby(["survey", "construct", "respondent"])["value"].sum().groupby(level=[0, 1]).var()
            kk = k.set_index(["survey", "construct"])["k"]
            (kk / (kk - 1) * (1 - iv / tv)).dropna()
    if page == "activity":  # every table the page shows: monthly, dose, cohorts with ratings, mix
        s = _load(con, "sessions")
        s["month"] = pd.to_datetime(s["date"]).dt.to_period("M")
        s = s.merge(pairs[["pair_id", "mentee_id", "cohort"]], on="pair_id")
        s.groupby(["month", "format"]).agg(sessions=("pair_id", "size"), pairs=("pair_id", "nunique"),
                                           minutes=("duration_min", "sum"))
        as_of = pd.to_datetime(s["date"]).max()
        per_pair = pairs.set_index("pair_id").join(
            s.groupby("pair_id").agg(sessions=("pair_id", "size"), minutes=("duration_min", "sum"),
                                     last=("date", "max"), mentor_rating=("mentor_rating", "mean"),
                                     mentee_rating=("mentee_rating", "mean")))
        per_pair["sessions"] = per_pair["sessions"].fillna(0)
        pd.cut(per_pair["sessions"], [0, 1, 3, 6, 10, 15, 10_000], right=False).value_counts()
        last = pd.to_datetime(per_pair["last"]).fillna(pd.to_datetime(per_pair["start_date"]))
        ongoing = per_pair["end_date"].isna() | (pd.to_datetime(per_pair["end_date"]) >= as_of)
        per_pair["inactive"] = ongoing & ((as_of - last).dt.days > 60)
        per_pair.groupby("cohort").agg(pairs=("sessions", "size"), sessions=("sessions", "sum"),
                                       median=("sessions", "median"), minutes=("minutes", "sum"),
                                       inactive=("inactive", "sum"), mentor_rating=("mentor_rating", "mean"),
                                       mentee_rating=("mentee_rating", "mean"))
        for col in ("format", "channel"):
            s.groupby(col, dropna=False).agg(sessions=("pair_id", "size"), pairs=("pair_id", "nunique"))
        s[["pair_id", "topics"]].explode("topics").groupby("topics").agg(
            sessions=("pair_id", "size"), pairs=("pair_id", "nunique"))
    if page == "productivity" or page == "value" or page == "claim:productivity":
        m = _load(con, "metrics").merge(emp, on="employee_id")
        m.groupby(["metric", "period", "participant"])["value"].agg(["mean", "std", "count"])
        start = pairs.groupby("mentee_id")["start_date"].min()
        m["after"] = pd.to_datetime(m["period"]) >= pd.to_datetime(m["employee_id"].map(start))
        m.groupby(["metric", "participant", "after"])["value"].agg(["mean", "std", "count"])
    np.asarray([0])
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


# -- driver -------------------------------------------------------------------------------------------
def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "2"})
    if out.returncode:
        raise SystemExit(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/tmp/demo200k.duckdb")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--parts", action="store_true", help="print each view's cold time")
    ap.add_argument("--no-compile", action="store_true", help="leave the project's modules uncompiled")
    ap.add_argument("--worker", nargs="+")
    args = ap.parse_args()
    if args.worker:
        kind, db_path, page = args.worker[:3]
        res = (worker_pandas(db_path, page) if kind == "pandas"
               else worker_twoway(db_path, page, dept=(kind == "dept")))
        print(json.dumps(res))
        return
    if not args.no_compile:
        import compileall

        for folder in ("analytics", "ui", "pages"):
            compileall.compile_dir(str(ROOT / folder), quiet=1)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    print(f"{args.db}, medians of {args.runs} runs (each in a fresh process)", flush=True)
    head = f"{'page':17s} {'cold':>7s} {'1 dept':>7s} {'warm':>7s} {'peak':>8s} {'pandas':>8s} {'ratio':>6s}  targets"
    print(head)
    for page in pages:
        runs = {kind: [_spawn(kind, args.db, page) for _ in range(args.runs)] for kind in ("all", "dept")}
        cold = statistics.median(r["seconds"] for r in runs["all"])
        dept = statistics.median(r["seconds"] for r in runs["dept"])
        warm = statistics.median(r["warm"] for r in runs["all"] + runs["dept"])
        peak = max(r["peak_mb"] for r in runs["all"] + runs["dept"])
        if args.no_pandas:
            pandas_s, ratio = float("nan"), float("nan")
        else:
            pandas_s = statistics.median(_spawn("pandas", args.db, page)["seconds"] for _ in range(max(1, args.runs // 2)))
            ratio = pandas_s / cold
        ok = cold < TARGET["cold"] and dept < TARGET["dept"] and warm < TARGET["warm"] and peak < 2048
        print(f"{page:17s} {cold:6.2f}s {dept:6.2f}s {warm:6.2f}s {peak:6.0f}MB {pandas_s:7.2f}s {ratio:5.1f}×  "
              f"{'met' if ok else 'MISSED'}{'' if args.no_pandas or ratio >= 10 else ' (ratio < 10×)'}", flush=True)
        if args.parts:
            first = runs["all"][0]["parts"]
            print("    " + ", ".join(f"{n} {s:.2f}s" for n, s in first.items()), flush=True)


if __name__ == "__main__":
    main()
