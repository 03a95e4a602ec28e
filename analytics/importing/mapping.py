"""Survey mappings: which construct each item measures, reverse coding, scale and labels.

A mapping is JSON: ``{"<question text or column id>": "<construct>" | {"construct": ...,
"reverse": bool, "scale": [min, max], "labels": {"<answer>": number | null}}}``. Without one,
`suggest_construct` proposes constructs from the question wording for the analyst to confirm.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from analytics.errors import TwowayError
from analytics.importing.labels import normalise
from analytics.vocab import CONSTRUCTS


#: Mapping fields that mark a column as the participation question or its cohort/start quarter.
MARKS = ("participation", "cohort")


@dataclass
class ItemSpec:
    """What the mapping says about one item (None = not said)."""

    construct: str | None = None
    reverse: bool = False
    scale: tuple[float, float] | None = None
    labels: dict[str, float | None] = field(default_factory=dict)  # normalised answer → value
    #: "participation" (the "are you in the programme?" question: mentor / mentee / no) or "cohort"
    #: (its optional cohort or start quarter); such a column is a marker per response, not an item.
    marks: str | None = None

    def to_json(self) -> dict:
        out: dict = {"construct": self.construct, "reverse": self.reverse}
        if self.scale:
            out["scale"] = list(self.scale)
        if self.labels:
            out["labels"] = dict(self.labels)
        if self.marks:
            out[self.marks] = True
        return out


def mapping_from_text(text: str) -> dict:
    """An inline JSON mapping typed on the page: parsed and validated, never read as a path.

    >>> mapping_from_text('{"Q1": "engagement"}')
    {'Q1': 'engagement'}
    """
    if not text.lstrip().startswith("{"):
        raise TwowayError("the mapping must be a JSON object such as {\"Q1\": \"engagement\"}")
    load_mapping(text)  # validates
    return json.loads(text)


def load_mapping(source: str | dict | None) -> dict[str, ItemSpec] | None:
    """Parse a mapping given as a dict, a JSON string, or a path to a JSON file.

    Keys keep their text; values are validated (constructs from `vocab.CONSTRUCTS`).
    """
    if source is None:
        return None
    if isinstance(source, dict):
        raw = source
        where = "mapping"
    else:
        text = str(source)
        where = "--mapping"
        stripped = text.lstrip()
        if not stripped.startswith("{"):
            path = Path(text)
            if not path.is_file():
                raise TwowayError(f"--mapping {text!r}: no such file (give a JSON file or an inline JSON object)")
            where = path.name
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                raise TwowayError(f"{where}: the mapping is not UTF-8 text") from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TwowayError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(raw, dict):
        raise TwowayError(f"{where}: the mapping must be a JSON object {{question: construct}}")
    out: dict[str, ItemSpec] = {}
    for key, value in raw.items():
        out[str(key)] = _spec(str(key), value, where)
    return out


def _spec(key: str, value, where: str) -> ItemSpec:
    short = key if len(key) <= 60 else key[:57] + "…"
    if value is None or isinstance(value, str):
        value = {"construct": value}
    if not isinstance(value, dict):
        raise TwowayError(f"{where}, entry {short!r}: expected a construct name or an object")
    unknown = set(value) - {"construct", "reverse", "scale", "labels", *MARKS}
    if unknown:
        raise TwowayError(f"{where}, entry {short!r}: unknown field(s) {sorted(unknown)}")
    marks = [m for m in MARKS if value.get(m) is not None]
    for m in marks:
        if not isinstance(value[m], bool):
            raise TwowayError(f"{where}, entry {short!r}: {m} must be true or false")
    marks = [m for m in marks if value[m]]
    if len(marks) > 1 or (marks and set(value) - {*MARKS}):
        raise TwowayError(f"{where}, entry {short!r}: a participation or cohort column has no construct, "
                          "scale or labels")
    if marks:
        return ItemSpec(marks=marks[0])
    construct = value.get("construct")
    if construct in ("", None):
        construct = None
    elif construct not in CONSTRUCTS:
        raise TwowayError(f"{where}, entry {short!r}: unknown construct {construct!r}; use one of {', '.join(CONSTRUCTS)}")
    reverse = value.get("reverse", False)
    if not isinstance(reverse, bool):
        raise TwowayError(f"{where}, entry {short!r}: reverse must be true or false")
    scale = value.get("scale")
    if scale is not None:
        if (not isinstance(scale, list) or len(scale) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in scale)
                or scale[0] >= scale[1]):
            raise TwowayError(f"{where}, entry {short!r}: scale must be [min, max] with min < max")
        scale = (float(scale[0]), float(scale[1]))
    labels_raw = value.get("labels") or {}
    if not isinstance(labels_raw, dict):
        raise TwowayError(f"{where}, entry {short!r}: labels must be an object {{answer: number or null}}")
    labels: dict[str, float | None] = {}
    for text, num in labels_raw.items():
        if num is not None and (isinstance(num, bool) or not isinstance(num, (int, float))):
            raise TwowayError(f"{where}, entry {short!r}: label {text!r} must map to a number or null")
        labels[normalise(text)] = None if num is None else float(num)
    return ItemSpec(construct, reverse, scale, labels)


def mapping_to_json(mapping: dict[str, ItemSpec]) -> str:
    return json.dumps({k: v.to_json() for k, v in mapping.items()}, ensure_ascii=False, sort_keys=True)


# -- suggestions ----------------------------------------------------------------------------
#: Keyword rules, checked in order; the first construct with a matching word wins.
SUGGESTION_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("leadership", ("my manager", "my supervisor", "my boss", "my leader", "leadership", "team lead",
                    "senior leader", "management")),
    ("psychological_safety", ("safe to", "speak up", "take a risk", "taking risks", "mistake", "held against",
                              "raise concern", "raise a concern", "admit", "ask for help", "bring up problems",
                              "psychological")),
    ("belonging", ("belong", "included", "inclusion", "part of the team", "fit in", "accepted",
                   "valued", "respected", "isolated", "connected to", "close to")),
    ("innovation", ("new idea", "innovat", "creativ", "experiment", "try new", "new ways", "open source project")),
    ("confidence", ("confident", "confidence", "capable", "able to", "comfortable using", "my skills", "competent")),
    ("agility", ("adapt", "change", "flexib", "agile", "pivot", "new tools", "new technolog", "learn quickly")),
    ("productivity", ("productiv", "get my work done", "get things done", "efficient", "output", "workload",
                      "deliver", "useful", "focus")),
    ("engagement", ("engag", "enthusias", "motivat", "energ", "proud", "look forward", "recommend",
                    "excited", "meaningful", "satisf", "contribute")),
)
_NEGATIVE = re.compile(r"\b(not|never|don't|dont|cannot|can't|hard|difficult|afraid|hesitant|rarely|"
                       r"struggle|worried|held against)\b")


def suggest_construct(question: str) -> str | None:
    """A construct suggested by keywords in the question wording, or None.

    Examples
    --------
    >>> suggest_construct("My manager gives me useful feedback")
    'leadership'
    >>> suggest_construct("I feel I belong here"), suggest_construct("What is your age?")
    ('belonging', None)
    """
    text = normalise(question)
    for construct, words in SUGGESTION_RULES:
        if any(w in text for w in words):
            return construct
    return None


def suggest_reverse(question: str) -> bool:
    """True when the wording is negative ("I find it hard to…"), so agreeing means less of it.

    >>> suggest_reverse("It is difficult to speak up"), suggest_reverse("I speak up")
    (True, False)
    """
    return bool(_NEGATIVE.search(normalise(question)))


def survey_family(name: str) -> str:
    """The survey a wave belongs to: its name without trailing dates, wave or round numbers.

    Examples
    --------
    >>> survey_family("Pulse 2024-03"), survey_family("pulse_wave_2"), survey_family("Pulse Q1 2025")
    ('pulse', 'pulse', 'pulse')
    """
    s = normalise(name)
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    words = s.split()
    months = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
              "january", "february", "march", "april", "june", "july", "august", "september", "october",
              "november", "december", "spring", "summer", "autumn", "fall", "winter"}
    wave_words = {"wave", "round", "w", "q", "h", "t", "v", "pre", "post", "baseline", "followup", "follow"}
    while len(words) > 1 and (re.fullmatch(r"(w|q|h|t|v|wave|round)?\d+", words[-1])
                              or words[-1] in months or words[-1] in wave_words):
        words.pop()
    return "-".join(words) or s or "survey"
