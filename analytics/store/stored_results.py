"""The claims engine's results for the unfiltered view, stored in a published snapshot.

The full scorecard at 200,000 people takes the engine tens of seconds (issue #9), and the
Overview, Claims and Where pages all open with it. Its unfiltered result for the default
anonymity threshold depends only on the data version and the code, so `snapshots.publish`
computes it once (`precompute`) and stores it next to the released maps; a reader of the
snapshot answers `claims.scorecard(db)` and `claims.event_study(db, claim)` for the unfiltered
view from these rows instead of running the engine.

What is stored is the engine's own output, serialised as JSON text (never pickle: a snapshot
file must not be able to run code): the scorecard's rows exactly as `scorecard.claim_row`
returns them (the frame is rebuilt by the same code), and each event-study frame as columns,
dtypes and values. JSON keeps floats exactly (shortest repr round trip), NaN and infinities
included.

A stored result is used only when it matches the file: the same threshold, latest import,
data version and *engine fingerprint* — a hash of every module of `analytics` and the versions
of the numerical libraries, so a result computed by other code is never served. The figures
come from released data only: the engine reads inside `released()` when it runs at publish.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import duckdb
import pandas as pd

from analytics.store.database import Database

#: Table (in the stored maps' schema of the snapshot) holding the results, and its info table.
TABLE, INFO = "engine_results", "engine_info"


def _engine_fingerprint() -> str:
    import numpy
    import scipy
    import statsmodels

    root = Path(__file__).resolve().parents[1]  # the analytics package
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    for mod in (numpy, scipy, statsmodels, pd, duckdb):
        h.update(f"{mod.__name__}={mod.__version__};".encode())
    return h.hexdigest()[:16]


ENGINE_FINGERPRINT = _engine_fingerprint()


def _schema(db: Database) -> tuple[str, str]:
    from analytics.store.released import STORED_MAPS, _home

    home = _home(db)
    return home, f"{home.rsplit('.', 1)[0]}.{STORED_MAPS}"


def _key(db: Database, home: str, k: int) -> tuple:
    from analytics.store.released import _latest_import, _meta_version

    return (int(k), _latest_import(db, home), _meta_version(db, home), ENGINE_FINGERPRINT)


def _encode(value) -> str:
    return json.dumps(value, allow_nan=True, separators=(",", ":"), default=_default)


def _default(x):
    import numpy as np

    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, tuple):
        return list(x)
    raise TypeError(f"cannot store a {type(x).__name__} in the engine results")


def frame_to_json(df: pd.DataFrame) -> str:
    """A DataFrame of scalars as JSON text (columns, dtypes, rows), rebuilt by `frame_from_json`."""
    return _encode({"columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes],
                    "data": [list(row) for row in df.itertuples(index=False, name=None)]})


def frame_from_json(text: str) -> pd.DataFrame:
    d = json.loads(text)
    df = pd.DataFrame(d["data"], columns=d["columns"])
    for col, dtype in zip(d["columns"], d["dtypes"]):
        if str(df[col].dtype) != dtype:
            df[col] = df[col].astype(dtype)
    return df


def precompute(db: Database, k: int) -> None:
    """Run the engine on `db` (a snapshot being published, open read-write, with its released maps
    stored) for the unfiltered view at threshold `k`, and store the scorecard rows and event studies.

    Never stops a publish: on any error the results are simply not stored (readers run the engine).
    """
    from analytics.claims import CLAIMS, engine
    from analytics.claims.detail import event_study_frame
    from analytics.claims.scorecard import claim_row
    from analytics.filters import Filters

    home, M = _schema(db)
    try:
        db.execute(f"DROP TABLE IF EXISTS {M}.{TABLE}")
        db.execute(f"DROP TABLE IF EXISTS {M}.{INFO}")
        filters = Filters()
        r = engine.run(db, filters, int(k), 0.2)
        try:
            weighted = filters.method == "weighted"
            rows = [("scorecard", "", _encode([claim_row(res, r.sesoi, r.min_group, weighted)
                                               for res in r.results.values()]))]
            for claim in CLAIMS:
                try:
                    es = event_study_frame(r, claim)
                except Exception:  # noqa: BLE001 — a claim without an event study: computed on demand
                    continue
                rows.append(("event_study", claim.id, frame_to_json(es)))
            rows.append(("value", "", _encode(_value_parts(db, int(k), r))))
        finally:
            with engine._CACHE_LOCK:  # free the panel: the publishing process has no further use for it
                for key in [key for key in engine._CACHE if key[0] == id(db)]:
                    engine._CACHE.pop(key, None)
        db.execute(f"CREATE TABLE {M}.{TABLE} (kind VARCHAR, claim_id VARCHAR, body VARCHAR)")
        db.executemany(f"INSERT INTO {M}.{TABLE} VALUES (?, ?, ?)", rows)
        db.execute(f"CREATE TABLE {M}.{INFO} AS SELECT ?::INTEGER AS k, ?::INTEGER AS latest, "
                   f"?::VARCHAR AS data_version, ?::VARCHAR AS fingerprint", list(_key(db, home, k)))
    except Exception as exc:  # noqa: BLE001 — an optimisation must never stop an import
        warnings.warn(f"claims results not precomputed ({type(exc).__name__}: {exc}); readers will run "
                      "the engine", RuntimeWarning, stacklevel=2)
        for t in (TABLE, INFO):
            try:
                db.execute(f"DROP TABLE IF EXISTS {M}.{t}")
            except duckdb.Error:
                pass


def _body(db: Database, kind: str, claim_id: str, k: int) -> str | None:
    home, M = _schema(db)
    try:
        row = db.query(f"SELECT k, latest, data_version, fingerprint FROM {M}.{INFO}").first()
        if row is None or tuple(row) != _key(db, home, k):
            return None
        hit = db.query(f"SELECT body FROM {M}.{TABLE} WHERE kind = ? AND claim_id = ?", [kind, claim_id]).first()
    except duckdb.CatalogException:
        return None
    return None if hit is None else str(hit[0])


def scorecard_rows(db: Database, k: int) -> list[dict] | None:
    """The stored unfiltered scorecard rows for threshold `k` (`claim_row` output), or None."""
    body = _body(db, "scorecard", "", k)
    return None if body is None else json.loads(body)


def event_study(db: Database, claim_id: str, k: int) -> pd.DataFrame | None:
    """The stored unfiltered event-study frame of `claim_id` for threshold `k`, or None."""
    body = _body(db, "event_study", claim_id, k)
    return None if body is None else frame_from_json(body)


# the figures the Value page takes from the engine (analytics.value_data.benefits)
_HAZARD = ("prob_diff", "prob_diff_ci_low", "prob_diff_ci_high", "horizon", "n_treated")
_METRIC = ("metric", "ok", "se", "estimate", "n_treated", "reason")


def _value_parts(db: Database, k: int, r) -> dict:
    from analytics.filters import Filters
    from analytics.outcomes.retention import engine_effects

    effects = [{"outcome": e.outcome, "role": e.role, "reason": e.reason,
                "estimate": None if e.estimate is None else {a: getattr(e.estimate, a) for a in _HAZARD}}
               for e in engine_effects(db, k, Filters())]
    result = r.results.get("productivity")
    tests = [{**{a: getattr(t, a) for a in _METRIC}, "role": t.role.value}
             for t in (result.metric_tests if result is not None else ())]
    return {"effects": effects, "metric_tests": tests}


def value_effects(db: Database, k: int) -> tuple[list, list] | None:
    """The stored engine figures the Value page values (latest unfiltered data, threshold `k`):
    retention effects and the productivity claim's metric tests, with the attributes
    `value_data.benefits` reads; None when the snapshot does not carry them."""
    from types import SimpleNamespace

    from analytics.claims.definitions import Role

    body = _body(db, "value", "", k)
    if body is None:
        return None
    d = json.loads(body)
    effects = [SimpleNamespace(**{**e, "estimate": None if e["estimate"] is None else SimpleNamespace(**e["estimate"])})
               for e in d["effects"]]
    tests = [SimpleNamespace(**{**t, "role": Role(t["role"])}) for t in d["metric_tests"]]
    return effects, tests
