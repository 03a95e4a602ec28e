"""Plain-language sentences for an executive: who changed, by how much, and what to be careful about."""

from __future__ import annotations

import math
from statistics import NormalDist

from analytics.claims.definitions import CONSTRUCT_LABEL, ROLE_LABEL, Claim, Design, Outcome, Role

Z90 = NormalDist().inv_cdf(0.95)


def _f(x: float) -> str:
    s = f"{x:.2f}".rstrip("0").rstrip(".") if abs(x) < 10 else f"{x:.1f}"
    return "0" if s in ("-0", "0") else s.replace("-", "−")


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + _f(x)


def _metric_label(name: str) -> str:
    return name.replace("_", " ")


def _who(role: Role) -> str:
    return ROLE_LABEL[role]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def test_phrase(claim: Claim, t, sesoi: float) -> str:
    """One test in words, starting with who (used in the claim's sentence and notes).

    Examples
    --------
    >>> from analytics.claims.definitions import CLAIMS_BY_ID
    >>> from analytics.claims.estimate import Estimate
    >>> t = Estimate("engagement", Role.MENTEES, None, True, estimate=0.3, effect_size=0.4, es_ci_low=0.2,
    ...              es_ci_high=0.6, es_se=0.1, verdict="supported", magnitude="meaningful")
    >>> test_phrase(CLAIMS_BY_ID["engagement"], t, 0.2)
    'seniors (mentees): engagement rose +0.4 SD relative to comparable colleagues (95% CI 0.2 to 0.6)'
    """
    if claim.design is Design.HAZARD:
        return outcome_phrase(claim, t, sesoi)
    what = _metric_label(t.metric) if t.metric else CONSTRUCT_LABEL.get(claim.construct, claim.construct).lower()
    if claim.measured_by is Outcome.REPORTS and not t.metric:
        what = "leadership as rated by their direct reports"
    who = _who(t.role)
    v = t.verdict
    if v == "insufficient_data" or not math.isfinite(t.effect_size):
        return f"{who}: not enough data for {what} ({t.reason or 'too few people'})"
    ci = f"95% CI {_f(t.es_ci_low)} to {_f(t.es_ci_high)}"
    if v in ("supported", "contradicted"):
        verb = "rose" if t.effect_size > 0 else "fell"
        if t.metric and t.effect_size != 0:
            verb = "improved" if t.effect_size > 0 else "worsened"
        small = ", smaller than would matter" if t.magnitude == "small" else ""
        return f"{who}: {what} {verb} {_signed(t.effect_size)} SD relative to comparable colleagues ({ci}){small}"
    if v == "no_effect":
        lo, hi = t.effect_size - Z90 * t.es_se, t.effect_size + Z90 * t.es_se
        return (f"{who}: {what} unchanged relative to comparable colleagues (between {_f(lo)} and {_f(hi)} SD, "
                f"90% CI, inside ±{_f(sesoi)} SD)")
    return f"{who}: {what} unclear ({_signed(t.effect_size)} SD, {ci}: both no effect and a meaningful one fit)"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _pp(x: float) -> str:
    v = 100 * x
    return ("+" if v > 0.05 else "") + (f"{v:.1f}".replace("-", "−") if abs(v) < 9.95 else f"{v:.0f}".replace("-", "−"))


def outcome_phrase(claim: Claim, t, sesoi: float) -> str:
    """A retention or promotion test in words: the 12-month probabilities and the hazard ratio.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> from analytics.claims.definitions import CLAIMS_BY_ID
    >>> from analytics.claims.estimate import Estimate
    >>> h = NS(prob_treated=0.06, prob_untreated=0.10, hazard_ratio=0.6, hr_ci_low=0.41, hr_ci_high=0.88)
    >>> t = Estimate("retention", Role.MENTEES, None, True, estimate=-0.04, ci_low=-0.07, ci_high=-0.01,
    ...              effect_size=-0.13, es_se=0.05, sd=0.3, verdict="supported", result=NS(hazard=h))
    >>> outcome_phrase(CLAIMS_BY_ID["retention"], t, 0.2)
    'seniors (mentees) were less likely to leave: 12-month leaving 6 % vs 10 % without the programme (HR 0.6, 95% CI 0.41 to 0.88; −4.0 percentage points, 95% CI −7.0 to −1.0)'
    """
    who = _who(t.role)
    leaving = claim.construct == "retention"
    noun = "leaving" if leaving else "promotion"
    h = getattr(t.result, "hazard", None)
    if t.verdict == "insufficient_data" or h is None or not math.isfinite(t.estimate):
        return f"{who}: not enough data for {noun} ({t.reason or 'too few people'})"
    probs = f"12-month {noun} {_pct(h.prob_treated)} vs {_pct(h.prob_untreated)} without the programme"
    hr = f"HR {_f(h.hazard_ratio)}, 95% CI {_f(h.hr_ci_low)} to {_f(h.hr_ci_high)}"
    diff = f"{_pp(t.estimate)} percentage points, 95% CI {_pp(t.ci_low)} to {_pp(t.ci_high)}"
    if t.verdict in ("supported", "contradicted"):
        more = t.estimate > 0
        verb = (("more" if more else "less") + " likely to leave") if leaving else (
            ("more" if more else "less") + " likely to move up a level")
        small = ", smaller than would matter" if t.magnitude == "small" else ""
        return f"{who} were {verb}: {probs} ({hr}; {diff}){small}"
    margin = sesoi * t.sd
    if t.verdict == "no_effect":
        lo, hi = t.estimate - Z90 * t.se, t.estimate + Z90 * t.se
        return (f"{who}: no meaningful difference in {noun}: {probs} (between {_pp(lo)} and {_pp(hi)} percentage "
                f"points, 90% CI, inside ±{100 * margin:.1f}; {hr})")
    return f"{who}: {noun} unclear: {probs} ({hr}; {diff}: both no effect and a meaningful one fit)"


def sentence(result, sesoi: float = 0.2, min_group: int = 5) -> str:
    """The claim's headline sentence: every primary test, saying who."""
    claim = result.claim
    if claim.design is Design.WITHIN:
        return within_sentence(claim, result.headline, sesoi, min_group)
    if result.verdict == "insufficient_data":
        reason = result.headline.reason or f"fewer than {min_group} people in a group"
        return f"Not enough data to judge this claim ({reason})."
    primary = [t for t in result.tests if t.primary]
    others = [t for t in result.survey_tests if not t.primary and t.ok]
    parts = [test_phrase(claim, t, sesoi) for t in primary]
    text = _cap("; ".join(parts)) + "."
    if others:
        text += " Not part of the verdict: " + "; ".join(test_phrase(claim, t, sesoi) for t in others) + "."
    if result.extra.get("design"):
        from analytics.claims.cross_section import CAVEAT, DESIGN

        text += f" From an anonymous survey's participation question: a {DESIGN}, {CAVEAT}."
    return text


def within_sentence(claim: Claim, t, sesoi: float, min_group: int) -> str:
    """A within-programme claim in its stated unit (per session, per SD of the predictor)."""
    v = t.verdict
    if v == "insufficient_data" or not math.isfinite(t.effect_size):
        return f"Not enough data to judge this claim ({t.reason or f'fewer than {min_group} people in a group'})."
    label = claim.predictor_label
    es, lo, hi = t.effect_size, t.es_ci_low, t.es_ci_high
    raw = (f"{_signed(t.estimate)} points of engagement gain {claim.predictor_unit} "
           f"(95% CI {_f(t.ci_low)} to {_f(t.ci_high)})")
    if v in ("supported", "contradicted"):
        small = ", smaller than would matter" if t.magnitude == "small" else ""
        return (f"Participants with one SD higher {label} gained {_f(abs(es))} SD {'more' if es >= 0 else 'less'} "
                f"engagement than their department's comparison colleagues' change would predict (95% CI {_f(lo)} "
                f"to {_f(hi)} SD per SD; {raw}){small}.")
    if v == "no_effect":
        lo90, hi90 = es - Z90 * t.es_se, es + Z90 * t.es_se
        return (f"The {label} makes no meaningful difference to the engagement gain: between {_f(lo90)} and "
                f"{_f(hi90)} SD per SD of the {label} (90% CI), inside ±{_f(sesoi)} SD ({raw}).")
    return (f"Unclear: one SD higher {label} goes with {_f(es)} SD {'more' if es >= 0 else 'less'} engagement gain, "
            f"but the 95% CI ({_f(lo)} to {_f(hi)} SD per SD) includes both no effect and a meaningful one.")


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def claim_notes(result, panel, min_group: int, sesoi: float, factor: int) -> list[str]:
    """The checks in plain sentences: effective size, response, pre-trends, people left out, sensitivity, n."""
    claim = result.claim
    notes: list[str] = []
    if result.extra.get("design"):
        from analytics.claims.anonymous import NOTE

        # none of the panel's checks exist for this design; the note says so
        return [result.extra.get("design_note", NOTE)]
    from analytics.claims.population import SELECTION_NOTE, selects_by_attributes

    if selects_by_attributes(panel.filters):
        notes.append(SELECTION_NOTE)  # who is in the view: by their baseline attributes (docs/CLAIMS.md)
    if factor > 1:
        notes.append(f"Filtered view: its p-values share the 5% family-wise error budget with {factor} single-value "
                     f"views (each p multiplied by {factor} before Holm; see the subgroup rule).")
    if claim.design is Design.WITHIN:
        t = result.headline
        if t.ok:
            unit = ("clustered by department, p-value from the wild cluster bootstrap"
                    if claim.predictor == "dept_safety" else "clustered by pair (a mentor and mentee count once)")
            notes.append(f"Gain = each participant's change minus the mean change of never-participants in the same "
                         f"department over the same waves ({t.n_comparison} comparison colleagues); errors {unit}.")
            notes.append(f"n = {t.n_treated} participants + {t.n_comparison} comparison colleagues = {t.n_people}.")
        if t.diagnostics.dropped_no_baseline:  # a count under the threshold is not shown (docs/PRIVACY.md)
            n_out = t.diagnostics.dropped_no_baseline
            notes.append(f"{n_out if n_out >= min_group else f'Fewer than {min_group}'} participants whose pair "
                         f"started before the first wave have no baseline and are left out.")
        return notes
    if claim.design is Design.HAZARD:
        return notes + outcome_notes(result, min_group, sesoi)
    for t in result.tests:
        if t.metric is not None and not t.primary:
            continue
        who = _who(t.role)
        label = f"{who} ({_metric_label(t.metric)})" if t.metric else who
        d = t.diagnostics
        if d.dropped_no_baseline:  # a count under the threshold is not shown (docs/PRIVACY.md)
            n_out = d.dropped_no_baseline
            notes.append(f"{n_out if n_out >= min_group else f'Fewer than {min_group}'} {who} whose pair started "
                         f"before the first {'month' if t.metric else 'wave'} have no baseline and are left out; "
                         f"the estimate describes those who started later.")
        if not t.ok:
            continue
        if math.isfinite(d.ess_comparison):
            if d.ess_comparison < d.ess_required:
                notes.append(f"The weighted comparison group for {label} is worth only {d.ess_comparison:.0f} people "
                             f"(Kish's effective n; at least {d.ess_required} needed), so this test is at most "
                             f"inconclusive.")
        if d.response_material:
            more = "more" if d.response_gap > 0 else "less"
            include = d.bounds_low <= 0 <= d.bounds_high
            notes.append(f"After the start, {label} kept answering the survey {abs(d.response_gap):.0%} {more} often "
                         f"than comparison colleagues (change from before, percentage points); bounds for the effect if those who stopped answering differed "
                         f"(Lee, with the 95% margin): {_f(d.bounds_low)} to {_f(d.bounds_high)} SD"
                         + ("; they include zero, so the effect is not established." if include else "."))
        if not t.metric:
            if d.pretrend_testable:
                ok = d.pretrend_p >= 0.05
                notes.append(f"Before their start, {who}' scores moved "
                             f"{'in step with' if ok else 'differently from'} comparison colleagues' "
                             f"(joint placebo p = {_p(d.pretrend_p)})"
                             + ("." if ok else "; the parallel-trends assumption is doubtful."))
            else:
                notes.append(f"Pre-trends cannot be tested for {who}: every start cohort has only one survey wave "
                             f"before its start, so parallel trends are assumed, not checked.")
        if math.isfinite(d.sensitivity_breakdown) or d.sensitivity_breakdown == math.inf:
            b = d.sensitivity_breakdown
            if d.sensitivity_overturned:
                notes.append(f"Sensitivity ({label}): the scores already moved apart before the start, and a "
                             f"post-start violation of parallel trends only {_f(b)} times the largest pre-start "
                             f"wave-to-wave difference would explain the result (relative magnitudes, Rambachan & "
                             f"Roth), so this test is at most inconclusive.")
            elif d.sensitivity_kind == "relative_magnitude":
                notes.append(f"Sensitivity ({label}): the verdict stands unless the post-start violation of "
                             f"parallel trends exceeds {_f(b)} times the largest pre-start wave-to-wave difference "
                             f"(relative magnitudes, Rambachan & Roth).")
            else:
                per = "month" if t.metric else "wave"
                notes.append(f"Sensitivity ({label}): the verdict stands unless {who} were on a trend of more than "
                             f"{_f(b)} SD per {per} relative to comparison colleagues (a linear trend is the "
                             f"yardstick when pre-trends cannot be compared).")
        if not t.metric and t.n_treated + t.n_comparison != t.n_people:
            notes.append(f"n for {who} = {t.n_people} people: {t.n_treated} treated + {t.n_comparison} comparison "
                         f"counts {t.n_treated + t.n_comparison - t.n_people} later starters twice (comparison "
                         f"colleagues before their own start).")
    if result.difference is not None:
        d = result.difference
        notes.append(f"Mentees minus mentors: {_signed(d.estimate)} SD (95% CI {_f(d.ci_low)} to {_f(d.ci_high)}, "
                     f"p = {_p(d.p_value)}), from one fit that accounts for shared comparison colleagues; the "
                     f"pooled estimate is a summary only.")
    return notes


def outcome_notes(result, min_group: int, sesoi: float) -> list[str]:
    """The retention and promotion checks in plain sentences (no count under the threshold)."""
    claim = result.claim
    noun = "leaving" if claim.construct == "retention" else "promotions"
    notes: list[str] = []
    for t in result.tests:
        who = _who(t.role)
        d = t.diagnostics
        n_out = d.dropped_no_baseline
        if n_out >= min_group:
            notes.append(f"{n_out} {who} were not at risk from the month after their start (they had left, been "
                         f"promoted or reached the top level by then, or started after the roster history ends) and "
                         f"are left out; the estimate describes the others.")
        elif n_out:
            notes.append(f"Fewer than {min_group} {who} were not at risk from the month after their start and are "
                         f"left out (the exact number is not shown).")
        if not t.ok:
            notes.append(f"No estimate for {who}: {t.reason}; counts under {min_group} are not shown.")
            continue
        if math.isfinite(d.ess_comparison) and d.ess_comparison < d.ess_required:
            notes.append(f"Comparison colleagues for {who} resemble them poorly: re-weighted to look like them they "
                         f"would be worth only {d.ess_comparison:.0f} people (Kish's effective n; at least "
                         f"{d.ess_required} needed), so this test is at most inconclusive.")
        if claim.construct == "retention":
            notes.append(f"Pre-trends cannot be tested for leaving ({who}): everyone who started a pair was still "
                         f"employed at their start, so participants enter the comparison the month after their "
                         f"start (staggered entry) and their months before it are not counted.")
        elif d.pretrend_testable:
            ok = d.pretrend_p >= 0.05
            notes.append(f"In the 12 months before their start, future {who} were promoted "
                         f"{'about as often as' if ok else 'at a different rate from'} comparison colleagues "
                         f"(hazard ratio {_f(math.exp(d.pretrend_estimate))}, p = {_p(d.pretrend_p)})"
                         + ("." if ok else "; participants may have been on a different path already, read the "
                            "estimate with care."))
        else:
            notes.append(f"Pre-trends cannot be tested for {who}: fewer than {min_group} promotions before their "
                         f"start among them or among comparison colleagues.")
        notes.append(f"n for {who} = {t.n_treated} participants + {t.n_comparison} comparison colleagues = "
                     f"{t.n_people}; smallest effect of interest ±{_f(sesoi)} SD of a 12-month yes/no outcome at "
                     f"their rate without the programme = ±{100 * sesoi * t.sd:.1f} percentage points.")
    if claim.construct == "promotion" and any(t.ok for t in result.tests):
        notes.append(PROMOTION_GROUPS_NOTE.format(k=min_group))
    return notes


#: Said on every promotion claim with an estimate (static: it tells nothing about the data). The
#: whole-group rule keeps (reporting group, participant) sets of at least k candidates, and the
#: groups carry today's level (and the first wave's), which for promotion is the outcome
#: (docs/CLAIMS.md, "Known limit"; measured in simulation and on the demo there).
PROMOTION_GROUPS_NOTE = ("Anonymity and promotion: only whole reporting groups of at least {k} candidates enter, "
                         "and the groups follow each person's current level (and, with surveys linked to the "
                         "roster, their level at their first wave). A promotion puts a person in a rarer group, "
                         "so promoted people are more often left out, which can move this estimate "
                         "either way.")


def method_text(claim: Claim, weighted: bool = True) -> str:
    """Two sentences on how the claim was tested."""
    if claim.design is Design.HAZARD:
        event = "leaving" if claim.construct == "retention" else "moving up a level"
        adj = ("calendar-month fixed effects and fixed effects for department, level, generation and tenure band "
               "(the covariates the survey claims weight on)" if weighted else "calendar-month fixed effects only "
               "(unmatched)")
        return (f"Month by month, the chance of {event} of participants from the month after their pair started "
                f"was compared with that of colleagues outside the programme at the same levels who were still "
                f"employed in the same month (a discrete-time complementary log-log hazard with {adj}; "
                f"staggered entry). The effect is the difference in the probability of {event} within 12 months "
                f"of the start, with the hazard ratio beside it; each role is tested separately.")
    if claim.design is Design.WITHIN:
        return (f"Among participants, the engagement gain (mean after their pair started minus mean before, minus "
                f"the same change of never-participants in their department) was regressed on the "
                f"{claim.predictor_label}, controlling for baseline engagement and start group. The effect is in "
                f"gain SDs per SD of the predictor and in points {claim.predictor_unit}.")
    comp = ("colleagues not (yet) in the programme at the same levels, weighted to resemble them in department, "
            "level, generation and tenure" if weighted else
            "colleagues not (yet) in the programme at the same levels (unweighted)")
    lead = ("The change in the leadership ratings mentors and mentees receive from their direct reports"
            if claim.measured_by is Outcome.REPORTS else
            f"The change in {claim.construct} of mentors and, separately, of mentees")
    if claim.metrics:
        lead += " (and in each objective metric, the start month counting as neither before nor after)"
    return (f"{lead} from before to after their pair started was compared with the change of {comp}, start cohort "
            f"by start cohort (Callaway & Sant'Anna style difference-in-differences). Cohort effects are averaged "
            f"by size, errors are clustered by person and each role's effect is expressed in its own baseline SDs.")
