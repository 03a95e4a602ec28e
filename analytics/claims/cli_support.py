"""The `claims` command's body, kept beside the engine so cli.py stays a thin registry."""

from __future__ import annotations

import math

import click

from analytics.errors import TwowayError
from analytics.filters import Filters

JSON_FIELDS = ("id", "title", "verdict", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "n",
               "n_treated", "n_comparison", "effect_size", "es_ci_low", "es_ci_high", "p_equivalence", "mde",
               "outcome", "sentence", "method", "reason")


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
    return v


def claims_command(db_path, where, sesoi, min_group, as_json, emit_json) -> None:
    from analytics.claims import scorecard
    from analytics.store import Database
    from analytics.views import filter_options

    if not db_path.exists():
        raise TwowayError(f"database {db_path} does not exist")
    db = Database.reader(db_path, on_wait=lambda message: click.echo(message, err=True))  # a snapshot
    try:
        filters = Filters.from_where(where, filter_options(db, min_group).values)  # released labels
        card = scorecard(db, filters, min_group=min_group, sesoi=sesoi)
    finally:
        db.close()
    if as_json:
        emit_json([{k: _clean(r[k]) for k in JSON_FIELDS} for r in card.to_dict("records")])
        return
    click.echo(f"Claims scorecard ({filters.describe()})")
    for r in card.to_dict("records"):
        est = "" if r["verdict"] == "insufficient_data" else (
            f"  effect {r['effect_size']:+.2f} SD [{r['es_ci_low']:+.2f}, {r['es_ci_high']:+.2f}], "
            f"p_adj={r['p_adjusted']:.3g}, n={r['n']}")
        click.echo(f"{r['verdict']:<18} {r['id']:<24}{est}")
        click.echo(f"{'':<18} {r['sentence']}")
