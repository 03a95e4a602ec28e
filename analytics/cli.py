"""`python -m analytics`: the command line every script, test and dashboard action shares.

User mistakes become one line on stderr and exit status 1 (2 for usage errors), never a
traceback. Feature modules define their commands here with the shared option decorators.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from analytics.errors import TwowayError
from analytics.importing.formats import KINDS


# -- shared options ---------------------------------------------------------------------------
def db_option(required: bool = True, must_exist: bool = False):
    """`--db PATH`, defaulting to $TWOWAY_DB; the path must not be a directory.

    Commands that only read or change existing data pass `must_exist`, so a mistyped path is an
    error instead of a new, empty database.
    """

    def validate(ctx, param, value):
        if value is None:
            value = os.environ.get("TWOWAY_DB")
        if value is None:
            if required:
                raise click.BadParameter("give --db PATH (or set TWOWAY_DB)")
            return None
        path = Path(value)
        if path.is_dir():
            raise click.BadParameter(f"{value} is a directory, not a database file")
        if must_exist and not path.exists():
            raise click.BadParameter(f"{value} does not exist (create one with `demo` or `import`)")
        return path

    return click.option("--db", "db_path", type=click.Path(dir_okay=False), callback=validate,
                        help="DuckDB database file (default: $TWOWAY_DB).")


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")(fn)


def where_option(fn):
    return click.option(
        "--where", "where", multiple=True, metavar="KEY=VALUE",
        help="Filter, repeatable: department, location, generation, level, cohort, date_from, date_to, method.",
    )(fn)


def friendly_errors(fn):
    """Turn `TwowayError` (and other user-facing failures) into one clean line and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TwowayError as exc:
            raise click.ClickException(str(exc)) from None
        except MemoryError:
            raise click.ClickException("out of memory: the input is too large for this machine") from None
        except KeyboardInterrupt:
            raise click.ClickException("interrupted; nothing was written") from None

    return wrapper


def emit_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


# -- the group --------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name=None, version=__import__("analytics").__version__, prog_name="twoway")
def cli():
    """Twoway: does our reverse-mentoring programme actually work?

    Build a demo organisation, import rosters, session logs and survey exports, and test
    each claim about reverse mentoring with a comparison group.
    """


@cli.command()
@db_option()
@click.option("--seed", type=click.IntRange(min=0), default=7, show_default=True, help="Random seed.")
@click.option("--employees", "n_employees", type=click.IntRange(min=50, max=1_000_000), default=2000,
              show_default=True, help="Head count of the organisation.")
@click.option("--force", is_flag=True, help="Replace an existing database file.")
@json_option
@friendly_errors
def demo(db_path, seed, n_employees, force, as_json):
    """Write a realistic, deterministic demo organisation into a new database."""
    from analytics.demo import build_demo

    summary = build_demo(db_path, seed=seed, n_employees=n_employees, force=force,
                         progress=None if as_json else _stderr_progress)
    if as_json:
        emit_json(summary)
    else:
        counts = summary["counts"]
        click.echo(f"Wrote {db_path}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items() if k != "imports")
                   + f" in {summary['seconds']:.1f}s")


def _stderr_progress(fraction: float, message: str) -> None:
    click.echo(f"[{fraction:4.0%}] {message}", err=True)


def _stderr_wait(message: str) -> None:
    click.echo(message, err=True)


@cli.command()
@db_option()
@where_option
@click.option("--sesoi", type=click.FloatRange(min=0.01, max=5), default=0.2, show_default=True,
              help="Smallest effect of interest (SD) for the no-effect verdict.")
@click.option("--min-group", type=click.IntRange(min=1), default=None,
              help="Minimum group size (default $TWOWAY_MIN_GROUP_SIZE or 5).")
@click.option("--event-study", "event_study", metavar="CLAIM", default=None,
              help="Print one claim's event study (effect by wave relative to the start, per role) instead.")
@click.option("--metric", "metric", metavar="NAME", default=None,
              help="With --event-study: the monthly event study of this objective metric instead of the survey's.")
@json_option
@friendly_errors
def claims(db_path, where, sesoi, min_group, event_study, metric, as_json):
    """Test every reverse-mentoring claim and print the scorecard."""
    from analytics.claims.cli_support import claims_command

    claims_command(db_path, where, sesoi, min_group, as_json, emit_json, event_study=event_study, metric=metric)


@cli.command("value")
@db_option(must_exist=True)
@click.option("--costs", "costs", metavar="JSON",
              help="Value inputs as a JSON file path or inline JSON object, merged over the saved inputs "
                   "(fields: fixed, per_pair, hourly_cost_mentor, hourly_cost_mentee, prep_hours_per_pair, "
                   "replacement_cost, metric_values, horizon_months).")
@click.option("--save", is_flag=True, help="Store the --costs inputs with the database (a new version).")
@click.option("--min-group", type=click.IntRange(min=1), default=None,
              help="Minimum group size (default $TWOWAY_MIN_GROUP_SIZE or 5).")
@click.option("--as-of", "as_of", type=click.IntRange(min=1), default=None,
              help="Pin to the data (and saved inputs) as of this import id.")
@json_option
@friendly_errors
def value_cmd(db_path, costs, save, min_group, as_of, as_json):
    """Return on investment: benefits from the causal estimates against the programme's cost."""
    from analytics.value_cli import value_command

    value_command(db_path, costs, save, min_group, as_of, as_json, emit_json)


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@db_option()
@click.option("--kind", type=click.Choice(KINDS),
              help="What the file holds (default: detected from the file).")
@click.option("--survey", help="Survey wave name (default: from the file name).")
@click.option("--mapping", help="Item mapping: a JSON file or an inline JSON object.")
@click.option("--id-column", "id_column", help="Column identifying a person (column id or header text).")
@click.option("--as-of", "as_of", help="Roster snapshot date (YYYY-MM-DD): the file is the full roster on that day.")
@click.option("--force", is_flag=True, help="Accept a roster snapshot that ends more than 40% of current employees.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@json_option
@friendly_errors
def import_cmd(file, db_path, kind, survey, mapping, id_column, as_of, force, dry_run, as_json):
    """Import a roster, pairs, sessions, metrics or survey file (CSV or XLSX)."""
    from analytics.importing.cli_support import run_import

    run_import(file, db_path, kind=kind, survey=survey, mapping=mapping, id_column=id_column,
               dry_run=dry_run, as_json=as_json, emit_json=emit_json, progress=_stderr_progress,
               as_of=as_of, force=force)


@cli.command("undo")
@click.argument("import_id", type=click.IntRange(min=1))
@db_option(must_exist=True)
@click.option("--force", is_flag=True, help="Undo even the demo organisation's import (it empties the database).")
@json_option
@friendly_errors
def undo_cmd(import_id, db_path, force, as_json):
    """Undo an import: delete every row it wrote (one transaction)."""
    from analytics.importing import undo_import
    from analytics.store import Database

    with Database.writer(db_path, on_wait=_stderr_wait) as db:
        result = undo_import(db, import_id, protect_demo=not force)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"Undid import #{import_id}: " + (", ".join(f"{n:,} {t}" for t, n in result["deleted"].items())
                                                     or "no rows") + " deleted")


@cli.command("imports")
@db_option(must_exist=True)
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=50, show_default=True)
@json_option
@friendly_errors
def imports_cmd(db_path, limit, as_json):
    """List imports, newest first."""
    from analytics.importing import import_history
    from analytics.store import Database

    with Database.reader(db_path, on_wait=_stderr_wait) as db:  # a snapshot: works while others write
        hist = import_history(db, limit)
    if as_json:
        emit_json(hist.to_dict(orient="records"))
    elif hist.empty:
        click.echo("No imports yet.")
    else:
        for r in hist.itertuples():
            click.echo(f"#{r.import_id:<4} {str(r.imported_at)[:19]}  {r.status:<6} {r.kind:<9} {r.rows:>8,}  "
                       f"{r.file_name}")


def main() -> None:
    cli(prog_name="python -m analytics")


if __name__ == "__main__":
    sys.exit(main())
