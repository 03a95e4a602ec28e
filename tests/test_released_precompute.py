"""Released maps precomputed into the published snapshot (issue #11, item 1).

A published snapshot carries the released maps of the default k (`released.precompute`), so a
reader process does not rebuild them. The figures must be exactly those of the in-memory build
(the same rules, run at another time), and any request the stored maps do not answer — another
k, a pinned version, a file whose data changed after the maps were stored — must fall back to
the in-memory build.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from analytics import claims, views
from analytics.filters import Filters
from analytics.store import Database
from tests.fixtures import rows_sorted
from analytics.store import released
from analytics.waves import wave_flags

K = 5


@pytest.fixture(scope="module")
def published(demo_path, tmp_path_factory):
    """A copy of the demo and a reader on its published snapshot (maps stored for k = 5, and the
    one-department views, which the 2,000-person demo would not store by default)."""
    path = tmp_path_factory.mktemp("pre") / "org.duckdb"
    shutil.copyfile(demo_path, path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TWOWAY_STORED_VIEWS_FROM", "0")
        reader = Database.reader(path)
    yield path, reader
    reader.close()


def _figures(db: Database, filters: Filters, k: int) -> dict:
    out = {"options": views.filter_options(db, k, filters.as_of).values,
           "selection": views.check_selection(db, filters, k),
           "headline": views.headline(db, filters, k),
           "trends": views.construct_trends(db, filters, k, participants=True),
           "heatmap": views.construct_heatmap(db, filters, k, group="department"),
           "gap": views.belonging_gap(db, filters, k),
           "rates": views.response_rates(db, filters, k),
           "productivity": views.productivity(db, filters, k),
           "reliability": views.reliability(db, filters, k),
           "flags": wave_flags(db, k),
           "scorecard": claims.scorecard(db, filters, min_group=k)}
    for name, frame in views.activity(db, filters, k).items():
        out[f"activity {name}"] = frame
    return out


def _same(a, b, where: str) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(rows_sorted(a), rows_sorted(b), obj=where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same(a[key], b[key], f"{where}/{key}")
    else:
        assert a == b, where


def _stored_in_use(db: Database) -> bool:
    with released.released(db, K):
        root = db._local.rel_root
        return any(b.endswith(released.STORED_BLOCKS) for _, b in root["built"].values())


@pytest.mark.parametrize("filters", [Filters(), Filters(department=("Engineering",)), Filters(cohort=("2025-A",))],
                         ids=["all", "department", "cohort"])
def test_a_reader_on_the_stored_maps_shows_exactly_the_in_memory_figures(published, demo_path, filters):
    path, reader = published
    assert released._stored(reader, released._home(reader), K) is not None  # the snapshot carries them
    stored = _figures(reader, filters, K)
    assert _stored_in_use(reader)
    with Database(demo_path, read_only=True) as plain:  # the live file: no stored maps, built in memory
        assert released._stored(plain, released._home(plain), K) is None
        built = _figures(plain, filters, K)
    _same(stored, built, str(filters))


def test_another_k_and_a_pinned_version_fall_back_to_the_in_memory_build(published, demo_path):
    path, reader = published
    assert released._stored(reader, released._home(reader), 7) is None
    with Database(demo_path, read_only=True) as plain:
        for k, as_of in ((7, None), (K, 1)):
            f = Filters(as_of=as_of)
            _same(_figures(reader, f, k), _figures(plain, f, k), f"k={k} as_of={as_of}")


def test_stored_maps_of_other_data_or_rules_are_never_used(published, tmp_path):
    path, reader = published
    copy = tmp_path / "snap.duckdb"
    shutil.copyfile(reader.file, copy)
    with Database(copy) as db:  # a writer changes the data of a file that carries stored maps
        home = released._home(db)
        assert released._stored(db, home, K) is not None
        db.bump_data_version()
        assert released._stored(db, home, K) is None
        db.execute(f"UPDATE {home}.meta SET value = value WHERE key = 'data_version'")
        db.execute(f"UPDATE {home.rsplit('.', 1)[0]}.{released.STORED_MAPS}.info SET data_version = "
                   f"(SELECT value FROM {home}.meta WHERE key = 'data_version'), fingerprint = 'other'")
        assert released._stored(db, home, K) is None  # built by other release rules


# -- the claims engine's unfiltered results, stored at publish (analytics.store.stored_results) ------
def _deep_same(a, b, where: str) -> None:
    """Equal values, types of numbers aside (JSON has one float and one int), NaN equal to NaN."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            _deep_same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _deep_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and a != a:
        assert isinstance(b, float) and b != b, where
    else:
        assert a == b and isinstance(a, bool) == isinstance(b, bool), f"{where}: {a!r} != {b!r}"


def test_the_stored_scorecard_and_event_studies_are_exactly_the_engines(published, demo_path):
    from analytics.claims import CLAIMS
    from analytics.store import stored_results

    path, reader = published
    assert stored_results.scorecard_rows(reader, K) is not None  # the snapshot carries them
    stored_card = claims.scorecard(reader, min_group=K)
    stored_es = {c.id: stored_results.event_study(reader, c.id, K) for c in CLAIMS}
    assert stored_es["engagement"] is not None and not stored_es["engagement"].empty
    with Database(demo_path, read_only=True) as plain:  # the live file: nothing stored, the engine runs
        assert stored_results.scorecard_rows(plain, K) is None
        card = claims.scorecard(plain, min_group=K)
        pd.testing.assert_frame_equal(stored_card.drop(columns=["by_role", "metrics", "diagnostics", "notes"]),
                                      card.drop(columns=["by_role", "metrics", "diagnostics", "notes"]))
        _deep_same(stored_card.to_dict("records"), card.to_dict("records"), "scorecard")
        for c in CLAIMS:
            if stored_es[c.id] is not None:
                pd.testing.assert_frame_equal(stored_es[c.id], claims.event_study(plain, c.id, min_group=K),
                                              obj=c.id)
        assert claims.event_study(reader, "engagement", min_group=K) is not None


def test_stored_engine_results_serve_only_their_request(published, tmp_path):
    from analytics.store import stored_results

    path, reader = published
    assert stored_results.scorecard_rows(reader, 7) is None  # another threshold
    copy = tmp_path / "snap.duckdb"
    shutil.copyfile(reader.file, copy)
    with Database(copy) as db:
        assert stored_results.scorecard_rows(db, K) is not None
        db.bump_data_version()  # other data
        assert stored_results.scorecard_rows(db, K) is None
        assert stored_results.event_study(db, "engagement", K) is None
    shutil.copyfile(reader.file, copy)
    with Database(copy) as db:  # computed by other code
        home, M = stored_results._schema(db)
        db.execute(f"UPDATE {M}.{stored_results.INFO} SET fingerprint = 'other'")
        assert stored_results.scorecard_rows(db, K) is None


def test_other_filtered_views_run_the_engine(published, monkeypatch):
    from analytics.store import stored_results

    path, reader = published
    asked = []
    monkeypatch.setattr(stored_results, "scorecard_rows", lambda *a: asked.append(a))
    claims.scorecard(reader, Filters(department=("Engineering", "Sales")), min_group=K)
    claims.scorecard(reader, Filters(level=("Manager",)), min_group=K)
    claims.scorecard(reader, Filters(department=("Engineering",), cohort=("2025-A",)), min_group=K)
    claims.scorecard(reader, min_group=K, sesoi=0.3)
    assert asked == []


def test_every_one_department_view_is_stored_and_served_without_the_engine(published, monkeypatch):
    """The Where page's default grouping and a link to one department open from the snapshot."""
    from analytics.claims import CLAIMS, engine
    from analytics.store.dashboard import filter_values
    from analytics.store.released import released as entered

    path, reader = published
    with entered(reader, K):
        departments = filter_values(reader)["department"]
    assert len(departments) >= 3

    def no_engine(*a, **kw):
        raise AssertionError("the engine ran for a stored view")

    import importlib

    monkeypatch.setattr(engine, "run", no_engine)
    for module in ("analytics.claims.scorecard", "analytics.claims.detail"):  # (their own names for it)
        monkeypatch.setattr(importlib.import_module(module), "run", no_engine)
    for dept in departments:
        view = Filters(department=(dept,))
        assert len(claims.scorecard(reader, view, min_group=K)) == len(CLAIMS)
        for c in CLAIMS:
            claims.claim_detail(reader, c.id, view, min_group=K)
    assert not claims.event_study(reader, "engagement", Filters(department=("Engineering",)), min_group=K).empty


@pytest.mark.parametrize("dept", ["Engineering", "Sales"])
def test_a_stored_one_department_view_is_exactly_the_engines(published, demo_path, dept):
    from analytics import gain_bands
    from analytics.claims import CLAIMS
    from analytics.store import stored_results

    path, reader = published
    view = Filters(department=(dept,))
    key = f"department={dept}"
    assert stored_results.scorecard_rows(reader, K, key) is not None
    assert stored_results.scorecard_rows(reader, K, "department=Nowhere") is None
    with Database(demo_path, read_only=True) as plain:  # nothing stored: the engine runs
        _deep_same(claims.scorecard(reader, view, min_group=K).to_dict("records"),
                   claims.scorecard(plain, view, min_group=K).to_dict("records"), key)
        for c in CLAIMS:
            assert stored_results.same_value(claims.claim_detail(reader, c.id, view, min_group=K),
                                             claims.claim_detail(plain, c.id, view, min_group=K)), c.id
            stored_es = stored_results.event_study(reader, c.id, K, key)
            if stored_es is not None:
                pd.testing.assert_frame_equal(stored_es, claims.event_study(plain, c.id, view, min_group=K), obj=c.id)
            if c.metrics:
                assert stored_results.metric_event_studies(reader, c.id, K, key) is not None
                pd.testing.assert_frame_equal(claims.metric_event_studies(reader, c.id, view, min_group=K),
                                              claims.metric_event_studies(plain, c.id, view, min_group=K), obj=c.id)
        for cid in ("dose_response", "psych_safety_moderation"):
            assert stored_results.gain_bands(reader, cid, K, key) is not None, cid
            served, computed = (gain_bands.bands_for(d, cid, view, K) for d in (reader, plain))
            assert (served is None) == (computed is None), cid
            if computed is not None:
                pd.testing.assert_frame_equal(served, computed, obj=cid)


def test_the_value_page_from_stored_engine_figures_equals_the_engines(published, demo_path):
    from analytics import value_data
    from analytics.store import stored_results

    path, reader = published
    assert stored_results.value_effects(reader, K) is not None
    stored = value_data.value_document(reader, K)
    with Database(demo_path, read_only=True) as plain:
        assert stored_results.value_effects(plain, K) is None
        _deep_same(stored, value_data.value_document(plain, K), "value")


def test_every_stored_claim_detail_is_exactly_the_engines(published, demo_path):
    from analytics.claims import CLAIMS
    from analytics.store import stored_results

    path, reader = published
    stored = {c.id: stored_results.claim_detail(reader, c.id, K) for c in CLAIMS}
    assert stored["engagement"] is not None and stored["belonging"] is not None  # the survey claims round-trip
    with Database(demo_path, read_only=True) as plain:
        for c in CLAIMS:
            computed = claims.claim_detail(plain, c.id, min_group=K)
            served = claims.claim_detail(reader, c.id, min_group=K)
            assert stored_results.same_value(served, computed), c.id
            for name in ("trends", "balance", "naive", "cohorts", "roles", "event_study"):
                pd.testing.assert_frame_equal(getattr(served, name), getattr(computed, name), obj=f"{c.id}.{name}")
            _deep_same(served.row, computed.row, f"{c.id}.row")
            assert served.notes == computed.notes and served.pretrend == computed.pretrend


def test_the_stored_gain_bands_are_exactly_the_engines(published, demo_path):
    from analytics import gain_bands
    from analytics.store import stored_results

    path, reader = published
    for cid in ("dose_response", "psych_safety_moderation"):
        assert stored_results.gain_bands(reader, cid, K) is not None, cid
        served = gain_bands.bands_for(reader, cid, Filters(), K)
        with Database(demo_path, read_only=True) as plain:
            computed = gain_bands.bands_for(plain, cid, Filters(), K)
        assert (served is None) == (computed is None), cid
        if computed is not None:
            pd.testing.assert_frame_equal(served, computed, obj=cid)


def test_a_small_organisation_stores_only_the_unfiltered_view(demo_path, tmp_path, monkeypatch):
    """Below TWOWAY_STORED_VIEWS_FROM employees the department views are left to the engine
    (0.3 s each at 2,000 people) rather than adding ~20 s to every publish; from it on, all are."""
    from analytics.store import stored_results

    monkeypatch.delenv("TWOWAY_STORED_VIEWS_FROM", raising=False)
    small = tmp_path / "small.duckdb"
    shutil.copyfile(demo_path, small)
    with Database.reader(small) as reader:
        assert stored_results.scorecard_rows(reader, K, "") is not None
        assert stored_results.scorecard_rows(reader, K, "department=Engineering") is None
        assert not claims.scorecard(reader, Filters(department=("Engineering",)), min_group=K).empty
    monkeypatch.setenv("TWOWAY_STORED_VIEWS_FROM", "600")  # the demo's head count: stored from there on
    exact = tmp_path / "exact.duckdb"
    shutil.copyfile(demo_path, exact)
    with Database.reader(exact) as reader:
        assert reader.query("SELECT count(*) FROM employees").scalar() == 600
        assert stored_results.scorecard_rows(reader, K, "department=Engineering") is not None


def test_a_bad_stored_views_setting_is_one_clear_message(monkeypatch):
    from analytics.errors import TwowayError
    from analytics.store import stored_results

    monkeypatch.setenv("TWOWAY_STORED_VIEWS_FROM", "20k")
    with pytest.raises(TwowayError, match=r"TWOWAY_STORED_VIEWS_FROM='20k' must be a whole number"):
        stored_results.stored_views_from()
