"""The curious viewer, automated (issue #8): no pair of allowed views reveals a small group.

The attacker has what any viewer has: every filter combination the sidebar and links allow (up
to two dimensions, with value sets such as level=Associate&level=Executive and "every value but
one"), pinned links around a small late import, and every table behind the pages and their
"Download data (CSV)" buttons: `analytics.views`, the headline and its quarter-earlier figures,
the claims scorecard with every role's and metric's counts (what `claims --json`, the Where page
and the board report show), a claim's balance table, the Value page's topic screen, and the
Value page / `value --json` figures per pinned version. For every pair of views whose selections
are nested (one view's people are a subset of the other's: a narrower filter, or an older pinned
version of the same filter) and every cell the two share, it computes the difference of head
counts and, for means and sums, n_A·mean_A − n_B·mean_B. A difference of 1 to k−1 people is a
statistic of fewer than k people: a finding. So is a cell of 1 to k−1 people, and a breakdown
whose cells add up to 1 to k−1 fewer people than the view's total (a complementary cell). The
claims engine's counts are counts among each test's sample, so their cells' people are the
sample's (`_samples`, docs/PRIVACY.md point 7).

The attack functions only use calls that the code before issue #8 also had (the readers of
later outputs skip what older code lacks), so running them against that code finds the leaks (see `leaks_exactly`, which also checks recovered values
against the raw database); on released data they must find nothing.
"""

from __future__ import annotations

import itertools
import json
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics import views
from analytics.demo import build_demo
from analytics.filters import Filters
from analytics.store import Database

K = 5
DIMS = ("department", "location", "generation", "level", "cohort")


# -- what the viewer can read ---------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One figure of one table: its head count and the means or sums computed over those people."""

    table: str
    key: tuple
    n: float                       # people the figure is computed from
    means: tuple = ()              # (name, value) averaged over the n people
    sums: tuple = ()               # (name, value) added up over the n people


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _cells(table: str, df: pd.DataFrame, key: list[str], n: str, means=(), sums=(), people_per_n: int = 1):
    out = []
    if df is None or len(df) == 0:
        return out
    for r in df.to_dict("records"):
        count = _num(r.get(n)) * people_per_n
        if not np.isfinite(count) or count <= 0:
            continue
        out.append(Cell(table, tuple(str(r.get(c)) for c in key), count,
                        tuple((m, _num(r.get(m))) for m in means), tuple((s, _num(r.get(s))) for s in sums)))
    return out


def _pin(db, as_of):
    """The code before issue #8 pinned in the streamlit layer; released code pins inside the views."""
    try:
        import analytics.store.released  # noqa: F401
        from contextlib import nullcontext

        return nullcontext()
    except ImportError:
        from contextlib import nullcontext

        from analytics.store.pinning import pinned

        latest = db.query("SELECT max(import_id) FROM imports WHERE status = 'ok'").scalar()
        return pinned(db, as_of) if as_of is not None and as_of < latest else nullcontext()


def read_view(db, f: Filters, k: int, with_claims: bool = False) -> list[Cell]:
    """Every guarded table behind the pages and downloads for one view, as cells."""
    out: list[Cell] = []
    with _pin(db, f.as_of):
        t = views.construct_trends(db, f, k, participants=True)
        out += _cells("trends by group", t, ["survey", "construct", "group"], "n", ["mean"])
        # the two groups add up to the view's total (the "trends" table of the page without a split)
        total = t.groupby(["survey", "construct"], as_index=False).agg(n=("n", "sum"))
        out += _cells("trends", total, ["survey", "construct"], "n")
        for g in ("department", "level"):
            out += _cells(f"heatmap by {g}", views.construct_heatmap(db, f, k, g), ["survey", "construct", g], "n",
                          ["mean"])
        rates = views.response_rates(db, f, k)
        out += _cells("response rates", rates, ["survey"], "respondents")
        if not f.is_empty():  # a filtered view's base is its head count at the wave (unfiltered: the survey tool's)
            out += _cells("response rates base", rates, ["survey"], "invited_selected")
        h = views.headline(db, f, k)
        for name, per in (("employees", 1), ("participants", 1), ("active_pairs", 2)):
            if _num(h.get(name)) > 0:
                out.append(Cell("headline", (name,), float(h[name]) * per))
        if _num(h.get("respondents")) > 0:  # the latest wave this view has respondents in
            out.append(Cell("headline", ("respondents", str(h["response_survey"])), float(h["respondents"])))
        # the Overview's "a quarter earlier" figures: active pairs on that day
        from analytics.headline_change import headline_change

        prev = headline_change(db, f, k)
        if _num(prev.get("active_pairs")) > 0:
            out.append(Cell("headline a quarter earlier", ("active_pairs",), float(prev["active_pairs"]) * 2))
        a = views.activity(db, f, k)
        out += _cells("sessions per month", a["monthly"], ["month", "format"], "pairs", sums=["sessions", "minutes"],
                      people_per_n=2)
        out += _cells("sessions per pair", a["dose"], ["sessions per pair"], "pairs", people_per_n=2)
        out += _cells("session mix", a["mix"], ["kind", "value"], "pairs", sums=["sessions"], people_per_n=2)
        out += _cells("cohorts", a["cohorts"], ["cohort"], "pairs", sums=["sessions", "hours"], people_per_n=2)
        p = views.productivity(db, f, k)
        out += _cells("metrics by month", p["by_period"], ["metric", "period", "group"], "n", ["mean"])
        out += _cells("metrics before/after", p["before_after"], ["metric", "phase", "group"], "n", ["mean"])
        if with_claims:
            out += read_claims(db, f, k)
    return out


@contextmanager
def _outcome_pools(seen: list):
    """Record the people the retention and promotion tests draw on (the candidates the engine keeps
    as whole reporting groups, `restrict_sample` inside `outcome_claims.risk_set`), per outcome and role."""
    try:
        from analytics.claims import outcome_claims as oc
    except ImportError:  # before the hazard claims existed
        yield
        return
    risk_set, restrict = oc.risk_set, oc.restrict_sample

    def spy_risk_set(panel, data, outcome, role, matched):
        seen.append({"key": (outcome, role.value), "people": None})
        return risk_set(panel, data, outcome, role, matched)

    def spy_restrict(panel, people, participant=None):
        out = restrict(panel, people, participant)
        if seen and seen[-1]["people"] is None:
            seen[-1]["people"] = int(out.sum())
        return out

    oc.risk_set, oc.restrict_sample = spy_risk_set, spy_restrict
    try:
        yield
    finally:
        oc.risk_set, oc.restrict_sample = risk_set, restrict


def _samples(card: pd.DataFrame, panel, outcome_pools: list) -> dict:
    """(claim id, role, metric) → how many people the engine's sample for that test holds.

    A claim's head counts (treated, comparison, people in the estimate, events) are counts of a
    property among the people of its sample: the engine's population, a union of whole reporting
    groups of ≥ k people each (`restrict_sample`); the estimator then uses those of them with the
    answers each cohort needs. So a count is a statistic of its sample's people, and two views'
    counts are compared as sums over their samples: a difference of 1 to k−1 people in the samples
    is a finding, a difference in how many of a whole group's people the estimator used is not."""
    from analytics.claims.definitions import CLAIMS_BY_ID

    pops = {(key[1], key[2], key[3].value): len(v.idx) for key, v in panel.cache.items()
            if isinstance(key, tuple) and len(key) == 4 and key[0] == "pop"}
    hazard = {e["key"]: e["people"] for e in outcome_pools}
    out: dict = {}
    for r in card.to_dict("records"):
        claim = CLAIMS_BY_ID.get(r["id"])
        if claim is None:
            continue
        for entry in [*(r["by_role"] or ()), *(r["metrics"] or ())]:
            role, metric = entry["role"], entry.get("metric")
            what = metric or claim.construct
            if claim.design.value == "hazard":
                n = hazard.get((claim.construct, role))
            elif claim.design.value == "within":  # every role's test is drawn from the pooled population
                n = pops.get((what, claim.measured_by, "pooled"))
            elif role == "pooled":  # the two roles' tests summed (each with its own comparison pool)
                parts = [pops.get((what, claim.measured_by, x)) for x in ("mentors", "mentees")]
                n = sum(parts) if None not in parts else None
            else:
                n = pops.get((what, claim.measured_by, role))
            out[(r["id"], role, metric)] = n
    return out


def read_claims(db, f: Filters, k: int) -> list[Cell]:
    """Every head count the claims outputs show for one view: the scorecard's headline counts,
    every `by_role` and `metrics` entry's counts (treated, comparison, people, the hazard claims'
    events among either, the people left out for want of a baseline in `diagnostics`), the
    engagement claim's balance table (shares → head counts) and the Value page's exploratory topic
    screen (participants with and without each topic, per outcome and role). These are the cells
    behind the Claims and Where pages, their CSVs, the board report and `claims --json`.

    The engine's counts are sums over the test's sample (`_samples`): the cell's people are the
    sample's, its sums the counts shown."""
    from analytics.claims import claim_detail, scorecard
    from analytics.claims import engine

    out: list[Cell] = []
    pools: list = []
    if hasattr(engine, "_CACHE"):
        with engine._CACHE_LOCK:
            engine._CACHE.clear()  # the run must happen here, so that the spy sees the hazard samples
    with _outcome_pools(pools):
        card = scorecard(db, f, min_group=k)
    try:
        samples = _samples(card, engine.run(db, f, k, 0.2).panel, pools)
    except (AttributeError, ImportError):  # an engine without whole-group samples: counts are people
        samples = {}
    for r in card.to_dict("records"):
        # the headline counts are those of the headline role, which a view's subgroup factor can
        # change (two roles' counts are not one set of people); every role's counts are shown too
        head = samples.get((r["id"], str(r["headline_role"]), r.get("headline_metric") or None))
        for col in ("n_treated", "n_comparison"):
            if _num(r[col]) > 0:
                out.append(Cell("scorecard", (r["id"], str(r["headline_role"]), col),
                                float(head) if head else float(r[col]), sums=((col, float(r[col])),)))
        dropped = _num((r.get("diagnostics") or {}).get("dropped_no_baseline"))
        if dropped > 0:
            out.append(Cell("scorecard", (r["id"], str(r["headline_role"]), "dropped_no_baseline"), dropped))
        for kind in ("by_role", "metrics"):
            for entry in r[kind] or ():
                who = f"{kind}: {entry['role']}" + (f" / {entry['metric']}" if entry.get("metric") else "")
                sample = samples.get((r["id"], entry["role"], entry.get("metric")))
                # the hazard claims' events are counted among the people at risk: a sum over them
                events = {"n_treated": "events_treated", "n_comparison": "events_comparison"}
                for col in ("n_treated", "n_comparison", "n"):
                    if _num(entry.get(col)) > 0:
                        sums = [(col, _num(entry[col]))]
                        ev = _num(entry.get(events.get(col)))
                        if np.isfinite(ev):
                            sums.append(("events", ev))
                        out.append(Cell("scorecard", (r["id"], who, col),
                                        float(sample) if sample else _num(entry[col]), sums=tuple(sums)))
                dropped = _num((entry.get("diagnostics") or {}).get("dropped_no_baseline"))
                if dropped > 0:
                    out.append(Cell("scorecard", (r["id"], who, "dropped_no_baseline"), dropped))
    detail = claim_detail(db, "engagement", f, min_group=k)
    eng = card.set_index("id").loc["engagement"]
    n_t = _num(eng["n_treated"])
    sample = samples.get(("engagement", str(eng["headline_role"]), None))
    bal = detail["balance"]
    if bal is not None and len(bal) and n_t > 0:
        for r in bal.to_dict("records"):
            if ":" in r["variable"] and not r["variable"].startswith("baseline"):
                count = round(r["participants"] * n_t)
                if sample:  # shares of the treated among the test's sample: sums over it
                    out.append(Cell("claims balance", (r["variable"],), float(sample),
                                    sums=(("in", float(count)), ("not in", float(n_t - count)))))
                    continue
                for part, c in (("in", count), ("not in", n_t - count)):
                    if c > 0:
                        out.append(Cell("claims balance", (r["variable"], part), float(c)))
    out += read_topics(db, f, k)
    return out


#: The outcomes the Value page's topic screen offers (pages/value.py).
TOPIC_OUTCOMES = ("engagement", "belonging", "confidence", "agility", "innovation", "productivity",
                  "psychological_safety")


def read_topics(db, f: Filters, k: int) -> list[Cell]:
    """The exploratory topic screen's counts (the Value page filters it by the sidebar)."""
    try:
        from analytics.outcomes.topics import session_topic_screen
    except ImportError:  # before the screen existed
        return []
    out: list[Cell] = []
    for construct in TOPIC_OUTCOMES:
        screen = session_topic_screen(db, f, k, construct)
        # a row's people are its role's participants with a gain; "with this topic" is a sum over them
        screen = screen.assign(people=screen["n_with"] + screen["n_without"])
        out += [Cell("topic screen", (construct, *c.key), c.n, sums=c.sums)
                for c in _cells("topic screen", screen, ["role", "topic"], "people", sums=["n_with"])]
    return out


def read_value(db, as_of: int | None, k: int) -> list[Cell]:
    """The Value page's and `value --json`'s counts and sums: the programme's size (pairs, people per
    role, logged session hours) and each benefit part's people. The page and the command take no
    group filter, only a pinned version, so these are read per version."""
    try:
        from analytics.value_data import value_document
    except ImportError:
        return []
    from analytics.errors import TwowayError

    try:
        doc = value_document(db, k, as_of)
    except TwowayError:  # fewer than k pairs: no figure
        return []
    size = doc["programme"]
    out = [Cell("value programme", ("pairs",), float(size["pairs"]) * 2, sums=(("session_hours",
                                                                             _num(size["session_hours"])),)),
           *[Cell("value programme", (role,), float(size[role])) for role in ("mentors", "mentees")
             if _num(size.get(role)) > 0]]
    if _num(size.get("sessions_without_duration")) > 0:  # sessions: each has two people
        out.append(Cell("value programme", ("sessions_without_duration",), 2 * _num(size["sessions_without_duration"])))
    out += [Cell("value parts", (p["part"],), _num(p["people"])) for p in doc["parts"]
            if p["kind"] != "cost" and _num(p.get("people")) > 0]
    return out


# -- the views ----------------------------------------------------------------------------------------
def _sets(values: list[str], pairs: bool) -> list[frozenset]:
    out = [frozenset([v]) for v in values]
    if len(values) > 2:
        out += [frozenset(values) - {v} for v in values]  # every value but one
    if pairs:
        out += [frozenset(c) for c in itertools.combinations(values, 2)]
    return list(dict.fromkeys(out))


def enumerate_views(options: dict[str, list[str]]) -> list[dict]:
    """Filter combinations up to two dimensions with value sets (a view = dim → frozenset)."""
    sets = {d: _sets(list(options.get(d, [])), pairs=(d == "level")) for d in DIMS}
    singles = {d: [frozenset([v]) for v in options.get(d, [])] for d in DIMS}
    out: list[dict] = [{}]
    for d in DIMS:
        out += [{d: s} for s in sets[d]]
    level_sets = [s for s in sets["level"] if len(s) == 1 or len(s) == len(options.get("level", [])) - 1]
    out += [{"department": a, "level": b} for a in singles["department"] for b in level_sets]
    out += [{"cohort": a, "department": b} for a in singles["cohort"] for b in singles["department"]]
    return out


def to_filters(view: dict, as_of: int | None = None) -> Filters:
    return Filters(**{d: tuple(sorted(v)) for d, v in view.items()}, as_of=as_of)


def nested(inner: dict, outer: dict) -> bool:
    """Whether `inner` selects a subset of the people `outer` selects."""
    return all(d in inner and inner[d] <= outer[d] for d in outer)


# -- the attack -------------------------------------------------------------------------------------------
@dataclass
class Findings:
    small_cells: list = field(default_factory=list)
    differences: list = field(default_factory=list)
    complements: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.small_cells or self.differences or self.complements)

    def summary(self) -> str:
        return (f"{len(self.small_cells)} small cells, {len(self.differences)} differences, "
                f"{len(self.complements)} complementary cells; e.g. "
                f"{(self.small_cells + self.differences + self.complements)[:3]}")


CLAIMS_TABLES = ("scorecard", "claims balance", "topic screen")
#: Read for the unfiltered view and its pinned versions only (the Value page takes no group filter).
VALUE_TABLES = ("value programme", "value parts")


def attack(read: dict, pairs: list[tuple], k: int, with_claims: set | None = None,
           with_value: set | None = None) -> Findings:
    """`read`: view id → cells; `pairs`: (inner id, outer id) whose selections are nested;
    `with_claims` / `with_value`: the views whose claims / value tables were read (None: all)."""
    found = Findings()
    index = {vid: {(c.table, c.key): c for c in cells} for vid, cells in read.items()}
    for vid, cells in index.items():
        for c in cells.values():
            if 0 < c.n < k:
                found.small_cells.append((vid, c.table, c.key, c.n))
        # complementary cells: a breakdown adds up to fewer people than the total of the same wave
        totals = {c.key: c.n for c in cells.values() if c.table == "trends"}
        for g in ("department", "level"):
            parts: dict = {}
            for c in cells.values():
                if c.table == f"heatmap by {g}":
                    parts[c.key[:2]] = parts.get(c.key[:2], 0) + c.n
            for key, n in parts.items():
                gap = totals.get(key, n) - n
                if 0 < gap < k:
                    found.complements.append((vid, g, key, gap))
    for inner, outer in pairs:
        a, b = index[outer], index[inner]
        both_claims = with_claims is None or (inner in with_claims and outer in with_claims)
        both_value = with_value is None or (inner in with_value and outer in with_value)
        for key, ca in a.items():
            if (key[0] in CLAIMS_TABLES and not both_claims) or (key[0] in VALUE_TABLES and not both_value):
                continue
            cb = b.get(key)
            nb = cb.n if cb else 0.0
            d = ca.n - nb
            if 0 < abs(d) < k:
                recovered = {m: (ca.n * v - nb * dict(cb.means if cb else ())[m]) / d
                             for m, v in ca.means if cb and np.isfinite(v)}
                recovered.update({s: v - dict(cb.sums if cb else ()).get(s, 0.0) for s, v in ca.sums})
                found.differences.append((outer, inner, key, d, recovered))
    return found


def late_import(db: Database, tmp_path) -> tuple[int, int]:
    """Three late metric values, then one pair's two late sessions; returns the two import ids."""
    from analytics.importing import import_file

    last = db.query("SELECT max(period) FROM metrics").scalar()
    metric = db.query("SELECT metric FROM metrics GROUP BY metric ORDER BY count(*) LIMIT 1").scalar()
    missing = [r[0] for r in db.query(
        # anyone without a value in the last month — leavers too: for them a late value was once the
        # only "after" month, which let a mean of person means differ by one person between versions
        "SELECT employee_id FROM employees WHERE employee_id NOT IN "
        "(SELECT employee_id FROM metrics WHERE period = ? AND metric = ?) ORDER BY employee_id LIMIT 3",
        [last, metric]).rows]
    path = tmp_path / "late_metrics.csv"
    pd.DataFrame({"employee_id": missing, "period": last, "metric": metric, "value": [1.0, 2.0, 30.0]}).to_csv(
        path, index=False)
    m_id = import_file(db, path, kind="metrics")["import_id"]
    pair, day = db.query("SELECT pair_id, max(date) FROM sessions GROUP BY pair_id ORDER BY 2 DESC, 1 LIMIT 1").first()
    path = tmp_path / "late_sessions.csv"
    pd.DataFrame({"session_id": ["LATE1", "LATE2"], "pair_id": pair, "date": [str(day), str(day)],
                  "duration_min": [45, 50], "format": "scheduled", "channel": "video", "topics": "AI tools",
                  "mentor_rating": 5, "mentee_rating": 4}).to_csv(path, index=False)
    s_id = import_file(db, path, kind="sessions")["import_id"]
    return int(m_id), int(s_id)


def claims_subset(vs: list[dict], n: int | None) -> set[int]:
    """The views whose claims tables are read (slow: a claims engine run each): all of them (None),
    else `n` views picked greedily, each time the one nested with (inside or around) the most views
    picked so far, starting from the unfiltered view, so that a few reads give many nested pairs."""
    if n is None or n >= len(vs):
        return set(range(len(vs)))
    related = [{j for j in range(len(vs)) if j != i and (nested(vs[i], vs[j]) or nested(vs[j], vs[i]))}
               for i in range(len(vs))]
    pick, dims = [0], set()

    def score(i: int) -> tuple:  # nested pairs gained, a dimension (or pair of them) not read yet first
        return (len(related[i] & set(pick)) + (4 if tuple(sorted(vs[i])) not in dims else 0), len(related[i]), -i)

    while len(pick) < n:
        best = max((i for i in range(len(vs)) if i not in pick), key=score)
        pick.append(best)
        dims.add(tuple(sorted(vs[best])))
    return set(pick)


def run_attack(db: Database, k: int, versions: tuple[int, ...], claims_views: int | None = None
               ) -> tuple[Findings, dict]:
    """Read every enumerated view (and pinned versions of a few) and attack all nested pairs.

    `claims_views`: how many views also get their claims tables read (None: every view); the
    unfiltered view's claims, topic screen and Value figures are read at every pinned version too."""
    options = views.filter_options(db).values
    vs = enumerate_views(options)
    read, meta = {}, {}
    claims_at = claims_subset(vs, claims_views)
    for i, v in enumerate(vs):
        read[(i, None)] = read_view(db, to_filters(v), k, with_claims=i in claims_at)
        meta[(i, None)] = v
    read[(0, None)] += read_value(db, None, k)
    pairs = [((i, None), (j, None)) for i, j in itertools.permutations(range(len(vs)), 2)
             if nested(vs[i], vs[j]) and (not vs[i] or vs[i] != vs[j])]
    # pinned links: the same view at every version (older data is a subset of newer data)
    pinned_views = [i for i, v in enumerate(vs) if not v or (len(v) == 1 and len(next(iter(v.values()))) == 1)][:8]
    for v in versions:
        for i in pinned_views:
            read[(i, v)] = read_view(db, to_filters(vs[i], as_of=v), k, with_claims=i == 0)
        read[(0, v)] += read_value(db, v, k)
    ladder = [*versions, None]
    for i in pinned_views:
        for x, y in itertools.combinations(ladder, 2):
            pairs.append(((i, x), (i, y)))
    with_claims = {(i, None) for i in claims_at} | {(0, v) for v in versions}
    with_value = {(0, v) for v in ladder}
    return (attack(read, pairs, k, with_claims=with_claims, with_value=with_value),
            {"views": len(vs), "pairs": len(pairs), "cells": sum(map(len, read.values())),
             "claims views": len(with_claims),
             "claims pairs": sum(a in with_claims and b in with_claims for a, b in pairs)})


# -- fixtures -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_org(tmp_path_factory):
    """A small organisation (200 people, so groups are small), plus a small late import."""
    tmp = tmp_path_factory.mktemp("attack")
    path = tmp / "small.duckdb"
    build_demo(path, seed=5, n_employees=200)
    with Database(path) as db:
        versions = late_import(db, tmp)
    return path, versions


def claims_views(default: int) -> int | None:
    """How many views get their claims tables read: `default`, or TWOWAY_ATTACK_CLAIMS_VIEWS ("all"
    or a number) for a longer run (all 115 views of the small organisation: about 3 minutes)."""
    import os

    value = os.environ.get("TWOWAY_ATTACK_CLAIMS_VIEWS", "").strip().lower()
    return None if value == "all" else int(value) if value.isdigit() else default


def test_the_attacker_finds_nothing_on_a_small_organisation(small_org):
    path, (metrics_import, sessions_import) = small_org
    with Database(path, read_only=True) as db:
        found, size = run_attack(db, K, versions=(1, metrics_import), claims_views=claims_views(24))
    assert size["views"] > 60 and size["pairs"] > 500 and size["cells"] > 10_000, size
    assert size["claims views"] >= 24 and size["claims pairs"] >= 100, size
    assert not found, found.summary()


# -- the five reproduced attacks of issue #8 (2,000-person demo) -----------------------------------------------
@pytest.fixture(scope="module")
def demo(full_demo_path):
    with Database(full_demo_path, read_only=True) as db:
        yield db


@pytest.fixture(scope="module")
def raw(full_demo_path):
    with duckdb.connect(str(full_demo_path), read_only=True) as con:
        return con.execute("SELECT * FROM employees").df()


@pytest.fixture(scope="module")
def lone(raw) -> tuple[str, str, str]:
    """The issue's premise on this demo: a department with exactly one person at some level (the
    issue's "one Marketing executive"), preferring the top level; plus another level of it.

    Returns (department, lone level, a companion level)."""
    counts = raw.groupby(["department", "level"]).size()
    ones = counts[counts == 1].reset_index()
    assert not ones.empty, "the demo has no one-person department × level cell to attack"
    ones["top"] = ones["level"] == "Executive"
    dept, level = ones.sort_values(["top", "department", "level"], ascending=[False, True, True]).iloc[0][
        ["department", "level"]]
    others = counts.loc[dept].drop(level).sort_values(ascending=False)
    return str(dept), str(level), str(others.index[0])


def _differences(a: list[Cell], b: list[Cell], k: int) -> list:
    return attack({"a": a, "b": b}, [("b", "a")], k).differences


def test_attack_1_adding_one_value_to_a_filter(demo, lone):
    dept, level, other = lone  # the premise: one person at `level` in `dept`
    wide = Filters(department=(dept,), level=(other, level))
    narrow = Filters(department=(dept,), level=(other,))
    a = _cells("trends", views.construct_trends(demo, wide, K), ["survey", "construct"], "n", ["mean"])
    b = _cells("trends", views.construct_trends(demo, narrow, K), ["survey", "construct"], "n", ["mean"])
    assert not _differences(a, b, K)


def test_attack_2_cell_by_cell_heatmap(demo, lone):
    levels = [v for v in views.filter_options(demo).values["level"] if v != lone[1]]
    for g in ("department", "level", "generation", "location"):
        a = _cells("h", views.construct_heatmap(demo, Filters(), K, g), ["survey", "construct", g], "n", ["mean"])
        b = _cells("h", views.construct_heatmap(demo, Filters(level=tuple(levels)), K, g),
                   ["survey", "construct", g], "n", ["mean"])
        assert not _differences(a, b, K), g


def test_attack_3_the_claims_balance_table(demo, lone):
    cells = read_claims(demo, Filters(department=(lone[0],)), K)
    balance = [c for c in cells if c.table == "claims balance"]
    assert balance  # the table is there, with shares of whole groups only
    counts = [v for c in balance for _, v in c.sums] + [c.n for c in balance if not c.sums]
    assert all(v == 0 or v >= K for v in counts), [c for c in balance if c.n < K or any(0 < v < K for _, v in c.sums)]
    assert not any(c.key[0] == f"level: {lone[1]}" for c in balance)


def test_attack_4_pinned_links_around_a_small_import(full_demo_path, tmp_path):
    import shutil

    path = tmp_path / "grown.duckdb"
    shutil.copy(full_demo_path, path)
    with Database(path) as db:
        m_id, s_id = late_import(db, tmp_path)
        for old, new in ((1, None), (1, m_id), (m_id, None)):
            p_old = views.productivity(db, Filters(as_of=old), K)["by_period"]
            p_new = views.productivity(db, Filters(as_of=new), K)["by_period"]
            a = _cells("m", p_new, ["metric", "period", "group"], "n", ["mean"])
            b = _cells("m", p_old, ["metric", "period", "group"], "n", ["mean"])
            assert not _differences(a, b, K), (old, new)
            s_old = views.activity(db, Filters(as_of=old), K)["monthly"]
            s_new = views.activity(db, Filters(as_of=new), K)["monthly"]
            a = _cells("s", s_new, ["month", "format"], "pairs", sums=["sessions", "minutes"], people_per_n=2)
            b = _cells("s", s_old, ["month", "format"], "pairs", sums=["sessions", "minutes"], people_per_n=2)
            assert not _differences(a, b, K), (old, new)


def test_attack_5_the_cli(full_demo_path, raw, lone, tmp_path):
    import shutil

    from analytics.cli import cli

    dept, level, _ = lone
    path = tmp_path / "cli.duckdb"  # the module's read-only connection holds the shared file
    shutil.copy(full_demo_path, path)

    def treated(*where):
        args = ["claims", "--db", str(path), "--json"]
        for w in where:
            args += ["--where", w]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        return {r["id"]: (r["n_treated"] or 0, r["n_comparison"] or 0) for r in json.loads(result.output)}

    with Database(path) as db:
        levels = [v for v in views.filter_options(db).values["level"] if v != level]
    wide = treated(f"department={dept}")
    narrow = treated(f"department={dept}", *[f"level={lv}" for lv in levels])
    for claim, (t, c) in wide.items():
        assert narrow[claim][0] == t or abs(t - narrow[claim][0]) >= K, (claim, t, narrow[claim][0])
        assert narrow[claim][1] == c or abs(c - narrow[claim][1]) >= K, (claim, c, narrow[claim][1])


def leaks_exactly(path, found: Findings) -> int:
    """How many one-person differences of survey means equal a real person's score in the raw file."""
    with duckdb.connect(str(path), read_only=True) as con:
        scores = con.execute(
            """SELECT r.survey, i.construct, avg(CASE WHEN i.reverse THEN i.scale_min + i.scale_max - r.value
                                                    ELSE r.value END) AS score
               FROM responses r JOIN items i USING (survey, item)
               JOIN employees e ON e.employee_id = r.employee_id
               WHERE r.value IS NOT NULL AND i.construct IS NOT NULL
               GROUP BY r.survey, i.construct,
                        CASE WHEN i.construct = 'leadership' THEN e.manager_id ELSE r.employee_id END""").df()
    known = {key: g["score"].to_numpy() for key, g in scores.groupby(["survey", "construct"])}
    hits = 0
    for _, _, (table, key), d, recovered in found.differences:
        if abs(d) == 1 and "mean" in recovered and (key[0], key[1]) in known:
            hits += bool(np.any(np.abs(known[(key[0], key[1])] - recovered["mean"]) < 1e-6))
    return hits


@pytest.fixture(scope="module")
def moved_org(tmp_path_factory):
    """The small organisation with 20 more transfers and 4 more leavers between two waves, written
    into its roster history (the demo's own history already runs past the waves, so a dated
    snapshot there could not be imported in date order): each person counts where they were at
    each wave and month."""
    tmp = tmp_path_factory.mktemp("attack_moved")
    path = tmp / "moved.duckdb"
    build_demo(path, seed=5, n_employees=200)
    with Database(path) as db:
        opened = sorted(r[0] for r in db.query("SELECT opened FROM waves WHERE opened IS NOT NULL").rows)
        day = (pd.Timestamp(opened[len(opened) // 2]) - pd.Timedelta(days=10)).date()
        at = db.query_df("SELECT employee_id, department FROM employees_at(?::DATE) ORDER BY employee_id", [day])
        managers = {r[0] for r in db.query("SELECT DISTINCT manager_id FROM employee_history "
                                           "WHERE manager_id IS NOT NULL").rows}
        depts = sorted(at["department"].unique())
        movers = at.iloc[::10].head(20)
        leavers = [e for e in at["employee_id"].iloc[5::10] if e not in managers][:4]
        with db.transaction():
            for emp, dept in zip(movers["employee_id"], movers["department"]):
                new = depts[(depts.index(dept) + 1) % len(depts)]
                # split the spell in force on `day`: the old department until then, the next one from then
                db.execute("""INSERT INTO employee_history (employee_id, valid_from, valid_to, department, level,
                                  location, manager_id, email, import_id, closed_by)
                              SELECT employee_id, ?::DATE, valid_to, ?, level, location, manager_id, email, import_id,
                                     closed_by
                              FROM employee_history WHERE employee_id = ? AND closed_by IS NULL
                                AND (valid_from IS NULL OR valid_from <= ?::DATE)
                                AND (valid_to IS NULL OR ?::DATE < valid_to)""", [day, new, emp, day, day])
                db.execute("""UPDATE employee_history SET valid_to = ?::DATE WHERE employee_id = ? AND closed_by IS NULL
                                AND (valid_from IS NULL OR valid_from < ?::DATE)
                                AND (valid_to IS NULL OR ?::DATE < valid_to)""", [day, emp, day, day])
            db.execute("""UPDATE employees SET department = h.department FROM employee_history h
                          WHERE h.employee_id = employees.employee_id AND h.valid_to IS NULL AND h.closed_by IS NULL
                            AND h.valid_from = ?::DATE""", [day])  # the current row of those still in the new one
            for emp in leavers:  # they leave on `day`: no later spells, answers or values
                db.execute("DELETE FROM employee_history WHERE employee_id = ? AND valid_from >= ?::DATE", [emp, day])
                db.execute("UPDATE employee_history SET valid_to = ?::DATE WHERE employee_id = ? "
                           "AND (valid_to IS NULL OR valid_to > ?::DATE)", [day, emp, day])
                db.execute("UPDATE employees SET termination_date = ?::DATE WHERE employee_id = ?", [day, emp])
                db.execute("DELETE FROM responses WHERE employee_id = ? AND survey IN "
                           "(SELECT survey FROM waves WHERE opened >= ?::DATE)", [emp, day])
                db.execute("DELETE FROM metrics WHERE employee_id = ? AND strptime(period || '-01', '%Y-%m-%d') "
                           ">= ?::DATE", [emp, day])
            db.bump_data_version()
    return path, day, list(movers["employee_id"]), leavers


def test_the_attacker_finds_nothing_after_a_transfer(moved_org):
    path, day, movers, leavers = moved_org
    with Database(path, read_only=True) as db:
        before = {r[0]: r[1] for r in db.query(
            "SELECT employee_id, department FROM employees_at(?::DATE - 1)", [day]).rows}
        after = {r[0]: r[1] for r in db.query("SELECT employee_id, department FROM employees_at(?::DATE)", [day]).rows}
        # the premise: people changed department on `day` (20 moved, a few may have moved anyway) and 4 left
        assert sum(before[e] != after.get(e) for e in movers) >= 15
        assert all(e in before and e not in after for e in leavers) and len(leavers) == 4
        found, size = run_attack(db, K, versions=(), claims_views=claims_views(12))
    assert size["views"] > 60 and size["cells"] > 10_000 and size["claims pairs"] >= 25, size
    assert not found, found.summary()


def test_the_topic_screen_reads_whole_groups_of_participants(small_org):
    """The topic screen's participants (a score before and after their start) are narrowed person by
    person; every (reporting group, role) it keeps must hold 0 or ≥ k of them, so that two views'
    screens differ by whole groups. Before the fix the leadership screen kept groups of 1 to 4
    participants on this organisation (hand check: `participant_gains` grouped by block and role)."""
    from analytics.claims.engine import run
    from analytics.outcomes.topics import participant_gains

    path, _ = small_org
    with Database(path, read_only=True) as db:
        panel = run(db, Filters(), K, 0.2).panel
        blocks = panel.roster.set_index("employee_id")["block_id"]
        for construct in (*TOPIC_OUTCOMES, "leadership"):
            gains = participant_gains(panel, construct)
            sizes = gains.assign(block=gains["employee_id"].map(blocks)).groupby(["role", "block"]).size()
            assert (sizes >= K).all(), (construct, sizes[sizes < K].to_dict())


def _candidates(db, f: Filters, k: int, module, entry: str, label) -> dict:
    """label → reporting group → the candidates `module.entry` hands to `restrict_sample` in view
    `f` (before it keeps groups of ≥ k of them); `label(*args)` names the call (claim and role)."""
    from analytics.claims import engine
    from analytics.claims import scorecard

    out: dict = {}
    inner, restrict = getattr(module, entry), module.restrict_sample
    inside: list = []

    def spy_entry(*args):
        inside[:] = [label(*args)]
        try:
            return inner(*args)
        finally:
            inside.clear()

    def spy_restrict(panel, people, participant=None):
        if inside:
            ids, blocks = panel.roster["employee_id"].to_numpy(), panel.roster["block_id"].to_numpy()
            groups = out.setdefault(inside[0], {})
            for e, b in zip(ids[people], blocks[people]):
                groups.setdefault(b, set()).add(e)
        return restrict(panel, people, participant)

    with engine._CACHE_LOCK:
        engine._CACHE.clear()
    setattr(module, entry, spy_entry)
    module.restrict_sample = spy_restrict
    try:
        scorecard(db, f, min_group=k)
    finally:
        setattr(module, entry, inner)
        module.restrict_sample = restrict
    return out


def _hazard_candidates(db, f: Filters, k: int) -> dict:
    """(outcome, role) → reporting group → the retention / promotion test's candidates."""
    from analytics.claims import outcome_claims as oc

    return _candidates(db, f, k, oc, "risk_set", lambda panel, data, outcome, role, matched: (outcome, role.value))


def _splits(db, views_: list[Filters], collect) -> list:
    """(view, test, group, candidates in the view, in the unfiltered view) for every group a view
    takes only part of."""
    base = collect(db, Filters(), K)
    split = []
    for f in views_:
        for test, groups in collect(db, f, K).items():
            split += [(f.describe(), test, g, len(m), len(base[test].get(g, ()))) for g, m in groups.items()
                      if m != base[test].get(g, set())]
    assert base
    return split


def test_the_hazard_claims_take_whole_groups_of_candidates_in_every_view(small_org):
    """Within a reporting group, a view's retention / promotion test must consider all or none of
    the candidates the unfiltered view considers (else two views can differ by part of a group).
    Found: cohort=2025-A leaves out one Executive-at-entry colleague of an 8-person "Other" group
    from the mentees' pool, because that cohort's mentees held no Executive level at their start."""
    path, _ = small_org
    with Database(path, read_only=True) as db:
        cohorts = views.filter_options(db).values.get("cohort", [])
        split = _splits(db, [Filters(cohort=(c,)) for c in cohorts], _hazard_candidates)
    assert not split, split


def _survey_pool_candidates(db, f: Filters, k: int) -> dict:
    """role → reporting group → the candidates of the survey claims' pool (`population.role_pool`)."""
    from analytics.claims import population as pop

    return _candidates(db, f, k, pop, "role_pool", lambda panel, role: role.value)


def test_the_survey_claims_take_whole_groups_of_candidates_in_every_view(small_org):
    """The same rule for the survey claims' pool (participants of the role, and colleagues outside
    the programme at the levels the role's participants hold): a cohort view must take all or none
    of each reporting group's candidates, in every cohort, department and level view. The levels
    were once the view's participants' levels (as in the hazard claims' twin above, where that
    split a group); on this organisation the survey pool's levels happened to cover every group,
    so this test guards the rule rather than reproducing a finding."""
    path, _ = small_org
    with Database(path, read_only=True) as db:
        options = views.filter_options(db).values
        single = [Filters(**{dim: (value,)}) for dim in ("cohort", "department", "level")
                  for value in options.get(dim, [])]
        split = _splits(db, single, _survey_pool_candidates)
    assert not split, split
