"""From an estimate to a verdict: multiplicity adjustment, equivalence and power.

The verdict rules (in this order):

* insufficient_data — fewer than the minimum group size treated or in comparison;
* supported — effect in the claimed direction with Holm-adjusted p < 0.05;
* contradicted — significant (adjusted p < 0.05) in the other direction;
* no_effect — equivalence: two one-sided tests (TOST, Schuirmann 1987) reject both "effect
  ≤ −SESOI" and "effect ≥ +SESOI" at 5%, i.e. the 90% CI of the standardised effect lies
  inside ±SESOI;
* inconclusive — none of these.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

VERDICTS = ("supported", "contradicted", "no_effect", "inconclusive", "insufficient_data")
ALPHA = 0.05


def holm(p_values, factor: int = 1) -> np.ndarray:
    """Holm-adjusted p-values; NaN entries stay NaN and do not count as tests.

    `factor` multiplies the p-values first (the subgroup rule's Bonferroni share across views).

    Examples
    --------
    >>> holm([0.01, 0.04, float("nan"), 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(np.minimum(p[ok] * factor, 1.0), alpha=ALPHA, method="holm")[1]
    return out


def mde(se_standardised: float, alpha: float = ALPHA, power: float = 0.8) -> float:
    """Minimum detectable standardised effect of a two-sided z-test: (z₁₋α/₂ + z_power)·SE.

    Examples
    --------
    >>> round(mde(0.1), 3)
    0.28
    """
    if se_standardised is None or not np.isfinite(se_standardised):
        return float("nan")
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se_standardised)


def equivalence_p(effect: float, se: float, sesoi: float = 0.2) -> float:
    """TOST p-value (normal reference) for |effect| < sesoi: the larger of the two one-sided p's.

    Examples
    --------
    >>> round(equivalence_p(0.0, 0.1, 0.2), 4)   # 1 - Phi(2)
    0.0228
    """
    if se is None or not np.isfinite(se) or se <= 0 or not np.isfinite(effect):
        return float("nan")
    p_low = stats.norm.sf((effect + sesoi) / se)     # H0: effect <= -sesoi
    p_high = stats.norm.cdf((effect - sesoi) / se)   # H0: effect >= +sesoi
    return float(max(p_low, p_high))


def verdict(estimate: float, p_adjusted: float, p_equivalence: float, direction: int = 1,
            sufficient: bool = True) -> str:
    """The verdict for one claim (rules in the module docstring).

    Examples
    --------
    >>> verdict(0.3, 0.001, 0.9)
    'supported'
    >>> verdict(-0.3, 0.001, 0.9)
    'contradicted'
    >>> verdict(0.02, 0.6, 0.01)
    'no_effect'
    >>> verdict(0.1, 0.2, 0.3)
    'inconclusive'
    """
    if not sufficient or estimate is None or not np.isfinite(estimate):
        return "insufficient_data"
    if direction not in (1, -1):
        raise ValueError("direction must be +1 or -1")
    if p_adjusted is not None and np.isfinite(p_adjusted) and p_adjusted < ALPHA:
        return "supported" if math.copysign(1, estimate) == direction else "contradicted"
    if p_equivalence is not None and np.isfinite(p_equivalence) and p_equivalence < ALPHA:
        return "no_effect"
    return "inconclusive"


MAGNITUDES = ("meaningful", "small", "unclear")


def magnitude(es: float, es_low: float, es_high: float, sesoi: float = 0.2) -> str:
    """How big the standardised effect is, judged on its 95% CI against the smallest effect of interest.

    'small': the whole CI lies inside ±sesoi (it may still be significant: "supported, but
    smaller than would matter"); 'meaningful': the CI excludes zero and the estimate is at
    least sesoi; 'unclear' otherwise.

    Examples
    --------
    >>> magnitude(0.14, 0.10, 0.17)
    'small'
    >>> magnitude(0.4, 0.2, 0.6)
    'meaningful'
    >>> magnitude(0.25, -0.05, 0.55)
    'unclear'
    """
    if not all(np.isfinite(v) for v in (es, es_low, es_high)):
        return "unclear"
    if -sesoi < es_low and es_high < sesoi:
        return "small"
    if (es_low > 0 or es_high < 0) and abs(es) >= sesoi:
        return "meaningful"
    return "unclear"


def headline(verdicts) -> str:
    """The claim's verdict from its primary tests' verdicts.

    supported when any primary test is; contradicted when one is and none is supported;
    no_effect only when every primary test is; insufficient_data when none could be judged;
    inconclusive otherwise.

    Examples
    --------
    >>> headline(["supported", "no_effect"])
    'supported'
    >>> headline(["contradicted", "inconclusive"])
    'contradicted'
    >>> headline(["no_effect", "no_effect"])
    'no_effect'
    >>> headline(["no_effect", "insufficient_data"])
    'inconclusive'
    """
    v = list(verdicts)
    if not v or all(x == "insufficient_data" for x in v):
        return "insufficient_data"
    if "supported" in v:
        return "supported"
    if "contradicted" in v:
        return "contradicted"
    if all(x == "no_effect" for x in v):
        return "no_effect"
    return "inconclusive"


#: The rule that keeps subgroup views exploratory; shown on the Claims page and in the CLI.
SUBGROUP_RULE = (
    "Filtered views are exploratory. In a view restricted by department, location, generation, level or "
    "cohort, every p-value is multiplied by the number of single-value views those filters offer (the sum of "
    "their levels) before Holm's correction within the view, so the chance of any false 'supported' or "
    "'contradicted' across every single-value view stays at most 5% (Bonferroni across views, Holm within).")


def subgroup_factor(filters, levels: dict) -> int:
    """How many single-value views share the 5% error budget with this one (1 for the unfiltered view).

    Examples
    --------
    >>> from analytics.filters import Filters
    >>> subgroup_factor(Filters(department=("Sales",)), {"department": ["A", "B"], "level": ["x", "y", "z"]})
    5
    >>> subgroup_factor(Filters(), {"department": ["A", "B"]})
    1
    """
    from analytics.filters import LIST_KEYS

    if not any(getattr(filters, k) for k in LIST_KEYS):
        return 1
    return max(1, sum(len(levels.get(k, ())) for k in LIST_KEYS))
