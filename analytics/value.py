"""What the programme is worth: a return on investment that rests on the causal estimates.

ROI calculators usually assume an effect ("30% less turnover") and multiply. Here every benefit
is a causal estimate of the claims engine — fewer leavers from the ``retention`` hazard, more
output from the objective-metric differences-in-differences — times what one unit is worth, and
the estimate's uncertainty is carried through to the ROI by simulation (Phillips' level 5:
ROI % = (benefits − costs) / costs × 100; benefit–cost ratio = benefits / costs). An estimate
that is not significant still counts with its full interval: leaving it out would bias the
figure, and its interval is what tells leadership the ROI could be a loss.

Limits stated with every figure: the parts are simulated as independent (they share comparison
colleagues, so the interval may be somewhat too narrow or wide), benefits are counted over
`horizon_months` only, and costs are taken as known.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

#: Simulation size and seed: the same inputs always give the same interval.
N_SIMS = 20_000
SEED = 20261201
#: Largest amount any single input may hold (a typo of several zeros is refused, not valued).
MAX_AMOUNT = 1e12
#: Most metrics `metric_values` may name.
MAX_METRICS = 200


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show(value) -> str:
    """A short repr of a bad input for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Costs:
    """The analyst's inputs, each with a visible default (currency units are the analyst's).

    Attributes
    ----------
    fixed : programme cost over the horizon (platform, coordinator, launch events).
    per_pair : cost per mentoring pair (training, materials).
    hourly_cost_mentor, hourly_cost_mentee : loaded hourly cost of a junior (mentor) and of a
        senior (mentee); their time is the logged session hours plus `prep_hours_per_pair`.
    prep_hours_per_pair : preparation and follow-up time per pair and person, on top of sessions.
    replacement_cost : cost of replacing one leaver (recruiting, onboarding, lost output).
    metric_values : value of one unit of each objective metric per person and month.
    horizon_months : months over which benefits are counted.
    """

    fixed: float = 20_000.0
    per_pair: float = 250.0
    hourly_cost_mentor: float = 45.0
    hourly_cost_mentee: float = 120.0
    prep_hours_per_pair: float = 2.0
    replacement_cost: float = 40_000.0
    metric_values: Mapping[str, float] = field(default_factory=dict)
    horizon_months: int = 12

    def __post_init__(self):
        for name in ("fixed", "per_pair", "hourly_cost_mentor", "hourly_cost_mentee", "prep_hours_per_pair",
                     "replacement_cost"):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of 0 or more, not {_show(value)}")
            if value > MAX_AMOUNT:
                raise ValueError(f"{name} must be at most {MAX_AMOUNT:,.0f}, not {_show(value)}")
        if not isinstance(self.metric_values, Mapping):
            raise ValueError(f"metric_values must be an object of metric → value, not {_show(self.metric_values)}")
        if len(self.metric_values) > MAX_METRICS:
            raise ValueError(f"metric_values names {len(self.metric_values)} metrics; at most {MAX_METRICS}")
        for metric, value in dict(self.metric_values).items():
            if not isinstance(metric, str) or not metric.strip() or len(metric) > 200:
                raise ValueError(f"metric_values: {_show(metric)} is not a metric name")
            if not _is_number(value) or not math.isfinite(value) or value < 0 or value > MAX_AMOUNT:
                raise ValueError(f"metric_values: the value of one unit of {metric!r} must be a number from 0 "
                                 f"to {MAX_AMOUNT:,.0f}, not {_show(value)}")
        if isinstance(self.horizon_months, bool) or not isinstance(self.horizon_months, int) \
                or not 1 <= self.horizon_months <= 120:
            raise ValueError(f"horizon_months must be a whole number from 1 to 120, not {_show(self.horizon_months)}")

    @classmethod
    def from_mapping(cls, raw: Mapping) -> "Costs":
        """Costs from a JSON object; unknown keys are an error naming them.

        A whole number given as a float (``12.0`` months) is accepted; anything else that is not
        the field's type is an error naming the field.
        """
        if not isinstance(raw, Mapping):
            raise ValueError(f"the value inputs must be a JSON object of field → value, not {_show(raw)}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(str(k) for k in set(raw) - known)
        if unknown:
            raise ValueError(f"unknown cost input(s) {', '.join(_show(u) for u in unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        values = dict(raw)
        h = values.get("horizon_months")
        if isinstance(h, float) and math.isfinite(h) and h.is_integer():
            values["horizon_months"] = int(h)
        return cls(**values)

    def as_dict(self) -> dict:
        out = asdict(self)
        out["metric_values"] = dict(self.metric_values)
        return out


@dataclass(frozen=True)
class Programme:
    """The size of the programme the costs apply to (from the store)."""

    pairs: int
    session_hours_mentors: float
    session_hours_mentees: float


@dataclass(frozen=True)
class Benefit:
    """One causal estimate turned into money.

    Attributes
    ----------
    name : what it is ("retention (mentees)", "tasks_completed").
    kind : ``"retention"`` (effect = change in the probability of leaving within the horizon,
        negative = fewer leavers) or ``"metric"`` (effect = change per person and month, in the
        metric's units, already signed so that positive is better).
    people : participants the effect applies to.
    effect, se : the estimate and its standard error.
    unit_value : money per avoided leaver, or per unit of the metric per person-month.
    """

    name: str
    kind: str
    people: int
    effect: float
    se: float
    unit_value: float

    def multiplier(self, horizon_months: int) -> float:
        """Money per unit of `effect`."""
        if self.kind == "retention":
            return -self.people * self.unit_value
        if self.kind == "metric":
            return self.people * horizon_months * self.unit_value
        raise ValueError(f"kind must be 'retention' or 'metric', not {self.kind!r}")


@dataclass(frozen=True)
class ValueResult:
    """Benefits, costs and the return, with 95% intervals from the estimates' uncertainty."""

    benefit: float
    benefit_ci_low: float
    benefit_ci_high: float
    cost: float
    bcr: float
    bcr_ci_low: float
    bcr_ci_high: float
    roi_pct: float
    roi_ci_low: float
    roi_ci_high: float
    p_loss: float
    parts: tuple[dict, ...]
    inputs: dict
    sentence: str

    def as_dict(self) -> dict:
        out = asdict(self)
        out["parts"] = [dict(p) for p in self.parts]
        return out


def programme_cost(costs: Costs, programme: Programme) -> tuple[float, list[dict]]:
    """Total cost and its parts: fixed, per pair, and each role's time (sessions + preparation).

    Examples
    --------
    >>> total, parts = programme_cost(Costs(fixed=1000, per_pair=100, hourly_cost_mentor=10,
    ...     hourly_cost_mentee=50, prep_hours_per_pair=1), Programme(4, 20.0, 20.0))
    >>> total  # 1000 + 4*100 + (20 + 4*1)*10 + (20 + 4*1)*50
    2840.0
    """
    mentor_hours = programme.session_hours_mentors + costs.prep_hours_per_pair * programme.pairs
    mentee_hours = programme.session_hours_mentees + costs.prep_hours_per_pair * programme.pairs
    parts = [
        {"part": "fixed", "cost": float(costs.fixed)},
        {"part": "per pair", "cost": float(costs.per_pair * programme.pairs)},
        {"part": "mentors' time", "hours": mentor_hours, "cost": mentor_hours * costs.hourly_cost_mentor},
        {"part": "mentees' time", "hours": mentee_hours, "cost": mentee_hours * costs.hourly_cost_mentee},
    ]
    return float(sum(p["cost"] for p in parts)), parts


def compute_value(benefits: Sequence[Benefit], costs: Costs, programme: Programme,
                  n_sims: int = N_SIMS, seed: int = SEED) -> ValueResult:
    """Benefit–cost ratio and ROI with 95% intervals simulated from the estimates.

    Each benefit's effect is drawn from a normal distribution with its estimate and standard
    error (the sampling distribution the engine's intervals rest on); the ROI interval is the
    2.5th–97.5th percentile of the simulated ROI.

    Examples
    --------
    >>> r = compute_value([Benefit("retention", "retention", 40, -0.05, 0.0, 30_000)],
    ...                   Costs(fixed=48_000, per_pair=0, prep_hours_per_pair=0), Programme(20, 0, 0))
    >>> r.benefit, r.cost, r.bcr, r.roi_pct   # 2 avoided leavers × 30,000 against 48,000
    (60000.0, 48000.0, 1.25, 25.0)
    """
    cost, cost_parts = programme_cost(costs, programme)
    if cost <= 0:
        raise ValueError("the programme's cost is 0: give at least one cost input")
    rng = np.random.default_rng(seed)
    sims = np.zeros(n_sims)
    parts: list[dict] = []
    for b in benefits:
        if not (math.isfinite(b.effect) and math.isfinite(b.se) and b.se >= 0):
            continue
        m = b.multiplier(costs.horizon_months)
        draws = rng.normal(b.effect, b.se, n_sims) * m if b.se > 0 else np.full(n_sims, b.effect * m)
        sims += draws
        parts.append({"part": b.name, "kind": b.kind, "people": b.people, "effect": b.effect, "se": b.se,
                      "unit_value": b.unit_value, "benefit": b.effect * m,
                      "benefit_ci_low": float(np.quantile(draws, 0.025)),
                      "benefit_ci_high": float(np.quantile(draws, 0.975))})
    benefit = float(sum(p["benefit"] for p in parts))
    roi = (sims - cost) / cost * 100
    lo, hi = (float(np.quantile(roi, q)) for q in (0.025, 0.975))
    p_loss = float(np.mean(sims < cost))
    result = dict(
        benefit=benefit, benefit_ci_low=float(np.quantile(sims, 0.025)), benefit_ci_high=float(np.quantile(sims, 0.975)),
        cost=cost, bcr=benefit / cost, bcr_ci_low=lo / 100 + 1, bcr_ci_high=hi / 100 + 1,
        roi_pct=(benefit - cost) / cost * 100, roi_ci_low=lo, roi_ci_high=hi, p_loss=p_loss)
    sentence = value_sentence(result, bool(parts))
    if parts and all(p["unit_value"] == 0 for p in parts):
        sentence += (" No estimate has a money value yet: set the value of one unit of each metric and the "
                     "replacement cost of a leaver.")
    return ValueResult(**result, parts=tuple([*parts, *({**c, "kind": "cost"} for c in cost_parts)]),
                       inputs=costs.as_dict(), sentence=sentence)


def value_sentence(r: Mapping, has_benefits: bool) -> str:
    """One plain sentence on the return, saying when its interval includes a loss."""
    if not has_benefits:
        return "No causal estimate is available to value yet, so no return can be stated."
    head = (f"Each 1 spent returned {r['bcr']:.2f} (ROI {r['roi_pct']:+.0f} %, 95 % interval "
            f"{r['roi_ci_low']:+.0f} % to {r['roi_ci_high']:+.0f} %).")
    if r["roi_ci_low"] < 0 <= r["roi_ci_high"]:
        return head + f" The interval includes a loss: the data cannot rule out that the programme costs more than it returns (chance of a loss {r['p_loss']:.0%})."
    if r["roi_ci_high"] < 0:
        return head + " Even the best case in the interval is a loss."
    return head + " The whole interval is a gain."
