"""The claims engine: each reverse-mentoring claim tested with a comparison group and a verdict.

Public API (the dashboard and the CLI use only these):

* `CLAIMS` — the claims in scorecard order (id, title, outcome, direction, …);
* `scorecard(db, filters, min_group, sesoi)` — one row per claim with its verdict;
* `claim_detail(db, claim_id, filters, min_group)` — trends, balance, pre-trends, cohorts…;
* `reliability(db, filters)` — Cronbach's alpha per construct.
"""

from analytics.claims.definitions import CLAIMS, CLAIMS_BY_ID, Claim
from analytics.claims.scorecard import claim_detail, scorecard
from analytics.claims.scores import reliability

__all__ = ["CLAIMS", "CLAIMS_BY_ID", "Claim", "scorecard", "claim_detail", "reliability"]
