"""How the Overview's activity counts moved: the same counts one quarter earlier, and the
response rate of the wave before the latest.

"Now" is the date of the latest data (as in `views.headline`), so "a quarter ago" is the 91
days before that: active pairs on that day, and sessions in the 91 days up to it. Withheld
(None) exactly when the headline withholds the figure itself. Read from released data
(`views.guarded`), like every other view.
"""

from __future__ import annotations

import datetime as dt

from analytics import views
from analytics.filters import Filters
from analytics.store import dashboard as sql

QUARTER = dt.timedelta(days=91)


@views.guarded
def headline_change(db, filters: Filters, k: int) -> dict:
    """Previous-period values: ``active_pairs``, ``sessions_quarter`` (91 days earlier),
    ``response_rate`` and ``response_survey`` (the wave before the latest with respondents)."""
    where, params = filters.employee_where()
    as_of = sql.latest_date(db) or dt.date.today()
    now = sql.counts(db, where, params, as_of, filters.cohort).dicts()[0]
    before = sql.counts(db, where, params, as_of - QUARTER, filters.cohort).dicts()[0]
    out = {"as_of": as_of - QUARTER, "active_pairs": before["active_pairs"],
           "sessions_quarter": before["sessions_quarter"], "response_rate": None, "response_survey": None}
    if 0 < now["employees"] < k or 0 < now["participants"] < k:
        out.update(active_pairs=None, sessions_quarter=None)
    rates = views.response_rates(db, filters, k)
    answered = rates[rates["respondents"].notna()]
    if len(answered) >= 2:
        prev = answered.iloc[-2]
        out.update(response_rate=float(prev["rate"]), response_survey=str(prev["survey"]))
    return out


def delta(now, before, percent: bool = False) -> str | None:
    """The change as a metric tile shows it ('+12', '−3 pts'); None when either side is missing.

    >>> delta(40, 28), delta(0.61, 0.65, percent=True), delta(None, 3), delta(5, 5)
    ('+12', '-4 pts', None, None)

    No change gives None: a tile shows no arrow rather than an upward one for zero.
    """
    if now is None or before is None:
        return None
    if percent:
        d = round((float(now) - float(before)) * 100)
        return f"{d:+d} pts" if d else None
    d = int(now) - int(before)
    return f"{d:+,}" if d else None
