"""How a verdict looks: colour-blind-safe chips, the compact bottom-line rows, the numbers in words.

All data-derived text in the HTML rows is escaped (`html.escape`); the claims' titles and
verdict words come from the engine's fixed definitions.
"""

from __future__ import annotations

import html
import math

import pandas as pd
import streamlit as st

from analytics import bottom_line, glossary
from analytics.formatting import count, for_people, number, p_text
from analytics.report import Section
from ui import charts
from ui.charts import SESOI, VERDICT_COLOURS, VERDICT_LABELS
from ui.exports import ViewReport
from ui.text import plain, plain_table

BADGE_COLOURS = {"supported": "green", "contradicted": "red", "no_effect": "blue", "inconclusive": "orange",
                 "insufficient_data": "gray"}
SCORECARD_COLUMNS = ["title", "verdict", "sentence", "estimate", "ci_low", "ci_high", "effect_size", "es_ci_low",
                     "es_ci_high", "p_value", "p_adjusted", "n", "n_treated", "n_comparison", "mde", "method",
                     "outcome", "id"]
#: The terms of art each part of the dashboard uses (their glossary popover lists these).
TERMS_SCORECARD = ("SD", "CI", "SESOI", "p", "Holm", "Matched comparison", "DiD")
TERMS_DETAIL = ("SD", "CI", "SESOI", "p", "Holm", "MDE", "DiD", "SMD", "HC3", "ESS", "Pre-trend",
                "Matched comparison", "Event study")


def part(detail, key: str):
    """One part of a claim's detail: today's dict, or the engine v2's `ClaimDetail` dataclass."""
    if isinstance(detail, dict):
        return detail.get(key)
    return getattr(detail, key, None)


def label(verdict: str) -> str:
    return VERDICT_LABELS.get(verdict, verdict)


def badge(verdict: str) -> None:
    st.badge(VERDICT_LABELS.get(verdict, verdict), color=BADGE_COLOURS.get(verdict, "gray"))


def populations() -> dict[str, str]:
    """Claim id → its declared population (today's engine), for "who it holds for"; the per-role
    engine's rows carry their roles instead (`bottom_line.who_for` reads them first)."""
    from analytics.claims import CLAIMS

    out = {}
    for c in CLAIMS:
        pop = getattr(c, "population", None)
        if pop is not None:
            out[c.id] = str(getattr(pop, "value", pop))
    return out


def designs() -> dict[str, str]:
    from analytics.claims import CLAIMS

    return {c.id: str(getattr(c.design, "value", c.design)) for c in CLAIMS}


def predictor_labels() -> dict[str, str | None]:
    from analytics.claims import CLAIMS

    return {c.id: c.predictor_label for c in CLAIMS}


def glossary_popover(terms=TERMS_SCORECARD, label_text: str = "What do these terms mean?") -> None:
    """Every term of art on this part of the page, explained in a popover."""
    with st.popover(label_text, icon=":material/help:", type="tertiary"):
        for term, text in glossary.terms(*terms).items():
            st.markdown(f"**{term}** — {text}")


# -- the bottom line -------------------------------------------------------------------------
def chip_html(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#8C8C8C")
    text = "#1f2933" if verdict in ("inconclusive",) else "#ffffff"
    return (f"<span class='chip' style='display:inline-block;padding:1px 9px;border-radius:10px;background:{colour};"
            f"color:{text};font-weight:600;font-size:0.8rem;white-space:nowrap'>{html.escape(label(verdict))}</span>")


def effect_svg(es, lo, hi, verdict: str, sesoi: float = SESOI, span: float = 1.0, width: int = 170) -> str:
    """A dot-and-interval on a fixed −1…+1 SD axis with the ±SESOI band; empty when no estimate."""
    def x(v: float) -> float:
        return round((max(-span, min(span, v)) + span) / (2 * span) * (width - 10) + 5, 1)

    band = f"<rect x='{x(-sesoi)}' y='2' width='{x(sesoi) - x(-sesoi)}' height='14' fill='#56B4E9' opacity='0.3'/>"
    axis = f"<line x1='{x(0)}' y1='1' x2='{x(0)}' y2='17' stroke='#444' stroke-width='1'/>"
    mark = ""
    if all(isinstance(v, (int, float)) and math.isfinite(v) for v in (es, lo, hi)):
        colour = VERDICT_COLOURS.get(verdict, "#444")
        mark = (f"<line x1='{x(lo)}' y1='9' x2='{x(hi)}' y2='9' stroke='{colour}' stroke-width='2.5'/>"
                f"<circle cx='{x(es)}' cy='9' r='4.5' fill='{colour}'/>")
    return (f"<svg width='{width}' height='18' role='img' aria-label='effect and 95% CI' "
            f"style='vertical-align:middle'>{band}{axis}{mark}</svg>")


_ROWS_STYLE = """<style>
.tw-bl{border-collapse:collapse;font-size:0.875rem;width:100%;line-height:1.3}
.tw-bl td{padding:3px 8px;border-bottom:1px solid #e5e7eb;vertical-align:middle}
.tw-bl th{padding:0 8px;color:#52606d;font-size:0.75rem;text-align:left;font-weight:500}
.tw-bl .who,.tw-bl .num .ci{color:#52606d} .tw-bl .num{white-space:nowrap}
@media (max-width: 700px){.tw-bl .who,.tw-bl .dot,.tw-bl .ci,.tw-bl thead{display:none}
  .tw-bl td{padding:2px 3px} .tw-bl{font-size:0.78rem;line-height:1.2} .tw-bl .chip{font-size:0.7rem}}
</style>"""


def bottom_line_rows(card: pd.DataFrame) -> str:
    """Every claim in one compact row: verdict chip, claim, for whom, dot-and-interval, number.

    On a phone the "for whom" and dot columns fold away so the verdicts still fit the first screen.
    """
    pops = populations()
    rows = []
    for r in card.to_dict("records"):
        has = isinstance(r.get("effect_size"), float) and math.isfinite(r["effect_size"])
        effect = (f"{number(r['effect_size'], signed=True)} SD <span class='ci'>"
                  f"({number(r['es_ci_low'])} to {number(r['es_ci_high'])})</span>") if has else \
            "<span class='ci'>not enough data</span>"
        rows.append(
            f"<tr data-claim='{html.escape(str(r['id']))}'><td>{chip_html(r['verdict'])}</td>"
            f"<td>{html.escape(str(r['title']))}</td>"
            f"<td class='who'>{html.escape(bottom_line.who_for(r, pops.get(r['id'])))}</td>"
            f"<td class='dot'>{effect_svg(r.get('effect_size'), r.get('es_ci_low'), r.get('es_ci_high'), r['verdict'])}"
            f"</td><td class='num'>{effect}</td></tr>")
    head = ("<tr><th>Verdict</th><th>Claim</th><th class='who'>For whom</th>"
            f"<th class='dot'>Effect, −1 to +1 SD (shaded ±{SESOI:g}: too small to matter)</th>"
            "<th class='num'>Effect (95% CI)</th></tr>")
    return f"{_ROWS_STYLE}<table class='tw-bl'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def scorecard_table(report: ViewReport, card: pd.DataFrame, title: str = "The claims, tested") -> None:
    """Verdict, for whom and one plain sentence per claim (wrapped, static); the CSV holds every column."""
    pops = populations()
    compact = pd.DataFrame({"Claim": card["title"], "Verdict": card["verdict"].map(label),
                            "For whom": [bottom_line.who_for(r, pops.get(r["id"])) for r in card.to_dict("records")],
                            "In one sentence": card["sentence"]})
    st.subheader(title)
    st.caption("Each claim is tested against a comparison group of colleagues who were not (yet) in the programme.")
    st.table(plain_table(compact).style.hide(axis="index").map(_colour, subset=["Verdict"]))
    report.download(scorecard_frame(card), "scorecard", key="csv-scorecard")
    report.sections.append(Section(title, "", None, compact))


def scorecard_frame(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard's flat columns (what a CSV can hold; per-role lists stay in the JSON)."""
    return card[[c for c in SCORECARD_COLUMNS if c in card.columns]]


def _colour(verdict_label: str) -> str:
    code = {v: k for k, v in VERDICT_LABELS.items()}.get(verdict_label, "")
    colour = VERDICT_COLOURS.get(code)
    return f"color: {colour}; font-weight: 600" if colour else ""


def pretrend_text(pretrend) -> str:
    """The pre-trend check in one sentence: did both groups move alike before the programme?"""
    if part(pretrend, "sentence"):
        return str(part(pretrend, "sentence"))
    est, lo, hi, p = (part(pretrend, k) for k in ("estimate", "ci_low", "ci_high", "p_value"))
    return (f"Before the programme, participants' trend differed from the comparison group's by {number(est)} "
            f"(95% CI {number(lo)} to {number(hi)}, p = {p_text(p)}); "
            + ("no sign that the groups were already drifting apart." if p is not None and p >= 0.05
               else "the groups were already drifting apart, so read the estimate with care."))


def focused_claim(card: pd.DataFrame) -> str | None:
    """The claim a link asks to open (``?claim=<id>``), if it is one of ours."""
    wanted = st.query_params.get("claim")
    return wanted if wanted in set(card["id"]) else None


def claim_summary(row, report: ViewReport) -> None:
    """Verdict, the sentence, the number read aloud, counts that add up, the method: cheap, always drawn."""
    r = row._asdict() if hasattr(row, "_asdict") else dict(row)
    badge(r["verdict"])
    st.markdown(plain(r["sentence"]))
    reading = bottom_line.plain_reading(r, designs().get(r["id"], "did"), predictor_labels().get(r["id"]))
    people = bottom_line.counts_sentence(r)
    st.markdown(f"**In plain words.** {plain(reading)}")
    cols = st.columns(4)
    cols[0].metric("Effect (SD)", number(r.get("effect_size"), signed=True),
                   help="The effect in standard deviations of the outcome; ±0.2 SD or less is too small to matter.")
    cols[0].caption(f"95% CI {number(r.get('es_ci_low'))} to {number(r.get('es_ci_high'))}")
    cols[1].metric("Estimate (score points)", number(r.get("estimate"), signed=True),
                   help=f"In the outcome's own units (1–5 scale); outcome: {plain(r.get('outcome'))}")
    cols[1].caption(f"95% CI {number(r.get('ci_low'))} to {number(r.get('ci_high'))}")
    cols[2].metric("p (Holm-adjusted)", p_text(r.get("p_adjusted")),
                   help="Adjusted for testing every claim at once (Holm).")
    cols[2].caption(f"unadjusted p {p_text(r.get('p_value'))} · smallest detectable effect "
                    f"{number(r.get('mde'))} SD")
    cols[3].metric("People", count(r.get("n")))
    cols[3].caption(f"{count(r.get('n_treated'))} participants · {count(r.get('n_comparison'))} comparison")
    st.caption(plain(people))
    notes = [str(n) for n in (r.get("notes") or [])]  # the engine v2's checks, one short sentence each
    if notes:
        st.markdown("**Checks.**\n" + "\n".join(f"- {plain(n)}" for n in notes))
    st.markdown(f"**How this was tested.** {plain(r.get('method') or '')}")
    report.note(f"{r['title']} — {label(r['verdict'])}",
                " ".join([f"{r['sentence']} {reading} {people}", *notes, str(r.get("method") or "")]))


def claim_evidence(row, detail: dict, report: ViewReport, bands: pd.DataFrame | None = None) -> None:
    """The effect against the comparison (event study when the engine gives one), the checks,
    balance and cohorts with human column names, the biased naive comparisons (greyed)."""
    r = row._asdict() if hasattr(row, "_asdict") else dict(row)
    event = part(detail, "event_study")
    if isinstance(event, pd.DataFrame) and not event.empty:
        report.chart(f"{r['title']}: effect by wave since the start", charts.event_study(event), event,
                     key=f"event-{r['id']}",
                     text="Participants minus their comparison group, wave by wave relative to each person's start, "
                          "with 95% CIs and the ±0.2 SD band. Points before the start are the placebo check: they "
                          "should sit near zero.")
    metrics = part(detail, "metrics")
    monthly = None
    if isinstance(metrics, pd.DataFrame) and not metrics.empty and st.toggle(
            "Month by month: the objective metrics around each person's start", key=f"monthly-{r['id']}",
            help="The effect on each objective metric, month by month relative to the start month, per role."):
        from ui import cache

        monthly = cache.view("metric_event_study", report.filters, claim_id=r["id"])
    if isinstance(monthly, pd.DataFrame) and not monthly.empty:
        for metric, frame in monthly.groupby("metric", sort=True):
            name = str(metric).replace("_", " ")
            report.chart(f"{r['title']}: {name} by month since the start", charts.event_study(frame), frame,
                         key=f"event-{r['id']}-{metric}",
                         text=f"Participants minus their comparison group in {name}, month by month relative to "
                              "each person's start, with 95% CIs. The start month itself counts as neither before "
                              "nor after and has no point; points before it are the placebo check.")
    if isinstance(bands, pd.DataFrame) and not bands.empty:
        if r["id"] == "dose_response":
            report.chart("Gain by number of sessions", charts.gain_bands(bands), bands, key=f"bands-{r['id']}",
                         text="Participants' mean engagement gain (after minus before their start) in bands of "
                              "sessions, with 95% CIs. Descriptive: the verdict comes from the regression above.")
        else:
            report.chart("Gain by department safety", charts.gain_bands(
                bands, x="dept_safety", x_label="Department's baseline psychological safety (1–5)"), bands,
                key=f"bands-{r['id']}",
                text="Each department's participants: mean engagement gain against the department's "
                     "psychological safety before the programme, with 95% CIs. Descriptive.")
    trends = part(detail, "trends")
    if isinstance(trends, pd.DataFrame) and not trends.empty and not (isinstance(event, pd.DataFrame)
                                                                      and not event.empty):
        report.chart(f"{r['title']}: both groups' levels (descriptive)",
                     charts.trend(trends.rename(columns={"wave_date": "opened", "wave": "survey"})),
                     trends, key=f"trend-{r['id']}",
                     text="Mean outcome per survey wave for both groups, with 95% CIs. Descriptive: participants "
                          "may sit higher before they start (they chose to join); the effect is how much more "
                          "their score changed after their start, shown in the forest plot.")
    if part(detail, "pretrend"):
        st.markdown(f"**Pre-trend check.** {plain(pretrend_text(part(detail, 'pretrend')))}")
    roles = part(detail, "roles")
    if isinstance(roles, pd.DataFrame) and not roles.empty:
        report.table(f"{r['title']}: each role", roles.drop(columns=["diagnostics", "sentence"], errors="ignore"),
                     key=f"roles-{r['id']}",
                     text="Mentors (juniors) and mentees (seniors) are tested separately, each against colleagues "
                          "who could have been in that role; the pooled row is only a summary.")
    within = part(detail, "within")
    if isinstance(within, pd.DataFrame) and not within.empty:
        report.table(f"{r['title']}: within the programme", within, key=f"within-{r['id']}",
                     text="Gain regressed on each predictor among participants (HC3 standard errors); "
                          "effect size per SD of the predictor.")
    balance = part(detail, "balance")
    if isinstance(balance, pd.DataFrame) and not balance.empty:
        report.table("Is the comparison group comparable?", balance, key=f"balance-{r['id']}",
                     text="Share or mean of each background variable; standardised mean differences (SMD) "
                          "below 0.1 mean the groups are alike.")
    naive = part(detail, "naive")
    if isinstance(naive, pd.DataFrame) and not naive.empty:
        st.markdown(":gray[**Naive comparisons — biased, shown for context only.** People chose to join, "
                    "so simple before/after or participant/non-participant differences mix the programme's "
                    "effect with who signed up and with change everyone saw.]")
        st.dataframe(for_people(naive, p_as_text=True).style.set_properties(**{"color": "#6b7280"}), hide_index=True,
                     width="stretch")
        report.download(naive, f"{r['id']} naive comparisons", key=f"csv-naive-{r['id']}")
    for name, title in (("cohorts", "By cohort"), ("by_generation", "By generation"),
                        ("generation_gap", "Generation gap"), ("metrics", "Objective metrics")):
        extra = part(detail, name)
        if isinstance(extra, pd.DataFrame) and not extra.empty:
            report.table(f"{r['title']}: {title.lower()}", extra, key=f"{name}-{r['id']}")
    glossary_popover(TERMS_DETAIL, "Terms on this claim explained")


def whole(v) -> str:
    """A count for a metric tile: thousands separated, "—" when withheld (None)."""
    return count(v)
