"""Concurrent sessions against app instances on loopback: p50 and p95 page times.

    .venv/bin/python bench/bench_load.py [--db PATH] [--employees 2000] [--instances 2]
        [--sessions 50] [--pages-per-session 4] [--time-limit 600]

Starts `--instances` copies of `streamlit run app.py` on 127.0.0.1, all reading the same
published snapshot of one database (a demo organisation is built when `--db` is missing), and
opens `--sessions` websocket sessions at once, spread round-robin over the instances (what a
load balancer with sticky sessions does). Each session asks for `--pages-per-session` pages in
turn, the way the browser does, and the time from request to `script_finished` is recorded.
Bounded in count (sessions × pages) and time (`--time-limit`); loopback only.

With `--cold` the 50 sessions meet empty caches (each page's first request on each instance
computes while the others wait for it); by default one session per instance first visits
every page once (timed and printed as the cold pass), so the load figures are warm-cache
figures, what viewers see once an instance has served a page. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.st_client import Server, Session  # noqa: E402

PAGES = ["", "engagement", "activity", "productivity", "claims", "data"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def one_session(k: int, base: str, pages: list[str], deadline: float, out: list) -> None:
    try:
        async with Session(base, timeout=max(deadline - time.perf_counter(), 1.0)) as session:
            for page in pages:
                if time.perf_counter() > deadline:
                    out.append((k, page, None, "time limit"))
                    return
                run = await session.run(page)
                problem = None if run.finished and not run.exceptions else (run.exceptions or ["unfinished"])[0]
                out.append((k, page, run.seconds, problem))
    except Exception as exc:  # a failed session is a figure too
        out.append((k, "(connect)", None, f"{type(exc).__name__}: {exc}"))


async def load(bases: list[str], sessions: int, per_session: int, limit: float) -> tuple[list, float]:
    deadline = time.perf_counter() + limit
    out: list = []
    started = time.perf_counter()
    tasks = [one_session(k, bases[k % len(bases)],
                         [PAGES[(k // len(bases) + j) % len(PAGES)] for j in range(per_session)],
                         deadline, out) for k in range(sessions)]
    await asyncio.gather(*tasks)
    return out, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="database file (default: a new demo organisation in a temporary folder)")
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--instances", type=int, default=2, choices=range(1, 5))
    ap.add_argument("--sessions", type=int, default=50, choices=range(1, 201), metavar="1..200")
    ap.add_argument("--pages-per-session", type=int, default=4, choices=range(1, 13), metavar="1..12")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--cold", action="store_true", help="skip the warm-up pass")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="twoway-load-"))
    db = Path(a.db) if a.db else tmp / "demo.duckdb"
    if not db.exists():
        subprocess.run([sys.executable, "-m", "analytics", "demo", "--db", str(db), "--employees", str(a.employees)],
                       cwd=ROOT, check=True, capture_output=True)
    servers = [Server({"TWOWAY_DB": str(db)}, tmp / f"server{i}.log") for i in range(a.instances)]
    try:
        for s in servers:
            s.wait_ready()
        print(f"{a.instances} instance(s) on {', '.join(s.base for s in servers)}; database {db}")
        if not a.cold:
            warm, _ = asyncio.run(load([s.base for s in servers], len(servers), len(PAGES), a.time_limit))
            print("cold pass, one session per instance: " + ", ".join(
                f"{page or 'overview'} {t:.1f}s" for _, page, t, p in warm if t is not None and p is None))
        out, wall = asyncio.run(load([s.base for s in servers], a.sessions, a.pages_per_session, a.time_limit))
    finally:
        for s in servers:
            s.stop()
    times = [t for _, _, t, p in out if t is not None and p is None]
    failures = [(k, page, p) for k, page, _, p in out if p is not None]
    by_page: dict[str, list[float]] = defaultdict(list)
    for _, page, t, p in out:
        if t is not None and p is None:
            by_page[page or "overview"].append(t)
    print(f"{a.sessions} concurrent sessions × {a.pages_per_session} pages: {len(times)} page runs in {wall:.1f}s "
          f"({len(times) / wall:.1f} pages/s), {len(failures)} failed")
    if times:
        print(f"{'page':<14}{'runs':>6}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
        for page, ts in sorted(by_page.items()):
            print(f"{page:<14}{len(ts):>6}{statistics.median(ts):>9.2f}{pct(ts, 0.95):>9.2f}{max(ts):>9.2f}")
        print(f"{'all':<14}{len(times):>6}{statistics.median(times):>9.2f}{pct(times, 0.95):>9.2f}{max(times):>9.2f}")
    for k, page, p in failures[:10]:
        print(f"failed: session {k} page {page or 'overview'}: {p}")


if __name__ == "__main__":
    main()
