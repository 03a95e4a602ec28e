"""The Value page in AppTest: defaults visible, analysts save, viewers cannot, hostile links."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from analytics.value import Costs
from tests.fixtures_dashboard import open_app

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "https://example.org/.well-known/openid-configuration"}}
VIEWER = {"is_logged_in": True, "email": "val@example.org", "name": "Val"}
PAGE = "pages/value.py"


@pytest.fixture
def value_env(demo_path, tmp_path, monkeypatch):
    """A writable copy of the small demo per test (the page saves into it)."""
    path = tmp_path / "value-app.duckdb"
    shutil.copy(demo_path, path)
    monkeypatch.setenv("TWOWAY_DB", str(path))
    monkeypatch.delenv("TWOWAY_MIN_GROUP_SIZE", raising=False)
    monkeypatch.delenv("TWOWAY_ROLES", raising=False)
    return path


def saved_rows(path) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT version, inputs, saved_by FROM value_inputs ORDER BY version").fetchall()


def inputs_table(at):
    return next(df.value for df in at.dataframe if "Input" in df.value.columns)


def test_every_default_is_visible_with_the_roi_and_its_interval(value_env):
    at = open_app({}, PAGE)
    assert not at.exception, at.exception
    assert at.title[0].value == "Value: what the programme returns"
    table = inputs_table(at)
    d = Costs()
    expected = {"Fixed programme cost": d.fixed, "Cost per pair": d.per_pair, "Horizon (months)": d.horizon_months,
                "Replacement cost of one leaver": d.replacement_cost,
                "value of one unit of tasks_completed": 0.0, "value of one unit of cycle_time_days": 0.0}
    shown = dict(zip(table["Input"], table["Default"]))
    for label, value in expected.items():
        assert shown[label] == value
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) >= {"Return on investment", "95% interval of the ROI", "Benefit–cost ratio"}
    assert " % to " in metrics["95% interval of the ROI"]
    # the sentence: a warning when the interval includes (or is) a loss, else a success note
    low = float(metrics["95% interval of the ROI"].split(" % to ")[0].replace(",", ""))
    boxes = at.warning if low < 0 else at.success
    assert any("95 % interval" in b.value and ("loss" in b.value) == (low < 0) for b in boxes)


def test_an_analyst_edits_saves_and_a_new_session_sees_the_saved_inputs(value_env):
    at = open_app({}, PAGE)
    assert at.button(key="value_save").disabled  # nothing changed yet
    at.number_input(key="val_fixed").set_value(5000.0).run()
    at.number_input(key="val_metric_1").set_value(25.0).run()  # tasks_completed (metrics in name order)
    link = json.loads(at.query_params["inputs"])  # the edited inputs are in the link
    assert link["fixed"] == 5000.0 and link["metric_values"]["tasks_completed"] == 25.0
    at.button(key="value_save").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved the inputs as version 1."]
    rows = saved_rows(value_env)
    assert len(rows) == 1 and json.loads(rows[0][1])["fixed"] == 5000.0 and rows[0][2] == "local user"
    assert "inputs" not in at.query_params  # the saved inputs need no link parameter
    fresh = open_app({}, PAGE)
    assert fresh.number_input(key="val_fixed").value == 5000.0
    assert dict(zip(inputs_table(fresh)["Input"], inputs_table(fresh)["Saved"]))["Fixed programme cost"] == 5000.0


def test_a_viewer_sees_the_result_but_cannot_save(value_env, tmp_path, monkeypatch):
    roles = tmp_path / "roles.toml"
    roles.write_text('analysts = ["ana@example.org"]\nviewers = ["@example.org"]\n')
    monkeypatch.setenv("TWOWAY_ROLES", str(roles))
    at = open_app({"inputs": json.dumps({"fixed": 777})}, PAGE, secrets=AUTH, user=VIEWER)
    assert not at.exception, at.exception
    assert not at.number_input and not [b for b in at.button if b.key == "value_save"]
    assert any("Only analysts" in c.value for c in at.caption)
    assert dict(zip(inputs_table(at)["Input"], inputs_table(at)["Value"]))["Fixed programme cost"] == 777
    assert saved_rows(value_env) == []


@pytest.mark.parametrize("hostile, field", [
    ('{"fixed": -1}', "fixed must be a number of 0 or more"),
    ('{"fixed": "[x](http://evil.example)"}', "fixed must be a number"),
    ('{"metric_values": {"<b>x</b>": 5}}', "unknown metric"),
    ('{"horizon_months": 1e9}', "horizon_months"),
    ('not json', "not valid JSON"),
    ('{"budget": 1}', "unknown cost input"),
    ("{" + '"fixed": 1,' * 2000 + '"per_pair": 1}', "longer than 4,000 characters"),
])
def test_hostile_link_inputs_are_dropped_with_a_plain_notice(value_env, hostile, field):
    at = open_app({"inputs": hostile}, PAGE)
    assert not at.exception, at.exception
    notes = [w.value for w in at.warning if w.value.startswith("Ignored the inputs in this link")]
    assert len(notes) == 1 and field in notes[0].replace("\\", ""), notes
    assert "[x](http://" not in notes[0] and "<b>" not in notes[0]  # plain text: no live link, no tag
    assert "inputs" not in at.query_params
    assert inputs_table(at)["Value"].tolist() == inputs_table(at)["Default"].tolist()  # the defaults apply
    assert saved_rows(value_env) == []


def test_a_valid_link_sets_the_inputs(value_env):
    at = open_app({"inputs": json.dumps({"fixed": 1234, "metric_values": {"tasks_completed": 9}})}, PAGE)
    assert not at.exception and not [w for w in at.warning if "Ignored" in w.value]
    assert at.number_input(key="val_fixed").value == 1234
    assert at.number_input(key="val_metric_1").value == 9


def test_a_pinned_link_shows_the_inputs_of_its_time_and_cannot_save(value_env):
    from analytics.value_data import save_inputs

    with duckdb.connect(str(value_env), read_only=True) as con:
        latest = con.execute("SELECT max(import_id) FROM imports WHERE status = 'ok'").fetchone()[0]
    save_inputs(value_env, {"fixed": 3333})
    with duckdb.connect(str(value_env)) as con:  # a later import arrives (its id is all that matters here)
        con.execute("INSERT INTO imports VALUES (?, 'later.csv', 'x', 'metrics', 0, now(), 'ok', NULL)", [latest + 1])
    save_inputs(value_env, {"fixed": 4444})
    at = open_app({"as_of": str(latest)}, PAGE)
    assert not at.exception, at.exception
    assert at.number_input(key="val_fixed").value == 3333
    assert at.button(key="value_save").disabled
    assert open_app({}, PAGE).number_input(key="val_fixed").value == 4444


def test_imported_metric_and_topic_names_render_as_text(value_env):
    from tests.test_plain_text import LINK, TAG, TOPIC, check_page_is_plain, chart_specs, strings_in

    with duckdb.connect(str(value_env)) as con:  # a metric and a topic named as an attacker would
        for table in ("metrics", "metric_defs"):
            con.execute(f"UPDATE {table} SET metric = ? WHERE metric = 'tasks_completed'", [LINK + TAG])
        con.execute("UPDATE sessions SET topics = list_transform(topics, lambda t: CASE WHEN t = 'AI tools' THEN ? "
                    "ELSE t END)", [TOPIC])
    at = open_app({}, PAGE)
    check_page_is_plain(at)
    labels = [n.label for n in at.number_input]
    assert any("\\[Sign in again\\]" in lb and "\\<a href" in lb for lb in labels), labels  # escaped, still there
    texts = [s for spec in chart_specs(at) for s in strings_in(spec["data"])]
    assert any("&lt;a href" in s for s in texts)  # the part's name in the chart, escaped
    assert TOPIC in set(at.dataframe[-1].value["Topic"])  # a dataframe shows text as text


def test_the_sidebar_filters_leave_the_whole_programmes_return_and_say_why(value_env):
    # a filtered ROI is left out on purpose (README, "Return on investment"): the figures are the
    # whole programme's whatever the group filters, and the page says so with the reason
    whole = {m.label: m.value for m in open_app({}, PAGE).metric}
    at = open_app({"department": "Sales"}, PAGE)
    assert not at.exception, at.exception
    assert {w.label: w.value for w in at.sidebar.multiselect}["Department"] == ["Sales"]  # the filter is set
    assert {m.label: m.value for m in at.metric} == whole
    assert any("filters do not apply" in c.value and "fixed cost" in c.value for c in at.caption)
