"""The `claims` command's body, kept beside the engine so cli.py stays a thin registry."""

from __future__ import annotations

import math

import click

from analytics.errors import TwowayError
from analytics.filters import Filters

JSON_FIELDS = ("id", "title", "verdict", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "n",
               "n_treated", "n_comparison", "effect_size", "es_ci_low", "es_ci_high", "p_equivalence", "mde",
               "outcome", "sentence", "method", "reason", "magnitude", "headline_role", "headline_metric",
               "by_role", "metrics", "diagnostics", "notes")


def _clean(v):
    """JSON-safe: NaN/inf → None, numpy scalars → Python, recursively through lists and dicts."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def claims_command(db_path, where, sesoi, min_group, as_json, emit_json, event_study=None,
                   metric=None) -> None:
    from analytics.claims import CLAIMS_BY_ID, SUBGROUP_RULE, scorecard
    from analytics.claims import event_study as event_study_frame
    from analytics.store import Database
    from analytics.views import filter_options

    if not db_path.exists():
        raise TwowayError(f"database {db_path} does not exist")
    if metric is not None and event_study is None:
        raise TwowayError("--metric goes with --event-study CLAIM (the monthly event study of one metric)")
    if event_study is not None and event_study not in CLAIMS_BY_ID:
        raise TwowayError(f"unknown claim {event_study!r} for --event-study; claims: {', '.join(CLAIMS_BY_ID)}")
    db = Database.reader(db_path, on_wait=lambda message: click.echo(message, err=True))  # a snapshot
    try:
        filters = Filters.from_where(where, filter_options(db, min_group).values)  # released labels
        if event_study is not None:
            frame = event_study_frame(db, event_study, filters, min_group=min_group, sesoi=sesoi, metric=metric)
        else:
            card = scorecard(db, filters, min_group=min_group, sesoi=sesoi)
    finally:
        db.close()
    if event_study is not None:
        if as_json:
            emit_json([_clean(r) for r in frame.to_dict("records")])
            return
        unit = f"metric {metric}, months" if metric else "survey waves"
        click.echo(f"Event study: {event_study} ({unit}; {filters.describe()}); e < 0 are placebo points before the start")
        for r in frame.to_dict("records"):
            click.echo(f"{r['role']:<8} e={r['e']:+d} {r['kind']:<9} {r['effect_size']:+.2f} SD "
                       f"[{r['es_ci_low']:+.2f}, {r['es_ci_high']:+.2f}]  n_treated={r['n_treated']}")
        return
    if as_json:
        emit_json([{k: _clean(r[k]) for k in JSON_FIELDS} for r in card.to_dict("records")])
        return
    click.echo(f"Claims scorecard ({filters.describe()})")
    if not filters.is_empty():
        click.echo(SUBGROUP_RULE)
    for r in card.to_dict("records"):
        est = "" if r["verdict"] == "insufficient_data" else (
            f"  effect {r['effect_size']:+.2f} SD [{r['es_ci_low']:+.2f}, {r['es_ci_high']:+.2f}] "
            f"({r['headline_role']}{', ' + r['headline_metric'] if r['headline_metric'] else ''}), "
            f"p_adj={r['p_adjusted']:.3g}, n={r['n']}")
        click.echo(f"{r['verdict']:<18} {r['id']:<24}{est}")
        click.echo(f"{'':<18} {r['sentence']}")
        for note in r["notes"]:
            click.echo(f"{'':<18} · {note}")
