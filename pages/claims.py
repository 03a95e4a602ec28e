"""Claims: for each claim, the verdict and the evidence behind it.

The opened claim (``claim``), the tab (``tab``) and, with the per-role engine, the role
(``role``) live in the link, so a shared URL opens exactly this view.
"""
import streamlit as st

from analytics.claims import SUBGROUP_RULE
from ui import board, cache, charts, evaluation
from ui.outcomes import is_outcome, outcome_summary
from ui.sidebar import set_view_param, view_param
from ui.page import open_page
from ui.text import plain
from ui.verdicts import (TERMS_SCORECARD, claim_evidence, claim_summary, focused_claim, glossary_popover, label,
                         scorecard_frame, scorecard_table)

TABS = ("Effects", "Evidence, claim by claim", "Reports")


def _tab_changed() -> None:
    tab = st.session_state.get("claims_tab")
    set_view_param("tab", None if tab == TABS[0] else tab)


def _claim_toggled(claim_id: str) -> None:
    if st.session_state.get(f"claim-{claim_id}"):
        set_view_param("claim", claim_id)
        set_view_param("tab", TABS[1])
        st.session_state["claims_tab"] = TABS[1]
    elif st.query_params.get("claim") == claim_id:
        set_view_param("claim", None)


page = open_page("Claims", "The claims, tested",
                 lambda f, k: "comparison: " + ("matched (re-weighted to look like participants)"
                                                if f.method == "weighted" else "unmatched")
                 + f" · groups smaller than {k} people are never shown.", method=True)
filters, k, headline, report = page.filters, page.k, page.headline, page.report
card = cache.view("scorecard", filters)
focus = focused_claim(card)
if st.query_params.get("claim") and focus is None:
    view_param("claim", [], notice=f"Ignored claim {str(st.query_params.get('claim'))[:40]!r}: no such claim.")
roles = sorted({r.get("role") for rs in card.get("by_role", []) for r in (rs or [])} - {None})
role = view_param("role", roles, notice="Ignored role: this scorecard has no per-role estimates for it.")
if roles:  # the per-role engine: show one role's markers, or all (the role is in the link)
    st.session_state.setdefault("claims_role", role)
    role = st.segmented_control("Role", roles, key="claims_role", format_func=charts.pretty,
                                on_change=lambda: set_view_param("role", st.session_state.get("claims_role")))
shown = card
if role and "by_role" in card.columns:
    shown = card.assign(by_role=[[r for r in (rs or []) if r.get("role") == role] for rs in card["by_role"]])
tab = view_param("tab", TABS, default=TABS[1] if focus else TABS[0])
effects, evidence, reports = st.tabs(TABS, default=tab, key="claims_tab", on_change=_tab_changed)

with effects:
    report.chart("Effect of the programme, claim by claim",
                 evaluation.with_reference_bands(charts.forest(shown), shown), scorecard_frame(card),
                 text="Standardised effect (in standard deviations of the outcome, SD) with its 95% confidence "
                      "interval. Zero means no difference from the comparison group; inside the shaded ±0.2 SD "
                      "band an effect is too small to matter. Grey bars: the range published mentoring studies "
                      "report for that outcome. Claims without enough data keep their row.",
                 key="claims-forest")
    evaluation.sources_expander()
    glossary_popover(TERMS_SCORECARD)
    scorecard_table(report, card, "Verdicts at a glance")
    evaluation.kirkpatrick_panel(cache.view("evaluation_map", filters))
    if not filters.is_empty():  # the engine states its rule for filtered views
        st.info(SUBGROUP_RULE, icon=":material/filter_alt:")

with evidence:
    st.caption("Open a claim to see its effect against the comparison group, how comparable the groups are, "
               "and the naive comparisons a quick analysis would have made.")
    for row in card.itertuples(index=False):
        section = st.expander(f"**{plain(row.title)}** — {label(row.verdict)}", expanded=row.id == focus,
                              key=f"claim-{row.id}", on_change=_claim_toggled, args=(row.id,))
        with section:
            if is_outcome(row.id):  # retention / promotion: probabilities and hazard ratios per role
                outcome_summary(row, report)
                continue
            claim_summary(row, report)
            if section.open:  # charts and tables only for the claims someone opened
                claim_evidence(row, cache.view("claim_detail", filters, claim_id=row.id), report,
                               bands=cache.view("gain_bands", filters, claim_id=row.id))

with reports:
    st.write("A board-ready report of every claim: the bottom line and verdict table on page 1, one section per "
             "claim with formatted tables, and a methods appendix.")
    board.buttons(card, filters, k, headline["as_of"], "claims")
    report.report_button()
