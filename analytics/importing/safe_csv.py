"""Neutralising spreadsheet formulas in exports (CSV injection).

Imported text is stored exactly as given; only when Twoway writes a CSV or XLSX for someone
to open in a spreadsheet is a cell that would run as a formula made inert, by prefixing an
apostrophe (the OWASP recommendation). Plain numbers such as ``-3`` are left alone.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def neutralise_cell(value):
    """One cell: text starting with = + - @ (or tab/CR) gets a leading apostrophe.

    Examples
    --------
    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")"), neutralise_cell("-3.5"), neutralise_cell("Sales")
    ('\\'=HYPERLINK("http://x")', '-3.5', 'Sales')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value.strip()):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` safe to write as CSV/XLSX: formula-like text cells (and column names)
    are prefixed with an apostrophe; numbers, dates and other types are untouched."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def to_safe_csv(df: pd.DataFrame, **kwargs) -> bytes:
    """CSV bytes (UTF-8 with BOM, so Excel reads accents) of the neutralised frame."""
    return neutralise_formulas(df).to_csv(index=False, **kwargs).encode("utf-8-sig")
