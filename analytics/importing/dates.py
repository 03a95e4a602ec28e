"""Dates and times as survey tools and Excel write them, parsed column by column.

Tried in order on the values still unparsed, best-fitting format first: ISO 8601, the
``2022/03/26 11:00:19 PM AST`` of Google Forms, US ``M/D/YYYY`` (Microsoft Forms), European
``D.M.YYYY`` and ``D/M/YYYY``, and Excel serial day numbers (``43290.53487``: days since
1899-12-30, what a CSV re-saved by Excel holds).
"""

from __future__ import annotations

import re

import pandas as pd

FORMATS = (
    "%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%m/%d/%y %H:%M:%S", "%m/%d/%y %H:%M", "%m/%d/%y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%y %H:%M",
)
_TZ_SUFFIX = re.compile(r"\s+(?:[A-Z]{2,5}|GMT[+-]\d{1,2}(?::?\d{2})?|UTC[+-]\d{1,2}(?::?\d{2})?)$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Text → naive datetime64 (time zones dropped: wave dates need the local day); NaT when
    empty or unparseable."""
    text = values.fillna("").astype(str).str.strip()
    text = text.str.replace(_TZ_SUFFIX.pattern, "", regex=True)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = text != ""
    if not todo.any():
        return out
    iso = pd.to_datetime(text[todo], format="ISO8601", errors="coerce", utc=True)
    iso = iso.dt.tz_convert(None) if hasattr(iso, "dt") else iso
    ok = iso.notna()
    out.loc[ok[ok].index] = iso[ok].astype("datetime64[us]")
    todo &= out.isna()
    serial = todo & text.str.match(_SERIAL.pattern)
    if serial.any():
        days = text[serial].astype(float)
        good = days.between(20000, 80000)
        idx = good[good].index
        out.loc[idx] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(days[idx], unit="D")).astype("datetime64[us]")
        todo &= out.isna()
    while todo.any():
        best, best_n = None, 0
        for fmt in FORMATS:
            parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
            n = int(parsed.notna().sum())
            if n > best_n:
                best, best_n = parsed, n
        if best is None:
            break
        ok = best.notna()
        out.loc[ok[ok].index] = best[ok].astype("datetime64[us]")
        todo &= out.isna()
    return out


__all__ = ["parse_datetimes"]
