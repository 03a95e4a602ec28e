"""The `value` command's body, kept out of cli.py so that file stays a thin registry."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

from analytics.errors import TwowayError

#: Top-level JSON keys of `value --json` (issue #13), then the extra ones; never renamed.
JSON_KEYS = ("benefit", "cost", "bcr", "roi_pct", "roi_ci_low", "roi_ci_high", "parts")


def value_command(db_path: Path, costs_arg: str | None, save: bool, min_group: int | None, as_of: int | None,
                  as_json: bool, emit_json: Callable) -> None:
    from analytics.claims.cli_support import _clean
    from analytics.claims.engine import resolve_min_group
    from analytics.store import Database
    from analytics.value_data import read_costs_arg, save_inputs, value_document

    if not db_path.exists():
        raise TwowayError(f"database {db_path} does not exist")
    if save and as_of is not None:
        raise TwowayError("--save stores inputs for the latest data; leave out --as-of")
    if save and costs_arg is None:
        raise TwowayError("--save needs --costs (the inputs to store)")
    k = resolve_min_group(min_group)
    override = read_costs_arg(costs_arg) if costs_arg is not None else None
    saved_version = None
    if save:
        saved_version, _ = save_inputs(db_path, override, saved_by="cli")
        override = None  # now they are the saved inputs
    db = Database.reader(db_path, on_wait=lambda message: click.echo(message, err=True))
    try:
        doc = value_document(db, k, as_of, override)
    finally:
        db.close()
    if saved_version is not None:
        doc["saved_version"] = saved_version
    doc = _clean(doc)
    if as_json:
        emit_json({**{key: doc[key] for key in JSON_KEYS}, **{k_: v for k_, v in doc.items() if k_ not in JSON_KEYS}})
        return
    click.echo(text_report(doc))


def _money(x) -> str:
    return "—" if x is None else f"{round(x) + 0:,.0f}"  # + 0: no "-0"


def text_report(doc: dict) -> str:
    """The readable table of `value` without --json."""
    src = doc["inputs_source"]
    lines = [f"Return on investment (benefits from causal estimates only; inputs: {src['source']}"
             + (f", version {src['version']} saved {src['saved_at']}" if src.get("version") else "") + ")",
             doc["sentence"], "",
             f"{'benefit':<34}{_money(doc['benefit']):>14}   95% [{_money(doc['benefit_ci_low'])}, "
             f"{_money(doc['benefit_ci_high'])}]",
             f"{'cost':<34}{_money(doc['cost']):>14}",
             f"{'benefit-cost ratio':<34}{doc['bcr']:>14.2f}   95% [{doc['bcr_ci_low']:.2f}, {doc['bcr_ci_high']:.2f}]",
             f"{'ROI %':<34}{doc['roi_pct']:>+14.0f}   95% [{doc['roi_ci_low']:+.0f}, {doc['roi_ci_high']:+.0f}]"
             f"   chance of a loss {doc['p_loss']:.0%}", "", "Parts:"]
    for p in doc["parts"]:
        if p["kind"] == "cost":
            hours = f"  ({p['hours']:,.0f} h)" if p.get("hours") is not None else ""
            lines.append(f"  cost     {p['part']:<32}{_money(p['cost']):>14}{hours}")
        else:
            lines.append(f"  benefit  {p['part']:<32}{_money(p['benefit']):>14}   95% [{_money(p['benefit_ci_low'])}, "
                         f"{_money(p['benefit_ci_high'])}]  effect {p['effect']:+.4g} ± {p['se']:.2g}, "
                         f"{p['people']} people × {p['unit_value']:,.0f}")
    for m in doc["not_valued"]:
        lines.append(f"  not valued  {m['part']}: {m['reason']}")
    defaults = doc.get("defaults") or {}
    lines += ["", f"Inputs (every default shown):{'':<9}{'in use':>14}{'default':>14}"]
    for key, v in doc["inputs"].items():
        if key == "metric_values":
            for metric, unit in v.items():
                d = (defaults.get("metric_values") or {}).get(metric, 0.0)
                lines.append(f"  metric_values.{metric:<22} {unit:>14,.2f}{d:>14,.2f}")
        else:
            d = defaults.get(key)
            lines.append(f"  {key:<36} {v:>14,}" + (f"{d:>14,}" if d is not None else ""))
    return "\n".join(lines)
