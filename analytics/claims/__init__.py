"""The claims engine: each reverse-mentoring claim tested, per role, with a comparison group and a verdict.

The pipeline (analytics.claims.engine): `Panel` (person × wave scores, built once in DuckDB) →
`Population` per claim and role → `Estimate` per test → verdicts → `Scorecard` / `ClaimDetail`.

Public API (the dashboard and the CLI use only these):

* `CLAIMS` — the claims in scorecard order (id, title, outcome, direction, primary roles, …);
* `scorecard(db, filters, min_group, sesoi)` — one row per claim with its headline verdict,
  `by_role`, `metrics`, `diagnostics` and `notes`;
* `claim_detail(db, claim_id, filters, min_group)` — a `ClaimDetail`: trends, balance, pre-trends,
  cohorts, event study…;
* `event_study(db, claim_id, filters, min_group, metric=None)` — the tidy event-study frame of one
  claim (by survey wave; with `metric`, that objective metric by month);
* `metric_event_studies(db, claim_id, filters, min_group)` — every objective metric's monthly
  event study of a claim, one frame;
* `roles_frame(db, filters)` — every test of every claim as a tidy row;
* `reliability(db, filters)` — Cronbach's alpha per construct;
* `SUBGROUP_RULE` — the sentence stating how filtered views keep the error rate at 5%.
"""

from analytics.claims.definitions import CLAIMS, CLAIMS_BY_ID, Claim, Design, Outcome, Role
from analytics.claims.detail import ClaimDetail, claim_detail, event_study, metric_event_studies
from analytics.claims.scorecard import roles_frame, scorecard
from analytics.claims.scores import reliability
from analytics.claims.verdict import SUBGROUP_RULE

__all__ = ["CLAIMS", "CLAIMS_BY_ID", "Claim", "Design", "Outcome", "Role", "scorecard", "claim_detail",
           "ClaimDetail", "event_study", "metric_event_studies", "roles_frame", "reliability", "SUBGROUP_RULE"]
