"""Blank Twoway templates for download (column headers plus one example row)."""

from __future__ import annotations

from analytics.importing.formats import KINDS, TEMPLATES

#: Every kind has a template (the same tuple as the importable kinds).
TEMPLATE_KINDS = KINDS

EXAMPLES = {
    "employees": ["E0001", "Sales", "L3", "Lisbon", "1990", "2018-04-01", "E0042", "ana.silva@example.com", "", ""],
    "pairs": ["P001", "E0007", "E0001", "2025-spring", "2025-03-01", ""],
    "sessions": ["S0001", "P001", "2025-03-12", "45", "scheduled", "video", "AI tools;social media", "4", "5"],
    "metrics": ["E0001", "2025-03", "tickets_closed", "42", "true", "tickets"],
    "survey": ["E0001", "2025-03-31 09:15:00", "4", "5", "2"],
}


def template_columns(kind: str) -> list[str]:
    cols = list(TEMPLATES[kind])
    if kind == "survey":
        cols += ["eng_1", "bel_1", "psy_1"]
    return cols


def blank_template(kind: str, example: bool = True) -> bytes:
    """CSV bytes of a template: the header row, and an example row unless `example` is False."""
    if kind not in TEMPLATE_KINDS:
        raise ValueError(f"unknown template {kind!r}")
    lines = [",".join(template_columns(kind))]
    if example:
        lines.append(",".join(f'"{v}"' if ("," in v or ";" in v or " " in v) else v for v in EXAMPLES[kind]))
    return ("\n".join(lines) + "\n").encode("utf-8")
