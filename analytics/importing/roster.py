"""A roster file → new people, dated attribute changes, leavers and rehires.

The first roster describes everyone "since the start of the data" (its rows have no
`valid_from`). A later roster is a *snapshot* when it has an effective date (``--as-of`` or an
`effective_date` column): it is the full roster on that date, so

- people not seen before are **added** (employed from their `hire_date` when that is on or
  before the snapshot, else from the snapshot date);
- people whose department, level, location, manager or e-mail differ are **changed**: their
  current row ends on the snapshot date and a new one starts, so nothing is overwritten;
- people employed before but missing from the file, or with a `termination_date`, **leave**
  (on the snapshot date, or on their termination date);
- people who had left and appear again are **rehired**: a new spell starts.

A snapshot that would end more than `MAX_LEAVER_SHARE` of the current employees is refused
unless forced: real HR syncs pause there, because a partial file looks exactly like that.
Without an effective date a roster may only add people (an existing id is an error, as before).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.store import roster as store

#: A snapshot ending more than this share of current employees needs --force (or the page's confirm).
MAX_LEAVER_SHARE = 0.40
EXAMPLES = 5


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise equality where two missing values are equal."""
    a, b = a.astype(object), b.astype(object)
    both_missing = a.isna() & b.isna()
    return both_missing | ((a == b) & a.notna() & b.notna())


def _summary(ids) -> dict:
    ids = list(ids)
    return {"count": len(ids), "examples": sorted(ids)[:EXAMPLES]}


def snapshot_date(c, as_of: dt.date | None) -> dt.date | None:
    """The snapshot's one effective date: `as_of`, else the `effective_date` column (one value)."""
    if "effective_date" not in c.pos:
        return as_of
    eff = pd.Series([None if v is None or pd.isna(v) else v for v in c.date("effective_date")], index=c.data.index,
                    dtype=object)
    given = pd.Series(eff, index=c.data.index).dropna()
    if as_of is not None:
        if len(given) and (given != as_of).any():
            c.error(pd.Series(eff, index=c.data.index).map(lambda d: d is not None and d != as_of), "effective_date",
                    f"differs from --as-of {as_of}")
        return as_of
    if given.empty:
        return None
    if given.nunique() > 1:
        first = given.iloc[0]
        c.error(pd.Series(eff, index=c.data.index).map(lambda d: d is not None and d != first), "effective_date",
                f"differs from {first} in row {given.index[0]}: a snapshot has one effective date")
        return None
    if len(given) < len(c.data):
        c.error(pd.Series(eff, index=c.data.index).isna(), "effective_date", "empty, but other rows give one")
    return given.iloc[0]


def plan_roster(c, frame: pd.DataFrame, as_of: dt.date | None, force: bool, import_id: int | None,
                report: dict) -> dict[str, pd.DataFrame]:
    """The rows to write for a roster file (`frame` has one row per file row, indexed by file row).

    Errors go to the checker `c`; the report gains `snapshot`, `added`, `changed`, `left` and
    `rehired` (counts with examples). Returns frames for `employees` and `employee_history`, and
    `_close` (employee_id, valid_to) for open rows this import ends.
    """
    db = c.db
    term = frame["termination_date"]
    first_roster = not store.has_history(db)
    ids = frame["employee_id"]
    state = store.latest_rows(db, list(ids[ids != ""].unique())).set_index("employee_id")
    known = ids.isin(state.index)
    report["snapshot"] = None if as_of is None else str(as_of)
    if as_of is None:
        if known.any():
            k = ids[known].iloc[0]
            by = store_import_of(db, k)
            c.error(known, "employee_id", f"{k!r} already exists (from import #{by}); to load a newer roster give "
                    "its date (--as-of DATE or an effective_date column), or undo that import first")
    else:
        last = store.last_change(db)
        if last is not None and as_of <= last:
            c.issues.error(f"--as-of {as_of}: the roster history already runs to {last}; snapshots are loaded in "
                           "date order (undo the later snapshot first)")
    if as_of is not None:
        late = pd.Series([t is not None and t > as_of for t in term], index=frame.index)
        c.error(late, "termination_date", f"after the snapshot date {as_of}")

    open_ = state[state["valid_to"].isna()] if len(state) else state
    cur = state.reindex(ids)  # the stored latest row of each file row's person (NaN if new)
    cur.index = frame.index
    is_open = known & cur["valid_to"].isna()
    has_term = term.notna()
    same = pd.Series(True, index=frame.index)
    for col in store.TRACKED:
        same &= _same(frame[col], cur[col])

    new = ~known
    hire = frame["hire_date"]
    before_hire = pd.Series([t is not None and h is not None and not pd.isna(t) and not pd.isna(h) and t < h
                             for t, h in zip(term, hire)], index=frame.index)
    c.error(before_hire, "termination_date", "before this person's hire_date")
    start_new = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if as_of is not None and not first_roster:
        start_new = pd.Series([h if h is not None and h <= as_of else as_of for h in hire], index=frame.index,
                              dtype=object)
        # a new person's spell would end before it starts (employed on no day)
        ends_first = new & has_term & ~before_hire & pd.Series(
            [s is not None and t is not None and not pd.isna(t) and t < s for t, s in zip(term, start_new)],
            index=frame.index)
        c.error(ends_first, "termination_date",
                f"before this new person's start on the snapshot date {as_of} (give their hire_date)")
    changed = is_open & ~same & ~has_term if as_of is not None else pd.Series(False, index=frame.index)
    leaving_term = is_open & has_term
    rehired = known & ~is_open & ~has_term if as_of is not None else pd.Series(False, index=frame.index)
    if as_of is not None:
        early = leaving_term & pd.Series([t is not None and f is not None and not pd.isna(f) and t <= f
                                          for t, f in zip(term, cur["valid_from"])], index=frame.index)
        c.error(early, "termination_date", "on or before this person's last recorded change")
    missing = sorted(set(open_.index) - set(ids)) if as_of is not None else []

    left_ids = list(frame.loc[leaving_term, "employee_id"]) + missing
    n_open = len(open_)
    if as_of is not None and n_open and len(left_ids) > MAX_LEAVER_SHARE * n_open and not force:
        share = len(left_ids) / n_open
        report["needs_force"] = True
        c.issues.error(f"this snapshot would end {len(left_ids):,} of {n_open:,} current employees ({share:.0%}), "
                       f"more than {MAX_LEAVER_SHARE:.0%}: check that the file is the full roster, or confirm "
                       "with --force")
    report["added"] = _summary(frame.loc[new, "employee_id"])
    report["changed"] = _summary(frame.loc[changed, "employee_id"])
    # people new to the history who already left (a termination date) are added and leave
    report["left"] = _summary(left_ids + list(frame.loc[new & has_term, "employee_id"]))
    report["rehired"] = _summary(frame.loc[rehired, "employee_id"])

    attrs = ["employee_id", *store.TRACKED]
    rows = []
    add = frame.loc[new, attrs].assign(valid_from=start_new[new], valid_to=frame.loc[new, "termination_date"])
    rows.append(add)
    if as_of is not None:
        rows.append(frame.loc[changed, attrs].assign(valid_from=as_of, valid_to=None))
        starts = [h if h is not None and not pd.isna(v) and h > v and h <= as_of else as_of
                  for h, v in zip(frame.loc[rehired, "hire_date"], cur.loc[rehired, "valid_to"])]
        rows.append(frame.loc[rehired, attrs].assign(valid_from=starts, valid_to=None))
    hist = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else \
        pd.DataFrame(columns=[*attrs, "valid_from", "valid_to"])
    hist["valid_from"] = pd.Series(hist["valid_from"], dtype=object)
    hist["valid_to"] = pd.Series(hist["valid_to"], dtype=object)
    hist["import_id"] = import_id
    close_ids = list(frame.loc[changed, "employee_id"]) + list(frame.loc[leaving_term, "employee_id"]) + missing
    close_to = ([as_of] * int(changed.sum()) + list(frame.loc[leaving_term, "termination_date"])
                + [as_of] * len(missing))
    employees = frame.loc[new].drop(columns=["termination_date"]).assign(
        termination_date=frame.loc[new, "termination_date"], import_id=import_id)
    return {"employees": employees.reset_index(drop=True), "employee_history": hist,
            "_close": pd.DataFrame({"employee_id": close_ids, "valid_to": close_to})}


def store_import_of(db, employee_id: str) -> int | None:
    from analytics.store import imports

    return imports.existing_ids(db, "employees", "employee_id", [employee_id]).get(employee_id)


def check_emails(c, emails: pd.Series, ids: pd.Series) -> None:
    """Work e-mails: one per person, none shared (case ignored); errors name rows, never addresses."""
    given = emails.notna()
    bad = given & ~emails.fillna("").str.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    c.error(bad, "email", "not an e-mail address")
    low = emails.str.lower()
    dup = given & low.duplicated(keep=False)
    c.error(dup, "email", "the same e-mail address is given for more than one row (case ignored)")
    owners = store.email_owners(c.db, list(emails[given & ~bad].unique()))
    if owners:
        taken = given & np.array([owners.get(e) not in (None, i) for e, i in zip(low.fillna(""), ids)], dtype=bool)
        c.error(pd.Series(taken, index=emails.index), "email", "this e-mail address belongs to another employee "
                "in the roster")
