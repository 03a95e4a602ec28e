"""The terms of art the dashboard and reports use, each in one or two plain sentences.

Shown in a popover next to the numbers and as the report's methods appendix, so a reader who
is not a statistician can look up every abbreviation on the page where it appears.
"""

from __future__ import annotations

#: Term → plain explanation. Keys are what the page prints.
TERMS: dict[str, str] = {
    "SD": "Standard deviation: how far people's scores typically sit from the average. An effect of 0.2 SD "
          "moves someone from the middle of the group to about the 58th percentile.",
    "SMD": "Standardised mean difference: the gap between two groups in standard deviations. Below 0.1 the "
           "groups are considered alike on that background variable.",
    "CI": "95% confidence interval: the range of effects compatible with the data. If it excludes zero, the "
          "difference is unlikely to be chance alone.",
    "SESOI": "Smallest effect size of interest (±0.2 SD by default): smaller effects are treated as too small "
             "to matter. 'No effect' means the whole interval sits inside this band.",
    "DiD": "Difference-in-differences: participants' change from before to after their start, minus the "
           "comparison group's change over the same waves. It removes both who signed up and "
           "organisation-wide drift.",
    "HC3": "A way of computing standard errors that stays honest when some people's scores vary more than "
           "others' (heteroskedasticity-robust).",
    "Holm": "Holm's correction: testing ten claims at once makes a false 'supported' more likely, so each "
            "p-value is adjusted upwards to keep the chance of any false finding at 5%.",
    "MDE": "Minimum detectable effect: the smallest effect this data would find 80% of the time. If it is "
           "larger than the SESOI, a 'no effect' verdict is out of reach.",
    "ESS": "Effective sample size of the weighted comparison group (Kish): how many people the weighted "
           "average is in effect worth. A small ESS means a few people carry the comparison.",
    "p": "p-value: how often a difference at least this large would appear by chance if the programme did "
         "nothing. Small p (below 0.05) means chance is an unlikely explanation.",
    "Pre-trend": "A check that participants and comparison colleagues moved alike before anyone started; if "
                 "they did not, the before/after comparison is doubtful.",
    "Matched comparison": "Colleagues not (yet) in the programme, re-weighted so that their department, level, "
                          "generation and tenure mix looks like the participants'.",
    "Event study": "The effect wave by wave relative to each person's start: points before the start "
                   "(placebos) should sit near zero; points after show how the effect builds up.",
}


def terms(*names: str) -> dict[str, str]:
    """The named terms (all when none given), in the order asked.

    >>> list(terms("SMD", "CI"))
    ['SMD', 'CI']
    """
    return {n: TERMS[n] for n in (names or TERMS)}
