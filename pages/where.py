"""Where it works: each claim's effect by department, generation, level, location, cohort and role.

A heatmap of effects (not levels): every cell is that subgroup's own comparison-group estimate
in SD. Cells exist only for views that pass the anonymity guard; significance follows the
subgroup rule in `analytics.subgroups` (where the claims engine's rule plugs in). The grouping
(``group``) is in the link; each number links to that subgroup's Claims view.
"""
import sys
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from analytics import subgroups
from ui import cache, charts
from ui.sidebar import options, set_view_param, view_param
from ui.page import open_page
from ui.text import plain
from ui.verdicts import glossary_popover

GROUPS = subgroups.DIMENSIONS


def _group_changed() -> None:
    group = st.session_state.get("where_group") or "department"
    set_view_param("group", None if group == "department" else group)


page = open_page("Where it works", "Where it works",
                 lambda f, k: f"a subgroup is shown only when it and every view it can be compared with hold at "
                              f"least {k} people.", method=True)
filters, k, headline, report = page.filters, page.k, page.headline, page.report
group = view_param("group", GROUPS, default="department")
if st.session_state.get("where_group") != group:
    st.session_state["where_group"] = group
group = st.segmented_control("Effect by", list(GROUPS), format_func=GROUPS.get, key="where_group",
                             on_change=_group_changed) or "department"

if group == "role":
    card = cache.view("scorecard", filters)
    grid = subgroups.role_grid(card)
    if grid.empty:
        st.info("Effects by role (mentors and mentees separately) come from the per-role claims engine; this "
                "store's scorecard pools both roles, so each claim's population is shown on the Overview's "
                "'For whom' column instead.", icon=":material/info:")
    base_url = None
else:
    cells = []
    values = options().values.get(group, [])
    progress = st.progress(0.0, text=f"Estimating every claim in each {GROUPS[group].lower()}…")
    pairs = subgroups.subgroup_filters(filters, group, values)
    for i, (value, sub) in enumerate(pairs):
        check = cache.view("check_selection", sub)
        if not check.ok:
            cells.append(subgroups.Cell(value, None, check.reason))
            continue
        try:
            cells.append(subgroups.Cell(value, cache.view("scorecard", sub)))
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:  # one subgroup's fit failed
            print(f"[where] {group}={value!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
            cells.append(subgroups.Cell(value, None, "the estimate could not be computed for this subgroup"))
        progress.progress((i + 1) / max(len(pairs), 1))
    progress.empty()
    grid = subgroups.effect_grid(group, cells)

if not grid.empty:
    links = {}
    for row in grid.dropna(subset=["id"]).itertuples(index=False):
        params = dict(filters.to_params())
        if group != "role":
            params[group] = [row.value]
        params["claim"] = [row.id]
        links[(row.id, row.value)] = "claims?" + urlencode(params, doseq=True)
    shown = grid.drop(columns=["dimension"])
    report.chart(f"Effect of each claim by {GROUPS[group].lower()}", charts.effect_heatmap(grid),
                 shown, key=f"where-{group}", then=lambda fig: charts.link_cells(fig, grid, links),
                 text="Effect in SD of each subgroup's participants against their own comparison group (blue: "
                      "gain, vermillion: loss, white: none). Bold with * : significant under the subgroup rule. "
                      "'—': hidden for anonymity or not enough data. Click a number to open that view.")
    st.caption(subgroups.rule_text())
    refused = grid[grid["id"].isna()]
    for row in refused.itertuples(index=False):
        st.caption(f"🔒 {plain(charts.pretty(row.value))}: {plain(row.refused)}")
    het = subgroups.heterogeneity(grid)
    if not het.empty:
        het = het.assign(differs=het["p_value"] < 0.05)
        report.table("Do the subgroups differ?", het[["title", "levels", "q", "df", "p_value", "differs"]]
                     .rename(columns={"q": "Cochran's Q", "df": "degrees of freedom", "levels": "subgroups",
                                      "differs": "subgroups differ (p < 0.05)"}),
                     key=f"heterogeneity-{group}",
                     text="Cochran's Q per claim: whether the subgroups' effects differ more than chance would make "
                          "them. A single significant cell with no heterogeneity is weak evidence of 'where'.")
    st.subheader("Open a subgroup")
    if group != "role":
        cols = st.columns(4)
        for i, value in enumerate(dict.fromkeys(grid["value"])):
            ok = not grid[(grid["value"] == value) & grid["id"].notna()].empty
            params = {**filters.to_params(), group: [value]}
            if ok:
                cols[i % 4].page_link("pages/claims.py", label=plain(charts.pretty(value)), icon=":material/open_in_new:",
                                      query_params=params)
glossary_popover(("SD", "CI", "p", "Holm", "SESOI"))
report.report_button()
