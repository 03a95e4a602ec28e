"""Every dashboard page in AppTest: renders, honours filters from the URL, round-trips links,
survives hostile parameters and never shows a group under the threshold."""

from __future__ import annotations

import re

import pytest

from tests.fixtures_dashboard import PAGES, app_db_path, app_env, open_app, raw_scalar, shown_numbers, widget_values  # noqa: F401
from tests.released_reference import release


def raw_tables(path) -> dict:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df()
                for t in ("employees", "employee_history", "pairs", "sessions", "waves", "items", "responses",
                          "metrics")}

FILTERED = {"department": ["Engineering", "Sales"], "generation": "Millennial"}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("params", [{}, FILTERED], ids=["everyone", "filtered"])
def test_every_page_renders_with_and_without_filters(app_env, page, params):
    at = open_app(params, page)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title, "the page has a title"
    if params:
        assert widget_values(at)["department"] == ["Engineering", "Sales"]
        assert at.query_params["department"] == ["Engineering", "Sales"]
        assert at.query_params["generation"] == "Millennial"


def test_overview_figures_come_from_the_data_for_the_filtered_people(app_env):
    at = open_app(FILTERED)
    rel = release(raw_tables(app_env), 5)  # the released data (docs/PRIVACY.md), recomputed in pandas
    e = rel["roster_now"]  # the head count: people employed on the data date, with their groups then
    sel = e[e["department"].isin(["Engineering", "Sales"]) & (e["generation"] == "Millennial")]
    employees = len(sel)
    participants = int(sel["employee_id"].isin(set(rel["pairs"]["mentor_id"]) | set(rel["pairs"]["mentee_id"])).sum())
    shown = shown_numbers(at)
    assert shown["Employees"] == f"{employees:,}"
    assert shown["Programme participants"] == f"{participants:,}"


def test_changing_a_filter_updates_the_url_and_a_new_session_reproduces_the_view(app_env):
    at = open_app({}, "pages/activity.py")
    before = shown_numbers(at)
    # two location values the filter offers (small locations of the demo read "Other")
    two = list(at.multiselect(key="flt_location").options)[:2]
    assert len(two) == 2, two
    at.multiselect(key="flt_location").select(two[0]).select(two[1]).run()
    at.multiselect(key="flt_level").select("Associate").run()
    at.select_slider(key="flt_waves").set_range("pulse-2025-q2", "pulse-2025-q3").run()
    assert not at.exception
    url = dict(at.query_params)
    assert url["location"] == two and url["level"] == "Associate"
    # the wave range travels as the opening dates of its first and last wave
    assert url["date_from"] == "2025-04-15" and url["date_to"] == "2025-07-15"
    after = shown_numbers(at)
    assert after != before

    again = open_app(url, "pages/activity.py")
    assert widget_values(again) == widget_values(at)
    assert again.select_slider(key="flt_waves").value == at.select_slider(key="flt_waves").value
    assert shown_numbers(again) == after
    assert dict(again.query_params) == url


def test_the_same_link_opens_the_same_page_with_the_same_numbers(app_env):
    link = {"cohort": "2025-A", "department": "Engineering"}
    first = open_app(link, "pages/activity.py")
    second = open_app(link, "pages/activity.py")
    assert shown_numbers(first) == shown_numbers(second)
    assert [d.value.to_dict() for d in first.dataframe] == [d.value.to_dict() for d in second.dataframe]


def test_filters_survive_a_page_switch(app_env):
    at = open_app({"department": "Sales"}, "pages/productivity.py")
    at.switch_page("pages/engagement.py").run()
    assert widget_values(at)["department"] == ["Sales"]
    assert at.query_params["department"] == "Sales"


HOSTILE = {
    "department": ["Sales", "x' OR '1'='1", "Robert'); DROP TABLE employees;--"],
    "location": "A" * 10_000,
    "date_from": "2025-13-45",
    "date_to": "not a date",
    "as_of": "1; DELETE FROM imports",
    "method": "<script>alert(1)</script>",
    "utm_source": "newsletter",
}


@pytest.mark.parametrize("page", PAGES)
def test_hostile_parameters_are_ignored_with_a_notice(app_env, page):
    at = open_app(HOSTILE, page)
    assert not at.exception, at.exception
    notices = " ".join(w.value for w in at.warning)
    for word in ("department", "location", "date_from", "date_to", "as_of", "method", "utm_source"):
        assert word in notices, word
    assert widget_values(at)["department"] == ["Sales"]
    assert dict(at.query_params) == {"department": "Sales"}  # the URL is cleaned
    assert raw_scalar(app_env, "SELECT count(*) FROM employees") > 0  # nothing was dropped


def test_notices_survive_a_valid_date_range_being_snapped_to_waves(app_env):
    # the date range is valid, so the filters are rebuilt around the wave dates: the notice
    # about the unknown department must not be lost on the way
    at = open_app({"department": ["Sales", "Nope"], "date_from": "2025-04-01", "date_to": "2025-08-01"},
                  "pages/engagement.py")
    assert not at.exception, at.exception
    assert "Ignored department 'Nope': no such value." in [w.value for w in at.warning]
    assert widget_values(at)["department"] == ["Sales"]


def test_thousands_of_junk_parameters_give_a_short_notice(app_env):
    junk = {f"x{i}": "y" for i in range(600)}
    at = open_app({**junk, "department": "Sales"}, "pages/data.py")
    assert not at.exception
    assert len(at.warning) == 9 and "592 more" in at.warning[-1].value
    assert dict(at.query_params) == {"department": "Sales"}


def test_a_date_range_without_waves_is_ignored_with_a_notice(app_env):
    at = open_app({"date_from": "2030-01-01"}, "pages/activity.py")
    assert any("no survey wave" in w.value for w in at.warning)
    assert "date_from" not in at.query_params


def small_cell(path):
    """A department and a level whose combination holds 1–4 people (found in the raw data)."""
    return raw_scalar(path, """SELECT [department, level] FROM employees GROUP BY department, level
                               HAVING count(*) BETWEEN 1 AND 4 ORDER BY count(*), department, level LIMIT 1""")


@pytest.mark.parametrize("page", ["pages/engagement.py", "pages/claims.py"])
def test_a_subtractable_selection_differs_from_the_wider_view_by_whole_groups(app_env, page):
    # "Department D, every level but L" against "Department D", where D has 1-4 people at level L:
    # on released data those few carry the label "Other" with others (or are withheld), so the
    # two views differ by nobody or by whole groups of at least 5, and both may be shown.
    dept, level = small_cell(app_env)
    e = release(raw_tables(app_env), 5)["employees"]
    in_dept = e[e["department"] == dept]
    assert (in_dept["level"] == level).sum() in (0, *range(5, 10_000))
    others = sorted(set(e["level"].dropna()) - {level})
    at = open_app({"department": dept, "level": others}, page)
    assert not at.exception and not at.error, [x.value for x in at.error]
    assert widget_values(at)["level"] == others
    gap = len(in_dept) - int(in_dept["level"].isin(others).sum())
    assert gap == 0 or gap >= 5
    for frame in at.dataframe:
        if "n" in frame.value.columns:
            assert (frame.value["n"].dropna() >= 5).all(), frame.value


def test_raising_the_threshold_merges_groups_and_says_so(app_env, monkeypatch):
    monkeypatch.setenv("TWOWAY_MIN_GROUP_SIZE", "60")
    at = open_app({}, "pages/engagement.py")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "groups smaller than 60 people" in captions
    for frame in at.dataframe:  # every figure is built from groups of at least 60
        if "n" in frame.value.columns:
            assert (frame.value["n"].dropna() >= 60).all(), frame.value


def test_local_mode_says_so(app_env):
    at = open_app({}, "pages/data.py")
    assert any("Single-user local mode" in c.value for c in at.sidebar.caption)


def test_copy_link_shows_the_query_string(app_env):
    at = open_app({"generation": ["Millennial", "Gen Z"]}, "pages/engagement.py")
    code = at.sidebar.code[0].value
    assert code.endswith("?generation=Gen+Z&generation=Millennial")


@pytest.fixture
def roles_file(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('analysts = ["ana@example.org"]\nviewers = ["@example.org"]\n')
    monkeypatch.setenv("TWOWAY_ROLES", str(path))
    return path


AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "https://example.org/.well-known/openid-configuration"}}


def test_with_login_configured_a_signed_out_person_sees_only_the_sign_in(app_env, roles_file):
    at = open_app(secrets=AUTH, user={"is_logged_in": False})
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric


def test_a_viewer_sees_dashboards_but_cannot_reach_analyst_pages(app_env, roles_file):
    viewer = {"is_logged_in": True, "email": "val@example.org", "name": "Val"}
    at = open_app(secrets=AUTH, user=viewer)
    assert not at.exception and at.metric
    assert any("val\u2060@example.org (viewer)" in c.value for c in at.sidebar.caption)  # plain: no mailto link
    for page in ("pages/data.py", "pages/upload.py"):
        viewer_at = open_app({}, None, secrets=AUTH, user=viewer)
        with pytest.raises(ValueError, match="not a registered page|Could not find"):
            viewer_at.switch_page(page)  # not registered for viewers: no URL leads there
    analyst = open_app({}, "pages/data.py", secrets=AUTH,
                       user={"is_logged_in": True, "email": "ana@example.org", "name": "Ana"})
    assert not analyst.exception and analyst.title[0].value == "Data"


def test_an_unknown_account_gets_no_access(app_env, roles_file):
    at = open_app(secrets=AUTH, user={"is_logged_in": True, "email": "eve@elsewhere.com"})
    assert at.error and "no access" in at.error[0].value
    assert not at.metric


def test_a_link_can_open_one_claim_with_its_evidence(app_env):
    at = open_app({"claim": "engagement"}, "pages/claims.py")
    assert not at.exception, at.exception
    assert not at.warning  # 'claim' is a page parameter, not an unknown filter
    titles = [s.value for s in at.subheader]
    # the effect against the comparison by wave since the start (engine v2), else both groups' levels
    assert ("It raises engagement: effect by wave since the start" in titles
            or "It raises engagement: both groups' levels (descriptive)" in titles), titles
    assert "Is the comparison group comparable?" in titles
    assert not any(t.startswith("It changes leadership for the better:") for t in titles)  # closed claims stay light
    assert any("Naive comparisons" in m.value for m in at.markdown)
    assert at.query_params["claim"] == "engagement"
    for frame in at.dataframe:  # the claims engine's tables keep to the threshold as well
        for col in ("People", "Participants", "Comparison colleagues"):  # tables carry human column names
            if col in frame.value.columns and frame.value[col].dtype.kind in "iuf":
                assert (frame.value[col].dropna() >= 5).all(), frame.value


def test_the_productivity_claim_shows_its_metrics_month_by_month_on_request(app_env):
    """The monthly event study is not computed with the claim (it would slow every detail at
    scale): a toggle asks for it, and then each objective metric gets its chart."""
    at = open_app({"claim": "productivity"}, "pages/claims.py")
    assert not at.exception, at.exception
    title = "Reverse mentoring makes work more efficient: tasks completed by month since the start"
    assert title not in [s.value for s in at.subheader]
    toggle = at.toggle(key="monthly-productivity")
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    titles = [s.value for s in at.subheader]
    assert title in titles, titles
    assert "Reverse mentoring makes work more efficient: cycle time days by month since the start" in titles


@pytest.fixture(scope="module")
def imported_org(tmp_path_factory):
    """A tiny organisation imported from the importer's example exports (five people)."""
    from analytics.importing import import_file
    from analytics.store import Database
    from tests.fixtures import ROOT

    exports = ROOT / "tests" / "data" / "exports"
    path = tmp_path_factory.mktemp("imported") / "imported.duckdb"
    with Database(path) as db:
        for name in ("employees", "pairs", "sessions", "metrics"):
            import_file(db, exports / f"{name}.csv")
        import_file(db, exports / "survey_wide.csv", survey="pulse-2025-q2",
                    mapping={"eng_1": "engagement", "bel_1": "belonging", "psy_1": "psychological_safety"})
        import_file(db, exports / "qualtrics_pulse.csv")
    return path


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_imported_organisation_without_showing_small_groups(imported_org, page,
                                                                                    monkeypatch):
    monkeypatch.setenv("TWOWAY_DB", str(imported_org))
    monkeypatch.delenv("TWOWAY_MIN_GROUP_SIZE", raising=False)
    at = open_app({}, page)
    assert not at.exception, at.exception
    for frame in at.dataframe:
        df = frame.value
        if "People" in df.columns:  # tables carry human column names ("n" is "People")
            assert (df["People"].dropna() >= 5).all(), df
    if page != "pages/data.py":  # five people in groups of one or two: nothing about them is released
        sizes = [tuple(map(int, m.groups())) for c in at.caption
                 if (m := re.search(r"(\d+) participants · (\d+) comparison", c.value))]
        assert all(n == 0 for pair in sizes for n in pair), sizes
        for frame in at.dataframe:
            numbers = frame.value.select_dtypes("number")
            assert numbers.empty or not (numbers.fillna(0) > 0).any().any() or "People" not in frame.value.columns \
                or (frame.value["People"].dropna() >= 5).all(), frame.value
        assert shown_numbers(at).get("Employees", "0") in ("0", "—")


@pytest.fixture(scope="module")
def grown_org(demo_path, tmp_path_factory):
    """The demo after one more import (five new employees arrive as import #2)."""
    import shutil

    from analytics.importing import import_file
    from analytics.store import Database
    from tests.fixtures import ROOT

    path = tmp_path_factory.mktemp("grown") / "grown.duckdb"
    shutil.copy(demo_path, path)
    with Database(path) as db:
        import_file(db, ROOT / "tests" / "data" / "exports" / "employees.csv")
    return path


def test_a_pinned_link_keeps_the_numbers_its_sender_saw(grown_org, demo_path, monkeypatch):
    monkeypatch.setenv("TWOWAY_DB", str(grown_org))
    before = raw_scalar(demo_path, "SELECT count(*) FROM employees")
    released_now = len(release(raw_tables(grown_org), 5)["roster_now"])  # before the app holds the file
    pinned = open_app({"as_of": "1"}, "pages/overview.py")
    assert not pinned.exception, pinned.exception
    assert any("pinned to the data as of import #1" in i.value for i in pinned.info)
    assert pinned.checkbox(key="flt_pin").value and pinned.query_params["as_of"] == "1"

    latest = open_app({}, "pages/overview.py")
    assert shown_numbers(latest)["Employees"] == f"{released_now:,}"
    assert not latest.info
    # the pinned view shows the old data only where the five newcomers do not make the
    # difference a group of 1-4 people: the two counts differ by 0 or by at least 5
    then = int(shown_numbers(pinned)["Employees"].replace(",", ""))
    assert then <= before and released_now - then in (0, *range(5, 10_000))

    latest.checkbox(key="flt_pin").check().run()  # pin the current view: the link records import #2
    assert latest.query_params["as_of"] == "2"


def test_a_pin_to_an_import_that_does_not_exist_is_ignored(app_env):
    at = open_app({"as_of": "99"}, "pages/data.py")
    assert any("as_of" in w.value for w in at.warning)
    assert "as_of" not in at.query_params
