"""Text from outside (URL parameters, imported files, sign-in tokens) shown as plain text.

Almost every Streamlit element renders its text as Markdown: st.markdown/caption/info/warning/
error/success, widget labels, metric labels, expander labels, st.table cells and select_slider
options. A department called ``[Sign in again](http://evil.example)`` would be a live link, and
``![x](http://evil.example/t.png)`` would make every viewer's browser fetch that address. Plotly
renders a few HTML tags in its text (``<a href>``, ``<span style>``, ``<b>``), so a name in a
legend, an axis tick or a hover label could be a link too.

Two helpers close that, and every page draws outside text through them:

* `plain` backslash-escapes the characters that build links, images, code, tables, headings,
  emphasis and LaTeX (``\\ ` [ ] < > * $ # | ~ !`` and an underscore at a word's edge;
  CommonMark renders an escaped character as itself) and folds line breaks into spaces.
  Streamlit also turns bare addresses into links *after* escapes are resolved
  (``http://…``, ``www.…``, ``name@host``, checked in a real browser), and reads ``:name[…]``,
  ``:material/…:`` and ``:smile:`` as colours and icons; those are broken with an invisible
  WORD JOINER (U+2060) after the scheme, after ``www``, before ``@`` and after a colon that a
  letter follows. Colons, quotes, full stops and underscores inside words stay as they are,
  so ordinary messages read the same;
* `plain_figure` HTML-escapes every string of a plotly figure (trace values, names, hover text,
  titles, annotations, category orders), keeping only the line-break and ``<extra>`` tags our
  own hover templates use.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go

_MARKUP = re.compile(r"([\\`\[\]<>*$#|~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
JOINER = "\u2060"
# where a bare address or a directive would start: after a URL scheme, "www", before "@",
# and after a colon followed by a letter
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=\bwww)(?=\.)|(?=@)|(?<=:)(?=[a-z])")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def plain(text: Any) -> str:
    r"""`text` as Markdown that renders exactly as the characters given, on one line.

    Examples
    --------
    >>> plain("[Sign in again](http://evil.example) ![x](www.evil.example/t.png)")
    '\\[Sign in again\\](http\u2060://evil.example) \\!\\[x\\](www\u2060.evil.example/t.png)'
    >>> plain("Ignored department 'R&D': no such value.\n# ok") == "Ignored department 'R&D': no such value. \\# ok"
    True
    >>> plain(":red[x] a@b.org date_from _i_")
    ':\u2060red\\[x\\] a\u2060@b.org date_from \\_i\\_'
    """
    escaped = _MARKUP.sub(r"\\\1", _BREAKS.sub(" ", str(text)))
    return _AUTOLINK.sub(JOINER, escaped)


def plain_table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells are `plain` (st.table renders Markdown in its cells)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: plain(v) if isinstance(v, str) else v)
    return out


# Tags our own figures use (hover templates): put back after escaping. None of them can link,
# load or style anything.
_OWN_TAGS = {"&lt;br&gt;": "<br>", "&lt;extra&gt;": "<extra>", "&lt;/extra&gt;": "</extra>"}
_OWN = re.compile("|".join(map(re.escape, _OWN_TAGS)))


def _esc(value: Any) -> Any:
    if not isinstance(value, str) or not any(c in value for c in "<>&"):
        return value
    return _OWN.sub(lambda m: _OWN_TAGS[m.group(0)], html.escape(value, quote=False))


def _esc_any(value: Any) -> tuple[Any, bool]:
    """`value` with every string in it escaped (lists, tuples, arrays), and whether anything changed."""
    if isinstance(value, str):
        new = _esc(value)
        return new, new != value
    if isinstance(value, dict):
        changed, out = False, {}
        for k, v in value.items():
            out[k], c = _esc_any(v)
            changed |= c
        return out, changed
    if isinstance(value, (list, tuple)) or (hasattr(value, "dtype") and getattr(value, "dtype", None) == object):
        items = list(value)
        new = [_esc_any(v)[0] for v in items]
        return new, any(a is not b for a, b in zip(new, items))
    return value, False


def plain_figure(fig: go.Figure | None) -> go.Figure | None:
    """Escape, in place, every text plotly would read as HTML; returns the same figure."""
    if fig is None:
        return None
    for trace in fig.data:
        for key, value in trace.to_plotly_json().items():
            if key in ("type", "uid"):
                continue
            new, changed = _esc_any(value)
            if changed:
                trace[key] = new
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    new, changed = _esc_any(layout)
    if changed:
        fig.update_layout(new, overwrite=True)
    return fig
