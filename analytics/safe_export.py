"""Downloads that are safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by Excel and LibreOffice (CSV injection), so text cells that start that way get a leading
apostrophe. Numbers stay numbers: a negative estimate is data, not a formula.
"""

from __future__ import annotations

import pandas as pd

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """One cell made inert for spreadsheets; non-text values pass through.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-3"), neutralise(-3.5), neutralise("Sales")
    ('\\'=HYPERLINK("http://x")', "'-3", -3.5, 'Sales')
    """
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and column name neutralised."""
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 (with BOM, so Excel reads accents) CSV of a neutralised copy."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")


#: The names the importers have always exported.
neutralise_formulas = safe_frame
to_safe_csv = to_csv_bytes
