"""The one sidebar: the filter model (`analytics.filters.Filters`) bound to widgets and the URL.

Both ways:

* opening a URL sets the widgets — the query string is parsed and validated against the values
  in the store (`Filters.parse`); anything unknown or malformed is dropped with a notice and
  never reaches SQL as text;
* changing a widget rewrites the query string (`st.query_params`), so the address bar always
  holds a link that reproduces the view.

Why not `bind="query-params"` on the widgets: bound widgets drop invalid values silently (the
issue asks for a visible notice), a wave range has to travel as dates the CLI understands, and
`as_of` is no widget at all. So the helper syncs explicitly, once per run;
every page calls through `start_page` before drawing anything.

Within a session the widgets are the truth (page switches clear the query string; it is
written back); a new session — a shared link — takes the URL as the truth.
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from analytics.filters import IGNORED_KEYS, KEYS, LIST_KEYS, MAX_VALUE_LENGTH, METHODS, Filters
from analytics.views import FilterOptions, filter_options
from ui.state import data_version, get_db
from ui.text import plain

LABELS = {"department": "Department", "location": "Location", "generation": "Generation", "level": "Level",
          "cohort": "Programme cohort"}
METHOD_LABELS = {"weighted": "Matched comparison (weighted)", "unweighted": "Unmatched comparison"}
WIDGET = {k: f"flt_{k}" for k in LIST_KEYS}
WAVES_KEY, METHOD_KEY, PIN_KEY = "flt_waves", "flt_method", "flt_pin"
_STATE, _URL_SEEN, _NOTICES = "_tw_filters", "_tw_url_seen", "_tw_notices"
MAX_NOTICES = 8  # a link with thousands of junk parameters gets a short list, not a wall of warnings
DROPPED_KEY = "_tw_dropped"  # set by _OVERSIZED_LINK_JS: how many parameters the browser left out

# Streamlit ignores a whole query string of more than 1,000 parameters or 512 KiB before any
# script runs (streamlit.runtime.state.query_params.sanitize_query_string), so a link with
# 2,000 junk parameters would silently lose its valid filters too, and keep its junk in the
# address bar. Only the browser still has that query string: when the server saw none, this
# fixed script (no data in it) keeps the filter parameters (and `claim`), counts the rest and
# reopens the page with `_tw_dropped=<count>`, which the sidebar turns into a notice and then
# removes.
_OVERSIZED_LINK_JS = """<script>
(function () {
  const search = window.location.search;
  const params = new URLSearchParams(search);
  let total = 0;
  for (const _ of params) total++;
  if (total <= 1000 && search.length <= 512 * 1024) return;
  const keys = %s;
  const keep = new URLSearchParams();
  let kept = 0;
  for (const [k, v] of params) {
    if (keys.includes(k) && v.length <= %d && kept < 900) { keep.append(k, v); kept++; }
  }
  keep.append("%s", String(total - kept));
  window.location.replace(window.location.pathname + "?" + keep.toString());
})();
</script>"""


@st.cache_data(show_spinner=False, max_entries=8)
def load_options(version: tuple, k: int) -> FilterOptions:
    return filter_options(get_db(), k)


def options() -> FilterOptions:
    """The released filter values; keyed by the threshold too, since the reporting groups (and so
    the labels offered) depend on it."""
    from analytics.privacy import min_group_size

    return load_options(data_version(), min_group_size())


# -- waves <-> dates ------------------------------------------------------------------------------
def waves_in_range(waves: pd.DataFrame, f: Filters) -> list[str]:
    """The waves whose opening date lies in the filter's date range, in time order."""
    opened = pd.to_datetime(waves["opened"]).dt.date
    keep = pd.Series(True, index=waves.index)
    if f.date_from:
        keep &= opened >= f.date_from
    if f.date_to:
        keep &= opened <= f.date_to
    return list(waves.loc[keep, "survey"])


def dates_for_waves(waves: pd.DataFrame, first: str, last: str) -> tuple:
    """Canonical dates for a wave range: None at either open end, else the wave's opening date."""
    order = list(waves["survey"])
    opened = dict(zip(waves["survey"], pd.to_datetime(waves["opened"]).dt.date))
    i, j = sorted((order.index(first), order.index(last)))
    return (None if i == 0 else opened[order[i]]), (None if j == len(order) - 1 else opened[order[j]])


def _snap_to_waves(f: Filters, waves: pd.DataFrame) -> tuple[Filters, list[str]]:
    """Dates from a URL become the waves they cover, written back as canonical wave dates."""
    if waves.empty or (f.date_from is None and f.date_to is None) or waves["opened"].isna().any():
        return f, []
    chosen = waves_in_range(waves, f)
    if not chosen:
        return replace(f, date_from=None, date_to=None), [
            "Ignored the date range: no survey wave opened in it; showing all waves."]
    d_from, d_to = dates_for_waves(waves, chosen[0], chosen[-1])
    return replace(f, date_from=d_from, date_to=d_to), []


# -- URL -----------------------------------------------------------------------------------------
def url_params() -> dict[str, list[str]]:
    """The query string as key → all its values (repeated keys are multi-valued)."""
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def _canon(params: dict) -> tuple:
    return tuple(sorted((k, tuple(v)) for k, v in params.items() if k not in IGNORED_KEYS))


def _write_url(f: Filters) -> None:
    want = f.to_params()
    have = url_params()
    for k in have:
        if k not in want and k not in IGNORED_KEYS:
            del st.query_params[k]
    for k, v in want.items():
        if have.get(k) != v:
            st.query_params[k] = v if len(v) > 1 else v[0]
    st.session_state[_URL_SEEN] = _canon(want)


#: Page state that travels in the link beside the filters (validated by the page that reads it).
VIEW_KEYS: tuple[str, ...] = ("claim", "group", "role", "tab", "inputs")


def view_state() -> dict[str, list[str]]:
    """The page state in the current URL (opened claim, heatmap grouping, role, tab)."""
    return {k: st.query_params.get_all(k)[-1:] for k in VIEW_KEYS if st.query_params.get_all(k)}


def view_param(name: str, options, default=None, notice: str | None = None):
    """A page-state value from the URL when it is one of `options`, else `default` (and the URL is
    corrected, with a notice when the value was unknown). The caller writes changes back with
    `set_view_param`."""
    wanted = st.query_params.get(name)
    if wanted is None:
        return default
    if wanted in list(options):
        return wanted
    st.warning(plain(notice or f"Ignored {name} {str(wanted)[:40]!r}: not available on this page."),
               icon=":material/link_off:")
    set_view_param(name, None)
    return default


def set_view_param(name: str, value) -> None:
    """Write (or, for None/default, remove) one page-state value in the address bar."""
    if value is None or value == "":
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != str(value):
        st.query_params[name] = str(value)


def share_url(f: Filters, page_state: dict | None = None) -> str:
    """The full link to this page and view (st.context.url is the page URL without its query).

    The root URL is spelled `/overview` so that a link always names its page."""
    base = st.context.url or ""
    state = view_state() if page_state is None else page_state
    query = urlencode({**f.to_params(), **{k: v for k, v in state.items() if v}}, doseq=True)
    return f"{base}?{query}" if query else base


#: The copy button: static HTML with no data in it; it copies the address bar of the page it sits in
#: (the iframe is same-origin), so it always copies the link as the browser shows it.
_COPY_BUTTON = (
    "<button id='b' style='font:14px system-ui,sans-serif;padding:6px 12px;border:1px solid #0072B2;"
    "border-radius:6px;background:#fff;color:#0072B2;cursor:pointer'>Copy link to this view</button>"
    "<span id='m' role='status' style='font:12px system-ui,sans-serif;margin-left:8px;color:#52606d'></span>"
    "<script>document.getElementById('b').onclick=async()=>{const m=document.getElementById('m');"
    "try{await navigator.clipboard.writeText(window.parent.location.href);m.textContent='Copied'}"
    "catch(e){m.textContent='Select the link above and copy it'}};</script>")


def copy_link_control(f: Filters) -> None:
    """A visible, labelled "Copy link to this view" button (clipboard) above the link itself."""
    with st.sidebar:
        st.markdown("**Link to this view**")
        st.code(share_url(f), language=None, wrap_lines=True)
        st.iframe(_COPY_BUTTON, height=44)


# -- widgets -------------------------------------------------------------------------------------
def _load_widgets(f: Filters, opts: FilterOptions) -> None:
    ss = st.session_state
    for k in LIST_KEYS:
        ss[WIDGET[k]] = list(getattr(f, k))
    surveys = list(opts.waves["survey"])
    if len(surveys) > 1:
        chosen = waves_in_range(opts.waves, f) or surveys
        ss[WAVES_KEY] = (chosen[0], chosen[-1])
    ss[METHOD_KEY] = f.method
    ss[PIN_KEY] = f.as_of is not None


def _clear() -> None:
    _load_widgets(Filters(), options())


def filters_sidebar(show_method: bool = False, latest_import: int | None = None) -> tuple[Filters, tuple[str, ...]]:
    """Render the filters in the sidebar, keep them in sync with the URL; return them and notices.

    Parameters
    ----------
    show_method : show the comparison-method choice (pages with claims); otherwise it is kept
        as it was (and stays in the link).
    latest_import : the newest import id, offered for pinning the link to this data version.
    """
    ss = st.session_state
    opts = options()
    raw = url_params()
    url_has_filters = any(k not in IGNORED_KEYS for k in raw)
    if _STATE not in ss and not raw:
        # an empty query string may be one Streamlit threw away for its size: the browser checks
        with st.sidebar:
            st.html(_OVERSIZED_LINK_JS % (json.dumps([*KEYS, "claim"]), MAX_VALUE_LENGTH, DROPPED_KEY),
                    unsafe_allow_javascript=True, width="content")
    if _STATE not in ss or (url_has_filters and _canon(raw) != ss.get(_URL_SEEN)):
        parsed = Filters.parse(raw, opts.allowed())
        parsed, more = _snap_to_waves(parsed, opts.waves)
        dropped = (raw.get(DROPPED_KEY) or [""])[-1]
        if dropped.isascii() and dropped.isdigit():
            more.insert(0, f"This link was too long to open as it was (over 1,000 parameters or 512 KiB): "
                           f"{int(dropped):,} unknown or over-long parameters were ignored, and its filters kept.")
        if parsed.as_of is not None and (latest_import is None or parsed.as_of > latest_import):
            parsed = replace(parsed, as_of=None)
            more.append("Ignored as_of: no such import; showing the latest data.")
        ss[_NOTICES] = tuple(parsed.notices) + tuple(more)
        ss[_STATE] = parsed
        _load_widgets(parsed, opts)
    previous: Filters = ss[_STATE]
    if any(WIDGET[k] not in ss for k in LIST_KEYS):
        _load_widgets(previous, opts)
    for key, value in ((METHOD_KEY, previous.method), (PIN_KEY, previous.as_of is not None)):
        if key not in ss:
            ss[key] = value
    # Each page draws its own copy of the widgets (Streamlit tells widgets apart by page), so the
    # values are handed on explicitly: re-assigning them carries them over a page switch.
    for key in [*WIDGET.values(), WAVES_KEY, METHOD_KEY, PIN_KEY]:
        if key in ss:
            ss[key] = ss[key]

    surveys = list(opts.waves["survey"])
    titles = {w.survey: (f"{w.opened:%b %Y}" if pd.notna(w.opened) else w.survey)
              for w in opts.waves.itertuples(index=False)}
    with st.sidebar:
        st.header("Filters")
        for k in LIST_KEYS:
            st.multiselect(LABELS[k], opts.values.get(k, []), key=WIDGET[k], placeholder="Everyone")
        if len(surveys) > 1:
            if ss.get(WAVES_KEY) is None or any(w not in surveys for w in ss[WAVES_KEY]):
                ss[WAVES_KEY] = (surveys[0], surveys[-1])
            # value= makes it a range slider whatever the session holds (it only sets the default)
            st.select_slider("Survey waves", surveys, value=(surveys[0], surveys[-1]), key=WAVES_KEY,
                             format_func=lambda s: plain(titles.get(s) or s))
        if show_method:
            st.radio("Comparison method", METHODS, key=METHOD_KEY, format_func=METHOD_LABELS.get,
                     help="Matched: the comparison group is re-weighted to look like participants before the "
                          "programme (department, level, generation, tenure). Unmatched: everyone else as is.")
        pin_label = f"Pin link to this data (import #{latest_import})" if latest_import else "Pin link to this data"
        st.checkbox(pin_label, key=PIN_KEY, disabled=latest_import is None,
                    help="A pinned link keeps showing these figures after new data is imported, and says "
                         "that newer data exists.")
        st.button("Clear filters", on_click=_clear, type="tertiary", icon=":material/filter_alt_off:")

    values: dict = {k: list(ss.get(WIDGET[k]) or []) for k in LIST_KEYS}
    if len(surveys) > 1:
        d_from, d_to = dates_for_waves(opts.waves, *ss[WAVES_KEY])
        values.update(date_from=[d_from.isoformat()] if d_from else [], date_to=[d_to.isoformat()] if d_to else [])
    values["method"] = [ss[METHOD_KEY] if show_method else previous.method]
    if ss[PIN_KEY]:
        values["as_of"] = [str(previous.as_of or latest_import or "")]
    current = Filters.parse(values, opts.allowed())
    if current.key() != previous.key():
        ss[_NOTICES] = ()  # the person changed the view: notices about the old link are stale
    ss[_STATE] = current
    _write_url(current)

    copy_link_control(current)
    return current, ss.get(_NOTICES, ())




def start_page(method: bool = False, analysts_only: bool = False) -> Filters:
    """What every page does first: check who is asking, draw the filters, say what was ignored,
    and refuse a view that would expose a small group. Returns the filters to use."""
    from ui import auth, cache

    auth.require_app_entry()
    user = auth.require_role("analyst") if analysts_only else auth.current_user()
    latest_import = cache.latest_import()
    filters, notices = filters_sidebar(show_method=method, latest_import=latest_import)
    auth.account_box(user)
    for notice in notices[:MAX_NOTICES]:
        st.warning(plain(notice), icon=":material/link_off:")
    if len(notices) > MAX_NOTICES:
        st.warning(f"…and {len(notices) - MAX_NOTICES} more link parameters ignored.", icon=":material/link_off:")
    if filters.as_of is not None and latest_import is not None and filters.as_of < latest_import:
        latest = share_url(replace(filters, as_of=None))
        st.info(f"This link is pinned to the data as of import #{filters.as_of}, so it shows the figures its "
                f"sender saw. Newer data has arrived since (import #{latest_import}): "
                f"[see the latest figures]({latest}).", icon=":material/history:")
    check = cache.view("check_selection", filters)
    if not check.ok:
        refuse(filters, check.reason)
    return filters


def wider_views(f: Filters):
    """Wider views, nearest first: drop one filter, then two, …, finally everyone."""
    import itertools

    restricted = [k for k in reversed(LIST_KEYS) if getattr(f, k)]
    for r in range(1, len(restricted) + 1):
        for dropped in itertools.combinations(restricted, r):
            yield replace(f, **{k: () for k in dropped}, notices=())


def nearest_allowed(f: Filters) -> Filters | None:
    """The nearest wider view that passes the anonymity check (None when even everyone fails)."""
    from ui import cache

    for wider in wider_views(f):
        if cache.view("check_selection", wider).ok:
            return wider
    return None


def refuse(f: Filters, reason: str) -> None:
    """Stop a refused view with the reason, what it protects, and a link to the nearest allowed view."""
    from ui import auth

    st.error(plain(reason), icon=":material/lock:")
    st.markdown("This view is not shown because its figures would describe fewer people than the anonymity "
                "threshold, so individuals could be recognised. Your filters are kept in the sidebar.")
    wider = nearest_allowed(f)
    page = auth._calling_page()
    if wider is not None and page:
        state = {k: v for k, v in view_state().items()}
        st.page_link(f"pages/{page}.py", label=plain(f"Open the nearest allowed view: {wider.describe()}"),
                     icon=":material/zoom_out_map:", query_params={**wider.to_params(), **state})
    st.stop()
