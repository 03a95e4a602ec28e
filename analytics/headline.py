"""Headline figures for the home page: what an executive sees first.

All figures respect the anonymity threshold: a group smaller than `min_group` is reported
as suppressed, never as a number.
"""

from __future__ import annotations

import datetime as dt
import math
import os

import pandas as pd

from analytics.filters import Filters
from analytics.store import Database
from analytics.store import headline as sql
from analytics.vocab import DEFAULT_MIN_GROUP_SIZE


def min_group_size() -> int:
    """The anonymity threshold: TWOWAY_MIN_GROUP_SIZE, default 5, never below 2."""
    raw = os.environ.get("TWOWAY_MIN_GROUP_SIZE", str(DEFAULT_MIN_GROUP_SIZE))
    try:
        return max(2, int(raw))
    except ValueError:
        return DEFAULT_MIN_GROUP_SIZE


def kpis(db: Database, filters: Filters = Filters()) -> dict:
    """Employees, participants, active pairs, sessions in the last 91 days, latest response rate.

    "Now" is the date of the latest data (last session or survey close), so a historical
    database reads the same whenever it is opened.
    """
    where, params = filters.employee_where()
    as_of = sql.latest_activity_date(db) or dt.date.today()
    row = sql.counts(db, where, params, as_of).dicts()[0]
    rates = sql.response_rates(db, where, params).df()
    latest = None
    if not rates.empty:
        last = rates.iloc[-1]
        invited = last["selected_headcount"] if not filters.is_empty() or pd.isna(last["invited"]) else last["invited"]
        if invited and invited > 0:
            latest = {"survey": last["survey"], "respondents": int(last["respondents"]),
                      "invited": int(invited), "rate": float(last["respondents"]) / float(invited)}
    small = row["employees"] < min_group_size()
    return {"as_of": as_of, **{k: (None if small else int(v)) for k, v in row.items()},
            "response": None if small else latest, "suppressed": small}


def engagement_by_group(db: Database, group: str = "department", filters: Filters = Filters(),
                        construct: str = "engagement") -> pd.DataFrame:
    """Mean score per group in the latest wave with a 95% CI; groups under the threshold suppressed."""
    where, params = filters.employee_where()
    df = sql.construct_by_group(db, construct, group, where, params).df()
    k = min_group_size()
    df["suppressed"] = df["n"] < k
    half = 1.96 * df["sd"] / df["n"].map(lambda n: math.sqrt(n) if n else float("nan"))
    df["ci_low"], df["ci_high"] = df["mean"] - half, df["mean"] + half
    for col in ("mean", "sd", "ci_low", "ci_high"):
        df.loc[df["suppressed"], col] = float("nan")
    df["n"] = df["n"].astype("Int64").mask(df["suppressed"])
    df["note"] = df["suppressed"].map(lambda s: f"fewer than {k} respondents" if s else "")
    return df.rename(columns={"grp": group})
