"""The retention and promotion claims on the Claims page: per-role rows in plain words.

Their estimate is a 12-month probability difference with a hazard ratio beside it, not score
points, so they get their own summary block (the page calls `outcome_summary` for them).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics.formatting import count, number, p_text
from ui.exports import ViewReport
from ui.text import plain
from ui.verdicts import badge, label

#: Claim ids the summary below is for (the engine's hazard design).
OUTCOME_CLAIMS = ("retention", "promotion")


def is_outcome(claim_id: str) -> bool:
    return claim_id in OUTCOME_CLAIMS


def _pp(x) -> str:
    return "—" if x is None or pd.isna(x) else number(100 * float(x), signed=True)


def outcome_roles(row: dict) -> pd.DataFrame:
    """One row per role: verdict, 12-month probabilities, difference, hazard ratio, counts (withheld
    counts stay blank)."""
    out = []
    for e in row.get("by_role") or []:
        out.append({"role": e.get("role"), "verdict": label(e.get("verdict")), "primary": e.get("primary"),
                    "12-month, participants": e.get("prob_treated"), "12-month, without": e.get("prob_untreated"),
                    "difference (points)": None if e.get("estimate") is None or pd.isna(e.get("estimate"))
                    else 100 * e["estimate"],
                    "hazard ratio": e.get("hazard_ratio"), "HR 95% CI low": e.get("hr_ci_low"),
                    "HR 95% CI high": e.get("hr_ci_high"), "p (Holm)": e.get("p_adjusted"),
                    "participants": e.get("n_treated"), "comparison": e.get("n_comparison"),
                    "events, participants": e.get("events_treated"),
                    "events, comparison": e.get("events_comparison")})
    return pd.DataFrame(out)


def outcome_summary(row, report: ViewReport) -> None:
    """Verdict, the sentence per role, the headline numbers, the per-role table, checks and method."""
    r = row._asdict() if hasattr(row, "_asdict") else dict(row)
    badge(r["verdict"])
    st.markdown(plain(r["sentence"]))
    cols = st.columns(4)
    cols[0].metric("12-month difference (percentage points)", _pp(r.get("estimate")),
                   help="Participants' probability of the event within 12 months of their start minus the "
                        "model's probability for them without the programme.")
    cols[0].caption(f"95% CI {_pp(r.get('ci_low'))} to {_pp(r.get('ci_high'))}")
    head = next((e for e in (r.get("by_role") or []) if e.get("role") == r.get("headline_role")), {})
    cols[1].metric("Hazard ratio", number(head.get("hazard_ratio")),
                   help="The monthly chance of the event for participants relative to comparable colleagues "
                        "in the same month (1 = no difference).")
    cols[1].caption(f"95% CI {number(head.get('hr_ci_low'))} to {number(head.get('hr_ci_high'))}")
    cols[2].metric("p (Holm-adjusted)", p_text(r.get("p_adjusted")),
                   help="Adjusted for testing every claim at once (Holm).")
    cols[3].metric("People", count(r.get("n")))
    cols[3].caption(f"{count(r.get('n_treated'))} participants · {count(r.get('n_comparison'))} comparison")
    roles = outcome_roles(r)
    if not roles.empty:
        report.table(f"{r['title']}: each role", roles, key=f"outcome-roles-{r['id']}",
                     text="Mentors (juniors) and mentees (seniors) are tested separately. Counts under the "
                          "anonymity threshold are left blank.")
    notes = [str(n) for n in (r.get("notes") or [])]
    if notes:
        st.markdown("**Checks.**\n" + "\n".join(f"- {plain(n)}" for n in notes))
    st.markdown(f"**How this was tested.** {plain(r.get('method') or '')}")
    report.note(f"{r['title']} — {label(r['verdict'])}", " ".join([str(r["sentence"]), *notes,
                                                                 str(r.get("method") or "")]))
