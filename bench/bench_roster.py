"""Benchmark: a roster loaded, then a monthly snapshot (hires, transfers, promotions, leavers).

Usage: .venv/bin/python bench/bench_roster.py [--employees 20000]
Prints the wall time of the first import, of a snapshot with 5 % changed, 3 % left and 2 % new
people, of `employees_at` on a day, and of undoing the snapshot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.importing import import_file, undo_import  # noqa: E402
from analytics.store import Database  # noqa: E402


def _write(path: Path, ids, dept, level) -> None:
    lines = ["employee_id,department,level,location,birth_year,hire_date,manager_id,email"]
    lines += [f"{i},{d},{lv},Lisbon,1990,2020-01-01,,{i.lower()}@corp.example" for i, d, lv in zip(ids, dept, level)]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--employees", type=int, default=20_000)
    n = ap.parse_args().employees
    rng = np.random.default_rng(1)
    ids = np.array([f"E{i:07d}" for i in range(n)])
    dept = rng.choice(["Sales", "IT", "Ops", "HR", "Finance"], n)
    level = rng.choice(["L1", "L2", "L3", "L4"], n)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _write(tmp / "jan.csv", ids, dept, level)
        keep = rng.random(n) >= 0.03
        moved = rng.random(n) < 0.05
        dept2 = np.where(moved, rng.choice(["Sales", "IT", "Ops", "HR", "Finance"], n), dept)
        new = np.array([f"N{i:07d}" for i in range(int(0.02 * n))])
        _write(tmp / "feb.csv", np.concatenate([ids[keep], new]), np.concatenate([dept2[keep], ["IT"] * len(new)]),
               np.concatenate([level[keep], ["L1"] * len(new)]))
        with Database(tmp / "b.duckdb") as db:
            t = time.perf_counter()
            import_file(db, tmp / "jan.csv")
            first = time.perf_counter() - t
            t = time.perf_counter()
            rep = import_file(db, tmp / "feb.csv", as_of="2025-02-01")
            snap = time.perf_counter() - t
            t = time.perf_counter()
            on_day = db.query("SELECT count(*) FROM employees_at(DATE '2025-02-15')").scalar()
            at = time.perf_counter() - t
            t = time.perf_counter()
            undo_import(db, 2)
            undo = time.perf_counter() - t
    print(f"employees {n:,}: first import {first:.2f} s; snapshot {snap:.2f} s (added {rep['added']['count']:,}, "
          f"changed {rep['changed']['count']:,}, left {rep['left']['count']:,}); employees_at {at * 1000:.0f} ms "
          f"({on_day:,} employed); undo {undo:.2f} s")


if __name__ == "__main__":
    main()
