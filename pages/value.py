"""Value: what the programme returns for what it costs (Phillips' ROI), from the causal estimates only.

Analysts edit and save the inputs (saved with the database, versioned); everyone sees every input,
the ROI with its 95% interval, the parts and a chart. The current inputs travel in the link
(``inputs``), validated like the CLI's ``--costs``.
"""
import json

import streamlit as st

from analytics.errors import TwowayError
from analytics.value_data import save_inputs
from ui import auth, cache
from ui import value as vui
from ui.exports import ViewReport
from ui.sidebar import start_page
from ui.state import db_path
from ui.text import plain

filters = start_page()
k = cache.min_group()
user = auth.current_user()
report = ViewReport("Value", filters, k)

st.title("Value: what the programme returns")
st.caption(f"The whole programme{' as of import #' + str(filters.as_of) if filters.as_of else ''} · benefits come "
           f"only from causal estimates (retention hazard, objective-metric differences-in-differences); the "
           f"sidebar's group filters do not apply here (a group has no share of the fixed cost, and subgroup "
           f"estimates are exploratory: README, 'Return on investment') · groups smaller than {k} people are "
           f"never shown.")

info = cache.view("value_inputs", filters)
saved, defaults, source = info["saved"], info["defaults"], info["source"]
from_link = vui.link_inputs(saved, info["metrics"])
vui.load_widgets(from_link or saved, source.get("version"))
if source.get("note"):
    st.warning(plain(source["note"]))

flash = st.session_state.pop("_tw_value_saved", None)
if flash:
    st.success(plain(flash), icon=":material/save:")

with st.expander("Inputs" + (" (edit and save)" if user.is_analyst else ""), expanded=user.is_analyst):
    who = f" by {source['saved_by'] or 'unknown'}" if user.is_analyst else ""  # accounts only for analysts
    st.caption(plain("Saved: " + (f"version {source['version']}, {source['saved_at']}{who}" if source.get("version")
                                  else "nothing yet — the defaults below apply")))
    if user.is_analyst:
        try:
            costs = vui.editor(saved, info["units"])
        except ValueError as exc:  # the widgets bound every value, so this is a defensive message
            st.error(plain(str(exc)))
            st.stop()

        def _save() -> None:
            try:  # the widgets' values now (a click may arrive with an edit in the same rerun)
                current = vui.costs_from_state(saved)
                version, _ = save_inputs(db_path(), current.as_dict(), saved_by=user.email or user.name)
                st.session_state["_tw_value_saved"] = f"Saved the inputs as version {version}."
                vui.set_view_param(vui.LINK_KEY, None)
            except (TwowayError, ValueError) as exc:
                st.session_state["_tw_value_error"] = str(exc)

        pinned = filters.as_of is not None
        st.button("Save inputs", on_click=_save, type="primary", icon=":material/save:", key="value_save",
                  disabled=costs == saved or pinned,
                  help="Unpin the link to save: saved inputs apply to the latest data." if pinned else
                  "Store these inputs with the database (a new version; pinned links keep the inputs of their time).")
        err = st.session_state.pop("_tw_value_error", None)
        if err:
            st.error(plain(err))
    else:
        costs = from_link or saved
        st.caption("Only analysts can change and save the inputs.")
    report.table("Inputs", vui.inputs_frame(costs, saved, defaults), key="value-inputs",
                 text="Every input with its default; the value used is the saved one unless this view changed it.")
vui.write_link(costs, saved)

doc = cache.view("value", filters, inputs=json.dumps(costs.as_dict(), sort_keys=True))
if "error" in doc:
    st.info(plain(doc["error"]), icon=":material/lock:")
    st.stop()

a, b, c, d = st.columns(4)
a.metric("Return on investment", f"{doc['roi_pct']:+,.0f} %",
         help="(benefits − costs) / costs × 100, Phillips' level 5.")
b.metric("95% interval of the ROI", f"{doc['roi_ci_low']:+,.0f} % to {doc['roi_ci_high']:+,.0f} %")
c.metric("Benefit–cost ratio", f"{doc['bcr']:.2f}", help=f"95% interval {doc['bcr_ci_low']:.2f} to "
                                                         f"{doc['bcr_ci_high']:.2f}")
d.metric("Chance of a loss", f"{doc['p_loss']:.0%}")
(st.warning if doc["roi_ci_low"] < 0 else st.success)(plain(doc["sentence"]))
report.note("Return on investment", doc["sentence"])
st.caption(f"Benefit {doc['benefit']:,.0f} (95% interval {doc['benefit_ci_low']:,.0f} to "
           f"{doc['benefit_ci_high']:,.0f}) against a cost of {doc['cost']:,.0f} over "
           f"{doc['inputs']['horizon_months']} months, for {doc['programme']['pairs']:,} pairs.")

report.chart("Benefits against the cost", vui.benefit_cost_chart(doc), vui.parts_frame(doc), key="value-chart",
             text="Each causal estimate turned into money, with its 95% interval from the estimate's uncertainty; "
                  "the total's interval is simulated from all of them. Right of the dashed line the programme pays.")
report.table("The parts", vui.parts_frame(doc), key="value-parts",
             text="Avoided leavers = participants × fewer leavers (12-month difference, pro rata over the horizon) "
                  "× replacement cost; a metric gain = gain per person-month × participants × months × value of "
                  "one unit; costs are taken as known.")
for m in doc["not_valued"]:
    st.caption(plain(f"Not valued — {m['part']}: {m['reason']}"))
st.caption("Limits: the parts are simulated as independent (they share comparison colleagues); an estimate that is "
           "not significant still counts with its whole interval; benefits beyond the horizon are not counted.")
vui.topics_section(report, filters, ["engagement", "belonging", "confidence", "agility", "innovation", "productivity",
                                    "psychological_safety"])
report.report_button()
