"""Benchmark: the claims scorecard and every claim's detail on a demo organisation.

Usage: .venv/bin/python bench/bench_claims.py [--employees 2000] [--db PATH]
Builds the demo into PATH when the file is missing, then prints wall times (cold: first call in
the process; warm: the cached second call) and the peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.claims import CLAIMS, claim_detail, scorecard  # noqa: E402
from analytics.demo import build_demo  # noqa: E402
from analytics.store import Database  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    path = Path(args.db or f"/tmp/twoway-bench-claims-{args.employees}.duckdb")
    if not path.exists():
        _, secs = timed(lambda: build_demo(path, n_employees=args.employees))
        print(f"built demo ({args.employees:,} employees) in {secs:.1f} s")
    db = Database(path)
    card, cold = timed(lambda: scorecard(db))
    _, warm = timed(lambda: scorecard(db))
    print(f"scorecard: {cold:.2f} s cold, {warm:.3f} s warm "
          f"({(card['verdict'] != 'insufficient_data').sum()} of {len(card)} claims with a verdict)")
    for claim in CLAIMS:
        _, secs = timed(lambda: claim_detail(db, claim.id))
        print(f"  detail {claim.id:<24} {secs:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {peak:.2f} GiB")


if __name__ == "__main__":
    main()
