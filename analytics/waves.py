"""Which survey waves belong to the organisation's programme, and why others are flagged.

The headline response rate, the wave range and the wave slider should use only the
organisation's own waves (`own_waves`, `own_wave_span`); the Data page lists the flags.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.store import programme as sql

#: A wave opening this long before the first (or after the last) of the organisation's own waves is
#: flagged as outside its survey period.
OUTSIDE_DAYS = 365


def wave_flags(db, k: int) -> pd.DataFrame:
    """One row per wave: survey, title, opened, respondents, linked, invited, own (bool), flag (text).

    A wave is the organisation's own when at least one respondent is linked to the roster. Flags:
    no linked respondent ("not linked": foreign, test or anonymous), no invitation count (no response
    rate base), fewer respondents than `k`, or opened well outside the own waves' period.

    Examples
    --------
    >>> from analytics.store import Database
    >>> import tempfile, pathlib
    >>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "x.duckdb")
    >>> wave_flags(db, 5).empty
    True
    """
    df = sql.wave_links(db)
    if df.empty:
        return df.assign(own=pd.Series(dtype=bool), flag=pd.Series(dtype=object))
    df["own"] = df["linked"] > 0
    own_open = pd.to_datetime(df.loc[df["own"], "opened"]).dropna()
    lo = own_open.min() - pd.Timedelta(days=OUTSIDE_DAYS) if len(own_open) else None
    hi = own_open.max() + pd.Timedelta(days=OUTSIDE_DAYS) if len(own_open) else None
    flags = []
    for r in df.itertuples():
        why = []
        if not r.own:
            why.append("not linked: no respondent is in the roster (foreign, test or anonymous survey)")
        if r.invited is None or pd.isna(r.invited):
            why.append("no invitation count: no response rate")
        if r.respondents < k:
            why.append(f"fewer than {k} respondents")
        opened = pd.to_datetime(r.opened)
        if lo is not None and not r.own and pd.notna(opened) and (opened < lo or opened > hi):
            why.append("opened outside the organisation's survey period")
        flags.append("; ".join(why) or None)
    df["flag"] = flags
    # counts of 1 … k-1 people are never shown (0 is: it is what makes a wave foreign)
    for col in ("respondents", "linked"):
        df[col] = df[col].astype("Int64").mask((df[col] > 0) & (df[col] < k))
    return df


def own_waves(db) -> list[str]:
    """The organisation's own waves (at least one respondent linked to the roster), in time order."""
    df = sql.wave_links(db)
    return df.loc[df["linked"] > 0, "survey"].tolist()


def own_wave_span(db) -> tuple[dt.date, dt.date] | None:
    """First opening and last closing date of the organisation's own waves (for the wave slider)."""
    df = sql.wave_links(db)
    df = df[df["linked"] > 0]
    opened = pd.to_datetime(df["opened"]).dropna()
    closed = pd.to_datetime(df["closed"].fillna(df["opened"])).dropna()
    if opened.empty:
        return None
    return opened.min().date(), closed.max().date()
