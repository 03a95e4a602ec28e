"""Render time of every dashboard page (AppTest, in-process), cold and warm caches.

    .venv/bin/python bench/bench_pages.py [--db PATH]   (default: a fresh 2,000-employee demo)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ["overview", "claims", "engagement", "activity", "productivity", "data"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = tmp / "bench.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        from analytics.demo import build_demo

        build_demo(db)
    os.environ["TWOWAY_DB"] = str(db)
    from streamlit.testing.v1 import AppTest

    for label, params in (("everyone", {}), ("filtered", {"department": "Sales", "generation": "Millennial"})):
        for page in PAGES:
            times = []
            for _ in range(2):  # cold, then warm (st.cache_data filled)
                at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
                for k, v in params.items():
                    at.query_params[k] = v
                started = time.perf_counter()
                at.switch_page(f"pages/{page}.py").run()
                times.append(time.perf_counter() - started)
                assert not at.exception, at.exception
            print(f"{label:9s} {page:13s} cold {times[0]:6.2f}s  warm {times[1]:6.2f}s", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
