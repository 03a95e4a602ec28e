"""The fixed vocabulary every module shares: constructs, generations, session formats.

Kept in one place so the importers, the claims engine and the dashboard cannot disagree on
what a construct is called or where a generation starts.
"""

from __future__ import annotations

CONSTRUCTS: tuple[str, ...] = (
    "engagement",
    "belonging",
    "psychological_safety",
    "productivity",
    "leadership",
    "agility",
    "innovation",
    "confidence",
)

#: Pew Research Center cut-offs (birth years, inclusive).
GENERATIONS: tuple[tuple[str, int, int], ...] = (
    ("Boomer", 1946, 1964),
    ("Gen X", 1965, 1980),
    ("Millennial", 1981, 1996),
    ("Gen Z", 1997, 2012),
)
GENERATION_NAMES: tuple[str, ...] = tuple(g[0] for g in GENERATIONS)

SESSION_FORMATS: tuple[str, ...] = ("scheduled", "informal")

#: Default minimum reporting group size (anonymity threshold).
DEFAULT_MIN_GROUP_SIZE = 5


def generation_of(birth_year: int | None) -> str | None:
    """Pew generation for a birth year, or None outside 1946–2012 or when unknown.

    Examples
    --------
    >>> generation_of(1996), generation_of(1997), generation_of(1964)
    ('Millennial', 'Gen Z', 'Boomer')
    >>> generation_of(1930) is None
    True
    """
    if birth_year is None:
        return None
    for name, lo, hi in GENERATIONS:
        if lo <= birth_year <= hi:
            return name
    return None
