"""Upload data (analysts): upload an export, see what Twoway understood, map the survey items,
validate, import with a progress bar, and undo imports from the history.

All logic lives in `analytics.importing`; this page only lays it out.
"""

from __future__ import annotations

import streamlit as st

from analytics.errors import TwowayError
from analytics.importing import (TEMPLATE_KINDS, ImportFailed, blank_template, check_file, describe_removal,
                                 import_file, import_history, mapping_from_editor, preview, undo_import, undo_preview)
from analytics.importing.formats import KINDS
from analytics.importing.mapping import mapping_from_text
from analytics.importing.reading import max_upload_mb
from analytics.importing.uploads import describe_size, discard_upload, editor_table, report_frames, save_upload
from analytics.vocab import CONSTRUCTS
from ui import auth
from ui.state import get_db
from ui.text import plain

auth.require_app_entry()
auth.require_role("analyst")  # app.py registers this page for analysts only; checked again here
db = get_db()
st.title("Upload data")
st.caption("Rosters, mentoring pairs, session logs, metrics and survey exports (Qualtrics, SurveyMonkey, "
           "Google Forms, Microsoft Forms, Twoway templates, any CSV/XLSX). Every import is one transaction "
           "and can be undone below.")

with st.expander("Blank templates", icon=":material/download:"):
    st.write("One row per record; see the column descriptions in the README (Importing data).")
    cols = st.columns(len(TEMPLATE_KINDS))
    for col, kind in zip(cols, TEMPLATE_KINDS):
        col.download_button(f"{kind}.csv", blank_template(kind), file_name=f"{kind}.csv", mime="text/csv",
                            key=f"tpl_{kind}", icon=":material/description:")

try:
    limit_mb = max_upload_mb()
except TwowayError as exc:  # a mistyped TWOWAY_MAX_UPLOAD_MB: say so instead of a traceback
    st.error(plain(exc), icon=":material/error:")
    st.stop()
uploaded = st.file_uploader(f"Export file (CSV or XLSX, up to {limit_mb:g} MB)",
                            type=["csv", "xlsx", "txt", "tsv"], key="upload")


def _show_report(report: dict) -> None:
    frames = report_frames(report)
    issues = frames["issues"]
    for level, message in issues[["level", "message"]].itertuples(index=False):
        (st.error if level == "error" else st.warning)(plain(message))
    if issues["row"].notna().any():  # each problem with its spreadsheet row, to find it in the file
        st.dataframe(issues.loc[issues["row"].notna(), ["row", "level", "message"]].sort_values("row"),
                     hide_index=True, width="stretch", key=f"issues_{report.get('sha256', '')[:8]}")
    st.session_state["upload_needs_force"] = bool(report.get("needs_force"))
    for key in ("added", "changed", "left", "rehired"):
        if report.get(key) and report[key]["count"]:
            st.caption(f"{key}: {report[key]['count']:,} (e.g. {plain(', '.join(map(str, report[key]['examples'])))})")
    if report.get("dropped"):
        st.caption("Not counted as respondents: " + ", ".join(f"{n} × {plain(k)}" for k, n in report["dropped"].items()))
    if not frames["items"].empty:
        st.dataframe(frames["items"], hide_index=True, width="stretch",
                     column_config={"mean": st.column_config.NumberColumn(format="%.3f")})


# The staged file: set from the uploader; it stays until the uploader is cleared.
staged = st.session_state.get("upload_staged")
if uploaded is not None:
    key = getattr(uploaded, "file_id", None) or uploaded.name
    if staged is None or staged.get("key") != key:
        if staged is not None and staged.get("key") is not None:
            discard_upload(staged["path"])
        path = None
        bar = st.progress(0.0, text="Reading the file…")
        try:
            path = save_upload(uploaded, uploaded.name)
            staged = {"key": key, "path": path, "name": uploaded.name,
                      "preview": preview(db, path, file_name=uploaded.name,
                                         progress=lambda f, m: bar.progress(min(f / 0.6, 1.0), text=m))}
        except TwowayError as exc:
            staged = None
            if path is not None:
                discard_upload(path)
            st.error(plain(exc), icon=":material/error:")
        bar.empty()
        st.session_state["upload_staged"] = staged
elif staged is not None and staged.get("key") is not None:
    discard_upload(staged["path"])
    staged = st.session_state["upload_staged"] = None

if staged is not None:
    info, prev = staged, staged["preview"]
    st.subheader("1 · What Twoway found")
    c1, c2, c3 = st.columns(3)
    c1.metric("Format", prev["format"])
    c2.metric("Rows in file", f"{prev['rows_in_file']:,}")
    c3.metric("Size", describe_size(info["path"]))
    if prev.get("duplicate_of"):
        st.info(f"This exact file was already imported as #{prev['duplicate_of']}; importing it again changes "
                "nothing.", icon=":material/content_copy:")
    kind = st.selectbox("Kind of data", KINDS, index=KINDS.index(prev["kind"]), key="kind",
                        help="Detected from the file; change it if the guess is wrong.")
    st.dataframe(prev["head"], hide_index=True, width="stretch")

    survey = id_column = mapping = None
    if kind == "survey":
        st.subheader("2 · Survey items")
        survey = st.text_input("Survey wave name", value=prev.get("survey", ""), key="survey",
                               help="One name per wave, e.g. 'pulse-2025-q1'. Mappings are saved per survey family "
                                    "and offered again for the next wave.")
        columns = prev.get("columns", [])
        choice = st.selectbox("Column that identifies a person", ["(detect)"] + columns, key="id_column",
                              help="Employee ids link answers to the roster. Without one, each response is "
                                   "its own respondent.")
        id_column = None if choice == "(detect)" else choice
        st.caption("Tick the items to import, confirm or change the suggested construct, and mark "
                   "reverse-coded items. Each item shows its answer options and the scale Twoway detected; set "
                   "the lowest and highest scale point, and labels such as `Never=1; Rarely=2; Don't know=` "
                   "(blank = missing), where they are wrong or missing.")
        edited = st.data_editor(
            editor_table(prev.get("items")), key="mapping_editor", hide_index=True, width="stretch",
            disabled=["question", "item", "answers", "detected_scale"],
            column_config={
                "construct": st.column_config.SelectboxColumn("construct", options=list(CONSTRUCTS)),
                "import": st.column_config.CheckboxColumn("import"),
                "reverse": st.column_config.CheckboxColumn("reverse-coded"),
                "answers": st.column_config.TextColumn("answer options"),
                "detected_scale": st.column_config.TextColumn("detected scale"),
                "scale_min": st.column_config.NumberColumn("scale lowest", step=1.0),
                "scale_max": st.column_config.NumberColumn("scale highest", step=1.0),
                "labels": st.column_config.TextColumn("labels (answer=number; …)"),
            })
        try:
            mapping = mapping_from_editor(edited)
        except TwowayError as exc:
            st.error(f"Mapping table: {exc}")
            st.stop()
        advanced = st.text_area(
            "Mapping JSON (optional; replaces the table above)", key="mapping_json", height=100,
            placeholder='{"Q3_2": {"construct": "agility", "scale": [1, 4], "labels": {"Never": 1, "Always": 4}}}',
            help="For scales that are not agreement: give \"scale\" and a \"labels\" table per item. "
                 "Keys are question texts or column ids.")
        if advanced.strip():
            try:
                mapping = mapping_from_text(advanced)
            except TwowayError as exc:
                st.error(f"Mapping JSON: {plain(exc)}")
                st.stop()

    as_of = force = None
    if kind == "employees":
        st.subheader("2 · Roster snapshot")
        as_of = st.date_input("Snapshot date (the file is the full roster on this day)", value=None, key="as_of",
                              help="Leave empty for a first roster or one that only adds people. With a date, "
                                   "people missing from the file leave on it, changes are kept with dates and "
                                   "returning people start a new spell.")
        force = bool(st.session_state.get("force")) and st.session_state.get("upload_needs_force")

    st.subheader("3 · Check and import")
    b1, b2 = st.columns(2)
    args = dict(kind=kind, survey=survey, mapping=mapping, id_column=id_column, file_name=info["name"],
                as_of=as_of, force=bool(force))
    if b1.button("Check (nothing is written)", key="check", icon=":material/rule:"):
        try:
            report, _, _ = check_file(db, info["path"], **args)
            unconfirmed = [i["item"] for i in report["items"] if i.get("scale_from") in ("other items", "answers")
                           or i["item"] in report.get("scale_ambiguous", ())]
            noun = "respondents" if kind == "survey" else "rows"
            if not report["errors"] and not unconfirmed:
                st.success(f"Ready: {report['rows']:,} {noun}.")
            elif not report["errors"]:
                st.warning(f"Checked: {report['rows']:,} {noun}, but the scale of {len(unconfirmed)} item(s) is not "
                           "stated by a mapping or by labels (" + ", ".join(unconfirmed[:5])
                           + "): set scale_min / scale_max in the table above before importing.")
            _show_report(report)
        except TwowayError as exc:
            st.error(plain(exc))
    if b2.button("Import", key="import", type="primary", icon=":material/upload:"):
        bar = st.progress(0.0, text="Starting…")

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        try:
            report = import_file(db, info["path"], progress=progress, **args)
        except ImportFailed as exc:
            st.error("Nothing was imported: the file has problems.", icon=":material/error:")
            _show_report(exc.report)
        except TwowayError as exc:
            st.error(f"Nothing was imported: {plain(exc)}", icon=":material/error:")
        else:
            if report.get("duplicate_of"):
                st.info(f"Already imported as #{report['duplicate_of']}: nothing changed.")
            else:
                st.success(f"Imported as #{report['import_id']}: {report['rows']:,} "
                           f"{'respondents' if kind == 'survey' else 'rows'} in {report['seconds']:.1f} s.",
                           icon=":material/check_circle:")
            st.session_state["undo_id"] = None  # the undo box never keeps an earlier choice
            _show_report(report)
    if kind == "employees" and st.session_state.get("upload_needs_force"):  # the confirm step of a big snapshot
        st.checkbox("Confirm: this snapshot ends more than 40 % of current employees, and the file is the full "
                    "roster", key="force")

st.subheader("Import history")
history = import_history(db)
if history.empty:
    st.info("Nothing imported yet.")
else:
    st.dataframe(history, hide_index=True, width="stretch", key="history")
    live = history.loc[history["status"] == "ok", "import_id"].tolist()
    if live:
        def _label(i: int) -> str:
            row = history.loc[history["import_id"] == i].iloc[0]
            return f"#{i} · {row['file_name']} · {row['kind']} · {row['rows']:,} rows"

        if st.session_state.get("undo_id") not in live:
            st.session_state["undo_id"] = None
        target = st.selectbox("Undo an import", live, index=None, key="undo_id", format_func=_label,
                              placeholder="Choose an import to undo")
        if target is not None:
            plan = undo_preview(db, int(target))
            if plan["blocked"]:
                st.info(f"Import #{target} ({plain(plan['file_name'])}) cannot be undone here: {plain(plan['blocked'])}.",
                        icon=":material/lock:")
            else:
                st.warning(f"Undo import #{target} — {plain(plan['file_name'])} ({plan['kind']}, {plan['rows']:,} rows)? "
                           f"This removes {describe_removal(plan['removes'])}. Only importing the file again brings "
                           "them back.", icon=":material/warning:")
                sure = st.checkbox(f"Yes, undo import #{target} ({plain(plan['file_name'])})", key=f"undo_confirm_{target}")
                if st.button(f"Undo import #{target}", key="undo", icon=":material/undo:", disabled=not sure,
                             type="primary"):
                    try:
                        result = undo_import(db, int(target), protect_demo=True)
                        st.session_state["undo_message"] = (f"Import #{target} undone: "
                                                            f"{describe_removal(result['deleted'])} removed.")
                        del st.session_state["undo_id"]
                        st.rerun()
                    except TwowayError as exc:
                        st.error(plain(exc))
if "undo_message" in st.session_state:
    st.success(st.session_state.pop("undo_message"), icon=":material/undo:")
