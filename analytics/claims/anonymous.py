"""Comparison claims from anonymous surveys that ask who takes part.

When no survey answer can be linked to the roster (so the panel has no waves) but a survey
carries the participation question, each comparison claim on a self-reported construct is
estimated per role as a repeated cross-section difference-in-differences of group means
(`analytics.claims.cross_section`). The tests enter the engine as ordinary `Estimate`s: the
same Holm family over primary tests, the same equivalence test and verdict rule, the same
headline rule. What the design cannot give is said instead: no person is followed (no
pre-trend, response or effective-size check), and the groups can change from wave to wave.

Only the unfiltered view uses it: an anonymous survey has no department, level or cohort of a
person to filter on. The cells are read inside `released()`, where unlinked answers are released
per (wave, participation group) with at least k respondents (docs/PRIVACY.md).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from analytics.claims.cross_section import CAVEAT, DESIGN, from_store
from analytics.claims.definitions import Claim, Design, Outcome, Role
from analytics.claims.estimate import Diagnostics, Estimate

Z = stats.norm.ppf(0.975)
_ROLE = {"mentor": Role.MENTORS, "mentee": Role.MENTEES}

#: The note every claim estimated this way carries.
NOTE = (f"No survey answer is linked to a person, so this claim rests on the participation question: a {DESIGN}, "
        f"{CAVEAT}. Pre-trends, differential response and the comparison's effective size cannot be checked; "
        f"n counts answers over all waves, not people.")


#: How the claim was tested, for the scorecard's `method`.
METHOD = ("Each wave's respondents said whether they take part (mentor, mentee or no) and, where asked, their "
          "cohort. For each role, the change in the gap between that role's respondents and non-participants, from "
          "waves before their cohort's start to waves after it, was estimated from cell means (wave and group "
          "effects, HC1 errors); groups under the anonymity threshold were left out.")


def applies(claim: Claim) -> bool:
    """Claims a participation question can answer: comparisons of the respondent's own answers."""
    return claim.design is Design.DID and claim.measured_by is Outcome.SELF


def cross_section_frames(db, panel, filters, k: int, claims) -> dict[str, pd.DataFrame]:
    """{construct: per-role cross-section rows} when the panel has no linked waves, else {}.

    Called inside `released()`; filtered views get nothing (see the module docstring).
    """
    from analytics.store import cross_section as sql

    if panel.n_waves or not filters.is_empty():
        return {}
    constructs = set(sql.participation_constructs(db))
    wanted = {c.construct for c in claims if applies(c)} & constructs
    return {c: from_store(db, c, k) for c in sorted(wanted)}


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
