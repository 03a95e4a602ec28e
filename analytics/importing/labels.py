"""Answer labels → numbers: the explicit, documented tables (see "Importing data" in README.md).

Survey tools export either numbers or the choice text the respondent saw. Text becomes a
number only through these tables (or a mapping's own ``labels``), never by guessing, so a
typo in an export is an error instead of a silently wrong score.

Matching ignores case, extra or non-breaking spaces and straight vs curly apostrophes.
"""

from __future__ import annotations

import math
import re
import unicodedata

#: Answers that mean "no answer": stored as a missing value (NULL), never as a number.
MISSING_LABELS: tuple[str, ...] = (
    "",
    "n/a",
    "na",
    "not applicable",
    "prefer not to say",
    "prefer not to answer",
    "don't know",
    "do not know",
    "dont know",
)

#: 5-point agreement (Likert).
AGREE_5: dict[str, int] = {
    "strongly disagree": 1,
    "disagree": 2,
    "neither agree nor disagree": 3,
    "neither agree or disagree": 3,
    "neutral": 3,
    "agree": 4,
    "strongly agree": 5,
}

#: 7-point agreement; chosen for a survey when any answer uses a 7-point-only label.
AGREE_7: dict[str, int] = {
    "strongly disagree": 1,
    "disagree": 2,
    "somewhat disagree": 3,
    "slightly disagree": 3,
    "neither agree nor disagree": 4,
    "neither agree or disagree": 4,
    "neutral": 4,
    "somewhat agree": 5,
    "slightly agree": 5,
    "agree": 6,
    "strongly agree": 7,
}
SEVEN_ONLY = frozenset({"somewhat disagree", "slightly disagree", "somewhat agree", "slightly agree"})

#: Qualtrics' default 5-point agreement scale: "Somewhat" labels but no plain Agree/Disagree.
AGREE_5_SOMEWHAT: dict[str, int] = {
    "strongly disagree": 1,
    "somewhat disagree": 2,
    "slightly disagree": 2,
    "neither agree nor disagree": 3,
    "neither agree or disagree": 3,
    "neutral": 3,
    "somewhat agree": 4,
    "slightly agree": 4,
    "strongly agree": 5,
}

#: 5-point frequency.
FREQUENCY_5: dict[str, int] = {
    "never": 1,
    "rarely": 2,
    "sometimes": 3,
    "often": 4,
    "frequently": 4,
    "very often": 5,
    "always": 5,
}

#: 4-point frequency (SurveyMonkey's Never / Rarely / Sometimes / Frequently): chosen for a survey
#: whose frequency answers use "Frequently" and never a 5-point top ("Very often", "Always").
FREQUENCY_4: dict[str, int] = {
    "never": 1,
    "rarely": 2,
    "sometimes": 3,
    "frequently": 4,
}
FIVE_POINT_FREQUENCY_ONLY = frozenset({"very often", "always", "often"})

#: Built-in tables: name → (labels, scale).
TABLES: dict[str, tuple[dict[str, int], tuple[int, int]]] = {
    "agreement_5": (AGREE_5, (1, 5)),
    "agreement_7": (AGREE_7, (1, 7)),
    "agreement_5_somewhat": (AGREE_5_SOMEWHAT, (1, 5)),
    "frequency_5": (FREQUENCY_5, (1, 5)),
    "frequency_4": (FREQUENCY_4, (1, 4)),
}

_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_LEADING_NUMBER = re.compile(r"^([+-]?\d+)\s*[-=:.)]\s+\S")


def normalise(text: str) -> str:
    """Casefold, straighten apostrophes and collapse every kind of space.

    Examples
    --------
    >>> normalise("  Don\u2019t\u00a0 Know ")
    "don't know"
    """
    text = unicodedata.normalize("NFKC", str(text)).translate(_APOSTROPHES)
    return _SPACES.sub(" ", text).strip().casefold()


def parse_number(text: str, decimal_comma: bool = False) -> float | None:
    """A plain number written as text, or None when the text is not one.

    Examples
    --------
    >>> parse_number("4"), parse_number("3,5", decimal_comma=True), parse_number("3,5")
    (4.0, 3.5, None)
    """
    s = str(text).strip().replace("\u00a0", "")
    if _NUMBER.match(s):
        v = float(s)
        return v if math.isfinite(v) else None
    if decimal_comma and _DECIMAL_COMMA.match(s):
        return float(s.replace(",", "."))
    return None


def label_table_for(values: set[str]) -> str | None:
    """The built-in table covering most of the given normalised answers, if any covers one.

    Agreement answers with a 7-point-only label ("somewhat agree") use the 7-point table.
    """
    words = {v for v in values if v not in MISSING_LABELS}
    if not words:
        return None
    if words & SEVEN_ONLY:
        return "agreement_7"
    best, covered = None, 0
    for name in ("agreement_5", "frequency_5"):
        n = len(words & set(TABLES[name][0]))
        if n > covered:
            best, covered = name, n
    return best


AGREEMENT_TABLES = frozenset({"agreement_5", "agreement_7", "agreement_5_somewhat"})
FREQUENCY_TABLES = frozenset({"frequency_5", "frequency_4"})


def frequency_table(words: set[str]) -> str:
    """The frequency table for all the frequency answers of one survey.

    Four points (Never … Frequently) when "Frequently" is used and no five-point label is;
    otherwise five (Never … Always), so a 4-point scale is never read as 1–5.

    Examples
    --------
    >>> frequency_table({"never", "rarely", "sometimes", "frequently"}), frequency_table({"never", "always"})
    ('frequency_4', 'frequency_5')
    """
    if "frequently" in words and not words & FIVE_POINT_FREQUENCY_ONLY:
        return "frequency_4"
    return "frequency_5"


def agreement_table(words: set[str]) -> str:
    """The agreement table for all the agreement answers of one survey.

    Plain 5-point unless a "Somewhat"/"Slightly" label appears; then 7-point when plain
    "Agree" or "Disagree" appears too, else the 5-point scale Qualtrics offers by default
    (Strongly disagree, Somewhat disagree, Neither…, Somewhat agree, Strongly agree).

    Examples
    --------
    >>> agreement_table({"agree", "strongly agree"})
    'agreement_5'
    >>> agreement_table({"agree", "somewhat agree"}), agreement_table({"somewhat agree", "strongly agree"})
    ('agreement_7', 'agreement_5_somewhat')
    """
    if not words & SEVEN_ONLY:
        return "agreement_5"
    return "agreement_7" if words & {"agree", "disagree"} else "agreement_5_somewhat"


def leading_number(text: str) -> float | None:
    """The number of answers written like "5 - Strongly agree" or "1 = Never"."""
    m = _LEADING_NUMBER.match(str(text).strip())
    return float(m.group(1)) if m else None
