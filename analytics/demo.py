"""A realistic, deterministic demo organisation with known (planted) truths.

The demo exists so the dashboard has something to find and something to reject, and so the
claims engine can be checked against a truth we chose. Its traps are deliberate:

* **self-selection** — people with a higher stable disposition (a general factor that lifts
  every construct) are more likely to join the programme, so participants look better
  before they start;
* **an organisation-wide drift** — every construct rises a little each wave for everyone,
  so "participants before vs after" looks like an effect on its own.

What is planted (in score units on the 1–5 scale; a construct's cross-sectional SD is ~0.6):

* engagement of mentors and mentees rises after their pair starts, more with more sessions
  (dose) and more in departments with higher baseline psychological safety;
* belonging of participants rises; confidence of mentors rises;
* leadership of mentees, as rated by their direct reports, rises;
* productivity (construct and objective metrics), agility and innovation do not change, and
  the share of informal sessions makes no difference;
* from the month after their start, mentees leave at half the monthly rate of comparable
  colleagues (hazard ratio `OUTCOME_HR["retention"]["mentees"]` = 0.5) and mentors are promoted
  1.5 times as often (`OUTCOME_HR["promotion"]["mentors"]`); mentors' leaving and mentees'
  promotion do not change. The roster history (`employee_history`) runs from February 2024 to
  `ROSTER_END`, a year past the last survey (an HR system is always current); leavers stop
  answering surveys, having metrics and meeting their pair. Leaving and promotion depend on
  level, department and calendar month only — not on the disposition behind self-selection,
  which a hazard model has no before-and-after difference to cancel (README, limits).

`PLANTED` lists the verdict a correct claims engine should reach for each claim id.
Everything is vectorised with numpy so that 200,000 employees build in well under three
minutes; survey responses are generated and written one wave at a time to bound memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from analytics.errors import TwowayError
from analytics.store import Database
from analytics.store import demo_load
from analytics.vocab import CONSTRUCTS

PLANTED: dict[str, str] = {
    "productivity": "no_effect",
    "leadership": "supported",
    "agility": "no_effect",
    "engagement": "supported",
    "innovation": "no_effect",
    "belonging": "supported",
    "mentor_confidence": "supported",
    "informal_learning": "no_effect",
    "dose_response": "supported",
    "psych_safety_moderation": "supported",
    "retention": "supported",
    "promotion": "supported",
}

DEPARTMENTS = (("Engineering", 0.22), ("Sales", 0.14), ("Operations", 0.12), ("Customer Success", 0.10),
               ("Marketing", 0.09), ("Finance", 0.08), ("People", 0.07), ("Legal", 0.06), ("IT", 0.07),
               ("Product", 0.05))
LOCATIONS = (("London", 0.34), ("Manchester", 0.18), ("Berlin", 0.20), ("New York", 0.16), ("Remote", 0.12))
#: (level, share of head count, mean age in 2025)
LEVELS = (("Associate", 0.40, 28), ("Specialist", 0.27, 33), ("Manager", 0.16, 40),
          ("Senior Manager", 0.09, 45), ("Director", 0.06, 50), ("Executive", 0.02, 54))
LEVEL_NAMES = tuple(lv[0] for lv in LEVELS)

WAVES = (("pulse-2025-q1", dt.date(2025, 1, 15)), ("pulse-2025-q2", dt.date(2025, 4, 15)),
         ("pulse-2025-q3", dt.date(2025, 7, 15)), ("pulse-2025-q4", dt.date(2025, 10, 15)))
WAVE_DAYS_OPEN = 14
COHORTS = (("2025-A", dt.date(2025, 2, 1), dt.date(2025, 3, 31), 0.35),
           ("2025-B", dt.date(2025, 5, 1), dt.date(2025, 6, 30), 0.35),
           ("2025-C", dt.date(2025, 8, 1), dt.date(2025, 9, 30), 0.30))
DATA_END = dt.date(2025, 12, 31)
TOPICS = ("AI tools", "Social media", "Communication norms", "Work-life balance", "Transparency",
          "Feedback culture")

#: Three items per construct; the third of each is reverse-coded.
ITEMS: dict[str, tuple[str, str, str]] = {
    "engagement": ("I am proud to work for this organisation",
                   "I would recommend this organisation as a great place to work",
                   "I rarely feel enthusiastic about my work"),
    "belonging": ("I feel valued for who I am at work",
                  "People of every generation are respected here",
                  "I sometimes feel like an outsider in my team"),
    "psychological_safety": ("I can raise concerns without fear of negative consequences",
                             "It is safe to take a risk on this team",
                             "Mistakes are held against you on this team"),
    "productivity": ("I can get my work done efficiently",
                     "Our tools and processes help me work productively",
                     "I waste a lot of time on unnecessary meetings"),
    "leadership": ("My manager communicates openly and transparently",
                   "My manager is open to ideas from junior colleagues",
                   "My manager is out of touch with how we work today"),
    "agility": ("My team adapts quickly when priorities change",
                "We try new ways of working without waiting for permission",
                "Change is slow and painful here"),
    "innovation": ("Ideas from people of different generations are combined here",
                   "I have recently tried a new tool or approach in my work",
                   "New ideas are usually dismissed here"),
    "confidence": ("I am confident sharing my ideas with senior colleagues",
                   "My input is recognised by leaders",
                   "I hesitate to speak up in meetings with senior people"),
}
ITEM_CODES = {c: (f"{c[:4]}_1", f"{c[:4]}_2", f"{c[:4]}_3") for c in CONSTRUCTS}
ITEM_CODES["psychological_safety"] = ("psaf_1", "psaf_2", "psaf_3")

BASE_MEAN = {"engagement": 3.55, "belonging": 3.6, "psychological_safety": 3.5, "productivity": 3.45,
             "leadership": 3.6, "agility": 3.3, "innovation": 3.35, "confidence": 3.4}
DRIFT_PER_WAVE = {"engagement": 0.07, "belonging": 0.05, "psychological_safety": 0.03, "productivity": 0.05,
                  "leadership": 0.04, "agility": 0.06, "innovation": 0.06, "confidence": 0.04}
#: Share of employees in a pair as mentor (and as many as mentee): large enough that each role on
#: its own (about 300 people at the default size) can show "no effect" with a ±0.2 SD margin.
PAIR_SHARE = 0.15
#: How much the engagement effect grows per SD of the department's baseline psychological safety
#: (a department-level moderator: 7 clusters, so it must be clear to survive small-cluster inference).
SAFETY_MODERATION = 0.8
#: Planted effects after a pair starts (score units).
EFFECT = {"engagement": 0.30, "belonging": 0.25, "mentor_confidence": 0.35, "leadership": 0.35}

#: Planted hazard ratios (complementary log-log scale: 1 − h' = (1 − h)^HR) from the month after the start.
#: 0.5 and 1.5 rather than smaller effects: with ~300 people per role, about 20 months of follow-up and
#: Holm over every primary test, smaller ratios would often be "inconclusive" at the default size.
OUTCOME_HR = {"retention": {"mentors": 1.0, "mentees": 0.5}, "promotion": {"mentors": 1.5, "mentees": 1.0}}
#: Monthly leaving and promotion hazards by level (Associate … Executive), and the roster history's span.
LEAVE_HAZARD = (0.015, 0.012, 0.010, 0.009, 0.008, 0.006)
PROMOTION_HAZARD = (0.020, 0.015, 0.007, 0.005, 0.003, 0.0)
ROSTER_START = dt.date(2024, 2, 1)
ROSTER_END = dt.date(2026, 12, 31)

Progress = Callable[[float, str], None]


def build_demo(path: str | os.PathLike, seed: int = 7, n_employees: int = 2000, force: bool = False,
               progress: Progress | None = None) -> dict:
    """Write the demo organisation into a new database file and return a summary.

    The file is built beside its destination and moved into place at the end, so an
    interrupted build never leaves a half-filled database behind.
    """
    if n_employees < 50:
        raise TwowayError("--employees must be at least 50 for a meaningful organisation")
    path = Path(path)
    if path.exists() and not force:
        raise TwowayError(f"{path} already exists; pass --force to replace it")
    say = progress or (lambda f, m: None)
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".building")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    db = Database(tmp)
    try:
        with db.transaction():
            import_id = demo_load.add_import_row(
                db, f"demo organisation (seed={seed}, employees={n_employees})",
                hashlib.sha256(f"demo:{seed}:{n_employees}".encode()).hexdigest(),
                json.dumps({"seed": seed, "employees": n_employees}))
            say(0.02, "employees and manager tree")
            org = _employees(rng, n_employees)
            pairs = _pairs(rng, org)
            # careers use their own random stream, so every other figure of the demo draws as before
            careers = _careers(np.random.default_rng([seed, 13]), org, pairs)
            demo_load.insert_employees(db, careers["employees"].assign(import_id=import_id),
                                       careers["history"].assign(import_id=import_id))
            say(0.10, "mentoring pairs")
            sessions = _sessions(rng, pairs)
            pairs["frame"]["end_date"] = _pair_ends(pairs, careers)
            demo_load.insert_frame(db, "pairs", pairs["frame"].assign(import_id=import_id))
            say(0.15, "session logs")
            sessions = _drop_after_leaving(sessions, pairs, careers)
            demo_load.insert_frame(db, "sessions", sessions.assign(import_id=import_id))
            _apply_effect_modifiers(org, pairs, sessions)
            items = _items_frame(import_id)
            for w, (survey, opened) in enumerate(WAVES):
                say(0.2 + 0.15 * w, f"survey wave {survey}")
                wave = _still_employed(_wave(rng, org, pairs, w), careers, opened)
                employed = int((~(careers["leave"] <= np.datetime64(opened))).sum())
                demo_load.insert_wave(db, survey, f"Quarterly pulse {survey[-7:].upper()}", opened,
                                      opened + dt.timedelta(days=WAVE_DAYS_OPEN), employed, items, import_id)
                demo_load.insert_responses(db, survey, wave, org["ids"], _item_list(), import_id)
            say(0.85, "productivity metrics")
            demo_load.insert_metric_defs(db, [("tasks_completed", True, "tasks per month"),
                                              ("cycle_time_days", False, "days")], import_id)
            metrics = _metrics_while_employed(_metrics(rng, org), careers)
            demo_load.insert_metrics(db, metrics, org["ids"], import_id)
            counts = db.table_counts()
            demo_load.set_import_rows(db, import_id, sum(v for k, v in counts.items() if k != "imports"))
            db.bump_data_version()
        say(0.97, "writing the file")
        db.checkpoint()
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, path)
    Path(str(tmp) + ".wal").unlink(missing_ok=True)
    say(1.0, "done")
    return {"db": str(path), "seed": seed, "employees": n_employees, "counts": counts,
            "planted": PLANTED, "seconds": round(time.perf_counter() - started, 2)}


# -- roster -------------------------------------------------------------------------------------
def _choice(rng, options, n):
    names = [o[0] for o in options]
    p = np.array([o[1] for o in options], dtype=float)
    return rng.choice(len(names), size=n, p=p / p.sum())


def _employees(rng, n: int) -> dict:
    dept = _choice(rng, DEPARTMENTS, n)
    loc = _choice(rng, LOCATIONS, n)
    level = _choice(rng, [(lv[0], lv[1]) for lv in LEVELS], n)
    level[0] = len(LEVELS) - 1  # employee 0 is the chief executive
    mean_age = np.array([lv[2] for lv in LEVELS])[level]
    late_career = np.where(rng.random(n) < 0.08, 13.0, 0.0)  # some people reach a level late
    age = np.clip(np.round(rng.normal(mean_age + late_career, 7.0)), 21, 68).astype(int)
    birth_year = 2025 - age
    tenure_days = np.minimum(rng.exponential(4.5 * 365, n), (age - 21) * 365 + 200).astype(int) + 30
    hire = np.datetime64("2025-01-01") - tenure_days.astype("timedelta64[D]")
    manager = np.full(n, -1, dtype=np.int64)
    top = len(LEVELS) - 1
    for d in range(len(DEPARTMENTS)):
        in_dept = dept == d
        for lv in range(top + 1):
            members = np.flatnonzero(in_dept & (level == lv))
            members = members[members != 0]
            if members.size == 0:
                continue
            bosses = np.array([], dtype=np.int64)
            for up in range(lv + 1, top + 1):
                bosses = np.flatnonzero(in_dept & (level == up))
                if bosses.size:
                    break
            manager[members] = rng.choice(bosses, members.size) if bosses.size else 0
    manager[0] = -1
    ids = np.array([f"E{i:06d}" for i in range(n)], dtype=object)
    # Latent dispositions: a general factor g lifts every construct (this is what self-selects).
    g = rng.normal(0, 1, n)
    traits = {c: 0.6 * g + 0.8 * rng.normal(0, 1, n) for c in CONSTRUCTS}
    dept_effect = {c: rng.normal(0, 0.08, len(DEPARTMENTS)) for c in CONSTRUCTS}
    # Departments differ clearly in psychological safety: the moderator of the programme's effect.
    dept_effect["psychological_safety"] = np.linspace(-0.45, 0.45, len(DEPARTMENTS))[rng.permutation(len(DEPARTMENTS))]
    manager_quality = rng.normal(0, 1, n)
    gen = np.select([birth_year <= 1964, birth_year <= 1980, birth_year <= 1996, birth_year <= 2012],
                    ["Boomer", "Gen X", "Millennial", "Gen Z"], default=None)
    frame = pd.DataFrame({
        "employee_id": ids,
        "department": np.array([d[0] for d in DEPARTMENTS], dtype=object)[dept],
        "level": np.array(LEVEL_NAMES, dtype=object)[level],
        "location": np.array([x[0] for x in LOCATIONS], dtype=object)[loc],
        "birth_year": birth_year.astype("int32"),
        "generation": gen.astype(object),
        "hire_date": hire.astype("datetime64[s]"),
        "manager_id": np.where(manager >= 0, ids[np.maximum(manager, 0)], None),
    })
    return {"n": n, "ids": ids, "dept": dept, "level": level, "age": age, "manager": manager, "g": g,
            "traits": traits, "dept_effect": dept_effect, "manager_quality": manager_quality, "frame": frame}


def _pairs(rng, org: dict) -> dict:
    n = org["n"]
    n_pairs = max(10, int(round(n * PAIR_SHARE)))
    reports = np.bincount(org["manager"][org["manager"] >= 0], minlength=n)
    mentee_pool = np.flatnonzero((org["level"] >= 2) & (reports > 0) & (org["age"] >= 38))
    mentor_pool = np.flatnonzero((org["level"] <= 1) & (org["age"] <= 33))
    n_pairs = min(n_pairs, mentee_pool.size, mentor_pool.size)

    def pick(pool):
        w = np.exp(0.9 * org["g"][pool])  # self-selection on the stable disposition
        return rng.choice(pool, n_pairs, replace=False, p=w / w.sum())

    mentees, mentors = pick(mentee_pool), pick(mentor_pool)
    cohort = _choice(rng, [(c[0], c[3]) for c in COHORTS], n_pairs)
    lo = np.array([np.datetime64(c[1]) for c in COHORTS])[cohort]
    hi = np.array([np.datetime64(c[2]) for c in COHORTS])[cohort]
    span = (hi - lo).astype(int)
    start = lo + (rng.random(n_pairs) * (span + 1)).astype(int).astype("timedelta64[D]")
    planned = start + np.timedelta64(240, "D")
    dropped = rng.random(n_pairs) < 0.12
    end = np.where(dropped, start + rng.integers(30, 90, n_pairs).astype("timedelta64[D]"), planned)
    ongoing = end > np.datetime64(DATA_END)
    frame = pd.DataFrame({
        "pair_id": [f"P{i:05d}" for i in range(n_pairs)],
        "mentor_id": org["ids"][mentors],
        "mentee_id": org["ids"][mentees],
        "cohort": np.array([c[0] for c in COHORTS], dtype=object)[cohort],
        "start_date": start.astype("datetime64[s]"),
        "end_date": pd.Series(end.astype("datetime64[s]")).where(~ongoing, pd.NaT),
    })
    return {"frame": frame, "mentors": mentors, "mentees": mentees, "start": start,
            "last": np.minimum(end, np.datetime64(DATA_END)), "n": n_pairs}


def _sessions(rng, pairs: dict) -> pd.DataFrame:
    n = pairs["n"]
    days = np.maximum((pairs["last"] - pairs["start"]).astype(int), 1)
    rate = rng.gamma(2.0, 0.8, n)  # sessions per month, varies a lot between pairs: the dose
    count = np.maximum(1, rng.poisson(rate * days / 30.4))
    informal_share = rng.beta(2, 2, n)
    pair_idx = np.repeat(np.arange(n), count)
    m = pair_idx.size
    offset = (rng.random(m) * days[pair_idx]).astype(int)
    date = pairs["start"][pair_idx] + offset.astype("timedelta64[D]")
    informal = rng.random(m) < informal_share[pair_idx]
    duration = np.where(informal, rng.integers(10, 31, m), rng.integers(30, 61, m)).astype(float)
    channel = np.where(informal, np.array(["chat", "in person", "phone"], dtype=object)[rng.integers(0, 3, m)],
                       np.array(["video", "in person"], dtype=object)[rng.integers(0, 2, m)])
    n_topics = rng.integers(1, 4, m)
    topic_draw = np.argsort(rng.random((m, len(TOPICS))), axis=1)
    topics = [[TOPICS[t] for t in row[:k]] for row, k in zip(topic_draw, n_topics)]
    ratings = np.clip(np.round(rng.normal(4.0, 0.8, (m, 2))), 1, 5)
    frame = pd.DataFrame({
        "session_id": [f"S{i:07d}" for i in range(m)],
        "pair_id": pairs["frame"]["pair_id"].to_numpy()[pair_idx],
        "date": date.astype("datetime64[s]"),
        "duration_min": duration,
        "format": np.where(informal, "informal", "scheduled").astype(object),
        "channel": channel,
        "topics": topics,
        "mentor_rating": ratings[:, 0],
        "mentee_rating": ratings[:, 1],
    }).sort_values(["date", "session_id"], kind="stable").reset_index(drop=True)
    return frame


def _apply_effect_modifiers(org: dict, pairs: dict, sessions: pd.DataFrame) -> None:
    """Per-participant engagement effect: larger with more sessions and in safer departments.

    The dose is the pair's sessions before the last survey wave opens: what the surveys can
    reflect, and what an analysis of the data can count.
    """
    last_wave = np.datetime64(WAVES[-1][1], "s")
    seen = sessions.loc[sessions["date"].to_numpy() < last_wave, "pair_id"]
    dose = seen.value_counts().reindex(pairs["frame"]["pair_id"], fill_value=0).to_numpy(float)
    dose_z = (dose - dose.mean()) / (dose.std() or 1.0)
    safety = org["dept_effect"]["psychological_safety"]
    safety_z = (safety - safety.mean()) / (safety.std() or 1.0)
    n = org["n"]
    start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    role = np.zeros(n, dtype=np.int8)  # 1 mentor, 2 mentee
    engagement_effect = np.zeros(n)
    for people, r in ((pairs["mentors"], 1), (pairs["mentees"], 2)):
        start[people] = pairs["start"]
        role[people] = r
        multiplier = np.clip(1.0 + 0.45 * dose_z + SAFETY_MODERATION * safety_z[org["dept"][people]], 0.0, None)
        engagement_effect[people] = EFFECT["engagement"] * multiplier
    org["start"], org["role"], org["engagement_effect"] = start, role, engagement_effect


# -- careers: leaving and promotion -------------------------------------------------------------
def _month_index(d) -> int:
    d = np.datetime64(d, "M").astype(int)
    return int(d) + 1970 * 12


def _careers(rng, org: dict, pairs: dict) -> dict:
    """Leaving and (first) promotion month by month from `ROSTER_START` to `ROSTER_END`.

    The monthly hazards depend on level, department and a company-wide re-organisation in the
    third quarter of 2025 (which the model's calendar-month effects absorb); from the month
    after their start, a role's participants have their hazard scaled by `OUTCOME_HR` on the
    complementary log-log scale. Participants do not leave before their start (they were
    employed when their pair started) and future mentors are not promoted out of the junior levels
    before it (they were chosen as juniors); otherwise promotions before the start run at the
    comparison rate, which is what the pre-start check looks for. Hazards are memoryless (a person promoted last
    month can be promoted again), so the engine's model is the true one. Returns the employees
    frame (latest level, termination date) and the history rows.
    """
    n = org["n"]
    m0, m1 = _month_index(ROSTER_START), _month_index(ROSTER_END)
    months = np.arange(m0, m1 + 1)
    start_m = np.full(n, np.inf)
    role = np.zeros(n, np.int8)
    for people, r in ((pairs["mentors"], 1), (pairs["mentees"], 2)):
        sm = (pairs["start"].astype("datetime64[M]").astype(int) + 1970 * 12).astype(float)
        start_m[people] = np.minimum(start_m[people], sm)
        role[people] = r
    level = org["level"].copy()
    dept_factor = np.linspace(0.8, 1.2, len(DEPARTMENTS))[org["dept"]]
    left = np.full(n, -1)
    moves: list[tuple[np.ndarray, int, np.ndarray]] = []
    hr_leave = np.where(role == 1, OUTCOME_HR["retention"]["mentors"], np.where(role == 2,
                        OUTCOME_HR["retention"]["mentees"], 1.0))
    hr_promo = np.where(role == 1, OUTCOME_HR["promotion"]["mentors"], np.where(role == 2,
                        OUTCOME_HR["promotion"]["mentees"], 1.0))
    hire_m = org["frame"]["hire_date"].to_numpy().astype("datetime64[M]").astype(int) + 1970 * 12
    for m in months:
        reorg = 1.4 if _month_index(dt.date(2025, 7, 1)) <= m <= _month_index(dt.date(2025, 9, 1)) else 1.0
        at_work = (left < 0) & (hire_m <= m)
        after = m > start_m
        h = np.array(LEAVE_HAZARD)[level] * dept_factor * reorg
        h = np.where(after, 1 - (1 - h) ** hr_leave, h)
        h = np.where((role > 0) & ~after, 0.0, h)          # employed at their start, by selection
        h[0] = 0.0                                          # the chief executive stays
        leaves = at_work & (rng.random(n) < h)
        left[leaves] = m
        p = np.array(PROMOTION_HAZARD)[level] * dept_factor
        p = np.where(after, 1 - (1 - p) ** hr_promo, p)
        p = np.where((role == 1) & ~after & (level >= 1), 0.0, p)  # a future mentor is still junior at the start
        up = at_work & ~leaves & (rng.random(n) < p) & (level < len(LEVELS) - 1)
        level[up] += 1
        moves.append((np.flatnonzero(up), int(m), level[up].copy()))
    ids = org["ids"]

    def day(month: np.ndarray, mid: bool) -> np.ndarray:
        first = (month - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
        return first + (rng.integers(1, 27, len(month)) if mid else np.zeros(len(month), int)).astype("timedelta64[D]")

    leave_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    leave_day[left >= 0] = day(left[left >= 0], True)
    who = np.concatenate([mv[0] for mv in moves]) if moves else np.zeros(0, int)
    when = np.concatenate([np.full(len(mv[0]), mv[1]) for mv in moves]) if moves else np.zeros(0, int)
    new = np.concatenate([mv[2] for mv in moves]) if moves else np.zeros(0, int)
    frame = org["frame"]
    names = np.array(LEVEL_NAMES, dtype=object)
    segments = pd.DataFrame({"pos": np.concatenate([np.arange(n), who]),
                             "valid_from": np.concatenate([np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
                                                           day(when, False)]),
                             "level": names[np.concatenate([org["level"], new])]})
    segments = segments.sort_values(["pos", "valid_from"], na_position="first", kind="stable").reset_index(drop=True)
    nxt = segments.groupby("pos")["valid_from"].shift(-1)
    segments["valid_to"] = nxt.where(nxt.notna(), pd.Series(leave_day[segments["pos"].to_numpy()]))
    base = frame[["employee_id", "department", "location", "manager_id"]]
    history = base.iloc[segments["pos"].to_numpy()].reset_index(drop=True).assign(
        valid_from=pd.to_datetime(segments["valid_from"]), valid_to=pd.to_datetime(segments["valid_to"]),
        level=segments["level"].to_numpy())[["employee_id", "valid_from", "valid_to", "department", "level",
                                              "location", "manager_id"]]
    employees = frame.assign(level=names[level], termination_date=pd.to_datetime(leave_day.astype("datetime64[s]")))
    return {"employees": employees, "history": history, "leave": leave_day, "ids": ids}


def _pair_ends(pairs: dict, careers: dict) -> pd.Series:
    """A pair ends when either member leaves (if that comes before its own end)."""
    leave = careers["leave"]
    first = np.fmin(leave[pairs["mentors"]].astype("datetime64[s]"), leave[pairs["mentees"]].astype("datetime64[s]"))
    end = pairs["frame"]["end_date"].to_numpy(dtype="datetime64[s]")
    out = np.where(~np.isnat(first) & (np.isnat(end) | (first < end)), first, end)
    out = np.where(~np.isnat(out) & (out > np.datetime64(DATA_END, "s")), np.datetime64("NaT"), out)
    return pd.Series(out, dtype="datetime64[s]")


def _drop_after_leaving(sessions: pd.DataFrame, pairs: dict, careers: dict) -> pd.DataFrame:
    ends = pd.Series(_pair_ends(pairs, careers).to_numpy(), index=pairs["frame"]["pair_id"])
    end = ends.reindex(sessions["pair_id"]).to_numpy(dtype="datetime64[s]")
    keep = np.isnat(end) | (sessions["date"].to_numpy(dtype="datetime64[s]") < end)
    return sessions.loc[keep].reset_index(drop=True)


def _still_employed(wave: dict, careers: dict, opened: dt.date) -> dict:
    """Leavers stop answering: drop respondents who had left when the wave opened."""
    gone = careers["leave"][wave["respondents"]] <= np.datetime64(opened)
    keep = ~gone
    return {"respondents": wave["respondents"][keep], "values": wave["values"][keep],
            "submitted": wave["submitted"][keep]}


def _metrics_while_employed(metrics: dict, careers: dict) -> dict:
    """No metric for the months after a person left (NaN is not written)."""
    leave = careers["leave"]
    month_start = np.array([np.datetime64(f"{m}-01") for m in metrics["months"]], dtype="datetime64[D]")
    gone = leave[:, None] <= month_start[None, :]
    tasks = np.where(gone, np.nan, metrics["tasks"])
    cycle = np.where(gone[metrics["cycle_people"]], np.nan, metrics["cycle"])
    return {**metrics, "tasks": tasks, "cycle": cycle}


# -- surveys ------------------------------------------------------------------------------------
def _item_list() -> list[tuple[str, str, str, bool]]:
    return [(ITEM_CODES[c][k], c, ITEMS[c][k], k == 2) for c in CONSTRUCTS for k in range(3)]


def _items_frame(import_id: int) -> pd.DataFrame:
    rows = [{"item": code, "construct": c, "question": q, "reverse": rev, "scale_min": 1.0, "scale_max": 5.0,
             "import_id": import_id} for code, c, q, rev in _item_list()]
    return pd.DataFrame(rows)


def _wave(rng, org: dict, pairs: dict, w: int) -> dict:
    """Responses of one wave as integer codes: respondent index × item index → value."""
    n = org["n"]
    opened = np.datetime64(WAVES[w][1])
    participant = org["role"] > 0
    after = participant & (org["start"] <= opened)
    p_respond = 1 / (1 + np.exp(-(1.3 + 0.35 * org["g"] + 0.3 * participant)))
    respondents = np.flatnonzero(rng.random(n) < p_respond)
    r = respondents.size
    items = _item_list()
    values = np.empty((r, len(items)), dtype=np.float32)
    occasion = rng.normal(0, 1, r)  # a respondent's mood on the day, shared by their answers
    manager = org["manager"][respondents]
    for j, (code, construct, _, reverse) in enumerate(items):
        k = j % 3
        if construct == "leadership":
            boss = np.maximum(manager, 0)
            boss_after = (org["role"][boss] == 2) & (org["start"][boss] <= opened) & (manager >= 0)
            latent = (BASE_MEAN[construct] + 0.45 * org["manager_quality"][boss] + 0.15 * org["g"][respondents]
                      + DRIFT_PER_WAVE[construct] * w + EFFECT["leadership"] * boss_after + 0.2 * occasion)
        else:
            latent = (BASE_MEAN[construct] + 0.5 * org["traits"][construct][respondents]
                      + org["dept_effect"][construct][org["dept"][respondents]]
                      + DRIFT_PER_WAVE[construct] * w + 0.15 * occasion)
            treated = after[respondents]
            if construct == "engagement":
                latent = latent + org["engagement_effect"][respondents] * treated
            elif construct == "belonging":
                latent = latent + EFFECT["belonging"] * treated
            elif construct == "confidence":
                latent = latent + EFFECT["mentor_confidence"] * (treated & (org["role"][respondents] == 1))
        answer = np.clip(np.round(latent + (0.1 * (k - 1)) + rng.normal(0, 0.45, r)), 1, 5)
        if reverse:
            answer = 6 - answer
        if construct == "leadership":
            answer = np.where(manager >= 0, answer, np.nan)
        answer[rng.random(r) < 0.03] = np.nan
        values[:, j] = answer
    seconds = rng.integers(0, WAVE_DAYS_OPEN * 86400, r)
    submitted = np.datetime64(WAVES[w][1], "s") + seconds.astype("timedelta64[s]")
    return {"respondents": respondents, "values": values, "submitted": submitted}


# -- metrics ------------------------------------------------------------------------------------
def _metrics(rng, org: dict) -> dict:
    """Monthly objective metrics; selection shows (higher g → more tasks) but no programme effect.

    Trends are additive (the same number of extra tasks a month for everyone), so people with a
    higher baseline do not gain more in absolute terms: a true null for a difference-in-differences.
    Cycle time exists only where work flows through tickets (Engineering, Operations, Customer
    Success).
    """
    months = 12
    dept_level = rng.normal(0, 0.8, len(DEPARTMENTS))
    month_idx = np.arange(months)
    level = 14.0 + 1.6 * org["g"] + dept_level[org["dept"]]
    lam = np.clip(level[:, None] + 0.15 * month_idx[None, :], 0.5, None)
    tasks = rng.poisson(lam).astype(float)
    flow = np.flatnonzero(np.isin(org["dept"], [0, 2, 3]))
    cycle = np.round(np.clip(5.0 - 0.4 * org["g"][flow][:, None] - 0.03 * month_idx[None, :]
                             + rng.normal(0, 0.6, (flow.size, months)), 0.5, None), 1)
    return {"months": [f"2025-{m + 1:02d}" for m in range(months)], "tasks": tasks,
            "cycle_people": flow, "cycle": cycle}
