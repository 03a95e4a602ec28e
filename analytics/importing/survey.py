"""Survey exports → waves, items and long-form responses.

The steps, each reported: drop rows that are not real responses (Qualtrics previews, tests,
spam, unfinished), find the person of each row (the named id column, else a detected
employee-id column, else the response itself), keep each person's last submission, turn
answers into numbers by the label tables, check every value against its item's scale, and
link people to the roster.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.errors import TwowayError
from analytics.importing.dates import parse_datetimes
from analytics.importing.formats import (EMPLOYEE_ID_NAMES, GOOGLE_TIMESTAMP, RESPONSE_ID_NAMES, SUBMITTED_NAMES, Column,
                                         header_rows, snake, survey_columns)
from analytics.importing.labels import (AGREEMENT_TABLES, FIVE_POINT_FREQUENCY_ONLY, FREQUENCY_TABLES, MISSING_LABELS,
                                        TABLES, agreement_table, frequency_table, label_table_for, leading_number,
                                        normalise, parse_number)
from analytics.importing.mapping import ItemSpec, suggest_construct, suggest_reverse
from analytics.importing.reading import RawTable, clip, clip_message
from analytics.store import Database
from analytics.store import imports as store
from analytics.store import roster as roster_store

MASK_CHARS = set("*#xX•")
#: What forms write instead of a person when a response was anonymous (Microsoft Forms'
#: ``Email``/``Name``, legacy Qualtrics ``Name``): nobody's id.
ANONYMOUS = frozenset({"anonymous"})
QUALTRICS_KEEP_STATUS = {"0", "ip address", "4", "imported"}
QUALTRICS_STATUS_NAMES = {"1": "Survey Preview", "2": "Survey Test", "8": "Spam", "16": "Offline",
                          "17": "Offline Survey Preview", "9": "Spam"}
#: Scale tops tried, smallest first, when a scale must be inferred from the answers.
STANDARD_MAXIMA = {0: (3, 4, 5, 6, 10), 1: (5, 7, 10)}
MAX_ERRORS = 20
#: E-mail columns of each tool's export (Google Forms, Microsoft Forms, Qualtrics, SurveyMonkey),
#: then names tried in any file.
EMAIL_NAMES = {"google_forms": ("Email address", "Email Address"), "microsoft_forms": ("Email",),
               "qualtrics": ("RecipientEmail", "EmailAddress"), "surveymonkey": ("Email Address",)}
GENERIC_EMAIL_NAMES = ("email", "email_address", "e_mail", "e_mail_address", "work_email", "recipientemail")
#: Prefix of the respondent key of an e-mail that is not in the roster: a salted hash, never the address.
UNLINKED_EMAIL = "email:"


class Issues:
    """Errors and warnings collected while checking a file (errors capped at MAX_ERRORS)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, msg: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(clip_message(msg))  # no cell reaches a message whole
        elif len(self.errors) == MAX_ERRORS:
            self.errors.append("… more errors not shown")

    def warn(self, msg: str) -> None:
        self.warnings.append(clip_message(msg))


def is_masked(value: str) -> bool:
    """Blank, an anonymised cell such as Qualtrics' ``*******``, or ``anonymous``."""
    v = str(value).strip()
    return v == "" or (len(v) >= 3 and set(v) <= MASK_CHARS) or v.casefold() in ANONYMOUS


def masked(series: pd.Series) -> pd.Series:
    """`is_masked` for a whole column, vectorised (the pattern test runs only on candidates)."""
    t = series.fillna("").str.strip()
    out = (t == "").to_numpy(dtype=bool).copy()
    maybe = (t.str.startswith(tuple(MASK_CHARS)) | t.str.casefold().isin(ANONYMOUS)).to_numpy(dtype=bool)
    if maybe.any():
        out[maybe] = [is_masked(v) for v in t[maybe].tolist()]
    return pd.Series(out, index=series.index)


class LongResponses:
    """The long-form responses of a survey, produced one item at a time so a big survey is
    never held in memory as one giant frame; `store.write_rows` inserts each part."""

    def __init__(self, survey, respondent, employee_id, stamp, plans, import_id):
        self.survey, self.import_id = survey, import_id
        # Arrow-backed strings: DuckDB scans them without converting Python objects.
        self.respondent = pd.array(respondent.to_numpy(dtype=object), dtype="str")
        self.employee_id = pd.array(employee_id.to_numpy(dtype=object), dtype="str")
        self.stamp = stamp.to_numpy()
        self.plans = plans

    def __len__(self) -> int:
        return len(self.respondent) * len(self.plans)

    def __iter__(self):
        for p in self.plans:
            yield pd.DataFrame({"survey": self.survey, "respondent": self.respondent,
                                "employee_id": self.employee_id, "item": p.column.id,
                                "value": p.values.to_numpy(dtype=float), "submitted_at": self.stamp,
                                "import_id": self.import_id})

    def frame(self) -> pd.DataFrame:
        return pd.concat(list(self), ignore_index=True) if self.plans else pd.DataFrame()


@dataclass
class ItemPlan:
    column: Column
    spec: ItemSpec
    construct: str | None
    reverse: bool
    values: pd.Series  # float, NaN = missing, index = spreadsheet row
    table: str | None
    scale: tuple[float, float] | None = None
    suggested: bool = False
    scale_from: str | None = None  # "mapping", "labels", "other items" or "answers"


def _find(cols: list[Column], names, roles=("meta", "item")) -> Column | None:
    wanted = [snake(n) for n in names]
    for w in wanted:
        for c in cols:
            if c.role in roles and (snake(c.id) == w or snake(c.header) == w):
                return c
    return None


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


def _holds_emails(series: pd.Series) -> bool:
    """Most non-blank cells look like e-mail addresses."""
    vals = series[~masked(series)].str.strip()
    return bool(len(vals)) and float(vals.str.match(EMAIL_PATTERN).mean()) >= 0.9


def _email_column(cols: list[Column], fmt: str, data: pd.DataFrame, issues: Issues | None = None) -> Column | None:
    """The export's e-mail column, when it holds addresses (not blank or 'anonymous').

    A column named like one whose cells are mostly not addresses is not used; `issues` gets a
    warning saying so (with counts, never a cell), since otherwise nobody is linked without a word.
    """
    warned = set()
    for names in (EMAIL_NAMES.get(fmt, ()), GENERIC_EMAIL_NAMES):
        c = _find(cols, names)
        if c is not None and _holds_emails(data[c.pos]):
            return c
        if c is not None and issues is not None and c.pos not in warned:
            warned.add(c.pos)
            vals = data[c.pos][~masked(data[c.pos])].str.strip()
            if len(vals):
                n = int(vals.str.match(EMAIL_PATTERN).sum())
                issues.warn(f"column {clip(c.id)}: only {n:,} of {len(vals):,} values look like e-mail addresses "
                            "(90 % needed), so it does not identify people; fix those cells or name it with "
                            "--id-column")
    return None


def _people_by_email(db: Database, emails: pd.Series, has_id: pd.Series, salt: str) -> pd.Series:
    """Each row's person: the roster's employee_id for that e-mail (case ignored), else a salted
    hash of the address, so duplicates still collapse but no address is stored or shown."""
    low = emails.str.lower()
    owners = roster_store.emails_to_ids(db, list(low[has_id].unique()))

    def key(e: str) -> str:
        return owners.get(e) or UNLINKED_EMAIL + hashlib.sha256((salt + e).encode()).hexdigest()[:16]

    uniq = {e: key(e) for e in low[has_id].unique()}
    return low.map(lambda e: uniq.get(e, e))


def find_column(cols: list[Column], given: str) -> Column | None:
    """A column named by its id, header or question text (case and spacing ignored)."""
    g = normalise(given)
    for attr in ("id", "header", "question"):
        hits = [c for c in cols if normalise(getattr(c, attr)) == g]
        if hits:
            return hits[0]
    return None


def _resolve_mapping(cols: list[Column], mapping: dict[str, ItemSpec], strict: bool,
                     issues: Issues, file_name: str) -> dict[int, ItemSpec]:
    items = [c for c in cols if c.role == "item"]
    by_id: dict[str, list[Column]] = collections.defaultdict(list)
    by_text: dict[str, list[Column]] = collections.defaultdict(list)
    for c in items:
        by_id[normalise(c.id)].append(c)
        for t in {normalise(c.question), normalise(getattr(c, "combined", c.question))}:
            by_text[t].append(c)
    out: dict[int, ItemSpec] = {}
    for key, spec in mapping.items():
        k = normalise(key)
        hits = by_id.get(k) or by_text.get(k) or []
        short = key.replace("\n", " ")
        short = short if len(short) <= 70 else short[:67] + "…"
        if not hits:
            msg = f"mapping entry {short!r} matches no question or column id in {file_name}"
            (issues.error if strict else issues.warn)(msg)
        elif len(hits) > 1:
            issues.error(f"mapping entry {short!r} matches {len(hits)} columns ("
                         + ", ".join(c.id for c in hits[:4]) + "); use the column id instead")
        else:
            out[hits[0].pos] = spec
    return out


def _convert(series: pd.Series, spec: ItemSpec, decimal_comma: bool, table: str | None
             ) -> tuple[pd.Series, dict[str, object]]:
    """Numbers for one column; unknown answers returned as {raw text: first row}."""
    lookup: dict[str, float] = {}
    unknown: dict[str, object] = {}
    labels = TABLES[table][0] if table else {}
    for raw in series.unique():
        n = normalise(raw)
        if n in spec.labels:
            v = spec.labels[n]
            lookup[raw] = math.nan if v is None else v
        elif n in MISSING_LABELS:
            lookup[raw] = math.nan
        else:
            v = parse_number(raw, decimal_comma)
            if v is None and n in labels:
                v = float(labels[n])
            if v is None:
                v = leading_number(raw)
            if v is None:
                unknown[raw] = None
                lookup[raw] = math.nan
            else:
                lookup[raw] = v
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    table = np.array([lookup[u] for u in uniques], dtype=float)
    values = pd.Series(table[codes] if len(table) else np.array([], dtype=float), index=series.index)
    if unknown:
        positions = {u: i for i, u in enumerate(uniques)}
        for raw in unknown:
            unknown[raw] = series.index[np.argmax(codes == positions[raw])]
    return values, unknown


def _column_table(series: pd.Series, spec: ItemSpec, decimal_comma: bool) -> tuple[str | None, set[str]]:
    words = set()
    for raw in series.unique():
        n = normalise(raw)
        if n in spec.labels or n in MISSING_LABELS or parse_number(raw, decimal_comma) is not None:
            continue
        words.add(n)
    return (label_table_for(words) if words else None), words


def analyse_survey(db: Database, table: RawTable, fmt: str, *, survey: str, mapping: dict[str, ItemSpec] | None,
                   mapping_strict: bool, id_column: str | None, import_id: int | None,
                   issues: Issues, report: dict, progress=None) -> dict[str, pd.DataFrame]:
    """Check a survey export and build the rows to write; problems go to `issues`."""
    name = table.file_name
    cols = survey_columns(fmt, table)
    hdr = header_rows(fmt, table)
    data = table.cells.iloc[hdr:]
    if data.empty:
        raise TwowayError(f"{name} has {hdr} header row{'s' if hdr > 1 else ''} but no responses")
    report["rows_in_file"] = int(len(data))

    # 1. rows that are not real responses
    dropped: dict[str, int] = {}
    keep = pd.Series(True, index=data.index)
    if fmt == "qualtrics":
        status = _find(cols, ["Status"], roles=("meta",))
        if status is not None:
            st_vals = data[status.pos].map(normalise)
            bad = ~st_vals.isin(QUALTRICS_KEEP_STATUS)
            for v, n in st_vals[bad].value_counts().items():
                label = QUALTRICS_STATUS_NAMES.get(v, v or "blank status")
                dropped[label.title() if label == label.lower() else label] = int(n)
            keep &= ~bad
        finished = _find(cols, ["Finished"], roles=("meta",))
        if finished is not None:
            fin = data[finished.pos].map(normalise).isin({"1", "true"})
            n = int((keep & ~fin).sum())
            if n:
                dropped["unfinished"] = n
            keep &= fin
    data = data[keep]
    report["dropped"] = dropped
    if data.empty:
        raise TwowayError(f"{name}: no real responses left after dropping "
                          + ", ".join(f"{n} {k}" for k, n in dropped.items()))

    # 2. who answered
    response_col = {"qualtrics": ["ResponseId"], "surveymonkey": ["Respondent ID"],
                    "microsoft_forms": ["ID"]}.get(fmt, RESPONSE_ID_NAMES)
    response = _find(cols, response_col, roles=("meta",))
    submitted_names = {"qualtrics": ["RecordedDate", "EndDate"], "surveymonkey": ["End Date", "Start Date"],
                       "google_forms": list(GOOGLE_TIMESTAMP), "microsoft_forms": ["Completion time", "Start time"]}
    submitted = _find(cols, submitted_names.get(fmt, SUBMITTED_NAMES), roles=("meta",))
    person: Column | None = None
    email_mode = False
    if id_column:
        person = find_column(cols, id_column)
        if person is None:
            raise TwowayError(f"--id-column {id_column!r}: no such column in {name} (columns: "
                              + ", ".join(c.id for c in cols[:12]) + (", …" if len(cols) > 12 else "") + ")")
        email_mode = _holds_emails(data[person.pos])
        report["person_key"] = person.id
    else:
        candidates = [c for c in cols if c.role == "meta" and snake(c.id) in EMPLOYEE_ID_NAMES]
        candidates += [c for c in cols if c.role == "item" and snake(c.id) in EMPLOYEE_ID_NAMES]
        if fmt == "qualtrics":
            candidates += [c for c in cols if snake(c.id) in ("externalreference", "externaldatareference")]
        if fmt == "surveymonkey":
            candidates += [c for c in cols if snake(c.header).startswith("custom_data")]
        for c in candidates:
            if not masked(data[c.pos]).all():
                person = c
                break
            report.setdefault("notes", []).append(f"column {clip(c.id)} is masked or empty: not used as a person id")
        if person is None:
            person = _email_column(cols, fmt, data, issues)
            email_mode = person is not None
        report["person_key"] = "response" if person is None else ("email" if email_mode else "employee_id")
    report["id_column"] = person.id if person is not None else None
    if person is not None and person.role == "item":
        person.role = "meta"
    row_labels = pd.Series([f"row{i}" for i in data.index], index=data.index)
    fallback = data[response.pos].where(~masked(data[response.pos]), row_labels) if response else row_labels
    if person is not None:
        ids = data[person.pos].str.strip()
        has_id = ~masked(ids)
        if email_mode:  # the person is the roster employee with that e-mail, case ignored
            ids = _people_by_email(db, ids, has_id, table.sha256)
        else:  # an address among ids links by e-mail too, and is never stored (unless it is an employee_id)
            looks = has_id & ids.str.match(EMAIL_PATTERN).fillna(False).astype(bool)
            if looks.any():
                not_ids = store.missing_ids(db, "employees", "employee_id", ids[looks])
                looks &= ids.isin(not_ids)
            if looks.any():
                ids = ids.where(~looks, _people_by_email(db, ids, looks, table.sha256))
        respondent = ids.where(has_id, fallback)
        if (~has_id).any():
            issues.warn(f"{int((~has_id).sum())} response(s) have no value in {person.id!r}; each is counted "
                        "as its own respondent")
    else:
        has_id = pd.Series(False, index=data.index)
        respondent = fallback
        issues.warn("no person id column: each response counts as its own respondent and none is linked to "
                    "the roster (name one with --id-column)")
    when = parse_datetimes(data[submitted.pos]) if submitted is not None else pd.Series(pd.NaT, index=data.index,
                                                                                         dtype="datetime64[us]")
    if submitted is not None:
        # A submission time decides which of a person's answers is kept: text such as "yesterday"
        # is an error naming the row and column, as every other unreadable value is.
        text = data[submitted.pos].str.strip()
        bad = when.isna() & (text != "")
        for row in list(bad[bad].index[:3]):
            issues.error(f"row {row}, {submitted.where()}: {clip(text[row])} is not a date-time "
                         "(e.g. 2025-04-15 09:30, 4/15/2025 9:30 AM or 15.04.2025)")
        if int(bad.sum()) > 3:
            issues.error(f"{int(bad.sum()) - 3} more value(s) of {submitted.where()} are not date-times")

    # 3. one row per person: the last submission
    frame = pd.DataFrame({"respondent": respondent, "when": when, "order": np.arange(len(data))}, index=data.index)
    frame = frame.sort_values(["when", "order"], na_position="first", kind="stable")
    dup = frame.duplicated("respondent", keep="last")
    if dup.any():
        examples = [r for r in dict.fromkeys(frame.loc[dup, "respondent"]) if not str(r).startswith(UNLINKED_EMAIL)][:5]
        report["duplicates"] = {"count": int(dup.sum()), "examples": examples}
        issues.warn(f"{int(dup.sum())} earlier submission(s) of the same respondent dropped, keeping the last"
                    + (f" (e.g. {', '.join(map(str, examples[:3]))})" if examples else ""))
    kept_index = frame.index[~dup.to_numpy()]
    kept_index = data.index[data.index.isin(kept_index)]  # file order
    data = data.loc[kept_index]
    respondent = respondent.loc[kept_index]
    when = when.loc[kept_index]
    has_id = has_id.loc[kept_index]

    # 4. items, labels, scales
    resolved = _resolve_mapping(cols, mapping, mapping_strict, issues, name) if mapping else None
    marked = {spec.marks: next(c for c in cols if c.pos == pos)
              for pos, spec in (resolved or {}).items() if spec.marks}
    for c in marked.values():
        c.role = "meta"
    if "cohort" in marked and "participation" not in marked:
        issues.error(f"the mapping marks a cohort column ({marked['cohort'].id!r}) but no participation question")
    item_cols = [c for c in cols if c.role == "item" and (resolved is None or c.pos in resolved)]
    plans: list[ItemPlan] = []
    skipped: list[str] = []
    dc = table.decimal_comma
    tables = {}
    agreement_words: set[str] = set()
    frequency_words: set[str] = set()
    col_words: dict[int, set[str]] = {}
    for c in item_cols:
        spec = resolved[c.pos] if resolved is not None else ItemSpec()
        tables[c.pos], words = _column_table(data[c.pos], spec, dc)
        col_words[c.pos] = words
        if tables[c.pos] in AGREEMENT_TABLES:
            agreement_words |= words
        elif tables[c.pos] in FREQUENCY_TABLES:
            frequency_words |= words
    agreement = agreement_table(agreement_words)
    frequency = frequency_table(frequency_words)
    # Never/Rarely/Sometimes alone fit both frequency tables: the labels give the numbers, not the top
    frequency_open = bool(frequency_words) and "frequently" not in frequency_words \
        and not frequency_words & FIVE_POINT_FREQUENCY_ONLY
    tables = {k: (agreement if v in AGREEMENT_TABLES else frequency if v in FREQUENCY_TABLES else v)
              for k, v in tables.items()}
    for c in item_cols:
        spec = resolved[c.pos] if resolved is not None else ItemSpec()
        if spec.scale and tables[c.pos] is not None:
            tables[c.pos] = _table_for_scale(c, tables[c.pos], spec.scale, col_words[c.pos], issues)
    for k, c in enumerate(item_cols):
        if progress is not None and k % 5 == 0:
            progress(0.62 + 0.2 * k / len(item_cols), f"checking item {k + 1:,} of {len(item_cols):,}")
        spec = resolved[c.pos] if resolved is not None else ItemSpec()
        values, unknown = _convert(data[c.pos], spec, dc, tables[c.pos])
        if resolved is None:
            nonmissing = values.dropna()
            # Mostly scale labels with a few unknown answers: a typo to report, not a text column.
            labelled = tables[c.pos] is not None and len(nonmissing) >= 0.5 * (len(nonmissing) + sum(
                int((data[c.pos] == raw).sum()) for raw in unknown))
            if (unknown and not labelled) or nonmissing.empty or not (nonmissing == nonmissing.round()).all() \
                    or nonmissing.min() < 0 or nonmissing.max() > 10:
                skipped.append(c.id)
                continue
        if unknown:
            for raw, row in list(unknown.items())[:3]:
                issues.error(f"row {row}, {c.where()}: answer {str(raw)[:40]!r} is not a number or a known label "
                             "(give it in the mapping's \"labels\")")
            continue
        if resolved is not None:
            construct, reverse, suggested = spec.construct, spec.reverse, False
        else:
            construct, reverse, suggested = suggest_construct(c.question), suggest_reverse(c.question), True
        plans.append(ItemPlan(c, spec, construct, reverse, values, tables[c.pos], suggested=suggested))
    if skipped:
        report["skipped_columns"] = skipped
        issues.warn(f"{len(skipped)} column(s) are not rating items (text, choices or numbers beyond 0–10) and "
                    f"were not imported: {', '.join(skipped[:8])}{', …' if len(skipped) > 8 else ''}")
    if not plans and not issues.errors:
        raise TwowayError(f"{name}: no rating items found (give a mapping naming the items)")

    _decide_scales(plans, report, issues, frequency_open)

    # 5. roster links
    ids = respondent[has_id]
    missing = store.missing_ids(db, "employees", "employee_id", ids) if len(ids) else set()
    resp_np = respondent.to_numpy(dtype=object)
    is_missing = np.fromiter((r in missing for r in resp_np), dtype=bool, count=len(resp_np))
    linked = has_id & ~pd.Series(is_missing, index=respondent.index)
    employee_id = respondent.where(linked, None)
    unlinked = sorted(set(ids) & missing)
    report["linked"] = int(linked.sum())
    if email_mode:  # never an address (nor its pseudonym) in the report
        report["unlinked"] = {"count": int(len(unlinked)), "examples": []}
        if unlinked:
            hint = ("check the roster's email column for them" if roster_store.has_emails(db)
                    else "add an email column to the roster to link them")
            issues.warn(f"{len(unlinked)} e-mail address(es) are not in the roster and stay unlinked "
                        f"(addresses not shown; {hint})")
    else:
        shown = [u for u in unlinked if not str(u).startswith(UNLINKED_EMAIL)]  # never an address's pseudonym
        report["unlinked"] = {"count": int(len(unlinked)), "examples": shown[:5]}
        if unlinked:
            issues.warn(f"{len(unlinked)} respondent id(s) are not in the roster and stay unlinked"
                        + (f" (e.g. {', '.join(shown[:3])})" if shown else ""))

    report["rows"] = int(len(data))
    report["items"] = [{"question": p.column.question, "item": p.column.id, "n": int(p.values.notna().sum()),
                        "mean": (round(float(p.values.mean()), 6) if p.values.notna().any() else None),
                        "construct": p.construct, "reverse": p.reverse, "scale": list(p.scale),
                        "scale_from": p.scale_from, "answers": _answer_options(data[p.column.pos]),
                        **({"suggested": True} if p.suggested else {})} for p in plans]
    unmapped = [p.column.id for p in plans if p.construct is None]
    if unmapped:
        report["unmapped"] = unmapped
        if resolved is None:
            issues.warn(f"{len(unmapped)} item(s) have no construct (no wording rule matched): "
                        f"{', '.join(unmapped[:8])}{', …' if len(unmapped) > 8 else ''}")
    part = _participation(db, data, respondent, marked, issues, report) if "participation" in marked else None
    if issues.errors:
        return {}

    # 6. rows to write
    stamp = when.dt.floor("s")
    waves = pd.DataFrame({"survey": [survey], "title": [report.get("title") or survey],
                          "opened": [stamp.min().date() if stamp.notna().any() else None],
                          "closed": [stamp.max().date() if stamp.notna().any() else None],
                          "invited": pd.array([None], dtype="Int64"), "source_format": [fmt],
                          "import_id": [import_id]})
    items = pd.DataFrame({
        "survey": survey, "item": [p.column.id for p in plans], "construct": [p.construct for p in plans],
        "scale_min": [p.scale[0] for p in plans], "scale_max": [p.scale[1] for p in plans],
        "reverse": [bool(p.reverse) for p in plans], "question": [p.column.question for p in plans],
        "import_id": import_id})
    responses = LongResponses(survey, respondent, employee_id, stamp, plans, import_id)
    out = {"waves": waves, "items": items, "responses": responses}
    if part is not None:
        out["participation"] = part.assign(survey=survey, import_id=import_id)
    return out


_QUARTER = (re.compile(r"(\d{4})\s*[-/ ]?\s*q([1-4])"), re.compile(r"q([1-4])\s*[-/ ]?\s*(\d{4})"))
_NO = re.compile(r"^(no|none|neither|not|nope|non[- ]participant)\b|\bnot (part|in|a participant)\b")


def participation_role(answer: str) -> str | None:
    """'mentor', 'mentee' or 'none' for an answer to the participation question; None when blank
    or a missing label; '?' when it says neither clearly.

    Examples
    --------
    >>> [participation_role(a) for a in ("Yes, as a mentor", "Yes - mentee", "No", "", "Both")]
    ['mentor', 'mentee', 'none', None, '?']
    """
    n = normalise(answer)
    if n in MISSING_LABELS:
        return None
    mentor, mentee = bool(re.search(r"\bmentors?\b", n)), bool(re.search(r"\bmentees?\b", n))
    if mentor != mentee:
        return "mentor" if mentor else "mentee"
    if not mentor and _NO.search(n):
        return "none"
    return "?"


def quarter_start(text: str) -> dt.date | None:
    """The first day of a quarter written '2025-Q2', '2025 Q2' or 'Q2 2025' (else None).

    >>> quarter_start("2025-Q2"), quarter_start("Q4 2024"), quarter_start("spring")
    (datetime.date(2025, 4, 1), datetime.date(2024, 10, 1), None)
    """
    n = normalise(text)
    m = _QUARTER[0].search(n)
    if m:
        return dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    m = _QUARTER[1].search(n)
    return dt.date(int(m.group(2)), 3 * int(m.group(1)) - 2, 1) if m else None


def _participation(db: Database, data: pd.DataFrame, respondent: pd.Series, marked: dict[str, Column],
                   issues: Issues, report: dict) -> pd.DataFrame:
    """Each kept response's participation marker: role, cohort and the cohort's start date."""
    from analytics.privacy import min_group_size
    from analytics.store import programme

    col = marked["participation"]
    answers = data[col.pos]
    uniq = {a: participation_role(a) for a in answers.unique()}
    roles = answers.map(uniq)
    bad = roles == "?"
    if bad.any():
        first = bad[bad].index[0]
        issues.error(f"row {first}, {col.where()}: answer {str(answers[first])[:40]!r} to the participation "
                     "question says neither mentor, mentee nor no" + (f" ({int(bad.sum())} such rows)"
                                                                       if bad.sum() > 1 else ""))
    cohort = data[marked["cohort"].pos].str.strip() if "cohort" in marked else pd.Series("", index=data.index)
    cohort = cohort.where(roles.isin(["mentor", "mentee"]) & (cohort != ""), None)
    names = sorted({c for c in cohort.dropna()})
    known = programme.cohort_starts(db, names)
    starts = {c: quarter_start(c) or known.get(c) for c in names}
    frame = pd.DataFrame({"respondent": respondent.astype(str), "role": roles, "cohort": cohort,
                          "start": cohort.map(lambda c: None if c is None else starts.get(c))})
    frame = frame[frame["role"].isin(["mentor", "mentee", "none"])].reset_index(drop=True)
    k = min_group_size()
    counts = frame["role"].value_counts()
    report["participation"] = {"column": col.id, "cohort_column": marked["cohort"].id if "cohort" in marked else None,
                               "groups": {r: (int(counts.get(r, 0)) if counts.get(r, 0) >= k or counts.get(r, 0) == 0
                                              else f"fewer than {k}") for r in ("mentor", "mentee", "none")}}
    undated = [c for c, d in starts.items() if d is None]
    if undated:
        issues.warn(f"{len(undated)} cohort answer(s) give no start date (not a quarter such as 2025-Q2, nor a "
                    "cohort in the pairs): those respondents have no timing")
    return frame


def _own_scale(values: pd.Series) -> tuple[float, float] | None:
    """The smallest standard scale holding an item's own answers (0- or 1-based), if it has any."""
    v = values.dropna()
    if v.empty:
        return None
    lo, hi = float(v.min()), float(v.max())
    lo = 0.0 if 0 <= lo < 1 else (1.0 if lo >= 1 else lo)
    return lo, float(next((m for m in STANDARD_MAXIMA.get(int(lo), ()) if m >= hi), hi))


def _table_for_scale(c: Column, table: str, scale: tuple[float, float], words: set[str],
                     issues: Issues) -> str | None:
    """The built-in label table for an item whose scale the mapping states.

    The survey-wide choice (`agreement_table`, `frequency_table`) decides a table's length from the
    answers; a stated scale decides it for its item: answers of only Agree / Strongly agree /
    Disagree on a stated 1–7 scale are 7-point (Agree 6), not 5-point numbers under a 1–7 scale.
    Labels no table of that length holds (Often on a stated 1–4) are an error: the mapping must
    give the item's labels.
    """
    if tuple(float(v) for v in TABLES[table][1]) == tuple(float(v) for v in scale):
        return table
    family, kind = (AGREEMENT_TABLES, "agreement") if table in AGREEMENT_TABLES else (FREQUENCY_TABLES, "frequency")
    for name in sorted(family):
        if tuple(float(v) for v in TABLES[name][1]) == tuple(float(v) for v in scale) and words <= set(TABLES[name][0]):
            return name
    lo, hi = TABLES[table][1]
    issues.error(f"{c.where()}: its answers are labels of the {lo:g}–{hi:g} {kind} scale, but the mapping's scale is "
                 f"{scale[0]:g}–{scale[1]:g}; give the item's \"labels\" in the mapping")
    return table


def _decide_scales(plans: list[ItemPlan], report: dict, issues: Issues, frequency_open: bool = False) -> None:
    """Each item's scale: the mapping, else its labels, else the survey's other items; the item's
    own answers only when nothing else says. Values beyond the scale are errors (row and column).

    "The survey's other items" are their stated scales when any item states one, else the scale
    most items' answers fit (so one stray 7 among 1–5 items is an error, not a 1–7 scale).

    `frequency_open`: the survey's frequency answers are only labels both frequency tables share
    (Never, Rarely, Sometimes), so the labels give each answer's number but not the scale's top
    (4 for Never–Frequently, 5 for Never–Always). Such items keep 1–5 but are listed in
    `scale_ambiguous` and leave the scale unconfirmed: "Ready" needs the mapping to say.
    """
    for p in plans:
        if p.spec.scale:
            p.scale, p.scale_from = p.spec.scale, "mapping"
            nums = [v for v in p.spec.labels.values() if v is not None]
            if nums and (min(nums) < p.scale[0] or max(nums) > p.scale[1]):
                issues.error(f"{p.column.where()}: the mapping's labels run {min(nums):g}–{max(nums):g}, beyond its "
                             f"scale {p.scale[0]:g}–{p.scale[1]:g}")
        elif p.table:
            p.scale, p.scale_from = tuple(float(v) for v in TABLES[p.table][1]), "labels"
        elif p.spec.labels and any(v is not None for v in p.spec.labels.values()):
            nums = [v for v in p.spec.labels.values() if v is not None]
            p.scale, p.scale_from = (min(nums), max(nums)), "labels"
    stated = [p.scale for p in plans if p.scale]
    rest = [p for p in plans if not p.scale]
    if stated:
        common = collections.Counter(stated).most_common(1)[0][0]
        for p in rest:
            p.scale, p.scale_from = common, "other items"
    elif rest:
        own = {id(p): _own_scale(p.values) for p in rest}
        counts = collections.Counter(s for s in own.values() if s is not None).most_common(2)
        clear = len(rest) > 1 and counts and (len(counts) == 1 or counts[0][1] > counts[1][1])
        for p in rest:
            if clear:
                p.scale, p.scale_from = counts[0][0], "other items"
            else:
                p.scale, p.scale_from = own[id(p)] or (1.0, 5.0), "answers"
    if rest:
        scales = sorted({p.scale for p in rest})
        report["scale_inferred"] = {"scale": list(scales[0]), "from": "the survey's other items" if stated
                                    else "the answers", "items": len(rest)}
        if not stated:  # nothing in the file or mapping says the scale: the answers decided
            issues.warn(f"scale {', '.join(f'{lo:g}–{hi:g}' for lo, hi in scales)} inferred from the answers for "
                        f"{len(rest)} item(s); give \"scale\" in the mapping to be sure")
    for p in plans:
        lo, hi = p.scale
        out = p.values[(p.values < lo) | (p.values > hi)]
        if len(out):
            row = out.index[0]
            why = {"other items": " (the scale of the survey's other items; give this item its own \"scale\" in the "
                                  "mapping if it differs)"}.get(p.scale_from, "")
            issues.error(f"row {row}, {p.column.where()}: value {out.iloc[0]:g} is outside the item's scale "
                         f"{lo:g}–{hi:g}" + (f" ({len(out)} such values)" if len(out) > 1 else "") + why)
    ambiguous = [p.column.id for p in plans if frequency_open and p.table in FREQUENCY_TABLES
                 and p.scale_from == "labels" and not p.spec.labels]
    if ambiguous:
        report["scale_ambiguous"] = ambiguous
        issues.warn(f"the answers to {len(ambiguous)} frequency item(s) ({', '.join(ambiguous[:5])}) fit both the "
                    "4-point (Never … Frequently) and the 5-point (Never … Always) scale: read as 1–5; give "
                    "\"scale\" in the mapping (or the scale columns on the Upload page) to be sure")
    report["scale_confirmed"] = not ambiguous and all(p.scale_from in ("mapping", "labels") for p in plans)


def _answer_options(series: pd.Series, limit: int = 12) -> list[str]:
    """The distinct answers of a column as written, most frequent first (for the mapping step)."""
    counts = series[series.str.strip() != ""].value_counts()
    return [str(v)[:60] for v in counts.index[:limit]]


def preview_items(table: RawTable, fmt: str) -> pd.DataFrame:
    """The question columns of a survey with suggested constructs, for the mapping editor."""
    cols = survey_columns(fmt, table)
    return pd.DataFrame([{"question": c.question, "item": c.id, "import": True,
                          "construct": suggest_construct(c.question), "reverse": suggest_reverse(c.question)}
                         for c in cols if c.role == "item"])
