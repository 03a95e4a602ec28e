"""Reading a file as the tool wrote it: encoding, delimiter, CSV or XLSX, into text cells.

Everything is read as text (nothing is interpreted here), streamed in chunks so a file of
hundreds of megabytes reports progress instead of freezing its caller. Every structural
problem (empty, binary, truncated, ragged rows, too many columns, too large) becomes one
`TwowayError` naming the row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from analytics.errors import TwowayError

Progress = Callable[[float, str], None]

#: Widest row accepted; exports with more columns than this are almost certainly broken.
MAX_COLUMNS = 5000
#: Longest single cell (characters).
MAX_FIELD_CHARS = 1_000_000
CHUNK_ROWS = 50_000
#: Longest cell text quoted in any importer message (a cell can be a megabyte long).
QUOTE_CHARS = 80

# An XLSX file is a zip archive: 4 MB on disk can hold gigabytes of XML (a decompression bomb).
# These limits are checked before and while the sheet is read, each with its own message.
XLSX_LIMITS = {
    # setting: (default, what it limits)
    "TWOWAY_MAX_XLSX_MB": (500, "uncompressed size of the workbook in MB"),
    "TWOWAY_MAX_XLSX_ROWS": (1_048_576, "rows in the worksheet (Excel's own maximum)"),
    "TWOWAY_MAX_XLSX_CELLS": (20_000_000, "cells in the worksheet"),
}
#: Bytes of XML per character, at most (``&#1114111;``): a run of more bytes between two tags
#: than this times MAX_FIELD_CHARS is certainly a cell over the limit, known before parsing.
_MAX_BYTES_PER_CHAR = 10
_SCAN_BLOCK = 1 << 20


def max_upload_mb() -> float:
    """Size limit for one file in MB: ``TWOWAY_MAX_UPLOAD_MB`` (default 500).

    ``nan`` and ``inf`` parse as floats but are no limit (every comparison with nan is false),
    so only a finite positive number is accepted.

    Examples
    --------
    >>> os.environ["TWOWAY_MAX_UPLOAD_MB"] = "nan"
    >>> max_upload_mb()
    Traceback (most recent call last):
    ...
    analytics.errors.TwowayError: TWOWAY_MAX_UPLOAD_MB='nan' must be a positive number of MB, such as 500
    >>> del os.environ["TWOWAY_MAX_UPLOAD_MB"]
    """
    raw = os.environ.get("TWOWAY_MAX_UPLOAD_MB", "500")
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not math.isfinite(mb) or mb <= 0:
        raise TwowayError(f"TWOWAY_MAX_UPLOAD_MB={raw[:40]!r} must be a positive number of MB, such as 500")
    return mb


def xlsx_limit(setting: str) -> int:
    """One of `XLSX_LIMITS` (a positive whole number), from the environment or its default."""
    default, what = XLSX_LIMITS[setting]
    raw = os.environ.get(setting, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]{1,12}", raw) or int(raw) == 0:
        raise TwowayError(f"{setting}={raw[:40]!r} must be a positive whole number ({what}; default {default:,})")
    return int(raw)


def clip(text: object, limit: int = QUOTE_CHARS) -> str:
    """A cell's text quoted for a message: at most `limit` characters, without line breaks.

    Examples
    --------
    >>> clip("x" * 100)[-6:], len(clip("x" * 100))
    ("xxxx…'", 83)
    >>> clip("Sales")
    "'Sales'"
    """
    text = str(text)
    short = "".join(ch if ch.isprintable() else " " for ch in text[:limit])
    return repr(short + ("…" if len(text) > limit else ""))


_QUOTED = re.compile(r"'(?:[^'\\]|\\.){%d,}'|\"(?:[^\"\\]|\\.){%d,}\"" % (QUOTE_CHARS + 1, QUOTE_CHARS + 1))


def clip_message(message: str, limit: int = 1000) -> str:
    """A message with every quoted text in it cut to `QUOTE_CHARS`, and at most `limit` long.

    The safety net under every importer message: whatever a check quotes from the file, no
    cell reaches the page or the terminal whole.

    Examples
    --------
    >>> clip_message("row 2, column B: 'y" + "y" * 500 + "' is not a date")
    "row 2, column B: 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…' is not a date"
    """
    out = _QUOTED.sub(lambda m: m.group(0)[:QUOTE_CHARS + 1] + "…" + m.group(0)[0], message)
    return out if len(out) <= limit else out[:limit] + "…"


def max_upload_bytes() -> int:
    return int(max_upload_mb() * 1024 * 1024)


def human_size(n: int) -> str:
    return f"{n / 1048576:,.1f} MB" if n >= 1048576 else f"{n / 1024:,.1f} kB" if n >= 1024 else f"{n} bytes"


@dataclass
class RawTable:
    """All records of a file as text. ``cells`` has columns 0..n-1 and, as index, the
    spreadsheet row number of each record (1 = first line), so messages can say "row 7"."""

    path: Path
    file_name: str
    size: int
    sha256: str
    container: str  # csv | xlsx
    encoding: str | None
    delimiter: str | None
    cells: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def decimal_comma(self) -> bool:
        """Decimal commas are read in files whose delimiter is not a comma (Excel in Europe)."""
        return self.container == "csv" and self.delimiter in (";", "\t")

    def header(self, n: int) -> list[list[str]]:
        return [list(self.cells.iloc[i]) for i in range(min(n, len(self.cells)))]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _noop(fraction: float, message: str) -> None:
    return None


def read_table(path: str | os.PathLike, file_name: str | None = None,
               progress: Progress | None = None) -> RawTable:
    """Read a CSV or XLSX file into text cells; see the module docstring for the checks."""
    path = Path(path)
    name = file_name or path.name
    progress = progress or _noop
    if not path.exists():
        raise TwowayError(f"{name}: no such file")
    if path.is_dir():
        raise TwowayError(f"{name} is a directory, not a file")
    size = path.stat().st_size
    limit = max_upload_bytes()
    if size > limit:
        raise TwowayError(
            f"{name} is {human_size(size)}, over the {max_upload_mb():g} MB limit (TWOWAY_MAX_UPLOAD_MB)")
    if size == 0:
        raise TwowayError(f"{name} is empty")
    with open(path, "rb") as f:
        head = f.read(65536)
    progress(0.0, "checking the file")
    digest = sha256_of(path)
    if head.startswith(b"PK\x03\x04"):
        cells = _read_xlsx(path, name, progress)
        table = RawTable(path, name, size, digest, "xlsx", None, None, cells)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise TwowayError(f"{name} is an old binary Excel (.xls) file; save it as .xlsx or .csv")
    else:
        encoding = _detect_encoding(head, name)
        if encoding.startswith("utf-16") and size % 2:
            _raise_cut_utf16(path, name, encoding, size)
        try:
            cells, delimiter = _read_csv_fast(path, name, encoding, size, progress)
        except UnicodeDecodeError:
            if encoding != "utf-8":
                raise TwowayError(f"{name}: cannot decode the text as {encoding}") from None
            encoding = "cp1252"
            try:
                cells, delimiter = _read_csv_fast(path, name, encoding, size, progress)
            except UnicodeDecodeError:
                _raise_undecodable(path, name)
        table = RawTable(path, name, size, digest, "csv", encoding, delimiter, cells)
    table.cells = _drop_empty(table.cells)
    if table.cells.empty or not (table.cells != "").to_numpy().any():
        raise TwowayError(f"{name} has no rows")
    return table


#: The bytes Windows-1252 leaves undefined: the only ones it cannot decode.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def _raise_undecodable(path: Path, name: str) -> None:
    """A file that is neither UTF-8 nor Windows-1252: one message naming the first byte that
    Windows-1252 cannot decode, by line and column (physical line: a quoted cell may span lines),
    instead of the codec's traceback. Read block by block, so a big file is never held whole."""
    offset, line, block_start, tail = None, 1, 0, b""
    with open(path, "rb") as f:
        while offset is None:
            block = f.read(_SCAN_BLOCK)
            if not block:
                raise TwowayError(f"{name}: cannot decode the text as UTF-8 or Windows-1252 "
                                  "(save the file as CSV UTF-8)")
            m = _NOT_CP1252.search(block)
            upto = block if m is None else block[:m.start()]
            line += upto.count(b"\n")
            tail = (tail + upto).rsplit(b"\n", 1)[-1] if b"\n" in upto else tail + upto
            if m is not None:
                offset = block_start + m.start()
                bad = block[m.start()]
            block_start += len(block)
    with open(path, "rb") as f:
        first = f.readline(1_000_000).decode("cp1252", errors="replace")
    delimiter = _sep_line(first) or _sniff_delimiter(first)
    prefix = tail.decode("cp1252", errors="replace")
    quoted, column = False, 0
    for ch in prefix:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            column += 1
    raise TwowayError(f"{name}, line {line}, column {_letter(column)}: byte 0x{bad:02X} is not text in UTF-8 or "
                      "Windows-1252 (save the file as CSV UTF-8)")


def _raise_cut_utf16(path: Path, name: str, encoding: str, size: int) -> None:
    """A UTF-16 file of odd length ends inside a character: it was cut. Read what is there
    (a short last row raises its own message) and name the last row and column."""
    cells, _ = _read_csv(path, name, encoding, size, _noop, errors="replace")
    cells = _drop_empty(cells)
    row = cells.index[-1] if len(cells) else 1
    last = cells.iloc[-1] if len(cells) else pd.Series([""])
    filled = [i for i, v in enumerate(last) if v != ""]
    col = _letter(filled[-1] if filled else 0)
    raise TwowayError(f"{name}, row {row}, column {col}: the file ends in the middle of a character "
                      "(is the file truncated?)")


def _drop_empty(cells: pd.DataFrame) -> pd.DataFrame:
    """Without the rows whose every cell is empty (Excel writes ``;;;;`` for a blank row of its
    used range) and the trailing columns that are empty everywhere, header included (Excel's
    ``;;;`` at line ends). Row numbers (the index) are kept, so messages still name file rows."""
    if cells.empty:
        return cells
    filled = (cells != "").to_numpy()
    rows = filled.any(axis=1)
    cols = filled.any(axis=0)
    last = int(cols.nonzero()[0].max()) + 1 if cols.any() else 0
    if rows.all() and last == cells.shape[1]:
        return cells
    return cells.loc[rows, list(cells.columns[:last])]


def _detect_encoding(head: bytes, name: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
        raise TwowayError(f"{name} is not a text or spreadsheet file (it contains binary data)")
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if sample and controls > 0.05 * len(sample):
        raise TwowayError(f"{name} is not a text or spreadsheet file (it contains binary data)")
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the sample's end
            return "utf-8"
        return "cp1252"


def _sniff_delimiter(first_line: str) -> str:
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


_SEP_LINE = re.compile(r"^\ufeff?sep=(.)\r?\n?$")


def _sep_line(first_line: str) -> str | None:
    """The delimiter named by Excel's ``sep=;`` first line, if the file starts with one."""
    m = _SEP_LINE.match(first_line)
    return m.group(1) if m else None


def _first_record(path: Path, encoding: str) -> tuple[str, int, int]:
    """Delimiter and field count of the first record, and the lines to skip before it (1 after
    Excel's ``sep=;`` line, which Excel itself hides: the header is still row 1)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with open(path, "r", encoding=encoding, newline="") as text:
        first = text.readline(1_000_000)
        delimiter, skip = _sniff_delimiter(first), 0
        if _sep_line(first):
            delimiter, skip = _sep_line(first), 1
            first = text.readline(1_000_000)
        text.seek(0)
        if skip:
            text.readline(1_000_000)
        try:
            rec = next(csv.reader(text, delimiter=delimiter, quotechar='"', strict=False), [])
        except csv.Error:
            rec = first.split(delimiter)
    return delimiter, len(rec), skip


def _read_csv_fast(path: Path, name: str, encoding: str, size: int, progress: Progress) -> tuple[pd.DataFrame, str]:
    """Arrow's streaming CSV reader (fast, in C++); on any structural problem the exact
    row-by-row reader below runs instead, to name the row in the message."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    delimiter, width, skip = _first_record(path, encoding)
    if width > MAX_COLUMNS:
        raise TwowayError(f"{name}, row 1: {width:,} columns, more than the {MAX_COLUMNS:,} allowed")
    names = [f"f{i}" for i in range(width)]
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    read = pacsv.ReadOptions(column_names=names, encoding=arrow_encoding, block_size=4 << 20, skip_rows=skip)
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, newlines_in_values=True,
                               ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                   quoted_strings_can_be_null=False, null_values=[])
    raw = open(path, "rb")
    batches = []
    try:
        reader = pacsv.open_csv(raw, read_options=read, parse_options=parse, convert_options=convert)
        rows = 0
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            progress(min(raw.tell() / size, 1.0) * 0.6, f"read {rows:,} rows")
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raw.close()
        if "invalid utf8" in str(exc).lower() or "utf-8" in str(exc).lower() and encoding == "utf-8":
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "invalid utf8") from None
        cells, delimiter = _read_csv(path, name, encoding, size, progress)  # raises with the row
        return cells, delimiter
    finally:
        raw.close()
    table = pa.Table.from_batches(batches, schema=batches[0].schema) if batches else None
    if table is None or table.num_rows == 0:
        return pd.DataFrame(dtype=str), delimiter
    _check_cell_lengths(table, name)
    if encoding == "utf-8-sig" or encoding == "utf-8":
        first = table.column(0)[0].as_py()
        if first.startswith("\ufeff"):
            col0 = pa.concat_arrays([pa.array([first[1:]], pa.string()),
                                     table.column(0).combine_chunks().slice(1)])
            table = table.set_column(0, names[0], col0)
    cells = table.to_pandas()
    cells.columns = range(width)
    cells.index = pd.RangeIndex(1, len(cells) + 1)
    progress(0.6, "read the file")
    return cells, delimiter


def _check_cell_lengths(table, name: str) -> None:
    """Refuse a cell over MAX_FIELD_CHARS characters, naming its row and column, never quoting it.

    Arrow reads any cell that fits its 4 MiB block, so without this check a cell of one to four
    million characters passed the fast reader while the row-by-row reader (and XLSX) refused it.
    Byte lengths bound character lengths from above, so characters are counted only in a column
    whose longest cell has more bytes than the limit.
    """
    import pyarrow.compute as pc

    for pos in range(table.num_columns):
        col = table.column(pos)
        if (pc.max(pc.binary_length(col)).as_py() or 0) <= MAX_FIELD_CHARS:
            continue
        over = pc.greater(pc.utf8_length(col), MAX_FIELD_CHARS)
        if pc.any(over).as_py():
            row = int(pc.index(over, True).as_py()) + 1  # the header is row 1
            raise TwowayError(f"{name}, row {row}, column {_letter(pos)}: a cell longer than "
                              f"{MAX_FIELD_CHARS:,} characters")


def _read_csv(path: Path, name: str, encoding: str, size: int, progress: Progress,
              errors: str = "strict") -> tuple[pd.DataFrame, str]:
    csv.field_size_limit(MAX_FIELD_CHARS)
    raw = open(path, "rb")
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors=errors)
        first = text.readline(1_000_000)
        delimiter = _sep_line(first) or _sniff_delimiter(first)
        if not _sep_line(first):
            text.seek(0)
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        frames: list[pd.DataFrame] = []
        chunk: list[list[str]] = []
        index: list[int] = []
        width: int | None = None
        row = 0
        count = 0
        try:
            for rec in reader:
                row = reader.line_num  # physical line where this record ended
                raw_record, lines.buf = "".join(lines.buf), []
                if not rec or (len(rec) == 1 and not rec[0].strip()):
                    continue  # a blank line, or one holding only spaces
                if width is None:
                    width = len(rec)
                    if width > MAX_COLUMNS:
                        raise TwowayError(
                            f"{name}, row 1: {width:,} columns, more than the {MAX_COLUMNS:,} allowed")
                elif len(rec) > width and not any(rec[width:]):
                    rec = rec[:width]  # empty fields past the header's end (Excel's ";;;")
                elif len(rec) > width:
                    extra = next(i for i in range(width, len(rec)) if rec[i])
                    raise TwowayError(
                        f"{name}, row {count + 1} (line {row}), column {_letter(extra)}: {len(rec):,} fields, "
                        f"more than the {width:,} of the header (a value past its last column "
                        f"{_letter(width - 1)}; a delimiter inside an unquoted cell?)")
                elif len(rec) < width:
                    cut = ""
                    if raw_record.count('"') % 2:
                        cut = f"; the quoted cell in column {_letter(len(rec) - 1)} is never closed"
                    missing = _letter(len(rec)) + ("" if len(rec) == width - 1 else f"–{_letter(width - 1)}")
                    raise TwowayError(
                        f"{name}, row {count + 1} (line {row}): {len(rec):,} fields, fewer than the {width:,} "
                        f"of the header (is the file truncated?); column {missing} missing{cut}")
                count += 1
                chunk.append(rec)
                index.append(count)
                if len(chunk) >= CHUNK_ROWS:
                    frames.append(pd.DataFrame(chunk, index=index, dtype=str))
                    chunk, index = [], []
                    progress(min(raw.tell() / size, 1.0) * 0.6, f"read {count:,} rows")
        except csv.Error as exc:
            msg = str(exc)
            if "field larger" in msg:
                msg = f"a cell longer than {MAX_FIELD_CHARS:,} characters"
            elif "NUL" in msg:
                msg = "a NUL byte: this is not a text file"
            raise TwowayError(f"{name}, line {reader.line_num + 1}: cannot read the CSV: {msg}") from None
        if chunk:
            frames.append(pd.DataFrame(chunk, index=index, dtype=str))
    finally:
        raw.close()
    progress(0.6, "read the file")
    cells = pd.concat(frames) if frames else pd.DataFrame(dtype=str)
    return cells, delimiter


class _Lines:
    """The lines of a text stream, remembering those read since `buf` was last emptied (the raw
    text of the record the csv reader just returned, which reads no further ahead)."""

    def __init__(self, text):
        self.text, self.buf = text, []

    def __iter__(self):
        for line in self.text:
            self.buf.append(line)
            yield line


def _letter(pos: int) -> str:
    from analytics.importing.formats import col_letter

    return col_letter(pos)


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _check_archive(path: Path, name: str) -> bool:
    """Refuse a workbook whose members add up to more than TWOWAY_MAX_XLSX_MB uncompressed, a
    worksheet with more rows or cells than allowed, and a cell over MAX_FIELD_CHARS, before
    openpyxl reads a byte (it parses a whole sheet just to find its size when the sheet does not
    state one). Every worksheet of the workbook is checked, not only the first that is imported.

    The sizes come from the zip directory; a member cannot inflate past its declared size
    (Python's zipfile stops there and the CRC check fails), so the sum is a true bound.

    Returns whether a worksheet holds formulas (then `_formulas_without_values` looks closer).
    """
    formulas = False
    limit_mb = xlsx_limit("TWOWAY_MAX_XLSX_MB")
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            total = sum(m.file_size for m in members)
            if total > limit_mb * 1024 * 1024:
                raise TwowayError(f"{name} unpacks to {human_size(total)} of XML, over the {limit_mb:,} MB limit "
                                  "for a workbook (TWOWAY_MAX_XLSX_MB); save the sheet as CSV instead")
            for m in members:
                lower = m.filename.lower()
                if lower.endswith("sharedstrings.xml"):
                    _scan_xml(zf, m.filename, name, count=False)
                elif lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
                    formulas |= _scan_xml(zf, m.filename, name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise TwowayError(f"{name} is not a readable XLSX workbook (damaged or truncated): "
                          f"{type(exc).__name__}") from None
    return formulas


_ROW_TAGS = (b"<row ", b"<row>", b"<row/", b"<row\n", b"<row\t", b"<row\r")
_CELL_TAGS = (b"<c ", b"<c>", b"<c/", b"<c\n", b"<c\t", b"<c\r")
_FORMULA_TAGS = (b"<f>", b"<f ", b"<f/")


def _scan_xml(zf: zipfile.ZipFile, member: str, name: str, count: bool = True) -> bool:
    """Stream one XML member once (no parsing, ~1 s per 500 MB): count its row and cell tags
    against the limits, and measure the longest text between two tags (a cell's text cannot
    hold a raw "<"). Refuses as soon as a limit is passed. Returns whether it holds a formula tag."""
    max_rows, max_cells = xlsx_limit("TWOWAY_MAX_XLSX_ROWS"), xlsx_limit("TWOWAY_MAX_XLSX_CELLS")
    longest = MAX_FIELD_CHARS * _MAX_BYTES_PER_CHAR
    rows = cells = run = 0
    formulas = False
    carry = b""
    with zf.open(member) as src:
        while True:
            block = src.read(_SCAN_BLOCK)
            if count:
                buf = carry + block
                cut = len(buf) if not block else max(len(buf) - 8, 0)  # a tag cut at the block's end waits
                head, carry = buf[:cut + 5], buf[cut:]  # a tag starting before `cut` ends within 5 bytes
                rows += sum(head.count(t, 0, cut + len(t) - 1) for t in _ROW_TAGS)
                formulas = formulas or any(t in head for t in _FORMULA_TAGS)
                cells += sum(head.count(t, 0, cut + len(t) - 1) for t in _CELL_TAGS)
                if rows > max_rows:
                    raise TwowayError(f"{name}: the worksheet has more than {max_rows:,} rows, the limit "
                                      "(TWOWAY_MAX_XLSX_ROWS); save the sheet as CSV instead")
                if cells > max_cells:
                    raise TwowayError(f"{name}: the worksheet has more than {max_cells:,} cells, the limit "
                                      "(TWOWAY_MAX_XLSX_CELLS); save the sheet as CSV instead")
            if not block:
                break
            first = block.find(b"<")
            if first < 0:
                run += len(block)
            else:
                run = max(run + first, 0)
                if run <= longest:
                    run = len(block) - block.rfind(b"<") - 1
            if run > longest:
                raise TwowayError(f"{name}: a cell longer than {MAX_FIELD_CHARS:,} characters, the limit for one "
                                  "cell")
    return formulas


def _formulas_without_values(path: Path, name: str, rows: list[list[str]], index: list[int]) -> None:
    """Refuse a workbook whose formulas carry no saved result.

    Excel saves each formula's last result beside it, and that result is what we import. A
    workbook written by a script (openpyxl, pandas) saves only the formula, which would read as a
    blank answer with no word said; the analyst must open and save it in Excel first.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()
        at = dict(zip(index, rows))
        missing: list[str] = []
        for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
            for i, v in enumerate(values):
                text = getattr(v, "text", v)  # an ArrayFormula keeps its formula in .text
                if isinstance(text, str) and text.startswith("="):
                    row = at.get(r)
                    if row is None or i >= len(row) or row[i] == "":
                        missing.append(f"row {r}, column {_letter(i)}")
    finally:
        wb.close()
    if missing:
        more = f" and {len(missing) - 1:,} more" if len(missing) > 1 else ""
        raise TwowayError(f"{name}, {missing[0]}{more}: a formula with no saved result (the workbook was "
                          "written by a program that does not calculate); open it in Excel or LibreOffice "
                          "and save it, or export the sheet as CSV")


def _read_xlsx(path: Path, name: str, progress: Progress) -> pd.DataFrame:
    import openpyxl

    formulas = _check_archive(path, name)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TwowayError(f"{name} is not a readable XLSX workbook (damaged or truncated): {exc}") from None
    except Exception as exc:  # openpyxl raises many kinds on corrupt archives
        raise TwowayError(f"{name} is not a readable XLSX workbook: {type(exc).__name__}") from None
    try:
        ws = wb.worksheets[0]
        total = min(ws.max_row or 0, xlsx_limit("TWOWAY_MAX_XLSX_ROWS"))  # progress only: the stored size may lie
        # Read what is there, not what the stored dimensions claim: openpyxl would otherwise pad
        # every row to a claimed width (up to 16,384 columns) and stop at a claimed last row.
        ws.reset_dimensions()
        max_rows, max_cells = xlsx_limit("TWOWAY_MAX_XLSX_ROWS"), xlsx_limit("TWOWAY_MAX_XLSX_CELLS")
        filled = 0
        rows: list[list[str]] = []
        index: list[int] = []
        width = None
        try:
            for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if r > max_rows:  # rows a sheet skips (<row r="9999999">) count too: openpyxl yields them
                    raise TwowayError(f"{name}: the worksheet has more than {max_rows:,} rows, the limit "
                                      "(TWOWAY_MAX_XLSX_ROWS); save the sheet as CSV instead")
                cells = [_cell_text(v) for v in values]
                while cells and cells[-1] == "":
                    cells.pop()
                if not cells:
                    continue
                for i, text in enumerate(cells):
                    if len(text) > MAX_FIELD_CHARS:
                        raise TwowayError(f"{name}, row {r}, column {_letter(i)}: a cell longer than "
                                          f"{MAX_FIELD_CHARS:,} characters, the limit for one cell")
                filled += len(cells)
                if filled > max_cells:
                    raise TwowayError(f"{name}: the worksheet has more than {max_cells:,} cells, the limit "
                                      "(TWOWAY_MAX_XLSX_CELLS); save the sheet as CSV instead")
                # The width is the widest of the first three rows: a header row ends early when
                # its last cells are merged (a SurveyMonkey matrix heading) or blank.
                if len(rows) < 3 and len(cells) > (width or 0):
                    width = len(cells)
                    if width > MAX_COLUMNS:
                        raise TwowayError(f"{name}, row {r}: {width:,} columns, more than the {MAX_COLUMNS:,} allowed")
                if len(cells) > width:
                    extra = next(i for i in range(width, len(cells)) if cells[i])
                    raise TwowayError(f"{name}, row {r}, column {_letter(extra)}: a value past the header's "
                                      f"last column {_letter(width - 1)}")
                rows.append(cells)
                index.append(r)
                if total and r % CHUNK_ROWS == 0:
                    progress(min(r / total, 1.0) * 0.6, f"read {r:,} rows")
        except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
            raise TwowayError(f"{name}: the workbook is damaged or truncated ({type(exc).__name__})") from None
    finally:
        wb.close()
    if formulas:
        _formulas_without_values(path, name, rows, index)
    progress(0.6, "read the workbook")
    if not rows:
        return pd.DataFrame(dtype=str)
    rows = [c + [""] * (width - len(c)) if len(c) < width else c for c in rows]
    return pd.DataFrame(rows, index=index, dtype=str)
