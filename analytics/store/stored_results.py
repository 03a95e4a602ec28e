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

Every claim's detail (`ClaimDetail`) is stored too, when it comes back from its JSON exactly as
computed (checked at publish; otherwise readers compute it).

A stored result is used only when it matches the file: the same threshold, latest import,
data version and *engine fingerprint* — a hash of every module of `analytics` and the versions
of the numerical libraries, so a result computed by other code is never served. The figures
come from released data only: the engine reads inside `released()` when it runs at publish.

The same results are stored for each one-department view (`STORED_DIMENSIONS`): the Where page
opens with every department's scorecard, and a link filtered to one department is the most
common filtered view, so neither should wait for the engine (2–3 s a view at 200,000 people,
and 3 s more for the first in a process). Below `TWOWAY_STORED_VIEWS_FROM` employees (default
20,000) they are not stored: the engine answers a department in well under a second there
(0.3 s at 2,000 people), while storing every department would add about 20 s to each import's
publish. Other filtered views run the engine on demand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analytics.store.database import Database

#: Table (in the stored maps' schema of the snapshot) holding the results, and its info table.
TABLE, INFO = "engine_results", "engine_info"
#: The filter dimensions whose single-value views are stored too (each value a view).
STORED_DIMENSIONS: tuple[str, ...] = ("department",)
#: The setting naming the head count from which the one-department views are stored, and its default.
VIEWS_FROM_SETTING, VIEWS_FROM_DEFAULT = "TWOWAY_STORED_VIEWS_FROM", 20_000


def stored_views_from() -> int:
    """The head count (employees on the roster) from which publish stores the one-department
    views: `TWOWAY_STORED_VIEWS_FROM`, a whole number (0 stores them always), else 20,000.

    Examples
    --------
    >>> stored_views_from() >= 0
    True
    """
    import os
    import re

    from analytics.errors import TwowayError

    raw = os.environ.get(VIEWS_FROM_SETTING, "").strip()
    if not raw:
        return VIEWS_FROM_DEFAULT
    if not re.fullmatch(r"[0-9]{1,12}", raw):
        raise TwowayError(f"{VIEWS_FROM_SETTING}={raw[:40]!r} must be a whole number of employees "
                          f"(0 or more; default {VIEWS_FROM_DEFAULT:,})")
    return int(raw)


def view_key(filters, sesoi: float = 0.2, base=None) -> str | None:
    """The stored view a request is for: "" for the unfiltered view, ``department=<value>`` for a
    single-value view of a `STORED_DIMENSIONS` dimension; None when no stored result can answer it
    (other filters, a pinned version, another SESOI, base period or method).

    Examples
    --------
    >>> from analytics.filters import Filters
    >>> view_key(Filters()), view_key(Filters(department=("IT",))), view_key(Filters(department=("IT",), level=("L1",)))
    ('', 'department=IT', None)
    """
    from analytics.claims import did
    from analytics.filters import Filters

    if float(sesoi) != 0.2 or (base is not None and did.BasePeriod(base) is not did.BasePeriod.PRE_MEAN):
        return None
    if filters.key() == Filters().key():
        return ""
    for dim in STORED_DIMENSIONS:
        values = getattr(filters, dim)
        if len(values) == 1 and filters.key() == Filters(**{dim: values}).key():
            return f"{dim}={values[0]}"
    return None


def _views(db: Database, k: int) -> list[tuple[str, object]]:
    """The views stored at publish: the unfiltered one, then, from `stored_views_from()` employees
    on, one per released value of each stored dimension (the values the sidebar and the Where
    page offer)."""
    from analytics.filters import Filters
    from analytics.store.dashboard import filter_values
    from analytics.store.released import released

    out: list[tuple[str, object]] = [("", Filters())]
    if db.query("SELECT count(*) FROM employees").scalar() < stored_views_from():
        return out
    with released(db, k, None):
        values = filter_values(db)
    for dim in STORED_DIMENSIONS:
        out += [(f"{dim}={v}", Filters(**{dim: (v,)})) for v in values.get(dim, [])]
    return out


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


def _hook(d: dict):
    """Dates and times back from `_default`'s tagged objects."""
    if len(d) == 1 and "$nat" in d:
        return pd.NaT
    if "$ts" in d and len(d) == 2:
        return pd.Timestamp(d["$ts"]).as_unit(d["unit"])
    if len(d) == 1 and "$dt" in d:
        return dt.datetime.fromisoformat(d["$dt"])
    if len(d) == 1 and "$date" in d:
        return dt.date.fromisoformat(d["$date"])
    return d


def _loads(text: str):
    return json.loads(text, object_hook=_hook)


def _default(x):

    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, tuple):
        return list(x)
    if x is pd.NaT:
        return {"$nat": 1}
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        t = pd.Timestamp(x)
        return {"$ts": t.isoformat(), "unit": t.unit}
    if isinstance(x, dt.datetime):
        return {"$dt": x.isoformat()}
    if isinstance(x, dt.date):
        return {"$date": x.isoformat()}
    raise TypeError(f"cannot store a {type(x).__name__} in the engine results")


def _frame_obj(df: pd.DataFrame) -> dict:
    return {"columns": [str(c) for c in df.columns], "cdtype": str(df.columns.dtype), "dtypes": [str(t) for t in df.dtypes],
            "data": [list(row) for row in df.itertuples(index=False, name=None)]}


def frame_to_json(df: pd.DataFrame) -> str:
    """A DataFrame of scalars as JSON text (columns, dtypes, rows), rebuilt by `frame_from_json`."""
    return _encode(_frame_obj(df))


def frame_from_json(text: str) -> pd.DataFrame:
    return _frame_of(_loads(text))


def _frame_of(d: dict) -> pd.DataFrame:
    df = pd.DataFrame(d["data"], columns=d["columns"])
    if "cdtype" in d and str(df.columns.dtype) != d["cdtype"]:  # an empty frame's column index: str, not object
        df.columns = pd.Index(d["columns"], dtype=d["cdtype"])
    for col, dtype in zip(d["columns"], d["dtypes"]):
        if str(df[col].dtype) != dtype:
            df[col] = df[col].astype(dtype)
    return df


def precompute(db: Database, k: int) -> None:
    """Run the engine on `db` (a snapshot being published, open read-write, with its released maps
    stored) for the unfiltered view and each stored one-department view at threshold `k`, and
    store their scorecard rows, claim details, event studies and gain bands (and the Value
    page's engine figures, unfiltered only).

    Never stops a publish: on any error the results are simply not stored (readers run the engine).
    """
    from analytics.claims import engine

    home, M = _schema(db)
    try:
        db.execute(f"DROP TABLE IF EXISTS {M}.{TABLE}")
        db.execute(f"DROP TABLE IF EXISTS {M}.{INFO}")
        rows: list[tuple[str, str, str, str]] = []
        try:
            for view, filters in _views(db, int(k)):
                rows += _view_rows(db, int(k), view, filters)
        finally:
            engine.forget(db)  # free the panels: the publishing process has no further use for them
        db.execute(f"CREATE TABLE {M}.{TABLE} (kind VARCHAR, view VARCHAR, claim_id VARCHAR, body VARCHAR)")
        db.executemany(f"INSERT INTO {M}.{TABLE} VALUES (?, ?, ?, ?)", rows)
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


def _view_rows(db: Database, k: int, view: str, filters) -> list[tuple[str, str, str, str]]:
    """The stored rows of one view: (kind, view, claim_id, body)."""
    from analytics.claims import CLAIMS, engine
    from analytics.claims.detail import event_study_frame, metric_event_study_frame
    from analytics.claims.scorecard import claim_row

    r = engine.run(db, filters, k, 0.2)
    weighted = filters.method == "weighted"
    rows = [("scorecard", view, "", _encode([claim_row(res, r.sesoi, r.min_group, weighted)
                                             for res in r.results.values()]))]
    for claim in CLAIMS:
        try:
            es = event_study_frame(r, claim)
        except Exception:  # noqa: BLE001 — a claim without an event study: computed on demand
            continue
        rows.append(("event_study", view, claim.id, frame_to_json(es)))
        if claim.metrics:
            try:
                rows.append(("metric_event_study", view, claim.id, frame_to_json(metric_event_study_frame(r, claim))))
            except Exception:  # noqa: BLE001 — computed on demand
                pass
        body = _detail_body(db, claim.id, k, filters)
        if body is not None:
            rows.append(("detail", view, claim.id, body))
        body = _bands_body(db, claim.id, k, filters)
        if body is not None:
            rows.append(("gain_bands", view, claim.id, body))
    if view == "":
        rows.append(("value", view, "", _encode(_value_parts(db, k, r))))
    return rows


def _body(db: Database, kind: str, claim_id: str, k: int, view: str = "") -> str | None:
    home, M = _schema(db)
    try:
        row = db.query(f"SELECT k, latest, data_version, fingerprint FROM {M}.{INFO}").first()
        if row is None or tuple(row) != _key(db, home, k):
            return None
        hit = db.query(f"SELECT body FROM {M}.{TABLE} WHERE kind = ? AND view = ? AND claim_id = ?",
                       [kind, view, claim_id]).first()
    except (duckdb.CatalogException, duckdb.BinderException):  # none stored, or stored by older code
        return None
    return None if hit is None else str(hit[0])


def scorecard_rows(db: Database, k: int, view: str = "") -> list[dict] | None:
    """The stored scorecard rows of `view` (`view_key`) for threshold `k` (`claim_row` output), or None."""
    body = _body(db, "scorecard", "", k, view)
    return None if body is None else _loads(body)


def event_study(db: Database, claim_id: str, k: int, view: str = "") -> pd.DataFrame | None:
    """The stored event-study frame of `claim_id` in `view` for threshold `k`, or None."""
    body = _body(db, "event_study", claim_id, k, view)
    return None if body is None else frame_from_json(body)


def metric_event_studies(db: Database, claim_id: str, k: int, view: str = "") -> pd.DataFrame | None:
    """The stored monthly metric event studies of `claim_id` in `view` for threshold `k`, or None."""
    body = _body(db, "metric_event_study", claim_id, k, view)
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
    d = _loads(body)
    effects = [SimpleNamespace(**{**e, "estimate": None if e["estimate"] is None else SimpleNamespace(**e["estimate"])})
               for e in d["effects"]]
    tests = [SimpleNamespace(**{**t, "role": Role(t["role"])}) for t in d["metric_tests"]]
    return effects, tests


# -- claim details ------------------------------------------------------------------------------------
def _encode_detail(detail) -> str:
    from dataclasses import fields

    from analytics.claims.detail import PreTrendSummary

    if detail.extra:
        raise TypeError("a detail with extra parts is not stored")
    out = {}
    for f in fields(detail):
        if f.name == "extra":
            continue
        v = getattr(detail, f.name)
        if v is None:
            out[f.name] = {"t": "none"}
        elif isinstance(v, pd.DataFrame):
            out[f.name] = {"t": "frame", "v": _frame_obj(v)}
        elif isinstance(v, PreTrendSummary):
            out[f.name] = {"t": "pretrend", "v": {g.name: getattr(v, g.name) for g in fields(v)}}
        elif isinstance(v, tuple):
            out[f.name] = {"t": "tuple", "v": list(v)}
        elif isinstance(v, (dict, list)):
            out[f.name] = {"t": "json", "v": v}
        else:
            raise TypeError(f"cannot store a {type(v).__name__} in a claim detail")
    return _encode(out)


def _decode_detail(text: str):
    from analytics.claims.detail import ClaimDetail, PreTrendSummary

    parts = {}
    for name, d in _loads(text).items():
        t = d["t"]
        parts[name] = (None if t == "none" else _frame_of(d["v"]) if t == "frame"
                       else PreTrendSummary(**d["v"]) if t == "pretrend" else tuple(d["v"]) if t == "tuple" else d["v"])
    return ClaimDetail(**parts)


def same_value(a, b) -> bool:
    """Equal, NaN equal to NaN; DataFrames exactly equal (values and dtypes)."""
    from dataclasses import fields, is_dataclass

    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        if not (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)):
            return False
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            return False
        return all(same_value(x, y) for c in a.columns if a[c].dtype == object
                   for x, y in zip(a[c].tolist(), b[c].tolist()))
    if is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same_value(getattr(a, f.name), getattr(b, f.name))
                                          for f in fields(a) if f.compare)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_value(a[x], b[x]) for x in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


def _detail_body(db: Database, claim_id: str, k: int, filters) -> str | None:
    """The claim's detail as stored JSON, or None when it does not come back exactly as computed
    (checked here, at publish: a detail that cannot round-trip is computed by readers instead)."""
    from analytics.claims.detail import claim_detail

    try:
        detail = claim_detail(db, claim_id, filters, min_group=k)
        body = _encode_detail(detail)
        return body if same_value(_decode_detail(body), detail) else None
    except Exception:  # noqa: BLE001 — computed on demand instead
        return None


def claim_detail(db: Database, claim_id: str, k: int, view: str = ""):
    """The stored `ClaimDetail` of `claim_id` in `view` for threshold `k`, or None."""
    body = _body(db, "detail", claim_id, k, view)
    return None if body is None else _decode_detail(body)


def _bands_body(db: Database, claim_id: str, k: int, filters) -> str | None:
    """The Claims page's gain bands of a within claim (`gain_bands.bands_for`) as stored JSON
    (``null`` for none), when they come back exactly; None otherwise (and for other claims)."""
    from analytics.gain_bands import bands_for

    if claim_id not in ("dose_response", "psych_safety_moderation"):
        return None
    try:
        bands = bands_for(db, claim_id, filters, k)
        if bands is None:
            return _encode(None)
        body = _encode(_frame_obj(bands))
        return body if same_value(_frame_of(_loads(body)), bands) else None
    except Exception:  # noqa: BLE001 — computed on demand instead
        return None


def gain_bands(db: Database, claim_id: str, k: int, view: str = "") -> pd.DataFrame | None:
    """The stored unfiltered gain bands of `claim_id`; an empty frame with ``attrs["none"]`` when
    the stored answer is "no bands"; None when nothing is stored."""
    body = _body(db, "gain_bands", claim_id, k, view)
    if body is None:
        return None
    d = _loads(body)
    if d is None:
        out = pd.DataFrame()
        out.attrs["none"] = True
        return out
    return _frame_of(d)
