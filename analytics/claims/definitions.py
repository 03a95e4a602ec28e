"""The claims Twoway tests, with stable ids, in the order the scorecard shows them."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Claim:
    """One claim about reverse mentoring and how it is measured.

    `design` is 'did' (difference-in-differences of participants against comparable
    colleagues) or 'within' (regression of the engagement gain on a predictor among
    participants). `population` says who counts as treated: 'participants' (mentors and
    mentees), 'mentors', or 'managers' (mentees as rated by their direct reports).
    """

    id: str
    title: str
    outcome: str
    direction: int
    construct: str
    design: str
    population: str = "participants"
    predictor: str | None = None
    predictor_label: str | None = None

    def __getitem__(self, key):  # dict-style access for callers that expect dicts
        return getattr(self, key)

    def keys(self):
        return asdict(self).keys()

    def get(self, key, default=None):
        return getattr(self, key, default)


CLAIMS: list[Claim] = [
    Claim("productivity", "Reverse mentoring makes work more efficient",
          "productivity score of participants (objective metrics in the detail)", +1, "productivity", "did"),
    Claim("leadership", "It changes leadership for the better",
          "leadership ratings of mentees given by their direct reports", +1, "leadership", "did",
          population="managers"),
    Claim("agility", "It encourages agility", "agility score of participants", +1, "agility", "did"),
    Claim("engagement", "It raises engagement", "engagement score of mentors and mentees", +1, "engagement", "did"),
    Claim("innovation", "It drives cross-generational innovation", "innovation score of participants", +1,
          "innovation", "did"),
    Claim("belonging", "Every generation feels valued",
          "belonging score of participants (each generation and the gap in the detail)", +1, "belonging", "did"),
    Claim("mentor_confidence", "Recognising juniors' insight builds their confidence",
          "confidence score of mentors", +1, "confidence", "did", population="mentors"),
    Claim("informal_learning", "The best mentoring happens informally",
          "engagement gain of participants vs their share of informal sessions", +1, "engagement", "within",
          predictor="share_informal", predictor_label="share of informal sessions"),
    Claim("dose_response", "More mentoring, more gain",
          "engagement gain of participants vs their number of sessions", +1, "engagement", "within",
          predictor="n_sessions", predictor_label="number of sessions"),
    Claim("psych_safety_moderation", "It works where people feel safe to speak",
          "engagement gain of participants vs baseline psychological safety of their department", +1,
          "engagement", "within", predictor="dept_safety",
          predictor_label="baseline psychological safety of the department"),
]

CLAIMS_BY_ID: dict[str, Claim] = {c.id: c for c in CLAIMS}

#: Human names of constructs for sentences.
CONSTRUCT_LABEL = {
    "engagement": "Engagement", "belonging": "Belonging", "psychological_safety": "Psychological safety",
    "productivity": "Self-rated productivity", "leadership": "Leadership", "agility": "Agility",
    "innovation": "Innovation", "confidence": "Confidence",
}
