"""Helpers shared by the import tests (no tests here)."""

from __future__ import annotations

from pathlib import Path

from analytics.importing import import_file

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"


def load_org(db) -> None:
    """Roster E001–E005, pairs P1–P2 and their sessions from the template fixtures."""
    for name in ("employees.csv", "pairs.csv", "sessions.csv"):
        import_file(db, EXPORTS / name)


def item(report: dict, question_or_id: str) -> dict:
    hits = [i for i in report["items"] if question_or_id in (i["question"], i["item"])]
    assert len(hits) == 1, [i["item"] for i in report["items"]]
    return hits[0]
