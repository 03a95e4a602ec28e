"""Where the evidence sits: Kirkpatrick's four levels, and published effect sizes to compare with.

Leadership asks "did people like it, learn, change, and did it pay?" — Kirkpatrick's reaction,
learning, behaviour and results (in the New World Kirkpatrick Model, level 2 covers attitude,
confidence and commitment as well as knowledge). Placing each measure on its level shows where
the programme has evidence and where it has none yet: a programme can score well on reactions
and have no level-4 evidence at all.

Published reference bands put an effect in context: a mentoring effect of 0.1 SD is typical of
the field, not a disappointment. Correlations are converted to standardised mean differences
with d = 2r / sqrt(1 - r²) (Borenstein et al. 2009, eq. 7.5), the unit of Twoway's effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

LEVELS = {1: "Reaction", 2: "Learning", 3: "Behaviour", 4: "Results"}


@dataclass(frozen=True)
class Measure:
    """One measure Twoway reports and the Kirkpatrick level it informs."""

    measure: str
    level: int
    source: str        # where the number comes from
    claim: str | None  # the scorecard claim id, when it is one


#: Every measure, in level order. Level 1 and the mechanism claims (dose, informality, safety)
#: are not causal effects of joining, so they carry no verdict of their own here.
MEASURES: tuple[Measure, ...] = (
    Measure("Session ratings (mentors and mentees)", 1, "session log", None),
    Measure("Confidence of mentors", 2, "survey", "mentor_confidence"),
    Measure("Engagement", 2, "survey", "engagement"),
    Measure("Belonging", 2, "survey", "belonging"),
    Measure("Leadership, as rated by direct reports", 3, "survey (reports)", "leadership"),
    Measure("Agility", 3, "survey", "agility"),
    Measure("Innovation", 3, "survey", "innovation"),
    Measure("Self-rated productivity", 3, "survey", "productivity"),
    Measure("Objective metrics", 4, "metrics", "productivity"),
    Measure("Retention", 4, "roster history", "retention"),
    Measure("Promotion", 4, "roster history", "promotion"),
)


def r_to_d(r: float) -> float:
    """Standardised mean difference from a point-biserial correlation.

    Examples
    --------
    >>> round(r_to_d(0.1), 3)   # 2·0.1 / sqrt(0.99)
    0.201
    """
    if not -1 < r < 1:
        raise ValueError("r must lie strictly between -1 and 1")
    return 2 * r / math.sqrt(1 - r * r)


@dataclass(frozen=True)
class ReferenceBand:
    """A published range of mentoring effects, in the source's unit and in SD units."""

    outcome: str
    r_low: float
    r_high: float
    source: str
    claims: tuple[str, ...] = ()  # the scorecard claims the band is drawn beside

    @property
    def d_low(self) -> float:
        return r_to_d(self.r_low)

    @property
    def d_high(self) -> float:
        return r_to_d(self.r_high)


#: Sources and the reasoning for each band are in docs/REFERENCE_EFFECTS.md.
REFERENCE_BANDS: tuple[ReferenceBand, ...] = (
    ReferenceBand("attitudes (engagement, belonging, satisfaction)", 0.03, 0.15,
                  "Eby, Allen, Evans, Ng & DuBois (2008), J. Vocational Behavior 72(2), 254–267",
                  claims=("engagement", "belonging")),
)


def evaluation_map(scorecard: pd.DataFrame | None = None, rated_sessions: bool | None = None) -> pd.DataFrame:
    """One row per measure: level, level name, source, claim and — from the scorecard when
    given — its verdict, so the panel shows where evidence exists and where it is missing.

    `rated_sessions` says whether the session log holds ratings (level 1 is descriptive: it has
    evidence when ratings exist, none when they do not; None = unknown). ``evidence`` is True
    where the data gives a tested verdict (or, for level 1, ratings), False where it is missing.

    Examples
    --------
    >>> m = evaluation_map()
    >>> m.groupby("level").size().to_dict()
    {1: 1, 2: 3, 3: 4, 4: 3}
    """
    rows = pd.DataFrame([{k: v for k, v in m.__dict__.items()} for m in MEASURES])
    rows.insert(1, "level_name", rows["level"].map(LEVELS))
    if scorecard is None or scorecard.empty or "id" not in scorecard:
        verdicts = pd.Series(dtype=object)
    else:
        verdicts = scorecard.set_index("id")["verdict"]
    level1 = {True: "descriptive only", False: "not measured", None: "descriptive only"}[rated_sessions]
    rows["verdict"] = [verdicts.get(c, "not measured") if pd.notna(c) else level1 for c in rows["claim"]]
    rows["evidence"] = [v not in ("not measured", "insufficient_data") and not (v == "descriptive only"
                                                                                 and rated_sessions is not True)
                        for v in rows["verdict"]]
    return rows


def reference_bands() -> pd.DataFrame:
    """The published bands as a tidy table (r and SD units)."""
    return pd.DataFrame([{"outcome": b.outcome, "r_low": b.r_low, "r_high": b.r_high, "d_low": b.d_low,
                          "d_high": b.d_high, "source": b.source, "claims": ", ".join(b.claims)}
                         for b in REFERENCE_BANDS])


def band_for(claim_id: str) -> ReferenceBand | None:
    """The published band drawn beside a claim's effect, if one applies."""
    return next((b for b in REFERENCE_BANDS if claim_id in b.claims), None)


def programme_map(db, filters, k: int) -> pd.DataFrame:
    """The evaluation map of this database and view: the scorecard's verdicts, and level 1 from the
    released session log (ratings from at least `k` sessions count as evidence)."""
    from analytics.claims import scorecard
    from analytics.store.evaluation import rated_sessions
    from analytics.store.released import released

    with released(db, k, filters.as_of):
        rated = rated_sessions(db) >= k
    return evaluation_map(scorecard(db, filters, min_group=k), rated_sessions=rated)
