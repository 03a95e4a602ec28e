"""Plain-language sentences for an executive, generated from the numbers of one claim."""

from __future__ import annotations

import math
from statistics import NormalDist

from analytics.claims.definitions import CONSTRUCT_LABEL, Claim

WHO = {"participants": "participants", "mentors": "mentors",
       "managers": "mentees (as rated by their direct reports)"}


def _f(x: float) -> str:
    s = f"{x:.2f}".rstrip("0").rstrip(".") if abs(x) < 10 else f"{x:.1f}"
    return "0" if s in ("-0", "0") else s.replace("-", "−")


def _ci90(row: dict) -> tuple[float, float]:
    """The 90% CI that the equivalence test (TOST at 5%) uses, from the standardised SE."""
    es, se = row.get("effect_size"), row.get("es_se")
    if se is None or not math.isfinite(se):
        return row.get("es_ci_low"), row.get("es_ci_high")
    z = NormalDist().inv_cdf(0.95)
    return es - z * se, es + z * se


def sentence(claim: Claim, row: dict, sesoi: float = 0.2, min_group: int = 5) -> str:
    """One sentence saying what the numbers mean, phrased by verdict.

    Examples
    --------
    >>> from analytics.claims.definitions import CLAIMS_BY_ID
    >>> sentence(CLAIMS_BY_ID["engagement"], {"verdict": "supported", "effect_size": 0.4,
    ...          "es_ci_low": 0.2, "es_ci_high": 0.6})
    'Engagement of participants rose 0.4 SD more than comparable colleagues (95% CI 0.2 to 0.6).'
    """
    v = row.get("verdict")
    es, lo, hi = row.get("effect_size"), row.get("es_ci_low"), row.get("es_ci_high")
    if v == "insufficient_data" or es is None or not math.isfinite(es):
        reason = row.get("reason") or f"fewer than {min_group} people in a group"
        return f"Not enough data to judge this claim ({reason})."
    ci = f"(95% CI {_f(lo)} to {_f(hi)})"
    if claim.design == "within":
        label = claim.predictor_label
        more = "more" if es >= 0 else "less"
        if v == "supported" or v == "contradicted":
            return (f"Participants with one SD higher {label} gained {_f(abs(es))} SD {more} engagement "
                    f"{ci.replace(')', ' SD)')}.")
        if v == "no_effect":
            lo, hi = _ci90(row)
            return (f"The {label} makes no meaningful difference to the engagement gain: the effect is "
                    f"between {_f(lo)} and {_f(hi)} SD per SD (90% CI), below the {_f(sesoi)} SD that would "
                    f"matter.")
        return (f"Unclear: one SD higher {label} goes with {_f(es)} SD {'more' if es >= 0 else 'less'} "
                f"engagement gain, but the 95% CI ({_f(lo)} to {_f(hi)}) includes both no effect and a "
                f"meaningful one.")
    what = f"{CONSTRUCT_LABEL.get(claim.construct, claim.construct)} of {WHO.get(claim.population, 'participants')}"
    if v == "supported" or v == "contradicted":
        verb = "rose" if es > 0 else "fell"
        return f"{what} {verb} {_f(abs(es))} SD more than comparable colleagues {ci}."
    if v == "no_effect":
        lo, hi = _ci90(row)
        return (f"{what} changed no differently from comparable colleagues: the effect is between "
                f"{_f(lo)} and {_f(hi)} SD (90% CI), smaller than the {_f(sesoi)} SD that would matter.")
    return (f"Unclear: {what[0].lower() + what[1:]} changed {_f(es)} SD relative to comparable colleagues, "
            f"but the 95% CI ({_f(lo)} to {_f(hi)}) includes both no effect and a meaningful one.")


def method_text(claim: Claim, weighted: bool = True) -> str:
    """Two sentences on how the claim was tested."""
    if claim.design == "within":
        return (f"Among participants, the engagement gain (mean after their pair started minus mean before) "
                f"was regressed on the {claim.predictor_label}, controlling for baseline engagement and start "
                f"group (OLS, HC3 robust errors). The effect is in gain SDs per SD of the predictor; there is "
                f"no comparison group for this question.")
    comp = ("colleagues not (yet) in the programme, weighted to resemble them in department, level, "
            "generation and tenure" if weighted else "colleagues not (yet) in the programme (unweighted)")
    who = {"participants": "The change in {c} of participants (mentors and mentees)",
           "mentors": "The change in {c} of mentors",
           "managers": "The change in the leadership ratings mentees receive from their direct reports"}
    lead = who.get(claim.population, who["participants"]).format(c=claim.construct)
    return (f"{lead} from before to after their pair started was compared with the change of {comp}, start "
            f"cohort by start cohort (Callaway & Sant'Anna style difference-in-differences). Cohort effects are "
            f"averaged by size, errors are clustered by person and the effect is expressed in baseline SDs.")
