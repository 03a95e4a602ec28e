"""`python -m analytics value`: the ROI through the CLI, saved inputs, bad inputs, the interval.

Expected figures are worked out independently: the programme's size from the released data as
`tests.released_reference` restates it in pandas, the effects from the `claims` command's own
JSON (the scorecard's `metrics` rows), and the arithmetic by hand.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import duckdb
import pytest
from click.testing import CliRunner
from scipy import stats

from analytics.cli import cli
from analytics.store import Database
from analytics.value import Benefit, Costs
from tests.released_reference import release

COSTS = {"fixed": 1000, "per_pair": 10, "hourly_cost_mentor": 20, "hourly_cost_mentee": 50,
         "prep_hours_per_pair": 1, "replacement_cost": 30_000, "horizon_months": 6,
         "metric_values": {"tasks_completed": 40, "cycle_time_days": 15}}


@pytest.fixture
def vdb(demo_path, tmp_path):
    """A writable copy of the small demo (the tests save inputs into it)."""
    path = tmp_path / "value.duckdb"
    shutil.copy(demo_path, path)
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def value_json(path, *args) -> dict:
    res = invoke("value", "--db", path, "--json", *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def raw_tables(path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df()
                for t in ("employees", "pairs", "sessions", "waves", "items", "responses", "metrics")}


def test_value_json_keys_and_the_arithmetic_by_hand(vdb):
    doc = value_json(vdb, "--costs", json.dumps(COSTS))
    assert list(doc)[:7] == ["benefit", "cost", "bcr", "roi_pct", "roi_ci_low", "roi_ci_high", "parts"]
    # every input is in the output, the given ones and the defaults of the rest
    assert doc["inputs"] == {**COSTS, "metric_values": COSTS["metric_values"]}
    # programme size from the released data, restated independently in pandas
    rel = release(raw_tables(vdb), 5)
    pairs = len(rel["pairs"])
    hours = rel["sessions"].merge(rel["pairs"][["pair_id"]], on="pair_id")["duration_min"].sum() / 60
    assert doc["programme"]["pairs"] == pairs
    assert doc["programme"]["session_hours"] == pytest.approx(hours)
    # cost by hand: fixed + per pair + each role's (session + preparation) hours × its rate
    cost = 1000 + 10 * pairs + (hours + pairs) * 20 + (hours + pairs) * 50
    assert doc["cost"] == pytest.approx(cost)
    # effects: the claims command's productivity metrics rows (the causal estimates)
    card = json.loads(invoke("claims", "--db", vdb, "--json").output)
    metrics = {(m["metric"], m["role"]): m for m in next(c for c in card if c["id"] == "productivity")["metrics"]}
    benefit = 0.0
    for p in (p for p in doc["parts"] if p["kind"] == "metric"):
        metric, role = p["part"].rstrip(")").split(" (")
        m = metrics[(metric, role)]
        assert p["effect"] == pytest.approx(m["estimate"]) and p["people"] == m["n_treated"]
        # gain per person-month × people × 6 months × value of one unit
        assert p["benefit"] == pytest.approx(m["estimate"] * m["n_treated"] * 6 * COSTS["metric_values"][metric])
        benefit += m["estimate"] * m["n_treated"] * 6 * COSTS["metric_values"][metric]
    assert len([p for p in doc["parts"] if p["kind"] == "metric"]) == 4
    # retention: each role's 12-month leaving difference (released data), 6 of 12 months, × people × 30,000
    for e in retention_effects(vdb):
        name = f"avoided leavers ({e.role})"
        if e.estimate is None:
            assert {"part": name, "reason": e.reason} in doc["not_valued"]
            continue
        p = next(p for p in doc["parts"] if p["part"] == name)
        assert p["benefit"] == pytest.approx(-e.estimate.prob_diff * 6 / 12 * e.estimate.n_treated * 30_000)
        benefit += -e.estimate.prob_diff * 6 / 12 * e.estimate.n_treated * 30_000
    assert doc["benefit"] == pytest.approx(benefit)
    assert doc["bcr"] == pytest.approx(benefit / cost)
    assert doc["roi_pct"] == pytest.approx((benefit - cost) / cost * 100)
    assert doc["roi_ci_low"] < doc["roi_pct"] < doc["roi_ci_high"]


def retention_effects(path):
    """The scorecard's retention tests, read independently of the value code (the claims engine)."""
    from analytics.outcomes.retention import engine_effects

    with Database.reader(path) as db:
        return [e for e in engine_effects(db, 5) if e.outcome == "retention"]


def test_the_cli_interval_carries_the_planted_uncertainty(vdb, monkeypatch):
    # Planted estimates: the benefit is linear in two independent normals, so
    # B ~ N(mu, sd) with mu = 40·0.05·30,000 + 40·12·0.5·50 and sd² = (40·30,000·0.02)² + (40·12·50·0.25)².
    planted = [Benefit("avoided leavers (mentees)", "retention", 40, -0.05, 0.02, 30_000),
               Benefit("tasks_completed (mentees)", "metric", 40, 0.5, 0.25, 50)]
    monkeypatch.setattr("analytics.value_data.benefits", lambda db, costs, k, as_of=None: (planted, []))
    doc = value_json(vdb, "--costs", json.dumps({**COSTS, "horizon_months": 12}))
    mu = 40 * 0.05 * 30_000 + 40 * 12 * 0.5 * 50
    sd = math.hypot(40 * 30_000 * 0.02, 40 * 12 * 50 * 0.25)
    z = stats.norm.ppf(0.975)
    cost = doc["cost"]
    assert doc["benefit"] == pytest.approx(mu)
    # 3 Monte-Carlo SEs of the 2.5 % quantile of 20,000 draws is about 0.1 sd
    assert doc["benefit_ci_low"] == pytest.approx(mu - z * sd, abs=0.1 * sd)
    assert doc["benefit_ci_high"] == pytest.approx(mu + z * sd, abs=0.1 * sd)
    assert doc["roi_ci_low"] == pytest.approx((mu - z * sd - cost) / cost * 100, abs=0.1 * sd / cost * 100)
    assert doc["p_loss"] == pytest.approx(stats.norm.cdf((cost - mu) / sd), abs=0.01)


def table_hash(path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT * FROM value_inputs ORDER BY version").fetchall()
        meta = con.execute("SELECT * FROM meta ORDER BY key").fetchall()
    return hashlib.sha256(repr((rows, meta)).encode()).hexdigest()


def test_saved_inputs_round_trip_and_versions(vdb):
    first = invoke("value", "--db", vdb, "--costs", json.dumps({"fixed": 5000, "metric_values": {"tasks_completed": 12}}),
                   "--save", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["saved_version"] == 1
    doc = value_json(vdb)  # a new reader sees the saved inputs (a published snapshot)
    assert doc["inputs"]["fixed"] == 5000 and doc["inputs"]["metric_values"]["tasks_completed"] == 12
    assert doc["inputs"]["per_pair"] == 250.0  # a default stays visible
    assert doc["inputs_source"]["source"] == "saved" and doc["inputs_source"]["version"] == 1
    # a partial save changes only what it names
    second = invoke("value", "--db", vdb, "--costs", '{"per_pair": 99}', "--save")
    assert second.exit_code == 0, second.output
    doc = value_json(vdb)
    assert (doc["inputs"]["fixed"], doc["inputs"]["per_pair"], doc["inputs_source"]["version"]) == (5000, 99, 2)
    # --costs without --save is used once and never stored
    assert value_json(vdb, "--costs", '{"fixed": 1}')["inputs"]["fixed"] == 1
    assert value_json(vdb)["inputs"]["fixed"] == 5000


def test_a_pinned_link_reads_the_inputs_of_its_time(vdb):
    latest = int(duckdb.connect(str(vdb), read_only=True).execute(
        "SELECT max(import_id) FROM imports WHERE status = 'ok'").fetchone()[0])
    assert invoke("value", "--db", vdb, "--costs", '{"fixed": 1111}', "--save").exit_code == 0
    # a later import arrives (an empty metrics file is enough to move the latest import on)
    extra = vdb.parent / "more.csv"
    extra.write_text("employee_id,period,metric,value\nE000001,2026-01,tasks_completed,3\n")
    imp = invoke("import", extra, "--db", vdb, "--kind", "metrics")
    assert imp.exit_code == 0, imp.output
    assert invoke("value", "--db", vdb, "--costs", '{"fixed": 2222}', "--save").exit_code == 0
    assert value_json(vdb)["inputs"]["fixed"] == 2222
    pinned = value_json(vdb, "--as-of", latest)
    assert pinned["inputs"]["fixed"] == 1111 and pinned["inputs_source"]["version"] == 1


@pytest.mark.parametrize("costs, message", [
    ('{"fixed": -5}', "fixed must be a number of 0 or more"),
    ('{"fixed": NaN}', "NaN is not a number"),
    ('{"fixed": true}', "fixed must be a number"),
    ('{"per_pair": "ten"}', "per_pair must be a number"),
    ('{"horizon_months": 2.5}', "horizon_months must be a whole number"),
    ('{"metric_values": {"revenue": 10}}', "unknown metric(s) 'revenue'"),
    ('{"metric_values": {"tasks_completed": -1}}', "metric_values: the value of one unit of 'tasks_completed'"),
    ('{"metric_values": [1, 2]}', "metric_values must be an object"),
    ('{"budget": 5}', "unknown cost input(s) 'budget'"),
    ('{"fixed": 1e400}', "fixed must be a number"),
    ('[1, 2]', "must be a JSON object"),
    ('{"fixed": ', "not valid JSON"),
    ('{"replacement_cost": 1e15}', "replacement_cost must be at most"),
])
def test_bad_inputs_are_one_line_and_leave_the_database_as_it_was(vdb, costs, message):
    assert invoke("value", "--db", vdb, "--costs", '{"fixed": 7}', "--save").exit_code == 0
    before = table_hash(vdb)
    res = invoke("value", "--db", vdb, "--costs", costs, "--save")
    assert res.exit_code == 1
    assert message in res.output, res.output
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
    assert table_hash(vdb) == before


def test_huge_inputs_are_refused_inline_and_as_a_file(vdb, tmp_path):
    before = table_hash(vdb)
    huge = json.dumps({"metric_values": {f"m{i}": 1 for i in range(20_000)}})
    res = invoke("value", "--db", vdb, "--costs", huge, "--save")
    assert res.exit_code == 1 and "larger than 64 KiB" in res.output
    file = tmp_path / "costs.json"
    file.write_text(huge)
    res = invoke("value", "--db", vdb, "--costs", file, "--save")
    assert res.exit_code == 1 and "larger than 64 KiB" in res.output
    assert table_hash(vdb) == before


def test_costs_from_a_file_and_the_readable_table(vdb, tmp_path):
    file = tmp_path / "costs.json"
    file.write_text(json.dumps(COSTS))
    res = invoke("value", "--db", vdb, "--costs", file)
    assert res.exit_code == 0, res.output
    assert "ROI %" in res.output and "95% [" in res.output
    assert "metric_values.tasks_completed" in res.output
    assert all(f"not valued  avoided leavers ({e.role})" in res.output or f"benefit  avoided leavers ({e.role})"
               in res.output for e in retention_effects(vdb))
    # a given value does not hide its default: both are in the table and in the JSON
    row = next(line for line in res.output.splitlines() if line.strip().startswith("metric_values.tasks_completed"))
    assert row.split()[1:] == [f"{COSTS['metric_values']['tasks_completed']:,.2f}", "0.00"], row
    fixed = next(line for line in res.output.splitlines() if line.strip().startswith("fixed "))
    assert fixed.split()[-1] == f"{Costs().fixed:,}", fixed
    doc = json.loads(invoke("value", "--db", vdb, "--costs", file, "--json").output)
    assert doc["defaults"] == {**Costs().as_dict(), "metric_values": {m: 0.0 for m in doc["inputs"]["metric_values"]}}
    missing = invoke("value", "--db", vdb, "--costs", tmp_path / "nope.json")
    assert missing.exit_code == 1 and "neither a JSON object nor an existing file" in missing.output


def test_a_programme_under_the_threshold_gets_no_figure(vdb):
    res = invoke("value", "--db", vdb, "--min-group", 500)
    assert res.exit_code == 1 and "fewer than 500 pairs" in res.output


def test_a_snapshot_published_before_the_schema_upgrade_is_republished(vdb):
    from analytics.store.snapshots import POINTER, snapshot_dir

    with Database.reader(vdb) as db:
        first = dict(db.snapshot)
    pointer = snapshot_dir(vdb) / POINTER
    old = {k: v for k, v in json.loads(pointer.read_text()).items() if k != "schema"}  # as an older Twoway wrote it
    pointer.write_text(json.dumps(old))
    with Database.reader(vdb) as db:
        assert db.snapshot["seq"] == first["seq"] + 1 and db.snapshot["schema"] == first["schema"]
        assert db.query("SELECT count(*) FROM value_inputs").scalar() == 0


def test_a_snapshot_published_by_other_code_is_republished_once(vdb):
    """An upgrade of Twoway (another `code` in the pointer) republishes, so the stored results
    readers use are this code's; the next reader then keeps the new snapshot."""
    from analytics.store.snapshots import POINTER, code_version, snapshot_dir

    with Database.reader(vdb) as db:
        first = dict(db.snapshot)
    assert first["code"] == code_version()
    pointer = snapshot_dir(vdb) / POINTER
    pointer.write_text(json.dumps({**json.loads(pointer.read_text()), "code": "an older Twoway"}))
    with Database.reader(vdb) as db:
        assert db.snapshot["seq"] == first["seq"] + 1 and db.snapshot["code"] == code_version()
    with Database.reader(vdb) as db:
        assert db.snapshot["seq"] == first["seq"] + 1


def test_retention_estimates_become_avoided_leavers(vdb, monkeypatch):
    from analytics.outcomes.hazard import HazardEstimate
    from analytics.outcomes.retention import OutcomeEffect

    # planted: mentees leave 4 points less often in 12 months (95% CI −7 to −1 points), 60 participants
    est = HazardEstimate(0.7, 0.5, 0.9, math.log(0.7), 0.1, 0.01, 0.10, 0.14, -0.04, -0.07, -0.01, 60, 300, 6, 42,
                         5000)
    effects = [OutcomeEffect("retention", "mentees", est), OutcomeEffect("retention", "mentors", None, "too few"),
               OutcomeEffect("promotion", "mentees", est)]
    monkeypatch.setattr("analytics.outcomes.retention.engine_effects", lambda db, k, filters=None: effects)
    doc = value_json(vdb, "--costs", json.dumps({**COSTS, "horizon_months": 6, "replacement_cost": 50_000}))
    part = next(p for p in doc["parts"] if p["part"] == "avoided leavers (mentees)")
    # 6 of the 12 months: half the 12-month difference; se from the interval's width / (2 × 1.96)
    assert part["effect"] == pytest.approx(-0.04 * 0.5)
    assert part["se"] == pytest.approx(0.06 / (2 * stats.norm.ppf(0.975)) * 0.5)
    assert part["people"] == 60 and part["unit_value"] == 50_000
    assert part["benefit"] == pytest.approx(0.02 * 60 * 50_000)  # 1.2 avoided leavers × 50,000
    assert {"part": "avoided leavers (mentors)", "reason": "too few"} in doc["not_valued"]
    assert not [p for p in doc["parts"] if "promotion" in p["part"]]  # promotion is not valued in money
