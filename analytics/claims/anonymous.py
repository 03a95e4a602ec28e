"""Comparison claims from anonymous surveys that ask who takes part.

When a survey carries the participation question, each comparison claim on a self-reported
construct it measures can be estimated per role as a repeated cross-section
difference-in-differences of group means (`analytics.claims.cross_section`). The tests enter the
engine as ordinary `Estimate`s: the same Holm family over primary tests, the same equivalence
test and verdict rule, the same headline rule. What the design cannot give is said instead: no
person is followed (no pre-trend, response or effective-size check), and the groups can change
from wave to wave.

Which design a claim uses (`choose`):

* no survey answer is linked to the roster: the anonymous survey, for every claim it measures;
* a *mixed* organisation (some waves linked, an anonymous survey with the participation
  question as well): the linked waves' panel where it gives the claim a test, since it follows
  the same people before and after their start; the anonymous survey where the panel gives the
  claim no usable survey test (the construct is not asked in the linked waves, or too few answer
  it there), since then it is the only evidence. The two are never pooled into one estimate: an
  anonymous answer cannot be matched to a person, so someone who answered both would count
  twice, and the designs' errors are not independent. A claim whose panel test was kept says in
  its notes which anonymous survey was not used, and why.

Only the unfiltered view uses it: an anonymous survey has no department, level or cohort of a
person to filter on (a filtered view's notes name the survey it leaves out). The cells are read
inside `released()`, where unlinked answers are released per (wave, participation group) with
at least k respondents (docs/PRIVACY.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from analytics.claims.cross_section import CAVEAT, DESIGN, from_store
from analytics.claims.definitions import Claim, Design, Outcome, Role
from analytics.claims.estimate import Diagnostics, Estimate

Z = stats.norm.ppf(0.975)
_ROLE = {"mentor": Role.MENTORS, "mentee": Role.MENTEES}

#: The note every claim estimated this way carries (no answer linked to the roster).
NOTE = (f"No survey answer is linked to a person, so this claim rests on the participation question: a {DESIGN}, "
        f"{CAVEAT}. Pre-trends, differential response and the comparison's effective size cannot be checked; "
        f"n counts answers over all waves, not people.")

#: The note of a claim that rests on the anonymous survey in a mixed organisation.
NOTE_MIXED = (f"The survey waves linked to the roster give this claim no usable test, so it rests on the anonymous "
              f"survey's participation question: a {DESIGN}, {CAVEAT}. Pre-trends, differential response and the "
              f"comparison's effective size cannot be checked; n counts anonymous answers over all its waves, "
              f"not people.")


def unused_note(surveys, filtered: bool) -> str:
    """Why the anonymous survey(s) `surveys` (ids of waves with the participation question) did
    not enter this claim's estimate."""
    names = ", ".join(f"'{s}'" for s in surveys)
    one = len(tuple(surveys)) == 1
    what = f"The anonymous survey wave{'' if one else 's'} {names} (answers linked to nobody, with the " \
           f"participation question) {'was' if one else 'were'} not used for this claim"
    if filtered:
        return what + ": a filtered view cannot select anonymous answers (they carry no department, level, " \
                      "location, generation or cohort of a person)."
    return what + (": the waves linked to the roster follow the same people before and after their start, a "
                   "stronger design, and an anonymous answer cannot be matched to those people, so pooling the "
                   "two would count someone who answered both twice.")


#: How the claim was tested, for the scorecard's `method`.
METHOD = ("Each wave's respondents said whether they take part (mentor, mentee or no) and, where asked, their "
          "cohort. For each role, the change in the gap between that role's respondents and non-participants, from "
          "waves before their cohort's start to waves after it, was estimated from cell means (wave and group "
          "effects, HC1 errors); groups under the anonymity threshold were left out.")


def applies(claim: Claim) -> bool:
    """Claims a participation question can answer: comparisons of the respondent's own answers."""
    return claim.design is Design.DID and claim.measured_by is Outcome.SELF


@dataclass(frozen=True)
class AnonymousEvidence:
    """What the anonymous surveys with the participation question hold for one construct.

    frame : the per-role cross-section rows (`cross_section.from_store`), None in a filtered view.
    surveys : the anonymous survey waves that measure the construct, in wave order.
    """

    frame: pd.DataFrame | None
    surveys: tuple[str, ...]


def cross_section_frames(db, panel, filters, k: int, claims) -> dict[str, AnonymousEvidence]:
    """{construct: `AnonymousEvidence`} for the constructs of `claims` an anonymous survey with
    the participation question measures ({} when there is none).

    Called inside `released()`. The cross-section rows are estimated in the unfiltered view only
    (see the module docstring); a filtered view gets the survey names, for its notes.
    """
    from analytics.store import cross_section as sql

    surveys = sql.participation_surveys(db)
    wanted = sorted({c.construct for c in claims if applies(c)} & set(surveys))
    filtered = not filters.is_empty()
    return {c: AnonymousEvidence(None if filtered else from_store(db, c, k), surveys[c]) for c in wanted}


def choose(panel, claim: Claim, panel_tests: list[Estimate], evidence: AnonymousEvidence | None,
           min_group: int) -> tuple[list[Estimate], dict]:
    """The claim's survey tests and extra fields: the panel's, or the anonymous survey's (see the
    module docstring). `panel_tests` are the claim's survey tests from the panel (metric None)."""
    if evidence is None or not applies(claim):
        return panel_tests, {}
    if evidence.frame is None:  # a filtered view
        return panel_tests, {"notes": (unused_note(evidence.surveys, filtered=True),)}
    if panel.n_waves and any(t.ok for t in panel_tests):
        return panel_tests, {"notes": (unused_note(evidence.surveys, filtered=False),)}
    note = NOTE_MIXED if panel.n_waves else NOTE
    return (cross_section_tests(claim, evidence.frame, min_group),
            {"design": DESIGN, "design_note": note, "anonymous_surveys": evidence.surveys})


def cross_section_tests(claim: Claim, frame: pd.DataFrame, min_group: int) -> list[Estimate]:
    """The claim's per-role tests from the cross-section rows (one per role the claim names)."""
    rows = {r["role"]: r for r in frame.to_dict("records")}
    out = []
    for role in claim.roles:
        r = next((v for key, v in rows.items() if _ROLE.get(key) is role), None)
        head = dict(claim_id=claim.id, role=role, metric=None, primary=role in claim.primary)
        if r is None or r["verdict"] == "insufficient_data" or not math.isfinite(r["estimate"]):
            reason = (r or {}).get("reason") or "no answers to the participation question for this role"
            out.append(Estimate(**head, reason=f"anonymous survey: {reason}", diagnostics=Diagnostics()))
            continue
        sd = r["estimate"] / r["effect"] if r["effect"] else float("nan")
        out.append(Estimate(**head, estimate=r["estimate"], se=r["se"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                            p_value=r["p_value"], effect_size=r["effect"], es_se=r["se_effect"],
                            es_ci_low=r["effect"] - Z * r["se_effect"], es_ci_high=r["effect"] + Z * r["se_effect"],
                            n_treated=int(r["n_treated"]), n_comparison=int(r["n_comparison"]),
                            n_people=int(r["n_treated"]) + int(r["n_comparison"]), sd=abs(sd),
                            diagnostics=Diagnostics(ess_required=0)))
    return out
