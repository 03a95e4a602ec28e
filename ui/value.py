"""The Value page's pieces: inputs from the link, the inputs editor, the parts table, the chart.

Inputs travel in links as one ``inputs`` parameter (compact JSON of every field), validated
exactly like the CLI's ``--costs`` (`analytics.value_data.validate`); anything wrong is dropped
with a notice naming the field, drawn as plain text, and never written anywhere. Only analysts
get the editor and the Save button; everyone sees every input, defaults included.
"""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.errors import TwowayError
from analytics.value import MAX_AMOUNT, Costs
from analytics.value_data import parse_json, validate
from ui.charts import _LAYOUT, OKABE_ITO
from ui.sidebar import set_view_param
from ui.text import plain

#: Longest ``inputs`` link parameter read (a link holds the inputs, not a document).
MAX_LINK_CHARS = 4000
FIELDS = {  # field → (label, help)
    "fixed": ("Fixed programme cost", "Platform, coordinator, launch events over the horizon."),
    "per_pair": ("Cost per pair", "Training and materials for each mentoring pair."),
    "hourly_cost_mentor": ("Loaded hourly cost of a mentor (junior)", "Salary plus overheads, per hour."),
    "hourly_cost_mentee": ("Loaded hourly cost of a mentee (senior)", "Salary plus overheads, per hour."),
    "prep_hours_per_pair": ("Preparation hours per pair and person", "On top of the logged session hours."),
    "replacement_cost": ("Replacement cost of one leaver", "Recruiting, onboarding and lost output."),
    "horizon_months": ("Horizon (months)", "Months over which benefits are counted."),
}
LINK_KEY = "inputs"
_LOADED, _WRITTEN = "_tw_value_loaded", "_tw_value_written"


def link_inputs(saved: Costs, metrics: list[str]) -> Costs | None:
    """The inputs a shared link carries (merged over the saved ones), or None; a bad one is dropped
    with a notice that names the field."""
    raw = st.query_params.get(LINK_KEY)
    if raw is None:
        return None
    try:
        if len(raw) > MAX_LINK_CHARS:
            raise TwowayError(f"longer than {MAX_LINK_CHARS:,} characters")
        return validate(parse_json(raw, "the link's inputs"), metrics, saved)
    except TwowayError as exc:
        st.warning(plain(f"Ignored the inputs in this link: {str(exc)[:300]}"), icon=":material/link_off:")
        set_view_param(LINK_KEY, None)
        return None


def _key(field: str) -> str:
    return f"val_{field}"


def _metric_key(i: int) -> str:
    return f"val_metric_{i}"


def load_widgets(costs: Costs, version: int | None) -> None:
    """Put `costs` into the editor's widgets when they come from outside: the first run, a saved
    version that changed, or a link's inputs that this session did not write itself."""
    ss = st.session_state
    link = st.query_params.get(LINK_KEY)
    token = (version, None if link == ss.get(_WRITTEN) else link)
    if ss.get(_LOADED) == token:
        return
    for field in FIELDS:
        ss[_key(field)] = getattr(costs, field)
    for i, value in enumerate(costs.metric_values.values()):
        ss[_metric_key(i)] = float(value)
    ss[_LOADED] = token


def editor(costs: Costs, units: dict) -> Costs:
    """Number inputs for every field and every metric's unit value; returns what they hold."""
    left, right = st.columns(2)
    values: dict = {}
    for i, (field, (label, help_text)) in enumerate(FIELDS.items()):
        col = left if i % 2 == 0 else right
        if field == "horizon_months":
            values[field] = int(col.number_input(label, min_value=1, max_value=120, step=1, key=_key(field),
                                                 help=help_text))
        else:
            values[field] = float(col.number_input(label, min_value=0.0, max_value=MAX_AMOUNT, step=10.0,
                                                   key=_key(field), help=help_text))
    metrics = {}
    if costs.metric_values:
        st.markdown("**Value of one unit of each objective metric** (per person and month; 0 = not valued)")
        cols = st.columns(min(3, len(costs.metric_values)))
        for i, metric in enumerate(costs.metric_values):
            unit = units.get(metric)
            label = plain(f"{metric} ({unit})" if isinstance(unit, str) and unit else metric)
            metrics[metric] = float(cols[i % len(cols)].number_input(label, min_value=0.0, max_value=MAX_AMOUNT,
                                                                     step=1.0, key=_metric_key(i)))
    values["metric_values"] = metrics
    return Costs(**values)


def costs_from_state(saved: Costs) -> Costs:
    """The editor's values as they are in the session (for a button callback)."""
    ss = st.session_state
    values = {field: ss.get(_key(field), getattr(saved, field)) for field in FIELDS}
    values["horizon_months"] = int(values["horizon_months"])
    values["metric_values"] = {m: float(ss.get(_metric_key(i), v)) for i, (m, v) in enumerate(saved.metric_values.items())}
    return Costs(**values)


def inputs_frame(costs: Costs, saved: Costs, defaults: Costs) -> pd.DataFrame:
    """Every input with its value, the default, and whether it differs from the saved one."""
    rows = []
    for field, (label, _) in FIELDS.items():
        rows.append({"input": label, "value": getattr(costs, field), "default": getattr(defaults, field),
                     "saved": getattr(saved, field)})
    for metric, value in costs.metric_values.items():
        rows.append({"input": f"value of one unit of {metric}", "value": value, "default": 0.0,
                     "saved": saved.metric_values.get(metric, 0.0)})
    return pd.DataFrame(rows)


def write_link(costs: Costs, saved: Costs) -> None:
    """Keep the inputs in the address bar when they differ from the saved ones (else none)."""
    text = None if costs == saved else json.dumps(costs.as_dict(), separators=(",", ":"), sort_keys=True)
    st.session_state[_WRITTEN] = text
    if st.session_state.get(_LOADED) is not None:  # what this session wrote is not news to it
        st.session_state[_LOADED] = (st.session_state[_LOADED][0], None)
    set_view_param(LINK_KEY, text)


def parts_frame(doc: dict) -> pd.DataFrame:
    """The parts as a table: each benefit (with its interval) and each cost."""
    rows = []
    for p in doc["parts"]:
        if p["kind"] == "cost":
            rows.append({"part": p["part"], "kind": "cost", "people": None, "effect": None, "unit_value": None,
                         "hours": p.get("hours"), "amount": -p["cost"], "ci_low": None, "ci_high": None})
        else:
            rows.append({"part": p["part"], "kind": "avoided leavers" if p["kind"] == "retention" else "metric gain",
                         "people": p["people"], "effect": p["effect"], "unit_value": p["unit_value"], "hours": None,
                         "amount": p["benefit"], "ci_low": p["benefit_ci_low"], "ci_high": p["benefit_ci_high"]})
    return pd.DataFrame(rows, columns=["part", "kind", "people", "effect", "unit_value", "hours", "amount", "ci_low",
                                       "ci_high"])


def benefit_cost_chart(doc: dict) -> go.Figure:
    """Each benefit and the total with 95% intervals, against the cost (a vertical line)."""
    benefits = [p for p in doc["parts"] if p["kind"] != "cost"]
    names = [p["part"] for p in benefits] + ["Total benefit"]
    x = [p["benefit"] for p in benefits] + [doc["benefit"]]
    lo = [p["benefit_ci_low"] for p in benefits] + [doc["benefit_ci_low"]]
    hi = [p["benefit_ci_high"] for p in benefits] + [doc["benefit_ci_high"]]
    colours = [OKABE_ITO["blue"]] * len(benefits) + [OKABE_ITO["black"]]
    fig = go.Figure(go.Scatter(
        x=x, y=names, mode="markers", marker=dict(size=11, color=colours), name="Benefit, 95% interval",
        error_x=dict(type="data", symmetric=False, array=[h - v for h, v in zip(hi, x)],
                     arrayminus=[v - low for v, low in zip(x, lo)]),
        hovertemplate="%{y}<br>%{x:,.0f}<extra></extra>"))
    fig.add_vline(x=doc["cost"], line_color=OKABE_ITO["vermillion"], line_width=2, line_dash="dash",
                  annotation_text=f"Cost {doc['cost']:,.0f}", annotation_position="top")
    fig.add_vline(x=0, line_color="#444", line_width=1)
    fig.update_yaxes(categoryorder="array", categoryarray=names[::-1])
    fig.update_layout(xaxis_title="Money over the horizon (benefit with its 95% interval; dashed: the cost)",
                      height=140 + 40 * len(names), **{**_LAYOUT, "hovermode": "closest"})
    return fig


def topics_section(report, filters, construct_options: list[str]) -> None:
    """The exploratory topic screen, labelled as such, with its multiplicity control stated."""
    from ui import cache
    from ui.charts import pretty

    with st.expander("Which session topics go with larger gains? (exploratory)"):
        st.caption("Exploratory, never a causal verdict: pairs choose their topics, so a topic's association with a "
                   "larger gain may say more about who chooses it. Per role, each participant's gain (mean after "
                   "their start minus mean before) is regressed on one topic, the baseline and the cohort (robust "
                   "HC3 errors); p-values are Holm-adjusted over every topic × role tested. A topic is tested only "
                   "where at least the anonymity threshold of participants did and did not discuss it.")
        construct = st.selectbox("Outcome", construct_options, key="topics_construct", format_func=pretty)
        screen = cache.view("topic_screen", filters, construct=construct)
        if screen.empty:
            st.info("No session topics or no before-and-after answers to screen.")
            return
        shown = screen.drop(columns=["p_value"]).rename(columns={"p_adjusted": "p_holm"})
        report.table(f"Topics and the gain in {pretty(construct)} (exploratory)", shown, key="value-topics")
