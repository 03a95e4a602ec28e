"""Benchmark: the claims scorecard and every claim's detail, cold in a fresh process.

Usage: .venv/bin/python bench/bench_claims.py [--employees 2000 200000] [--db PATH] [--runs 3]
For each size, builds the demo into /tmp when the file is missing (or uses --db), then runs
`--runs` fresh Python processes per size, each opening the store as the app does
(`Database.reader`: the latest published snapshot, with its precomputed released data) and
timing the first scorecard (cold: imports done, nothing cached — the unfiltered scorecard is
stored with the snapshot at publish, `analytics.store.stored_results`), the cached second call,
the claims engine's own run (cold: what a filtered view, or a snapshot without stored results,
costs; and, after it, for the demo's largest department (Engineering), as a filtered view), every claim's detail on that run and one event study, and its peak resident memory;
medians are printed. Targets (issue #9): 200,000 employees scorecard < 5 s cold, any detail < 2 s;
2,000 employees scorecard < 0.5 s; peak memory < 2 GB; the engine for one department < 2 s.
The one-department scorecard and details are timed cold first (stored at publish for every department). Figures only — never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


#: The demo's largest department: the filtered view timed after the unfiltered engine.
DEPARTMENT = "Engineering"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def child(path: str) -> None:
    """Runs in the fresh process: import first (not timed), then time the engine."""
    import resource

    from analytics.claims import CLAIMS, claim_detail, event_study, scorecard
    from analytics.store import Database

    from analytics.claims import engine
    from analytics.filters import Filters
    from analytics.privacy import min_group_size

    db = Database.reader(path)
    card, cold = timed(lambda: scorecard(db))  # the unfiltered scorecard: stored with the snapshot
    _, warm = timed(lambda: scorecard(db))
    dept = DEPARTMENT
    # one department's scorecard and every detail: stored with the snapshot too
    _, dept_card = timed(lambda: (scorecard(db, Filters(department=(dept,))),
                                  [claim_detail(db, c.id, Filters(department=(dept,))) for c in CLAIMS]))
    # the engine itself, as a filtered view (or a snapshot without stored results) runs it; the
    # details below reuse this run, as the dashboard's do
    _, engine_s = timed(lambda: engine.run(db, Filters(), min_group_size(), 0.2))
    # a filtered view the snapshot does not store: the engine for one department (its panel is
    # selected from the unfiltered run's)
    _, dept_s = timed(lambda: engine.run(db, Filters(department=(dept,)), min_group_size(), 0.2))
    details = {}
    for claim in CLAIMS:
        _, secs = timed(lambda: claim_detail(db, claim.id))
        details[claim.id] = secs
    _, es = timed(lambda: event_study(db, "engagement"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"cold": cold, "warm": warm, "department_stored": dept_card, "engine": engine_s, "engine_department": dept_s, "department": dept,
                      "details": details, "event_study": es, "peak_gib": peak,
                      "verdicts": int((card["verdict"] != "insufficient_data").sum()), "claims": len(card)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--employees", type=int, nargs="+", default=[2000, 200_000])
    ap.add_argument("--db", default=None, help="use this database instead of building one (one size only)")
    ap.add_argument("--runs", type=int, default=3, help="fresh processes per size (medians are printed)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    from analytics.demo import build_demo

    for n in args.employees:
        path = Path(args.db or (f"/tmp/demo200k.duckdb" if n == 200_000 else f"/tmp/twoway-bench-claims-{n}.duckdb"))
        if not path.exists():
            _, secs = timed(lambda: build_demo(path, n_employees=n))
            print(f"built demo ({n:,} employees) in {secs:.1f} s")
        from analytics.store import Database

        Database.reader(path).close()  # publish the snapshot first (an import does that), untimed
        runs = []
        for _ in range(max(1, args.runs)):
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                                 cwd=ROOT, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = statistics.median
        r = {key: med(x[key] for x in runs) for key in ("cold", "warm", "department_stored", "engine", "engine_department", "event_study")}
        r["details"] = {c: med(x["details"][c] for x in runs) for c in runs[0]["details"]}
        r.update(peak_gib=max(x["peak_gib"] for x in runs), verdicts=runs[0]["verdicts"], claims=runs[0]["claims"])
        print(f"{n:,} employees, medians of {len(runs)} fresh processes: scorecard {r['cold']:.2f} s cold, "
              f"{r['warm']:.3f} s cached; one department's scorecard and 12 details (stored) {r['department_stored']:.2f} s cold; the engine {r['engine']:.2f} s cold, "
              f"{r['engine_department']:.2f} s for one department ({runs[0]['department']}); "
              f"{r['verdicts']} of {r['claims']} claims with a verdict "
              f"(cold runs: {', '.join(format(x['cold'], '.2f') for x in runs)} s)")
        worst = max(r["details"], key=r["details"].get)
        print(f"  details: slowest {worst} {r['details'][worst]:.2f} s; "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["details"].items()))
        print(f"  event study (engagement): {r['event_study']:.2f} s; peak RSS {r['peak_gib']:.2f} GiB")


if __name__ == "__main__":
    main()
