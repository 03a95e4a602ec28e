"""Bad input that used to crash: a Unicode digit as `as_of`, a metric without a unit, a roles
file with a string instead of a list, a non-finite upload limit, an unverified e-mail address.
Each is now one clear message (a notice, an error on the page, one line from the CLI)."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from click.testing import CliRunner

from analytics.cli import cli
from analytics.errors import TwowayError
from analytics.filters import Filters
from analytics.importing.reading import max_upload_mb, read_table
from analytics.roles import load_roles
from tests.fixtures_dashboard import app_db_path, app_env, open_app  # noqa: F401

UNICODE_DIGITS = ["²", "١٢", "௫", "1²"]  # str.isdigit() is True for each, int() fails on the first three


@pytest.mark.parametrize("value", UNICODE_DIGITS)
def test_a_unicode_digit_as_of_is_a_notice(value):
    f = Filters.parse({"as_of": value})
    assert f.as_of is None
    assert f.notices == (f"Ignored as_of {value!r}: not an import id.",)
    with pytest.raises(TwowayError, match="not an import id"):
        Filters.from_where([f"as_of={value}"])


def test_an_ascii_import_id_still_pins():
    assert Filters.parse({"as_of": "12"}).as_of == 12


@pytest.fixture
def demo_copy(demo_path, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_path, path)
    return path


def test_the_cli_refuses_a_unicode_as_of_in_one_line(demo_copy):
    result = CliRunner().invoke(cli, ["claims", "--db", str(demo_copy), "--where", "as_of=²"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not an import id" in lines[0] and "Traceback" not in result.output


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/productivity.py", "pages/data.py"])
def test_a_unicode_as_of_link_opens_the_page_with_a_notice(app_env, page):
    at = open_app({"as_of": "²"}, page)
    assert not at.exception, at.exception
    assert any("Ignored as_of" in w.value for w in at.warning)
    assert "as_of" not in at.query_params


def test_productivity_draws_a_metric_without_a_unit(demo_copy, app_env, monkeypatch):
    # one metric with a unit and one without: pandas reads the missing unit as NaN (a float)
    with duckdb.connect(str(demo_copy)) as con:
        metrics = [r[0] for r in con.execute("SELECT DISTINCT metric FROM metrics ORDER BY 1").fetchall()]
        assert len(metrics) >= 2
        con.execute("DELETE FROM metric_defs WHERE metric = ?", [metrics[0]])
        con.execute("UPDATE metric_defs SET unit = 'tickets' WHERE metric = ?", [metrics[1]])
    monkeypatch.setenv("TWOWAY_DB", str(demo_copy))
    at = open_app({}, "pages/productivity.py")
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 2 * len(metrics)
    assert any(c.value.startswith("Mean value (") for c in at.caption)  # the missing unit says "value"
    assert any(c.value.startswith("Mean tickets (") for c in at.caption)


@pytest.mark.parametrize("text", ['analysts = "ana@example.org"\n', 'viewers = "@example.org"\n',
                                  'analysts = ["ana@example.org", 3]\n'])
def test_a_roles_file_with_a_string_is_a_clear_error(tmp_path, text):
    path = tmp_path / "roles.toml"
    path.write_text(text)
    with pytest.raises(TwowayError, match="must be a list of e-mail addresses or @domains"):
        load_roles(path)


AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "https://example.org/.well-known/openid-configuration"}}


def test_a_broken_roles_file_stops_the_app_with_a_message(app_env, tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('analysts = "ana@example.org"\n')
    monkeypatch.setenv("TWOWAY_ROLES", str(path))
    at = open_app(secrets=AUTH, user={"is_logged_in": True, "email": "ana@example.org", "email_verified": True})
    assert not at.exception, at.exception
    assert at.error and "roles file is wrong" in at.error[0].value and "must be a list" in at.error[0].value
    assert "roles.toml" in at.error[0].value and str(tmp_path) not in at.error[0].value  # no server path
    assert not at.metric


@pytest.mark.parametrize("verified, role", [(False, None), ("false", None), (True, "analyst"), (None, "analyst")])
def test_an_unverified_email_gets_no_role(app_env, tmp_path, monkeypatch, verified, role):
    path = tmp_path / "roles.toml"
    path.write_text('analysts = ["ana@example.org"]\n')
    monkeypatch.setenv("TWOWAY_ROLES", str(path))
    user = {"is_logged_in": True, "email": "ana@example.org", "name": "Ana"}
    if verified is not None:  # None: a provider that never sends the claim
        user["email_verified"] = verified
    at = open_app({}, "pages/overview.py", secrets=AUTH, user=user)
    assert not at.exception, at.exception
    if role is None:
        assert at.error and "not verified" in at.error[0].value
        assert not at.metric
    else:
        assert at.metric and any("(analyst)" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "-1", "0", "lots", ""])
def test_a_non_finite_upload_limit_is_a_clear_error(monkeypatch, tmp_path, raw):
    monkeypatch.setenv("TWOWAY_MAX_UPLOAD_MB", raw)
    with pytest.raises(TwowayError, match="TWOWAY_MAX_UPLOAD_MB=.* must be a positive number of MB"):
        max_upload_mb()
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(TwowayError, match="TWOWAY_MAX_UPLOAD_MB"):
        read_table(path)


def test_the_cli_and_the_upload_page_report_a_bad_upload_limit(monkeypatch, app_env, tmp_path):
    monkeypatch.setenv("TWOWAY_MAX_UPLOAD_MB", "nan")
    path = tmp_path / "employees.csv"
    path.write_text("employee_id,department\nE1,Sales\n")
    result = CliRunner().invoke(cli, ["import", str(path), "--db", str(tmp_path / "new.duckdb")])
    assert result.exit_code == 1 and "TWOWAY_MAX_UPLOAD_MB='nan'" in result.output
    assert "Traceback" not in result.output
    at = open_app({}, "pages/upload.py")
    assert not at.exception, at.exception
    assert at.error and "TWOWAY_MAX_UPLOAD_MB" in at.error[0].value


def test_a_link_the_browser_cut_down_says_so_and_is_cleaned(app_env):
    # what the sidebar's script reopens when Streamlit dropped a query string of 2,000 parameters
    # (the whole flow runs in tests/test_browser_signin.py)
    at = open_app({"_tw_dropped": "1993", "department": "Sales"}, "pages/data.py")
    assert not at.exception, at.exception
    assert "1,993 unknown or over-long parameters were ignored" in at.warning[0].value
    assert at.multiselect(key="flt_department").value == ["Sales"]
    assert dict(at.query_params) == {"department": "Sales"}


def test_a_link_without_parameters_carries_the_size_check_script(app_env):
    at = open_app({}, "pages/data.py")
    scripts = [h for h in at.sidebar.get("html")]
    assert len(scripts) == 1 and "_tw_dropped" in scripts[0].proto.body and "1000" in scripts[0].proto.body
    assert not open_app({"department": "Sales"}, "pages/data.py").sidebar.get("html")
