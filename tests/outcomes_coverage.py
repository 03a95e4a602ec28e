"""Coverage and centre of the retention and promotion hazard ratios over many planted organisations.

Not part of the suite (too slow): the figures in docs/CLAIMS.md ("Retention and promotion",
Simulations) come from

    nice -n 10 .venv/bin/python -m tests.outcomes_coverage --runs 300 --seed 1 --k 5 1 [--save FILE]   (and --seed 2)

Each run draws one organisation from `tests.outcomes_sim` (the suite's planted ratios), builds the
engine's panel inside `released()` at each k and estimates every role's test as the scorecard
does (`outcome_claims.estimate_outcome`; k = 1 releases everyone: the estimator without the
release). Printed per test: the geometric mean and median HR, the share of 95% intervals covering
the planted ratio and of two-sided p < .05, and, for a second k, the paired mean difference of
log HR against the first (same organisations).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

from analytics.claims import outcome_claims as oc
from analytics.claims.definitions import CLAIMS_BY_ID, Role
from analytics.claims.panel import build_panel
from analytics.filters import Filters
from analytics.store import Database
from analytics.store.released import released
from tests.outcomes_sim import PLANTED, organisation, write


def one_run(db: Database, k: int) -> dict:
    """(claim/role or pre/role) -> (HR, CI low, CI high, p) or None, for the data in `db` at k."""
    with released(db, k):
        panel = build_panel(db, Filters())
        panel.cache[oc.CACHE_KEY] = oc.read(db)
    panel.cache["min_group"] = k
    out = {}
    for cid in ("retention", "promotion"):
        for role in (Role.MENTORS, Role.MENTEES):
            e = oc.estimate_outcome(panel, CLAIMS_BY_ID[cid], role, max(k, 5))
            res = e.result
            for key, h in ((f"{cid}/{role.value}", getattr(res, "hazard", None)),
                           (f"pre/{role.value}", getattr(res, "pretrend", None) if cid == "promotion" else False)):
                if h is not False:
                    out[key] = None if h is None else (h.hazard_ratio, h.hr_ci_low, h.hr_ci_high, h.p_value)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=600, help="people per organisation")
    ap.add_argument("--k", type=int, nargs="+", default=[5, 1], help="anonymity thresholds (the first is the reference)")
    ap.add_argument("--save", type=Path, help="pickle the per-run results here (for further analysis)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    results: dict[int, list[dict]] = {k: [] for k in a.k}
    with tempfile.TemporaryDirectory(prefix="twoway-coverage-") as tmp:
        db = Database(Path(tmp) / "sim.duckdb")
        for _ in range(a.runs):
            write(db, organisation(rng, PLANTED, n=a.n))
            for k in a.k:
                results[k].append(one_run(db, k))
            if len(results[a.k[0]]) % 25 == 0:
                print(f"{len(results[a.k[0]])} runs", file=sys.stderr, flush=True)
        db.close()
    if a.save:
        a.save.write_bytes(pickle.dumps(results))
    ref = a.k[0]
    for k in a.k:
        print(f"k = {k}: {a.runs} runs of {a.n} people, seed {a.seed}")
        covered = []
        for key in results[k][0]:
            kind, role = key.split("/")
            hr = PLANTED.get((kind, role), 1.0)
            v = [r[key] for r in results[k] if r.get(key)]
            if not v:
                print(f"  {key:20s} no estimate")
                continue
            logs = np.log([x[0] for x in v])
            cov = [x[1] <= hr <= x[2] for x in v]
            if kind != "pre":
                covered += cov
            line = (f"  {key:20s} planted {hr:.2f}  n {len(v):3d}  HR {np.exp(logs.mean()):.3f} (median "
                    f"{np.exp(np.median(logs)):.3f})  coverage {np.mean(cov):.1%}  p<.05 {np.mean([x[3] < .05 for x in v]):.1%}")
            if k != ref:
                d = [np.log(x[key][0]) - np.log(y[key][0]) for x, y in zip(results[k], results[ref])
                     if x.get(key) and y.get(key)]
                line += f"  log HR vs k = {ref}: {np.mean(d):+.3f} ± {np.std(d, ddof=1) / np.sqrt(len(d)):.3f}"
            print(line)
        print(f"  all four tests: coverage {np.mean(covered):.1%} of {len(covered)} intervals")


if __name__ == "__main__":
    main()
