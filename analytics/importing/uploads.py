"""Uploaded files on their way to the importer: copied to a private temporary file in chunks
(so a file of hundreds of MB never sits in memory twice) with the size limit enforced while
copying."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from analytics.errors import TwowayError
from analytics.importing.reading import human_size, max_upload_bytes, max_upload_mb
from analytics.vocab import CONSTRUCTS

_ROW = re.compile(r"\brows? (\d+)")
UPLOAD_DIR = Path(tempfile.gettempdir()) / "twoway-uploads"


def save_upload(fileobj: BinaryIO, file_name: str, dest_dir: Path | None = None) -> Path:
    """Copy an uploaded file object to a new private temporary file; returns its path."""
    safe = re.sub(r"[^A-Za-z0-9._ -]+", "_", Path(file_name).name)[:120] or "upload"
    base = Path(dest_dir or UPLOAD_DIR)
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="up-", dir=base))
    path = folder / safe
    limit, copied = max_upload_bytes(), 0
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    with open(path, "wb") as out:
        while True:
            block = fileobj.read(1 << 20)
            if not block:
                break
            copied += len(block)
            if copied > limit:
                out.close()
                discard_upload(path)
                raise TwowayError(f"{file_name} is over the {max_upload_mb():g} MB limit (TWOWAY_MAX_UPLOAD_MB)")
            out.write(block)
    os.chmod(path, 0o600)
    return path


def discard_upload(path: Path) -> None:
    """Remove a temporary upload (and its private folder)."""
    path = Path(path)
    if path.parent.name.startswith("up-"):  # only folders save_upload made
        shutil.rmtree(path.parent, ignore_errors=True)


def describe_size(path: Path) -> str:
    return human_size(Path(path).stat().st_size)


EDITOR_COLUMNS = ["question", "item", "import", "construct", "reverse", "answers", "detected_scale", "scale_min",
                  "scale_max", "labels"]


def editor_table(items: pd.DataFrame) -> pd.DataFrame:
    """The mapping editor's starting table: question, item, import, construct, reverse, the answer
    options and detected scale (read-only), and the scale and labels the analyst may set."""
    if items is None or items.empty:
        return pd.DataFrame(columns=EDITOR_COLUMNS)
    items = items.copy()
    for col, default in (("answers", ""), ("detected_scale", ""), ("scale_min", None), ("scale_max", None),
                         ("labels", "")):
        if col not in items:
            items[col] = default
    out = items[EDITOR_COLUMNS].copy()
    out["construct"] = out["construct"].where(out["construct"].isin(CONSTRUCTS), None)
    out["import"] = out["import"].astype(bool)
    out["reverse"] = out["reverse"].astype(bool)
    return out.reset_index(drop=True)


def report_frames(report: dict) -> dict[str, pd.DataFrame]:
    """The report as tables for the page: items (question, n, mean, construct …) and issues."""
    items = pd.DataFrame(report.get("items") or [], columns=["question", "item", "n", "mean", "construct",
                                                             "reverse", "scale", "scale_from"])
    issues = pd.DataFrame([("error", e) for e in report.get("errors") or []]
                          + [("warning", w) for w in report.get("warnings") or []], columns=["level", "message"])
    # the spreadsheet row each message is about (its first "row N"), to find it in the file
    issues["row"] = pd.array([int(m.group(1)) if (m := _ROW.search(msg)) else None for msg in issues["message"]],
                             dtype="Int64")
    return {"items": items, "issues": issues}
