"""The anonymous-survey design through the engine's verdict rule: planted truth per role.

`tests/test_claims_cross_section.py` checks the repeated cross-section estimator on its own
(its p-values, its "supported" rate). Here its rows go the rest of the way a scorecard takes
them: `anonymous.cross_section_tests` turns them into the engine's `Estimate`s, Holm runs over
the claim's two primary tests, the equivalence test (TOST, SESOI 0.2 SD) and the verdict rule
judge each, and `headline` gives the claim's verdict. Planted truths, on simulated cell
aggregates (count, mean, sum of squared deviations per wave and group, as the store gives them):

* no effect, ordinary sizes: the headline reads "supported" at most at the nominal rate;
* no effect, large sizes: "no effect" is the right conclusion, and the design finds it (power);
* +0.5 SD for both roles: "supported".

(At the SESOI itself a false "no effect" cannot arise at sizes where TOST has power: the effect
is then significant, and "supported" comes first in the rule.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.claims import anonymous
from analytics.claims.cross_section import cross_section_did
from analytics.claims.definitions import CLAIMS
from analytics.claims.engine import _judge_test
from analytics.claims.verdict import headline, holm
from tests.test_claims_cross_section import BASE, COHORTS, SHOCK, WAVES

SD = 0.8
SESOI = 0.2
AGILITY = next(c for c in CLAIMS if c.id == "agility")


def cells(rng, tau_sd: float, n_none: int, n_group: int) -> pd.DataFrame:
    """Cell aggregates drawn directly: mean ~ N(mu, SD²/n), ss ~ SD²·chi²(n − 1); both roles get
    `tau_sd` SDs after their cohort's start."""
    rows = []
    for day, shock in zip(WAVES, SHOCK):
        for role, cohort, start, n in [("none", None, None, n_none)] + [
                (r, c, s, n_group) for r in ("mentor", "mentee") for c, s in COHORTS.items()]:
            post = start is not None and day >= start
            mu = BASE[role] + shock + (tau_sd * SD if post else 0.0)
            rows.append({"wave_date": day, "role": role, "cohort": cohort, "start": start, "n": n,
                         "mean": mu + rng.normal(0, SD / np.sqrt(n)), "ss": SD ** 2 * rng.chisquare(n - 1)})
    return pd.DataFrame(rows)


def claim_verdict(frame: pd.DataFrame) -> tuple[str, list[str]]:
    """The headline verdict and the per-role verdicts, as the engine's `judge` gives them."""
    tests = anonymous.cross_section_tests(AGILITY, frame, min_group=5)
    primary = [t for t in tests if t.primary]
    assert len(primary) == 2  # agility names both roles as primary
    padj = holm([t.p_value for t in primary])
    judged = [_judge_test(t, AGILITY, p, SESOI, 5, len(primary)) for t, p in zip(primary, padj)]
    verdicts = [t.verdict for t in judged]
    return headline(verdicts), verdicts


def rates(seed: int, reps: int, tau_sd: float, n_none: int, n_group: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    got = [claim_verdict(cross_section_did(cells(rng, tau_sd, n_none, n_group), "agility"))[0] for _ in range(reps)]
    return {v: got.count(v) / reps for v in set(got)}


def test_one_run_goes_through_the_engine_rule():
    """A hand check of the path on one draw: the verdict follows from the two p-values by Holm."""
    rng = np.random.default_rng(11)
    raw = cells(rng, 0.6, 200, 60)
    frame = cross_section_did(raw, "agility")
    head, per_role = claim_verdict(frame)
    p = frame.set_index("role")["p_value"]
    # hand: Holm over two tests — the smaller p times 2, the larger p itself (monotone)
    small, large = sorted([p["mentor"], p["mentee"]])
    assert min(1.0, 2 * small) < 0.05 and max(min(1.0, 2 * small), large) < 0.05
    assert per_role == ["supported", "supported"] and head == "supported"
    # the effect is in pooled within-cell SDs of the cells each role's fit uses (its cells and the
    # non-participants'): hand, sqrt(sum ss / (sum n - cells))
    tests = {t.role.value: t for t in anonymous.cross_section_tests(AGILITY, frame, min_group=5)}
    for role, key in (("mentor", "mentors"), ("mentee", "mentees")):
        use = raw[raw["role"].isin(["none", role])]
        sd = np.sqrt(use["ss"].sum() / (use["n"].sum() - len(use)))
        assert tests[key].effect_size == pytest.approx(frame.set_index("role").loc[role, "estimate"] / sd)
        assert tests[key].es_se == pytest.approx(frame.set_index("role").loc[role, "se"] / sd)


def test_supported_stays_at_the_nominal_rate_when_nothing_works():
    reps = 80
    r = rates(2027, reps, 0.0, n_none=60, n_group=15)
    # Holm over two tests, each 2.5 % in the claimed direction: at most ~2.5 % "supported" (2 of 80
    # expected); 7 or more (8.75 %) has probability < 0.005 if the rule holds its level
    assert r.get("supported", 0.0) < 7 / reps
    assert r.get("contradicted", 0.0) < 7 / reps


def test_no_effect_is_found_when_nothing_works_and_the_groups_are_large():
    reps = 20
    r = rates(2029, reps, 0.0, n_none=1000, n_group=300)
    # SE about 0.054 SD: each role's TOST at ±0.2 SD passes with probability ~0.99 (z = 3.7 − 1.64),
    # the headline needs both and Holm may first call one of them an effect: most runs say "no effect"
    assert r.get("no_effect", 0.0) >= 0.7
    assert r.get("supported", 0.0) < 3 / reps  # 2 of 20 at most


@pytest.mark.parametrize("tau_sd", [0.5])
def test_a_planted_effect_for_both_roles_is_supported(tau_sd):
    r = rates(2030, 20, tau_sd, n_none=300, n_group=80)
    assert r.get("supported", 0.0) >= 0.9
