"""Benchmark: how fast the XLSX limits refuse decompression bombs, with the default limits.

Usage: .venv/bin/python bench/bench_xlsx_limits.py [--dir DIR]
Writes three workbooks by hand (zipfile), then times `read_table` refusing each and prints the
file size, the uncompressed size, the time and the peak resident memory of this process:

* 1 GiB of sheet XML (refused from the zip directory: over TWOWAY_MAX_XLSX_MB);
* 10 million rows in a few MB (refused after streaming the first ~30 MB: TWOWAY_MAX_XLSX_ROWS);
* one 200 MB shared string (refused after ~10 MB: a cell over 1,000,000 characters).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.errors import TwowayError  # noqa: E402
from analytics.importing.reading import XLSX_LIMITS, read_table  # noqa: E402
from tests.test_import_limits import write_xlsx  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    for setting in XLSX_LIMITS:
        os.environ.pop(setting, None)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="twoway-bombs-"))
    cases = {
        "1 GiB of XML": lambda p: write_xlsx(p, repeat=41_300_000),
        "10 million rows": lambda p: write_xlsx(p, repeat=10_000_000),
        "200 MB cell": lambda p: write_xlsx(p, shared_repeat=(b"A" * 1_000_000, 200),
                                            rows=[b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>']),
    }
    for label, build in cases.items():
        path = folder / (label.replace(" ", "_") + ".xlsx")
        started = time.perf_counter()
        build(path)
        built = time.perf_counter() - started
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(m.file_size for m in zf.infolist())
        started = time.perf_counter()
        try:
            read_table(path)
            outcome = "READ (not refused!)"
        except TwowayError as exc:
            outcome = str(exc)
        took = time.perf_counter() - started
        print(f"{label:>16}: file {path.stat().st_size / 1e6:6.1f} MB, unpacks to {unpacked / 2**20:7.0f} MiB, "
              f"built in {built:5.1f} s, refused in {took:5.2f} s — {outcome}")
        path.unlink()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
