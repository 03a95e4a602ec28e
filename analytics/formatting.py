"""Numbers and column names for people: one formatter for tables, CSVs and reports alike.

Why one module: the same estimate used to read 0.2871 on screen, 2.871e-01 in a CSV and
1.27e+03 in a report. Everything a person reads goes through `number` / `for_people`, which
never uses scientific notation, rounds to what the data can support and names columns in words.
"""

from __future__ import annotations

import math

import pandas as pd

#: Machine column → the words people read. One label per concept across pages and exports.
COLUMN_LABELS: dict[str, str] = {
    "title": "Claim", "verdict": "Verdict", "sentence": "In one sentence", "estimate": "Estimate",
    "ci_low": "95% CI low", "ci_high": "95% CI high", "effect_size": "Effect (SD)",
    "es_ci_low": "Effect 95% CI low", "es_ci_high": "Effect 95% CI high", "p_value": "p",
    "p_adjusted": "p (Holm-adjusted)", "p_equivalence": "p (equivalence)", "n": "People",
    "n_treated": "Participants", "n_comparison": "Comparison colleagues", "mde": "Smallest detectable effect (SD)",
    "method": "How it was tested", "outcome": "Outcome", "id": "Claim id", "reason": "Why not judged",
    "variable": "Background variable", "participants": "Participants (share or mean)",
    "comparison_raw": "Comparison, as is",
    "comparison_weighted": "Comparison, matched", "smd_raw": "Difference (SMD), as is",
    "smd_weighted": "Difference (SMD), matched", "cohort": "Cohort", "first_wave": "First wave after start",
    "weight": "Weight in the total", "comparison": "Comparison", "label": "Why it is biased",
    "predictor": "Predictor", "generation": "Generation", "mean_before": "Mean before", "mean_after": "Mean after",
    "generations": "Generations", "gap_before": "Gap before", "gap_after": "Gap after", "change": "Change",
    "metric": "Metric", "unit": "Unit", "higher_is_better": "Higher is better", "group": "Group",
    "wave": "Survey wave", "wave_date": "Wave opened", "mean": "Mean", "department": "Department",
    "level": "Level", "location": "Location", "role": "Role", "band": "Band", "gain": "Mean gain",
    "gain_ci_low": "Gain 95% CI low", "gain_ci_high": "Gain 95% CI high", "dept_safety": "Department safety",
    "significant": "Significant (subgroup rule)", "p_subgroup": "p (subgroup rule)", "value": "Value",
    "dimension": "Grouping", "claim": "Claim", "sessions": "Sessions", "pairs": "Pairs", "month": "Month",
    "format": "Format", "kind": "Kind", "rated_by": "Rated by", "rating": "Mean rating",
    "active_pairs": "Active pairs", "respondents": "Respondents", "rate": "Response rate",
    "primary": "Decides the verdict", "ess_comparison": "Effective comparison size (ESS)", "magnitude": "Magnitude",
}

#: Values people read in role-like columns.
VALUE_WORDS = {"mentors": "Mentors (juniors)", "mentees": "Mentees (seniors)", "pooled": "Both roles (summary)",
               "mentor": "Mentors", "mentee": "Mentees", "participants": "Participants",
               "comparison": "Comparison group"}

#: Columns holding counts of people or things: whole numbers with thousands separators.
COUNT_COLUMNS = {"n", "n_treated", "n_comparison", "n_cohorts", "first_wave", "sessions", "pairs", "respondents",
                 "active_pairs", "invited", "invited_selected", "unlinked", "n_items", "n_waves"}
P_COLUMNS = {"p_value", "p_adjusted", "p_equivalence", "p_subgroup"}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (v is pd.NA) or (v is pd.NaT)


def number(v, decimals: int = 2, signed: bool = False) -> str:
    """A number as people read it: fixed decimals, thousands separated, "—" when missing.

    Examples
    --------
    >>> number(1270.456), number(0.28712), number(-0.000004, 2), number(None), number(3, 0)
    ('1,270.46', '0.29', '0.00', '—', '3')
    >>> number(0.29, signed=True), number(12345678.9, 0)
    ('+0.29', '12,345,679')
    """
    if _missing(v):
        return "—"
    x = float(v)
    if not math.isfinite(x):
        return "—"
    x = round(x, decimals) + 0.0  # -0.00 reads as 0.00
    return f"{x:{'+' if signed and x != 0 else ''},.{decimals}f}".replace("-", "−")


def count(v) -> str:
    """A count: whole number with thousands separators, "—" when withheld.

    >>> count(1892), count(None)
    ('1,892', '—')
    """
    return number(v, 0)


def p_text(p) -> str:
    """A p-value: three decimals, "< 0.001" below that.

    >>> p_text(0.04321), p_text(6e-12), p_text(float("nan"))
    ('0.043', '< 0.001', '—')
    """
    if _missing(p) or not math.isfinite(float(p)):
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _round_column(name: str, s: pd.Series, p_as_text: bool = False) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "yes", False: "no"})
    if not pd.api.types.is_numeric_dtype(s):
        return s
    if p_as_text and name in P_COLUMNS:
        return s.map(p_text)
    if name in COUNT_COLUMNS:
        return s.round(0).astype("Int64")
    return s.round(4 if name in P_COLUMNS else 3) + 0.0  # + 0.0: no "-0.0" for a tiny negative


def for_people(df: pd.DataFrame, labels: bool = True, p_as_text: bool = False) -> pd.DataFrame:
    """A copy rounded for reading (counts whole, p to 4 decimals, the rest to 3) with human names.

    The numbers stay numbers (a spreadsheet can still sort them); rounding to a few decimals
    means pandas writes them without scientific notation. On screen (`p_as_text`) p-values read
    as "0.043" or "< 0.001" rather than a rounded 0.

    Examples
    --------
    >>> out = for_people(pd.DataFrame({"estimate": [1270.45678], "p_value": [6e-12], "n": [12.0]}))
    >>> list(out.columns), float(out["Estimate"].iloc[0]), float(out["p"].iloc[0]), int(out["People"].iloc[0])
    (['Estimate', 'p', 'People'], 1270.457, 0.0, 12)
    """
    out = df.copy()
    for col in out.columns:
        out[col] = _round_column(str(col), out[col], p_as_text)
    for col in ("role", "rated_by", "group"):  # values people read: 'Mentors (juniors)', not 'mentors'
        if col in out.columns and out[col].dtype == object:
            out[col] = out[col].map(lambda v: VALUE_WORDS.get(v, v) if isinstance(v, str) else v)
    if labels:
        out.columns = [label_for(c) for c in out.columns]
    return out


def label_for(column) -> str:
    """A column's name in words: the shared label, else snake_case spelled out; names a person
    already wrote ("Cochran's Q") stay as they are.

    >>> label_for("n_treated"), label_for("share_informal"), label_for("Cochran's Q")
    ('Participants', 'Share informal', "Cochran's Q")
    """
    name = str(column)
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name == name.lower():
        text = name.replace("_", " ")
        return text[:1].upper() + text[1:]
    return name


def csv_float(v: float) -> str:
    """How a float is written in a CSV: plain decimals, never an exponent.

    >>> csv_float(1270.0), csv_float(0.0001), csv_float(1e-12), csv_float(123456789.5)
    ('1270', '0.0001', '0', '123456789.5')
    """
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
