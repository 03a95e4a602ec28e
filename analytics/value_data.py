"""The return on investment of *this* programme: saved inputs, the causal estimates, the figure.

`analytics.value` does the arithmetic; this module feeds it from the store:

* **inputs** — the analyst's costs and unit values, saved with the database (`value_inputs`,
  append-only: a pinned link reads the version of its time) or the visible defaults of
  `value.Costs`. Outside inputs (CLI ``--costs``, the Value page, link parameters) are merged
  over them field by field and validated: one message naming the field, nothing written;
* **benefits** — only causal estimates, read inside `released()` (docs/PRIVACY.md): avoided
  leavers per role from the scorecard's retention claim (`outcomes.retention.engine_effects`:
  the engine's hazard estimates, the 12-month leaving-probability difference), and each objective metric's gain per role from the
  claims engine's `productivity` claim. An estimate the data cannot give is listed under
  ``not_valued`` with the reason, never replaced by an assumption;
* **size** — pairs and logged session hours from the released pairs and sessions, so a
  withheld small group is not counted (and a programme of fewer than k pairs gets no figure).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from scipy import stats

from analytics.errors import TwowayError
from analytics.store import Database
from analytics.store import value_inputs as q
from analytics.value import Benefit, Costs, Programme, ValueResult, compute_value

#: The largest inputs document accepted (a file or an inline JSON text), in bytes.
MAX_INPUT_BYTES = 64 * 1024
Z = float(stats.norm.ppf(0.975))


# -- inputs ---------------------------------------------------------------------------------------
def read_costs_arg(text: str) -> dict:
    """The ``--costs`` argument: inline JSON (starts with ``{`` or ``[``) or the path of a JSON file."""
    text = str(text)
    if text.lstrip()[:1] in ("{", "["):
        if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
            raise TwowayError(f"--costs: the inline JSON is larger than {MAX_INPUT_BYTES // 1024} KiB")
        return parse_json(text, "--costs")
    path = Path(text)
    if not path.is_file():
        raise TwowayError(f"--costs: {text[:200]!r} is neither a JSON object nor an existing file")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise TwowayError(f"--costs: {path.name} is larger than {MAX_INPUT_BYTES // 1024} KiB")
    try:
        return parse_json(path.read_text(encoding="utf-8"), f"--costs {path.name}")
    except UnicodeDecodeError:
        raise TwowayError(f"--costs {path.name}: not UTF-8 text") from None


def parse_json(text: str, where: str) -> dict:
    """A JSON object from `text`; NaN/Infinity literals are refused like any other bad number."""
    if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
        raise TwowayError(f"{where}: larger than {MAX_INPUT_BYTES // 1024} KiB")

    def no_constants(name: str):
        raise TwowayError(f"{where}: {name} is not a number the inputs accept")

    try:
        raw = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise TwowayError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise TwowayError(f"{where}: nested too deeply") from None
    if not isinstance(raw, dict):
        raise TwowayError(f"{where}: must be a JSON object of field → value")
    return raw


def validate(raw: Mapping, metrics: list[str], base: Costs | None = None) -> Costs:
    """`raw` merged over `base` (default: the defaults) as checked `Costs`; unknown metrics refused.

    ``metric_values`` is merged metric by metric, so a partial document changes only what it names.
    """
    base = base or Costs()
    if not isinstance(raw, Mapping):
        raise TwowayError("value inputs: must be an object of field → value")
    merged: dict[str, Any] = {**base.as_dict(), **dict(raw)}
    if isinstance(raw.get("metric_values"), Mapping):
        merged["metric_values"] = {**dict(base.metric_values), **dict(raw["metric_values"])}
        unknown = sorted(str(m) for m in raw["metric_values"] if m not in metrics)
        if unknown:
            raise TwowayError(f"value inputs: metric_values names unknown metric(s) "
                              f"{', '.join(repr(u[:60]) for u in unknown[:5])}; known: {', '.join(metrics) or 'none'}")
    try:
        return Costs.from_mapping(merged)
    except (ValueError, TypeError) as exc:
        raise TwowayError(f"value inputs: {exc}") from None


def with_metric_defaults(costs: Costs, metrics: list[str]) -> Costs:
    """Every known metric gets a visible unit value (0 until the analyst sets one)."""
    values = {m: 0.0 for m in metrics}
    values.update({m: v for m, v in costs.metric_values.items() if m in metrics})
    return replace(costs, metric_values=values)


def saved_inputs(db: Database, as_of: int | None = None) -> tuple[Costs, dict]:
    """The inputs in force (saved, else the defaults) and where they came from."""
    metrics = q.known_metrics(db)
    row = q.latest(db, as_of)
    if row is None:
        return with_metric_defaults(Costs(), metrics), {"source": "defaults", "version": None, "saved_at": None,
                                                        "saved_by": None}
    try:
        costs = Costs.from_mapping(json.loads(row["inputs"]))
    except (ValueError, TypeError):  # written by a Twoway with other fields: say so, use the defaults
        return with_metric_defaults(Costs(), metrics), {
            "source": "defaults", "version": None, "saved_at": None, "saved_by": None,
            "note": f"saved inputs version {row['version']} could not be read; the defaults apply"}
    return with_metric_defaults(costs, metrics), {"source": "saved", "version": int(row["version"]),
                                                  "saved_at": str(row["saved_at"])[:19], "saved_by": row["saved_by"]}


def save_inputs(path: str | Path, raw: Mapping, saved_by: str | None = None) -> tuple[int, Costs]:
    """Validate `raw` over the inputs saved now and append it as a new version (writer path: lock,
    one transaction, snapshot publish). Bad inputs raise before anything is written."""
    with Database.writer(path) as db:
        current, _ = saved_inputs(db)
        costs = validate(raw, q.known_metrics(db), current)
        text = json.dumps(costs.as_dict(), sort_keys=True)
        if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
            raise TwowayError(f"value inputs: larger than {MAX_INPUT_BYTES // 1024} KiB")
        with db.transaction():
            version = q.insert(db, text, saved_by)
            db.bump_data_version()
    return version, costs


# -- benefits -------------------------------------------------------------------------------------
def benefits(db: Database, costs: Costs, k: int, as_of: int | None = None) -> tuple[list[Benefit], list[dict]]:
    """Every causal estimate as a `Benefit`, and what could not be valued (with the reason)."""
    from analytics.store import stored_results

    out: list[Benefit] = []
    missing: list[dict] = []
    horizon = costs.horizon_months
    # the engine's figures of the latest unfiltered data are stored with a published snapshot
    stored = stored_results.value_effects(db, k) if as_of is None else None
    if stored is not None:
        effects, metric_tests = stored
    else:
        effects, missing, metric_tests = _engine_parts(db, k, as_of)
    for e in effects:
        if e.outcome != "retention":
            continue
        name = f"avoided leavers ({e.role})"
        est = e.estimate
        if est is None or not all(math.isfinite(x) for x in (est.prob_diff, est.prob_diff_ci_low,
                                                             est.prob_diff_ci_high)):
            missing.append({"part": name, "reason": e.reason or "no estimate"})
            continue
        scale = horizon / est.horizon  # the 12-month difference, pro rata over the horizon
        se = (est.prob_diff_ci_high - est.prob_diff_ci_low) / (2 * Z)
        out.append(Benefit(name, "retention", int(est.n_treated), est.prob_diff * scale, se * scale,
                           costs.replacement_cost))
    for t in metric_tests:
        name = f"{t.metric} ({t.role.value})"
        if not t.ok or not math.isfinite(t.se):
            missing.append({"part": name, "reason": t.reason or "no estimate"})
            continue
        out.append(Benefit(name, "metric", int(t.n_treated), float(t.estimate), float(t.se),
                           float(costs.metric_values.get(t.metric, 0.0))))
    return out, missing


def _engine_parts(db: Database, k: int, as_of: int | None) -> tuple[list, list[dict], tuple]:
    """The engine's retention effects (or why there are none) and the productivity claim's metric tests."""
    from analytics.claims.engine import run
    from analytics.filters import Filters
    from analytics.outcomes.retention import engine_effects

    missing: list[dict] = []
    try:  # the scorecard's own retention tests (released data, the engine's design): one set of figures
        effects = engine_effects(db, k, Filters(as_of=as_of))
    except TwowayError as exc:  # e.g. a level-order setting that does not fit: retention is not valued
        effects = []
        missing += [{"part": f"avoided leavers ({role})", "reason": str(exc)} for role in ("mentors", "mentees")]
    result = run(db, Filters(as_of=as_of), k, 0.2).results.get("productivity")
    return effects, missing, (result.metric_tests if result is not None else ())


def programme(db: Database, k: int, as_of: int | None = None) -> tuple[Programme, dict]:
    """The programme's size from released pairs and sessions; refused under k pairs."""
    from analytics.store.released import released

    with released(db, k, as_of):
        size = q.programme_size(db)
    if size["pairs"] < k:
        raise TwowayError(f"the programme has fewer than {k} pairs in the released data, so no return is shown")
    return Programme(size["pairs"], size["session_hours"], size["session_hours"]), size


def programme_value(db: Database, costs: Costs, k: int, as_of: int | None = None) -> tuple[ValueResult, dict]:
    """The ROI of the programme with these inputs, and the context every output shows with it."""
    prog, size = programme(db, k, as_of)
    found, missing = benefits(db, costs, k, as_of)
    try:
        result = compute_value(found, costs, prog)
    except ValueError as exc:
        raise TwowayError(str(exc)) from None
    return result, {"programme": size, "not_valued": missing, "min_group": int(k), "as_of": as_of}


def value_document(db: Database, k: int, as_of: int | None = None, override: Mapping | None = None) -> dict:
    """Everything the CLI prints and the page draws: the result, every input (defaults included),
    where the inputs came from, the programme's size and what could not be valued."""
    costs, source = saved_inputs(db, as_of)
    if override:
        costs = with_metric_defaults(validate(override, q.known_metrics(db), costs), q.known_metrics(db))
        source = {**source, "source": f"{source['source']} + given"}
    result, context = programme_value(db, costs, k, as_of)
    # the defaults beside the inputs in force, so a saved or given value never hides its default
    defaults = with_metric_defaults(Costs(), q.known_metrics(db)).as_dict()
    return {**result.as_dict(), "inputs": costs.as_dict(), "defaults": defaults, "inputs_source": source, **context}


# -- for the dashboard (cached by ui.cache) -----------------------------------------------------
def page_inputs(db: Database, as_of: int | None = None) -> dict:
    """The inputs in force, the defaults, the known metrics with their units, and where they came from."""
    costs, source = saved_inputs(db, as_of)
    units = q.metric_units(db)
    return {"saved": costs, "defaults": with_metric_defaults(Costs(), q.known_metrics(db)), "source": source,
            "metrics": q.known_metrics(db), "units": units}


def page_value(db: Database, k: int, as_of: int | None, inputs_json: str) -> dict:
    """`value_document` for the page's inputs (JSON text, a cache key); a refusal becomes ``error``."""
    try:
        return value_document(db, k, as_of, json.loads(inputs_json))
    except TwowayError as exc:
        return {"error": str(exc)}
