"""The released-data rule of docs/PRIVACY.md, written again in plain pandas for the tests.

`release(raw, k)` takes the raw tables (DataFrames read straight from the file) and returns
what the rule says the figures may be computed from at the latest data version: employees with
their block labels, and the responses, metrics, pairs and sessions that are released. Tests
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
    e["withheld"] = False

    def small() -> pd.Series:
        key = _key_frame(e).apply(tuple, axis=1)
        size = key.map(key.value_counts())
        per_wave = resp.merge(pd.DataFrame({"employee_id": e["employee_id"], "key": key}), on="employee_id")
        waves_small = per_wave.groupby(["key", "survey"]).size()
        bad = set(waves_small[waves_small < k].index.get_level_values(0))
        return (size < k) | key.isin(bad)

    for dim in MERGE_ORDER:
        s = small()
        if not s.any():
            break
        e.loc[s, dim] = "Other"
    e.loc[small(), "withheld"] = True
    e["block"] = _key_frame(e).apply(tuple, axis=1)
    return e[["employee_id", *KEY, "withheld", "block"]]


def release(raw: dict, k: int) -> dict[str, pd.DataFrame]:
    """The released tables at the latest version (see the module docstring)."""
    b = blocks(raw, k)
    kept = b[~b["withheld"]]
    block_of = dict(zip(kept["employee_id"], kept["block"]))
    emp = raw["employees"].drop(columns=["department", "location", "generation", "level"]).merge(
        kept[["employee_id", "department", "location", "generation", "level", "role", "timing", "block"]],
        on="employee_id")
    items = raw["items"]
    r = raw["responses"].dropna(subset=["value"]).merge(items[["survey", "item", "construct"]], on=["survey", "item"])
    r = r[r["construct"].notna() & r["employee_id"].isin(block_of)]
    own = r[r["construct"] != "leadership"].copy()
    own["cell"] = list(zip(own["employee_id"].map(block_of), own["survey"], own["construct"]))
    n = own.groupby("cell")["employee_id"].nunique()
    own = own[own["cell"].map(n) >= k]
    answered = set(zip(own["survey"], own["employee_id"]))
    manager = dict(zip(raw["employees"]["employee_id"], raw["employees"]["manager_id"]))
    lead = r[r["construct"] == "leadership"].copy()
    lead["subject"] = lead["employee_id"].map(manager)
    lead = lead[lead["subject"].isin(block_of)
                & np.array([(s, e) in answered for s, e in zip(lead["survey"], lead["employee_id"])], bool)]
    lead["cell"] = list(zip(lead["subject"].map(block_of), lead["survey"]))
    n = lead.groupby("cell")["subject"].nunique()
    lead = lead[lead["cell"].map(n) >= k]
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
    responses = pd.concat([own, lead, anon]).drop(columns=["cell", "subject", "construct"])

    m = raw["metrics"].dropna(subset=["value"]) if "metrics" in raw else pd.DataFrame()
    if len(m):
        m = m[m["employee_id"].isin(block_of)].copy()
        m["cell"] = list(zip(m["employee_id"].map(block_of), m["period"], m["metric"]))
        n = m.groupby("cell")["employee_id"].nunique()
        m = m[m["cell"].map(n) >= k].drop(columns="cell")

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
    return {"employees": emp, "responses": responses, "metrics": m, "pairs": p, "sessions": s,
            "waves": raw["waves"], "items": items, "blocks": b}


def person_scores(rel: dict, construct: str) -> pd.DataFrame:
    """Construct score per subject and wave (leadership: per manager, mean over the answers of reports)."""
    items = rel["items"][rel["items"]["construct"] == construct]
    r = rel["responses"].merge(items, on=["survey", "item"]).dropna(subset=["value", "employee_id"])
    r["v"] = np.where(r["reverse"], r["scale_min"] + r["scale_max"] - r["value"], r["value"])
    if construct == "leadership":
        manager = dict(zip(rel["employees"]["employee_id"], rel["employees"]["manager_id"]))
        r["employee_id"] = r["employee_id"].map(manager)
    return r.groupby(["survey", "employee_id"], as_index=False)["v"].mean()
