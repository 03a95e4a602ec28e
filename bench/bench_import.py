"""Time importing a large generated survey file (template layout) and a large metrics file.

    .venv/bin/python bench/bench_import.py [--respondents 1000000] [--items 20]

Prints file size, seconds and peak memory for a dry run and a real import.
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
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("employee_id,submitted_at," + ",".join(f"q{i}" for i in range(items)) + "\n")
        for r in range(respondents):
            answers = ",".join(str(rng.randint(1, 5)) for _ in range(items))
            f.write(f"E{r:07d},2025-03-{1 + r % 28:02d} 10:00:00,{answers}\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=20)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "big_survey.csv"
    t = time.perf_counter()
    make_survey(src, a.respondents, a.items)
    print(f"generated {src.stat().st_size / 1e6:,.0f} MB ({a.respondents:,} × {a.items}) in {time.perf_counter() - t:.1f}s")
    calls = []
    with Database(tmp / "bench.duckdb") as db:
        for dry in (True, False):
            t = time.perf_counter()
            rep = import_file(db, src, survey="big", dry_run=dry, progress=lambda f, m: calls.append((f, m)))
            print(f"{'dry run' if dry else 'import '}: {time.perf_counter() - t:6.1f}s, {rep['rows']:,} respondents, "
                  f"{len(calls)} progress calls so far")
        print("responses rows:", db.query("SELECT count(*) FROM responses").scalar())
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
