"""The released-data rule of docs/PRIVACY.md, written again in plain pandas for the tests.

`release(raw, k)` takes the raw tables (DataFrames read straight from the file) and returns
what the rule says the figures may be computed from at the latest data version: employees with
their block labels, who counts at each wave and month (`wave_roster`, `month_roster`, with the
labels of their group in that period), and the responses, metrics, pairs and sessions that are
released. Tests
compute expected figures from these frames and compare them with `analytics.views`, so the SQL
in `analytics.store.released` is checked against an independent implementation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MERGE_ORDER = ("location", "generation", "level", "department")
KEY = ["role", "timing", "department", "location", "generation", "level"]


def _key_frame(e: pd.DataFrame) -> pd.DataFrame:
    return e[KEY].astype(object).where(e[KEY].notna(), "\0null")


def blocks(raw: dict, k: int) -> pd.DataFrame:
    """employee_id, the six key columns (merged labels), withheld, block (a tuple key)."""
    e = raw["employees"].copy()
    p = raw["pairs"]
    sides = pd.concat([p[["mentor_id", "cohort", "start_date"]].set_axis(["id", "cohort", "start"], axis=1)
                       .assign(role="mentor"),
                       p[["mentee_id", "cohort", "start_date"]].set_axis(["id", "cohort", "start"], axis=1)
                       .assign(role="mentee")])
    sides["start"] = pd.to_datetime(sides["start"])
    first = sides.sort_values(["start"], kind="stable").groupby("id").first()
    roles = sides.groupby("id")["role"].agg(lambda r: "both" if r.nunique() > 1 else r.iloc[0])
    opened = pd.to_datetime(raw["waves"]["opened"].dropna()).to_numpy()
    wave = {i: int((opened < s.to_datetime64()).sum()) for i, s in first["start"].items()}
    e["role"] = e["employee_id"].map(roles).fillna("none")
    # every cohort a person has a pair in (a cohort filter selects anyone with a pair in it)
    cohorts = sides.groupby("id")["cohort"].agg(lambda c: "+".join(sorted(set(c.dropna()))) or "no cohort")
    e["timing"] = [f"{cohorts[i]} | wave {wave[i]}" if i in wave else "" for i in e["employee_id"]]
    it = raw["items"]
    self_items = it[it["construct"].notna() & (it["construct"] != "leadership")][["survey", "item"]]
    r = raw["responses"].dropna(subset=["value", "employee_id"]).merge(self_items, on=["survey", "item"])
    resp = r[["employee_id", "survey"]].drop_duplicates()
    e0 = e.copy()
    forced: set = set()  # people withheld because a pair partner is (they would lose that pair)
    while True:
        e = e0.copy()
        e["withheld"] = e["employee_id"].isin(forced)

        def small() -> pd.Series:
            key = _key_frame(e).apply(tuple, axis=1).where(~e["withheld"], None)
            size = key.map(key[~e["withheld"]].value_counts())
            per_wave = resp.merge(pd.DataFrame({"employee_id": e["employee_id"], "key": key})[~e["withheld"]],
                                  on="employee_id")
            waves_small = per_wave.groupby(["key", "survey"]).size()
            bad = set(waves_small[waves_small < k].index.get_level_values(0))
            return ~e["withheld"] & ((size < k) | key.isin(bad))

        for dim in MERGE_ORDER:
            s = small()
            if not s.any():
                break
            e.loc[s, dim] = "Other"
        for _ in range(5):  # a leftover takes its (role, timing)'s smallest other block as a host
            s = small()
            if not s.any():
                break
            groups = set(zip(e.loc[s, "role"], e.loc[s, "timing"]))
            cand = e[~e["withheld"] & ~s & ~(e[list(MERGE_ORDER)] == "Other").all(axis=1)]
            cand = cand[np.array([(r, t) in groups for r, t in zip(cand["role"], cand["timing"])], dtype=bool)]
            if cand.empty:  # no host of its role and timing: withheld (a bare [] would select no columns)
                break
            sizes = (cand.groupby(["role", "timing", *MERGE_ORDER], dropna=False).size().reset_index(name="n")
                     .sort_values(["n", *MERGE_ORDER], na_position="last", kind="stable"))
            for h in sizes.groupby(["role", "timing"]).head(1).itertuples(index=False):
                host = ~e["withheld"] & (e["role"] == h.role) & (e["timing"] == h.timing)
                for dim in MERGE_ORDER:
                    v = getattr(h, dim)
                    host &= e[dim].isna() if pd.isna(v) else (e[dim] == v)
                e.loc[host, list(MERGE_ORDER)] = "Other"
        e.loc[small(), "withheld"] = True
        out = set(e.loc[e["withheld"], "employee_id"])
        partners = (set(p.loc[p["mentor_id"].isin(out), "mentee_id"]) | set(p.loc[p["mentee_id"].isin(out), "mentor_id"]))
        if partners <= out:
            break
        forced = out | partners
    e["block"] = _key_frame(e).apply(tuple, axis=1)
    return e[["employee_id", *KEY, "withheld", "block"]]


def _roster_on(raw: dict, day) -> pd.DataFrame:
    """Each person's attributes on `day` (None: the open rows), only people employed then."""
    h = raw.get("employee_history")
    if h is None:  # a store without snapshots: everyone, as they are now
        h = raw["employees"][["employee_id", "department", "level", "location", "manager_id"]].assign(
            valid_from=pd.NaT, valid_to=pd.NaT)
    vf, vt = pd.to_datetime(h["valid_from"]), pd.to_datetime(h["valid_to"])
    if day is None or pd.isna(day):
        ok = vt.isna()
    else:
        day = pd.Timestamp(day)
        ok = (vf.isna() | (vf <= day)) & (vt.isna() | (day < vt))
    return h[ok][["employee_id", "department", "level", "location", "manager_id"]].merge(
        raw["employees"][["employee_id", "generation"]], on="employee_id")


def period_blocks(raw: dict, k: int, cur: pd.DataFrame) -> pd.DataFrame:
    """kind ('w' wave / 'm' month), period, employee_id, manager_id, the key (merged per period), withheld."""
    frames = []
    for w in raw["waves"].itertuples():
        day = w.opened if pd.notna(w.opened) else w.closed
        frames.append(_roster_on(raw, day).assign(kind="w", period=w.survey))
    m = raw.get("metrics")
    for period in (sorted(m["period"].unique()) if m is not None and len(m) else []):
        frames.append(_roster_on(raw, f"{period}-01").assign(kind="m", period=period))
    # the roster on the data date: the last session or survey close (open rows when there is neither)
    dates = [pd.to_datetime(raw["sessions"]["date"]).max() if len(raw["sessions"]) else pd.NaT,
             pd.to_datetime(raw["waves"]["closed"]).max() if len(raw["waves"]) else pd.NaT]
    dates = [d for d in dates if pd.notna(d)]
    frames.append(_roster_on(raw, max(dates) if dates else None).assign(kind="n", period="now"))
    cols = ["kind", "period", "employee_id", "manager_id", *KEY]
    if not frames:
        return pd.DataFrame(columns=[*cols, "withheld"])
    p = pd.concat(frames, ignore_index=True).merge(cur.loc[~cur["withheld"], ["employee_id", "role", "timing"]], on="employee_id")[cols]
    # an attribute the person still has today reads as today's (merged) label
    now = raw["employees"].set_index("employee_id")
    merged = cur.set_index("employee_id")
    for d in ("department", "location", "generation", "level"):
        same = (p[d].fillna("\0") == p["employee_id"].map(now[d]).fillna("\0")).to_numpy()
        p.loc[same, d] = p.loc[same, "employee_id"].map(merged[d])
    it = raw["items"]
    self_items = it[it["construct"].notna() & (it["construct"] != "leadership")][["survey", "item"]]
    r = raw["responses"].dropna(subset=["value", "employee_id"]).merge(self_items, on=["survey", "item"])
    act = set(zip("w" * len(r), r["survey"], r["employee_id"]))
    if m is not None and len(m):
        mv = m.dropna(subset=["value"])
        act |= set(zip("m" * len(mv), mv["period"], mv["employee_id"]))
    active = np.array([t in act for t in zip(p["kind"], p["period"], p["employee_id"])], bool)
    p["withheld"] = False

    def small() -> pd.Series:
        key = p[["kind", "period"]].astype(object).join(_key_frame(p)).apply(tuple, axis=1)
        size = key.map(key.value_counts())
        n_act = key[active].value_counts()
        a = key.map(n_act).fillna(0)
        return (size < k) | ((a > 0) & (a < k))

    for dim in MERGE_ORDER:
        s = small()
        if not s.any():
            break
        p.loc[s, dim] = "Other"
    p.loc[small(), "withheld"] = True
    p["block"] = p[["kind", "period"]].astype(object).join(_key_frame(p)).apply(tuple, axis=1)
    return p


def _both_cells(d: pd.DataFrame, a: str, b: str, rest: list[str], k: int) -> pd.Series:
    """Rows whose (a, *rest) cell and (b, *rest) cell both hold >= k people among the rows kept,
    dropping thin cells until nothing changes (a row needs both of its groups)."""
    ok = d[a].notna() & d[b].notna()
    cells = {c: pd.Series(list(zip(d[c], *[d[x] for x in rest])), index=d.index) for c in (a, b)}
    while True:
        new = ok.copy()
        for c in (a, b):
            n = d[new].groupby(cells[c][new])["employee_id"].nunique()
            new &= cells[c].map(n).fillna(0) >= k
        if new.equals(ok):
            return ok
        ok = new


def release(raw: dict, k: int) -> dict[str, pd.DataFrame]:
    """The released tables at the latest version (see the module docstring)."""
    b = blocks(raw, k)
    kept = b[~b["withheld"]]
    block_of = dict(zip(kept["employee_id"], kept["block"]))
    emp = raw["employees"].drop(columns=["department", "location", "generation", "level"]).merge(
        kept[["employee_id", "department", "location", "generation", "level", "role", "timing", "block"]],
        on="employee_id")
    pb = period_blocks(raw, k, b)
    pk = pb[~pb["withheld"]]
    at = {(kd, per, e): blk for kd, per, e, blk in zip(pk["kind"], pk["period"], pk["employee_id"], pk["block"])}
    wave_manager = {(per, e): mg for kd, per, e, mg in zip(pb["kind"], pb["period"], pb["employee_id"],
                                                           pb["manager_id"]) if kd == "w"}
    items = raw["items"]
    r = raw["responses"].dropna(subset=["value"]).merge(items[["survey", "item", "construct"]], on=["survey", "item"])
    r = r[r["construct"].notna() & r["employee_id"].notna()].copy()
    # an answer about oneself: its cell of the wave's groups and its cell of today's groups both hold >= k
    own = r[r["construct"] != "leadership"].copy()
    own["wblock"] = [at.get(("w", s, e)) for s, e in zip(own["survey"], own["employee_id"])]
    own["cblock"] = own["employee_id"].map(block_of)
    own = own[_both_cells(own, "wblock", "cblock", ["survey", "construct"], k)]
    answered = set(zip(own["survey"], own["employee_id"]))
    lead = r[r["construct"] == "leadership"].copy()
    lead["subject"] = [wave_manager.get((s, e)) for s, e in zip(lead["survey"], lead["employee_id"])]
    lead["sblock"] = [at.get(("w", s, m)) for s, m in zip(lead["survey"], lead["subject"])]
    lead = lead[lead["sblock"].notna()
                & np.array([(s, e) in answered for s, e in zip(lead["survey"], lead["employee_id"])], bool)]
    lead["cell"] = list(zip(lead["sblock"], lead["survey"]))
    counted = lead[lead["subject"].isin(block_of)]
    n = counted.groupby("cell")["subject"].nunique()
    lead = lead[lead["cell"].map(n).fillna(0) >= k]
    anon = raw["responses"].dropna(subset=["value"]).merge(items[["survey", "item", "construct"]], on=["survey", "item"])
    anon = anon[anon["employee_id"].isna() & anon["construct"].notna() & (anon["construct"] != "leadership")]
    part = raw.get("participation")
    if part is not None and len(part):
        group = part.assign(group=part["role"] + "|" + part["cohort"].fillna(""))[["survey", "respondent", "group"]]
        anon = anon.merge(group, on=["survey", "respondent"], how="left")
        anon["group"] = anon["group"].fillna("")
    else:
        anon = anon.assign(group="")
    size = anon.groupby(["survey", "group"])["respondent"].nunique()
    keep = np.array([size[(s_, g_)] >= k for s_, g_ in zip(anon["survey"], anon["group"])], bool)
    anon = anon[keep].drop(columns="group")
    responses = pd.concat([own, lead, anon]).drop(
        columns=["cell", "subject", "construct", "wblock", "cblock", "sblock"],
        errors="ignore")

    m = raw["metrics"].dropna(subset=["value"]) if "metrics" in raw else pd.DataFrame()
    if len(m):
        m = m.copy()
        m["mblock"] = [at.get(("m", p_, e)) for p_, e in zip(m["period"], m["employee_id"])]
        m["cblock"] = m["employee_id"].map(block_of)
        ok = _both_cells(m, "mblock", "cblock", ["period", "metric"], k)
        m = m[ok].drop(columns=["mblock", "cblock"])

    p = raw["pairs"]
    p = p[p["mentor_id"].isin(block_of) & p["mentee_id"].isin(block_of)].copy()
    while True:  # whole per mentee block and per mentor block
        ok_e = p.groupby(p["mentee_id"].map(block_of))["mentee_id"].nunique()
        ok_m = p.groupby(p["mentor_id"].map(block_of))["mentor_id"].nunique()
        keep = (p["mentee_id"].map(block_of).map(ok_e) >= k) & (p["mentor_id"].map(block_of).map(ok_m) >= k)
        if keep.all():
            break
        p = p[keep]
    s = raw["sessions"].merge(p[["pair_id", "mentee_id"]], on="pair_id")
    s["cell"] = list(zip(s["mentee_id"].map(block_of), pd.to_datetime(s["date"]).dt.to_period("M"),
                         s["format"].fillna("")))
    n = s.groupby("cell")["pair_id"].nunique()
    s = s[s["cell"].map(n) >= (k + 1) // 2].drop(columns=["cell", "mentee_id"])
    rosters = {}
    for kind, name, col in (("w", "wave_roster", "survey"), ("m", "month_roster", "period"),
                            ("n", "roster_now", "period")):
        rosters[name] = pk[pk["kind"] == kind].rename(columns={"period": col}).drop(columns=["kind", "withheld"])
    return {**rosters, "employees": emp, "responses": responses, "metrics": m, "pairs": p, "sessions": s,
            "waves": raw["waves"], "items": items, "blocks": b}


def person_scores(rel: dict, construct: str) -> pd.DataFrame:
    """Construct score per subject and wave (leadership: per manager, mean over the answers of reports)."""
    items = rel["items"][rel["items"]["construct"] == construct]
    r = rel["responses"].merge(items, on=["survey", "item"]).dropna(subset=["value", "employee_id"])
    r["v"] = np.where(r["reverse"], r["scale_min"] + r["scale_max"] - r["value"], r["value"])
    if construct == "leadership":  # about the rater's manager at that wave
        wr = rel["wave_roster"]
        manager = dict(zip(zip(wr["survey"], wr["employee_id"]), wr["manager_id"]))
        r["employee_id"] = [manager.get(key) for key in zip(r["survey"], r["employee_id"])]
    return r.groupby(["survey", "employee_id"], as_index=False)["v"].mean()
