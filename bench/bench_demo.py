"""Benchmark: build the demo organisation at scale and print wall time, peak memory and size.

Usage: .venv/bin/python bench/bench_demo.py [--employees 200000] [--db /tmp/bench.duckdb]
The build runs in a child process so its peak resident memory is measured on its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--employees", type=int, default=200_000)
    ap.add_argument("--db", default="/tmp/twoway-bench.duckdb")
    args = ap.parse_args()
    Path(args.db).unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "analytics", "demo", "--db", args.db, "--employees", str(args.employees),
           "--force", "--json"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(proc.stderr)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size_mb = os.path.getsize(args.db) / 2**20
    import duckdb

    with duckdb.connect(args.db, read_only=True) as con:
        employees, responses = con.execute(
            "SELECT (SELECT count(*) FROM employees), (SELECT count(*) FROM responses)").fetchone()
    print(f"demo --employees {args.employees:,}: {wall:.1f} s wall, peak RSS {peak_kib / 2**20:.2f} GiB, "
          f"file {size_mb:.0f} MiB, {employees:,} employees, {responses:,} responses")


if __name__ == "__main__":
    main()
