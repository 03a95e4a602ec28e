"""The bottom line of a scorecard in words: one summing-up sentence, who each claim holds for,
and a plain reading of each headline number.

Everything is worded from the scorecard frame, so the Overview, the Claims page and the
board report say the same thing. Works with today's scorecard (one pooled row per claim) and
with the per-role engine: when a row carries ``by_role`` (a list of per-role dicts with
``role``, ``primary`` and ``verdict``) "who it holds for" comes from the roles whose verdict
is the headline's; otherwise from the claim's declared population.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import pandas as pd

from analytics.formatting import number

VERDICT_LABELS: dict[str, str] = {
    "supported": "Supported",
    "contradicted": "Contradicted",
    "no_effect": "No effect",
    "inconclusive": "Inconclusive",
    "insufficient_data": "Not enough data",
}
#: Order of verdicts in the summing-up sentence: the answers first, then the open questions.
VERDICT_ORDER = ("supported", "contradicted", "no_effect", "inconclusive", "insufficient_data")
ROLE_LABELS = {"mentors": "Mentors (juniors)", "mentees": "Mentees (seniors)", "pooled": "Mentors and mentees",
               "participants": "Mentors and mentees", "managers": "Mentees, as rated by their reports"}
#: The claim's declared population (today's engine) → who a verdict speaks for.
POPULATION_WHO = {"participants": "Mentors and mentees (pooled)", "mentors": "Mentors (juniors)",
                  "managers": "Mentees (seniors), rated by their reports"}
SCALE = "1–5"


def summary_sentence(card: pd.DataFrame) -> str:
    """'3 of 10 claims supported, 1 no effect, 4 inconclusive; 2 have not enough data.'

    Examples
    --------
    >>> card = pd.DataFrame({"verdict": ["supported", "supported", "inconclusive", "insufficient_data",
    ...                                  "no_effect"]})
    >>> summary_sentence(card)
    '2 of 5 claims supported, 1 no effect, 1 inconclusive; 1 has not enough data to judge.'
    >>> summary_sentence(pd.DataFrame({"verdict": ["no_effect"]}))
    '0 of 1 claim supported, 1 no effect.'
    """
    total = len(card)
    counts = card["verdict"].value_counts().to_dict() if total else {}
    head = f"{counts.get('supported', 0)} of {total} claim{'s' if total != 1 else ''} supported"
    rest = [f"{counts[v]} {VERDICT_LABELS[v].lower()}" for v in ("contradicted", "no_effect", "inconclusive")
            if counts.get(v)]
    text = ", ".join([head, *rest])
    missing = counts.get("insufficient_data", 0)
    if missing:
        text += f"; {missing} {'has' if missing == 1 else 'have'} not enough data to judge"
    return text + "."


def _roles(row: Mapping[str, Any]) -> list[dict]:
    roles = row.get("by_role")
    if isinstance(roles, (list, tuple)):
        return [dict(r) for r in roles if isinstance(r, Mapping)]
    return []


def who_for(row: Mapping[str, Any], population: str | None = None) -> str:
    """Whom the headline verdict speaks for.

    With per-role rows: the primary roles whose verdict is the headline's ("Mentees (seniors)"),
    both when both agree. Without: the claim's declared population.

    Examples
    --------
    >>> who_for({"verdict": "supported", "by_role": [
    ...     {"role": "mentors", "primary": True, "verdict": "no_effect"},
    ...     {"role": "mentees", "primary": True, "verdict": "supported"},
    ...     {"role": "pooled", "primary": False, "verdict": "supported"}]})
    'Mentees (seniors)'
    >>> who_for({"verdict": "supported"}, "mentors")
    'Mentors (juniors)'
    """
    roles = [r for r in _roles(row) if r.get("role") != "pooled" and r.get("primary", True)]
    if roles:
        same = [r["role"] for r in roles if r.get("verdict") == row.get("verdict")] or [r["role"] for r in roles]
        if {"mentors", "mentees"} <= set(same):
            return "Mentors and mentees"
        return " and ".join(ROLE_LABELS.get(r, str(r)) for r in same)
    return POPULATION_WHO.get(population or "participants", "Participants")


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def plain_reading(row: Mapping[str, Any], design: str = "did", predictor_label: str | None = None) -> str:
    """The headline number read aloud for a non-statistician.

    Examples
    --------
    >>> plain_reading({"estimate": 0.312, "effect_size": 0.29, "es_ci_low": 0.1, "es_ci_high": 0.48})
    'About 0.31 points on the 1–5 scale (0.29 SD): participants moved that much more than comparable colleagues. The true effect is likely between 0.10 and 0.48 SD.'
    >>> plain_reading({"estimate": float("nan"), "effect_size": float("nan")})
    'No number: there is not enough data to estimate this effect.'
    """
    est, es = row.get("estimate"), row.get("effect_size")
    if not (_finite(est) and _finite(es)):
        return "No number: there is not enough data to estimate this effect."
    lo, hi = row.get("es_ci_low"), row.get("es_ci_high")
    ci = (f" The true effect is likely between {number(lo)} and {number(hi)} SD."
          if _finite(lo) and _finite(hi) else "")
    if design == "hazard":  # retention / promotion: a 12-month probability difference
        return (f"About {number(abs(100 * float(est)))} percentage points {'more' if float(est) >= 0 else 'less'} "
                f"likely within 12 months of the start than comparable colleagues ({number(es)} SD)." + ci)
    if design == "within":
        label = predictor_label or "the predictor"
        direction = "more" if float(es) >= 0 else "less"
        return (f"Per unit of {label}, participants gained about {number(abs(float(est)))} points "
                f"{direction} on the {SCALE} scale; per SD of {label}, {number(abs(float(es)))} SD {direction}."
                + ci)
    direction = "more" if float(est) >= 0 else "less"
    return (f"About {number(abs(float(est)))} points on the {SCALE} scale ({number(es)} SD): participants moved "
            f"that much {direction} than comparable colleagues." + ci)


def counts_sentence(row: Mapping[str, Any]) -> str:
    """People behind the estimate, in a form that adds up (or says why not).

    Examples
    --------
    >>> counts_sentence({"n": 1892, "n_treated": 314, "n_comparison": 1578})
    '1,892 people: 314 participants + 1,578 comparison colleagues.'
    >>> counts_sentence({"n": 1892, "n_treated": 314, "n_comparison": 1558})
    '314 participants and 1,558 comparison colleagues (1,872 in all); 20 more people answered but have no score both before and after, so they are not in the estimate.'
    >>> counts_sentence({"n": 120, "n_treated": 120, "n_comparison": 0})
    '120 participants with scores before and after (no outside comparison group in this design).'
    """
    n, t, c = (int(row.get(k) or 0) for k in ("n", "n_treated", "n_comparison"))
    if c == 0:
        return f"{t:,} participants with scores before and after (no outside comparison group in this design)."
    if t + c == n:
        return f"{n:,} people: {t:,} participants + {c:,} comparison colleagues."
    if n > t + c:
        return (f"{t:,} participants and {c:,} comparison colleagues ({t + c:,} in all); {n - t - c:,} more people "
                "answered but have no score both before and after, so they are not in the estimate.")
    return (f"{t:,} participants and {c:,} comparison colleagues; {t + c - n:,} are counted in both groups "
            f"(compared before they started), {n:,} different people in all.")


def verdict_counts(verdicts: Iterable[str]) -> dict[str, int]:
    """How many claims have each verdict, in `VERDICT_ORDER` (zeros kept).

    >>> verdict_counts(["supported", "no_effect", "supported"])["supported"]
    2
    """
    out = {v: 0 for v in VERDICT_ORDER}
    for v in verdicts:
        out[v] = out.get(v, 0) + 1
    return out
