"""Importing one file: detect, check, report, and write in one transaction (or not at all).

`check_file` does everything except writing (the dry run and the page's validation report);
`import_file` writes the rows and the audit row together. Both return the same report dict:
format, kind, rows, items [{question, n, mean}], errors, warnings, import_id, and details.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from analytics.errors import TwowayError
from analytics.importing import formats
from analytics.importing.mapping import ItemSpec, load_mapping, mapping_to_json, survey_family
from analytics.importing.reading import RawTable, read_table
from analytics.importing.survey import Issues, analyse_survey, preview_items
from analytics.importing.tables import analyse_table
from analytics.store import Database
from analytics.store import imports as store
from analytics.store import roster as roster_store

Progress = Callable[[float, str], None]


class ImportFailed(TwowayError):
    """The file was read but has problems; `report` lists every error with its row and column."""

    def __init__(self, report: dict):
        errors = report.get("errors") or ["unknown problem"]
        more = len(errors) - 1
        super().__init__(errors[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))
        self.report = report


def parse_as_of(value: dt.date | str | None) -> dt.date | None:
    """A snapshot date from the CLI or page (YYYY-MM-DD)."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise TwowayError(f"--as-of {value!r}: not a date (use YYYY-MM-DD)") from None


def _noop(fraction: float, message: str) -> None:
    return None


def survey_name_from_file(file_name: str) -> str:
    """A wave name from a file name: 'Pulse_March 3, 2024_10.15.csv' → 'Pulse'.

    Qualtrics appends the export date and time; that is not part of the survey's name.
    """
    stem = Path(file_name).stem
    stem = re.sub(r"_[A-Z][a-z]+ \d{1,2}, \d{4}_\d{2}\.\d{2}$", "", stem)
    return stem.strip() or "survey"


def empty_report(file_name: str) -> dict:
    return {"file": file_name, "format": None, "kind": None, "rows": 0, "items": [], "errors": [],
            "warnings": [], "import_id": None}


def check_file(db: Database, path: str | Path, *, kind: str | None = None, survey: str | None = None,
               mapping: str | dict | None = None, id_column: str | None = None, file_name: str | None = None,
               progress: Progress | None = None, as_of: dt.date | str | None = None, force: bool = False,
               _import_id: int | None = None,
               _table: RawTable | None = None) -> tuple[dict, dict[str, pd.DataFrame], RawTable]:
    """Read and check a file; returns (report, rows to write, raw table). Never writes.

    `as_of` and `force` apply to rosters: a dated snapshot, and accepting one that ends more
    than 40 % of current employees.
    """
    progress = progress or _noop
    as_of = parse_as_of(as_of)
    table = _table or read_table(path, file_name, progress)
    report = empty_report(table.file_name)
    fmt = formats.detect_format(table)
    detected_kind = formats.detect_kind(fmt, table)
    if kind is not None and kind not in formats.KINDS:
        raise TwowayError(f"--kind {kind!r}: use one of {', '.join(formats.KINDS)}")
    kind = kind or detected_kind
    if fmt in ("qualtrics", "surveymonkey", "google_forms", "microsoft_forms") and kind != "survey":
        raise TwowayError(f"{table.file_name} is a {fmt} survey export; it cannot be imported as {kind}")
    report.update(format=fmt, kind=kind, sha256=table.sha256, encoding=table.encoding,
                  delimiter=table.delimiter, container=table.container)
    if kind != detected_kind:
        report["kind_detected"] = detected_kind
    issues = Issues()
    progress(0.62, "checking values")
    if kind == "survey":
        name = (survey or survey_name_from_file(table.file_name)).strip()
        if not name or len(name) > 200:
            raise TwowayError("--survey: give a survey name of 1 to 200 characters")
        report["survey"] = name
        report["title"] = Path(table.file_name).stem
        family = survey_family(name)
        parsed = load_mapping(mapping)
        strict = True
        source = "given" if parsed is not None else None
        if parsed is None:
            saved = store.get_saved_mapping(db, f"survey:{family}")
            if saved:
                parsed, strict, source = load_mapping(saved), False, f"saved:{family}"
        report["mapping_source"] = source or "suggested"
        report["survey_family"] = family
        existing = store.wave_import(db, name)
        if existing is not None:
            issues.error(f"survey {name!r} already exists (import #{existing}); give this wave another name with "
                         "--survey, or undo that import first")
        frames = analyse_survey(db, table, fmt, survey=name, mapping=parsed, mapping_strict=strict,
                                id_column=id_column, import_id=_import_id, issues=issues, report=report,
                                progress=progress)
        report["_mapping"] = parsed if source == "given" else None
    else:
        if id_column or mapping:
            report["warnings"].append("--id-column and --mapping apply to surveys only; ignored")
        if as_of is not None and kind != "employees":
            report["warnings"].append("--as-of applies to rosters only; ignored")
        frames = analyse_table(db, table, kind, import_id=_import_id, issues=issues, report=report,
                               as_of=as_of if kind == "employees" else None, force=force)
    report["errors"] = issues.errors
    report["warnings"] += issues.warnings
    progress(0.85, "checked")
    return report, frames, table


def import_file(db: Database, path: str | Path, *, kind: str | None = None, survey: str | None = None,
                mapping: str | dict | None = None, id_column: str | None = None, dry_run: bool = False,
                file_name: str | None = None, progress: Progress | None = None,
                as_of: dt.date | str | None = None, force: bool = False) -> dict:
    """Import one file; see the module docstring. Raises `ImportFailed` (with the report) or
    `TwowayError` on bad input, leaving the database exactly as it was.

    Re-importing a file whose sha256 matches a live import changes nothing and returns a report
    with ``duplicate_of`` set.
    """
    progress = progress or _noop
    if db.read_only and not dry_run:  # a reader (the dashboard): write the live file as the import lock allows
        with _live_writer(db, progress) as live:
            report = import_file(live, path, kind=kind, survey=survey, mapping=mapping, id_column=id_column,
                                 file_name=file_name, progress=progress, as_of=as_of, force=force)
        db.refresh()
        return report
    started = time.perf_counter()
    table = read_table(path, file_name, progress)
    previous = store.find_ok_import(db, table.sha256)
    import_id = None if dry_run else store.next_import_id(db)
    report, frames, table = check_file(db, path, kind=kind, survey=survey, mapping=mapping, id_column=id_column,
                                       progress=progress, as_of=as_of, force=force, _import_id=import_id,
                                       _table=table)
    given_mapping: dict[str, ItemSpec] | None = report.pop("_mapping", None)
    if previous is not None:
        report["duplicate"] = True
        report["duplicate_of"] = previous["import_id"]
        report["warnings"].insert(0, f"this file was already imported as #{previous['import_id']} "
                                     f"({previous['file_name']}); nothing changed")
        report["errors"] = [e for e in report["errors"] if "already exists" not in e]
        report["import_id"] = None
        report["seconds"] = round(time.perf_counter() - started, 3)
        progress(1.0, "already imported")
        return report
    if report["errors"]:
        raise ImportFailed(report)
    if dry_run:
        report["seconds"] = round(time.perf_counter() - started, 3)
        progress(1.0, "checked (dry run)")
        return report
    progress(0.9, "writing")
    details = {k: v for k, v in report.items() if k not in ("items",)}
    details["items"] = report["items"][:200]
    with db.transaction():
        if store.next_import_id(db) != import_id:  # another writer got in between
            raise TwowayError("another import ran at the same time; try again")
        if "responses" in frames and not isinstance(frames["responses"], pd.DataFrame):
            frames["responses"] = _with_progress(frames["responses"], progress)
        closing = frames.pop("_close", None)
        if closing is not None and len(closing):  # before the new rows, which are open too
            roster_store.close_rows(db, list(closing["employee_id"]), list(closing["valid_to"]), import_id)
        written = store.write_rows(db, frames)
        if report["kind"] == "employees":
            roster_store.refresh_current(db)
        store.record_import(db, import_id, table.file_name, table.sha256, report["kind"], int(report["rows"]),
                            details)
        if given_mapping is not None:
            store.save_mapping(db, f"survey:{report['survey_family']}", mapping_to_json(given_mapping))
            report["mapping_saved"] = f"survey:{report['survey_family']}"
        db.bump_data_version()
    report["import_id"] = import_id
    report["written"] = written
    report["seconds"] = round(time.perf_counter() - started, 3)
    progress(1.0, f"imported {report['rows']:,} rows as #{import_id}")
    return report


def _live_writer(db: Database, progress: Progress):
    """The live file behind a snapshot reader, opened for writing under the import lock.

    Readers never write (DuckDB allows one writer per file, and the dashboard must not be it
    for longer than one import); see `analytics.store.snapshots`.
    """
    if db.snapshot is None:
        raise TwowayError(f"database {db.path} is open read-only (the file or its folder is not writable); "
                          "imports and undo need a writable file")
    return Database.writer(db.path, on_wait=lambda message: progress(0.0, message))


class _with_progress:
    """An iterable of frame parts that reports writing progress (0.9 → 1.0) part by part."""

    def __init__(self, parts, progress: Progress):
        self.parts, self.progress = parts, progress

    def __len__(self) -> int:
        return len(self.parts)

    def __iter__(self):
        n = max(len(getattr(self.parts, "plans", [])), 1)
        for k, part in enumerate(self.parts):
            self.progress(0.9 + 0.1 * k / n, f"writing item {k + 1:,} of {n:,}")
            yield part


def undo_import(db: Database, import_id: int, *, protect_demo: bool = False) -> dict:
    """Remove everything one import wrote (one transaction) and mark it undone.

    With `protect_demo` (the CLI without ``--force``, and the page) the demo organisation's import
    is refused: undoing it empties the database, which a new database does more plainly.
    """
    if db.read_only:
        with _live_writer(db, _noop) as live:
            result = undo_import(live, import_id, protect_demo=protect_demo)
        db.refresh()
        return result
    if protect_demo:
        info = store.import_status(db, int(import_id))
        if info is not None and info["kind"] == "demo" and info["status"] == "ok":
            raise TwowayError(f"import #{import_id} is the demo organisation: undoing it would empty the "
                              "database; build a new one instead (python -m analytics demo --force), "
                              "or give --force to undo it anyway")
    counts = store.undo_import(db, int(import_id))
    return {"import_id": int(import_id), "status": "undone", "deleted": counts}


def undo_preview(db: Database, import_id: int, *, protect_demo: bool = True) -> dict:
    """What the Upload page shows before an undo: the import, its file and rows, what would be
    removed, and `blocked` (why it cannot be undone, or None).

    The demo organisation is protected on the page (`protect_demo`): undoing it would empty the
    database in one click. Imports that later imports depend on are protected everywhere.
    """
    info = store.import_status(db, int(import_id))
    if info is None:
        raise TwowayError(f"there is no import #{import_id}")
    out = {**info, "removes": store.undo_effects(db, int(import_id)), "blocked": None}
    if info["status"] != "ok":
        out["blocked"] = f"it is already {info['status']}"
    elif protect_demo and info["kind"] == "demo":
        out["blocked"] = ("it is the demo organisation; build a new database instead "
                          "(python -m analytics demo --force)")
    else:
        deps = store.dependants(db, int(import_id))
        if deps:
            out["blocked"] = "other imports refer to its rows (" + "; ".join(deps) + "); undo those first"
    return out


def describe_removal(removes: dict[str, int]) -> str:
    """'120 responses, 1 waves, 4 items' (or 'no rows')."""
    return ", ".join(f"{n:,} {t}" for t, n in removes.items()) or "no rows"


def import_history(db: Database, limit: int = 200) -> pd.DataFrame:
    """Imports newest first: import_id, imported_at, file_name, kind, rows, status."""
    return store.history(db, limit).drop(columns=["details"])


def preview(db: Database, path: str | Path, *, file_name: str | None = None, rows: int = 10,
            progress: Progress | None = None) -> dict:
    """What the page shows right after upload: format, kind, first rows, suggested mapping."""
    table = read_table(path, file_name, progress)
    fmt = formats.detect_format(table)
    kind = formats.detect_kind(fmt, table)
    hdr = formats.header_rows(fmt, table) if kind == "survey" else 1
    head = table.cells.iloc[hdr:hdr + rows].copy()
    names = [str(c) for c in table.cells.iloc[hdr - 1]]
    head.columns = _unique_names(names)
    head = head.apply(lambda col: col.str.replace(_EMAIL, "(e-mail address)", regex=True))  # never shown
    out = {"format": fmt, "kind": kind, "rows_in_file": int(len(table.cells) - hdr), "head": head,
           "sha256": table.sha256, "file_name": table.file_name,
           "duplicate_of": (store.find_ok_import(db, table.sha256) or {}).get("import_id")}
    if kind == "survey":
        items = preview_items(table, fmt)
        name = survey_name_from_file(table.file_name)
        saved = store.get_saved_mapping(db, f"survey:{survey_family(name)}")
        try:  # what the importer makes of each column without a mapping: rated or not, answers, scale
            report, _, _ = check_file(db, path, kind="survey", survey=name, _table=table)
            found = {i["item"]: i for i in report["items"]}
            ambiguous = set(report.get("scale_ambiguous", ()))
        except TwowayError:
            found, ambiguous = {}, set()
        if saved and len(items):
            items = apply_saved(items, load_mapping(saved))
        else:  # tick only the columns that hold ratings (not text, choices or ages)
            items["import"] = items["item"].isin(found.keys())
        items = _with_scales(items, found, load_mapping(saved) if saved else {}, ambiguous)
        out["items"] = items
        out["survey"] = name
        out["columns"] = [c.id for c in formats.survey_columns(fmt, table)]
    return out


def _with_scales(items: pd.DataFrame, found: dict[str, dict], saved: dict[str, ItemSpec],
                 ambiguous: set[str] = frozenset()) -> pd.DataFrame:
    """Add what the mapping step shows and lets the analyst set: each item's answer options, its
    detected scale and where that came from, and editable scale_min / scale_max / labels.

    `ambiguous`: frequency items whose answers fit both 1–4 and 1–5 (the report's
    `scale_ambiguous`); their detected scale says so, since the analyst must set it.

    Columns that are not rating items (checkbox, multiple choice, text) are never pre-marked reverse.
    """
    from analytics.importing.labels import normalise

    items = items.copy()
    keyed = {normalise(k): v for k, v in saved.items()}
    answers, detected, lo, hi, labels = [], [], [], [], []
    for _, row in items.iterrows():
        f = found.get(row["item"])
        spec = keyed.get(normalise(row["item"])) or keyed.get(normalise(row["question"]))
        answers.append(" · ".join(f["answers"]) if f else "")
        detected.append((f"{f['scale'][0]:g}–{f['scale'][1]:g} ({f['scale_from']}"
                         + ("; or 1–4: set it)" if row["item"] in ambiguous else ")")) if f else "not a rating item")
        scale = spec.scale if spec is not None and spec.scale else None
        lo.append(scale[0] if scale else None)
        hi.append(scale[1] if scale else None)
        labels.append(labels_to_text(spec.labels) if spec is not None and spec.labels else "")
    items["answers"], items["detected_scale"] = answers, detected
    items["scale_min"] = pd.array(lo, dtype="Float64")
    items["scale_max"] = pd.array(hi, dtype="Float64")
    items["labels"] = labels
    not_rated = ~items["item"].isin(found.keys())
    items.loc[not_rated, "reverse"] = False
    return items


def labels_to_text(labels: dict[str, float | None]) -> str:
    """A labels table as the editor writes it: 'never=1; rarely=2; don't know=' (blank = missing)."""
    return "; ".join(f"{k}={'' if v is None else f'{v:g}'}" for k, v in labels.items())


def labels_from_text(text: str) -> dict[str, float | None]:
    """Parse the editor's labels cell ('Never=1; Rarely=2; Don't know='); raises TwowayError.

    Examples
    --------
    >>> labels_from_text("Never=1; Often = 4; Don't know=")
    {'Never': 1.0, 'Often': 4.0, "Don't know": None}
    """
    out: dict[str, float | None] = {}
    for part in str(text or "").split(";"):
        if not part.strip():
            continue
        label, eq, value = part.rpartition("=")
        if not eq or not label.strip():
            raise TwowayError(f"labels {part.strip()!r}: write each as answer=number, separated by ';'")
        value = value.strip()
        try:
            out[label.strip()] = None if value == "" else float(value)
        except ValueError:
            raise TwowayError(f"labels {part.strip()!r}: {value!r} is not a number") from None
    return out


def apply_saved(items: pd.DataFrame, mapping: dict[str, ItemSpec]) -> pd.DataFrame:
    """Fill a mapping-editor table from a saved mapping (matching question text or item id)."""
    from analytics.importing.labels import normalise

    keyed = {normalise(k): v for k, v in mapping.items()}
    items = items.copy()
    for i, row in items.iterrows():
        spec = keyed.get(normalise(row["item"])) or keyed.get(normalise(row["question"]))
        items.at[i, "import"] = spec is not None
        if spec is not None:
            items.at[i, "construct"] = spec.construct
            items.at[i, "reverse"] = spec.reverse
    return items


def mapping_from_editor(items: pd.DataFrame) -> dict:
    """The mapping JSON object from the page's editor table (rows with import ticked), keyed by item id."""
    out = {}
    for _, row in items.iterrows():
        if not bool(row.get("import", True)):
            continue
        construct = row.get("construct")
        construct = None if construct is None or (isinstance(construct, float) and pd.isna(construct)) \
            or construct == "" else str(construct)
        entry = {"construct": construct, "reverse": bool(row.get("reverse", False))}
        lo, hi = row.get("scale_min"), row.get("scale_max")
        if lo is not None and hi is not None and not pd.isna(lo) and not pd.isna(hi):
            entry["scale"] = [float(lo), float(hi)]
        elif (lo is not None and not pd.isna(lo)) or (hi is not None and not pd.isna(hi)):
            raise TwowayError(f"item {row['item']!r}: give both the lowest and the highest scale point")
        text = row.get("labels")
        if isinstance(text, str) and text.strip():
            entry["labels"] = labels_from_text(text)
        out[str(row["item"])] = entry
    return out


_EMAIL = r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+"


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n.replace("\n", " ").strip() or "(blank)"
        if n in seen:
            seen[n] += 1
            n = f"{n} ({seen[n]})"
        else:
            seen[n] = 1
        out.append(n)
    return out
