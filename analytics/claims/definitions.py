"""The claims Twoway tests, with stable ids, in the order the scorecard shows them.

Each claim declares, from its wording, which side of the pair it is about (`primary`): the
headline verdict rests only on the primary tests, never on a pooled estimate of two roles
that may be expected to differ (juniors teach, seniors learn).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Design(str, Enum):
    """How a claim is tested: against comparison colleagues, or among participants only."""

    DID = "did"          # staggered difference-in-differences against comparable colleagues
    WITHIN = "within"    # participants' gain (minus their department's comparison change) on a predictor
    HAZARD = "hazard"    # staggered-entry discrete-time hazard of leaving / promotion from the roster history


class Outcome(str, Enum):
    """Whose score measures the claim: the person's own answers, or their direct reports' ratings."""

    SELF = "self"            # the person's own survey answers
    REPORTS = "reports"      # ratings of the person given by their direct reports (leadership)


class Role(str, Enum):
    """A side of the pair. Mentors are the juniors who teach, mentees the seniors who learn."""

    MENTORS = "mentors"
    MENTEES = "mentees"
    POOLED = "pooled"        # a summary of both roles; never the basis of a headline verdict


#: Who each role is, in words for sentences.
ROLE_LABEL = {Role.MENTORS: "juniors (mentors)", Role.MENTEES: "seniors (mentees)",
              Role.POOLED: "participants (both roles)"}


@dataclass(frozen=True)
class Claim:
    """One claim about reverse mentoring and how it is measured.

    `roles` are estimated separately (each with its own comparison pool, propensity model and
    SD); `primary` are the roles whose tests enter the Holm family and decide the verdict.
    `metrics` says whether the objective metrics are primary tests of this claim too.
    """

    id: str
    title: str
    outcome: str
    direction: int
    construct: str
    design: Design
    primary: tuple[Role, ...] = (Role.MENTORS, Role.MENTEES)
    measured_by: Outcome = Outcome.SELF
    metrics: bool = False
    predictor: str | None = None
    predictor_label: str | None = None
    predictor_unit: str | None = None

    @property
    def roles(self) -> tuple[Role, ...]:
        """Roles estimated for this claim (both sides of the pair for a comparison claim)."""
        return (Role.MENTORS, Role.MENTEES) if self.design in (Design.DID, Design.HAZARD) else (Role.POOLED,)


CLAIMS: list[Claim] = [
    Claim("productivity", "Reverse mentoring makes work more efficient",
          "productivity of mentees (self-rated and each objective metric)", +1, "productivity", Design.DID,
          primary=(Role.MENTEES,), metrics=True),
    Claim("leadership", "It changes leadership for the better",
          "leadership ratings of mentees given by their direct reports", +1, "leadership", Design.DID,
          primary=(Role.MENTEES,), measured_by=Outcome.REPORTS),
    Claim("agility", "It encourages agility", "agility score of mentors and of mentees", +1, "agility", Design.DID),
    Claim("engagement", "It raises engagement", "engagement score of mentors and of mentees", +1, "engagement",
          Design.DID),
    Claim("innovation", "It drives cross-generational innovation", "innovation score of mentors and of mentees",
          +1, "innovation", Design.DID),
    Claim("belonging", "Every generation feels valued",
          "belonging score of mentors and of mentees (each generation and the gap in the detail)", +1, "belonging",
          Design.DID),
    Claim("mentor_confidence", "Recognising juniors' insight builds their confidence",
          "confidence score of mentors", +1, "confidence", Design.DID, primary=(Role.MENTORS,)),
    Claim("informal_learning", "The best mentoring happens informally",
          "engagement gain of participants vs their share of informal sessions", +1, "engagement", Design.WITHIN,
          primary=(Role.POOLED,), predictor="share_informal", predictor_label="share of informal sessions",
          predictor_unit="per 100% informal"),
    Claim("dose_response", "More mentoring, more gain",
          "engagement gain of participants vs their number of sessions", +1, "engagement", Design.WITHIN,
          primary=(Role.POOLED,), predictor="n_sessions", predictor_label="number of sessions",
          predictor_unit="per session"),
    Claim("psych_safety_moderation", "It works where people feel safe to speak",
          "engagement gain of participants vs baseline psychological safety of their department", +1,
          "engagement", Design.WITHIN, primary=(Role.POOLED,), predictor="dept_safety",
          predictor_label="baseline psychological safety of the department",
          predictor_unit="per scale point of department safety"),
    # Outcomes from the roster history (analytics.claims.outcome_claims). Both roles are primary, one
    # test each: the wording is about participants, and either side could plausibly stay or move up
    # because of the programme (juniors gain visibility with senior colleagues, seniors a reason to
    # stay and a view of how younger colleagues work); neither side is the one the claim singles out.
    # The estimate is the 12-month difference in the probability of the event: leaving (direction
    # -1, fewer leavers supports the claim) and moving up a level (+1).
    Claim("retention", "Participants are less likely to leave",
          "leaving within 12 months of the start, mentors and mentees (from the roster history)", -1, "retention",
          Design.HAZARD),
    Claim("promotion", "Participants are more likely to move up a level",
          "promotion to a higher level within 12 months of the start, mentors and mentees (from the roster "
          "history)", +1, "promotion", Design.HAZARD),
]

CLAIMS_BY_ID: dict[str, Claim] = {c.id: c for c in CLAIMS}

#: Human names of constructs for sentences.
CONSTRUCT_LABEL = {
    "engagement": "Engagement", "belonging": "Belonging", "psychological_safety": "Psychological safety",
    "productivity": "Self-rated productivity", "leadership": "Leadership", "agility": "Agility",
    "innovation": "Innovation", "confidence": "Confidence",
    "retention": "Leaving", "promotion": "Promotion",
}
