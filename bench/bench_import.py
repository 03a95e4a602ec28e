"""Import throughput on a large generated survey export, through the real import path.

    .venv/bin/python bench/bench_import.py [--respondents 1000000] [--items 20]

Writes a template-layout survey file (one row per respondent, one column per item), then
imports it the way `python -m analytics import` does: `Database.writer` (the import lock),
`import_file` (read, check, write in one transaction), and the snapshot publish the writer
does on exit (CHECKPOINT, copy, the released data and the claims engine's unfiltered results
built into the copy, read-back check, atomic rename). Prints answers per second
for the import alone and including the publish, and the process's peak memory. A dry run is
timed first (reading and checking without writing). Figures, never assertions.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.importing import import_file  # noqa: E402
from analytics.store import Database  # noqa: E402


def make_survey(path: Path, respondents: int, items: int) -> None:
    rng = random.Random(1)
    choices = "12345"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("employee_id,submitted_at," + ",".join(f"q{i}" for i in range(items)) + "\n")
        for r in range(respondents):
            answers = ",".join(rng.choices(choices, k=items))
            f.write(f"E{r:07d},2025-03-{1 + r % 28:02d} 10:00:00,{answers}\n")


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--dir", help="working folder (default: a new temporary one)")
    a = ap.parse_args()
    tmp = Path(a.dir or tempfile.mkdtemp(prefix="twoway-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "big_survey.csv"
    t = time.perf_counter()
    make_survey(src, a.respondents, a.items)
    print(f"generated {src.stat().st_size / 1e6:,.0f} MB ({a.respondents:,} respondents × {a.items} items) "
          f"in {time.perf_counter() - t:.1f}s")
    live = tmp / "bench.duckdb"
    for leftover in [live, Path(str(live) + ".wal")]:
        leftover.unlink(missing_ok=True)
    answers = a.respondents * a.items

    with Database.writer(live) as db:
        t = time.perf_counter()
        rep = import_file(db, src, survey="big", dry_run=True)
        dry = time.perf_counter() - t
    print(f"dry run : {dry:6.1f}s  {answers / dry:>10,.0f} answers/s  ({rep['rows']:,} respondents checked)")
    print(f"peak RSS after the dry run {peak_gb():.2f} GB")

    t = time.perf_counter()
    with Database.writer(live) as db:
        rep = import_file(db, src, survey="big")
        imported = time.perf_counter() - t
    total = time.perf_counter() - t  # the writer published the snapshot on leaving the block
    with Database.reader(live) as reader:
        n = reader.query("SELECT count(*) FROM responses").scalar()
    print(f"import  : {imported:6.1f}s  {answers / imported:>10,.0f} answers/s  (import #{rep['import_id']}, "
          f"{n:,} answers stored)")
    print(f"+publish: {total:6.1f}s  {answers / total:>10,.0f} answers/s  (snapshot {total - imported:.1f}s, "
          f"file {live.stat().st_size / 1e6:,.0f} MB)")
    print(f"peak RSS {peak_gb():.2f} GB")


if __name__ == "__main__":
    main()
