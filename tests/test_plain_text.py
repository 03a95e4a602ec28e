"""Text from links and imported data is drawn as plain text: no Markdown link, image or HTML tag
reaches the browser from a URL parameter (its value or its name), from an imported department,
level, location or topic name, or through a chart or the HTML report."""

from __future__ import annotations

import json
import re
import shutil

import duckdb
import plotly.express as px
import pytest

from analytics.filters import Filters
from tests.fixtures_dashboard import PAGES, app_db_path, app_env, open_app, widget_values  # noqa: F401

LINK = "[Sign in again](http://evil.example/login)"
IMAGE = "![x](http://evil.example/pixel.png)"
TAG = '<a href="http://evil.example/">Berlin</a>'
TOPIC = "<img src=http://evil.example/t.png> **AI tools**"

# An unescaped Markdown link or image: "[text](" whose brackets are not backslash-escaped.
LIVE_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")
# A bare address Streamlit would turn into a link (it does so after resolving escapes): the
# scheme, "www." or "@" not broken by a word joiner.
AUTOLINK = re.compile(r"https?://|\bwww\.|[\w.+-]@\w|(?<!\\)<(a|img)\b", re.I)
J = "\u2060"  # the word joiner ui.text.plain puts in


def live_markup(text: str) -> list[str]:
    return LIVE_LINK.findall(text) + [m.group(0) for m in AUTOLINK.finditer(text)]


def markdown_bodies(at) -> list[str]:
    """The Markdown source of every element that renders Markdown, main area and sidebar."""
    out = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "warning", "info", "error", "success"):
        out += [e.value for e in getattr(at, kind)]
    out += [e.label for e in at.metric] + [e.label for e in at.expander]
    out += [m.proto.help for m in at.metric if m.proto.help]
    return out


def chart_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def strings_in(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings_in(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings_in(v)]
    return []


@pytest.mark.parametrize("value", [LINK, IMAGE])
def test_markdown_in_a_link_value_is_shown_as_text(app_env, value):
    at = open_app({"department": value}, "pages/data.py")
    assert not at.exception, at.exception
    notices = [w.value for w in at.warning]
    assert len(notices) == 1 and "no such value" in notices[0]
    # the text is all there, escaped: the brackets and "!" render as themselves
    assert "\\[" in notices[0] and "\\]" in notices[0] and f"http{J}://evil.example" in notices[0]
    if value.startswith("!"):
        assert "\\!\\[x\\]" in notices[0]
    assert not live_markup(notices[0]), notices[0]
    assert "department" not in at.query_params  # and the link is cleaned


def test_markdown_in_a_parameter_name_is_shown_as_text(app_env):
    at = open_app({LINK: "1", f"{IMAGE}x": "2"}, "pages/activity.py")
    assert not at.exception
    notices = [w.value for w in at.warning]
    assert len(notices) == 2 and all("Ignored unknown filter" in n for n in notices)
    for body in notices:
        assert not live_markup(body), body
    assert not at.query_params


@pytest.fixture(scope="module")
def hostile_db(demo_path, tmp_path_factory):
    """The demo with a department, level, location and topic named as an attacker would."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(demo_path, path)
    with duckdb.connect(str(path)) as con:
        for table in ("employees", "employee_history"):  # figures read attributes at each wave from the history
            con.execute(f"UPDATE {table} SET department = ? WHERE department = 'Sales'", [LINK])
            con.execute(f"UPDATE {table} SET level = ? WHERE level = 'Associate'", [IMAGE])
            # the largest location: smaller ones of this small demo read "Other" in the release
            con.execute(f"UPDATE {table} SET location = ? WHERE location = 'London'", [TAG])
        con.execute("UPDATE sessions SET topics = list_transform(topics, lambda t: CASE WHEN t = 'AI tools' THEN ? "
                    "ELSE t END)", [TOPIC])
        assert con.execute("SELECT count(*) FROM employees WHERE department = ?", [LINK]).fetchone()[0] > 20
    return path


@pytest.fixture
def hostile_env(hostile_db, app_env, monkeypatch):
    monkeypatch.setenv("TWOWAY_DB", str(hostile_db))
    return hostile_db


OWN_CELL_LINK = re.compile(r'^<a href="claims\?[A-Za-z0-9%&=._~+-]*" target="_self" style="color:#[0-9a-f]{6}">'
                           r'(<b>)?[+-]\d+\.\d\d\*?(</b>)?</a>$')


def check_page_is_plain(at) -> None:
    assert not at.exception, at.exception
    bodies = markdown_bodies(at) + [e.value for e in at.sidebar.caption]
    for body in bodies:
        assert not live_markup(body), body
    for spec in chart_specs(at):
        for s in strings_in(spec.get("data", [])) + strings_in(spec.get("layout", {})):
            # the one tag our own figures add: the Where page's number linking to its Claims view
            # (charts.link_cells: a percent-encoded relative URL around a number, no data text)
            s = OWN_CELL_LINK.sub("", s)
            assert not re.search(r"<(a|img|span)\b", s, re.I), s
    for table in at.table:
        for cell in table.value.astype(str).to_numpy().ravel():
            assert not live_markup(cell), cell


@pytest.mark.parametrize("page", PAGES)
def test_imported_names_render_as_text_in_captions_and_charts(hostile_env, page):
    params = {"department": [LINK, "Engineering"], "location": [TAG, "Other"]}
    at = open_app(params, page)
    check_page_is_plain(at)
    assert widget_values(at)["department"] == sorted([LINK, "Engineering"])  # the value itself is kept
    caption = at.caption[0].value
    assert f"\\[Sign in again\\](http{J}://evil.example/login)" in caption
    assert f'\\<a href="http{J}://evil.example/"\\>Berlin\\</a\\>' in caption


def test_imported_names_in_charts_are_escaped_not_dropped(hostile_env):
    at = open_app({}, "pages/activity.py")
    check_page_is_plain(at)
    texts = [s for spec in chart_specs(at) for s in strings_in(spec["data"])]
    assert any("&lt;img src=http://evil.example/t.png&gt;" in s for s in texts), "the topic is shown, escaped"
    at = open_app({}, "pages/engagement.py")
    at.segmented_control(key="heatmap_group").set_value("level").run()
    check_page_is_plain(at)
    heat = [s for spec in chart_specs(at) for s in strings_in(spec["data"])]
    assert IMAGE in heat  # Markdown means nothing to plotly; it has no tag to escape


def test_the_html_report_has_no_link_or_image_from_the_data():
    import pandas as pd

    from ui.exports import ViewReport

    data = pd.DataFrame({"department": [LINK, TAG, TOPIC], "sessions": [7, 8, 9]})
    fig = px.bar(data, x="department", y="sessions", color="department")
    view = ViewReport(f"Activity {TAG}", Filters(department=(TAG,)), 5)
    view.chart(f"Sessions in {TAG}", fig, data, text=f"Topic {TOPIC}", key="x")
    view.table(f"Table {TAG}", data)
    view.note(TAG, TOPIC)
    page = view.html()
    outside_scripts = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
    assert not re.search(r"<a\b|<img\b", outside_scripts, re.I)
    assert "&lt;a href=&quot;http://evil.example/&quot;&gt;Berlin&lt;/a&gt;" in outside_scripts
    # the figure as plotly.js reads it (JSON inside the script) has no tag from the data either
    figure = json.loads(view.sections[0].figure.to_json())
    found = strings_in(figure["data"]) + strings_in(figure["layout"])
    assert not [s for s in found if re.search(r"<(a|img)\b", s, re.I)]
    assert any("&lt;a href=\"http://evil.example/\"&gt;Berlin&lt;/a&gt;" in s for s in found)


def test_importer_messages_on_the_upload_page_are_plain_text(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from analytics.importing import preview
    from analytics.store import Database
    from tests.fixtures_dashboard import APP

    monkeypatch.setenv("TWOWAY_DB", str(tmp_path / "up.duckdb"))
    path = tmp_path / "employees.csv"
    path.write_text("employee_id,department,level,location,birth_year,hire_date,manager_id\n"
                    f'"{IMAGE}",Sales,Associate,Berlin,1990,2020-01-01,\n"{IMAGE}",Sales,Associate,Berlin,1991,'
                    "2020-01-01,\n")
    with Database(tmp_path / "up.duckdb") as db:
        staged = {"key": None, "path": path, "name": path.name, "preview": preview(db, path)}
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["upload_staged"] = staged
    at.switch_page("pages/upload.py")
    at.run()
    at.button(key="check").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("appears more than once" in e for e in errors), errors
    for body in errors + [w.value for w in at.warning]:
        assert not live_markup(body), body
    assert any("\\!\\[x\\]" in e for e in errors)
