"""The `import` command's body (kept here so cli.py stays a thin list of commands)."""

from __future__ import annotations

import sys

import click

from analytics.errors import TwowayError
from analytics.importing.api import ImportFailed, empty_report, import_file
from analytics.store import Database

REPORT_KEYS = ("format", "kind", "rows", "items", "errors", "import_id")


def run_import(file, db_path, *, kind, survey, mapping, id_column, dry_run, as_json, emit_json, progress,
               as_of=None, force=False) -> None:
    """Run one import and print the report; exit 1 on bad input (the database unchanged)."""
    from pathlib import Path

    import tempfile

    report = None
    scratch = None
    if dry_run and not Path(db_path).exists():  # a dry run creates no database file
        scratch = tempfile.TemporaryDirectory(prefix="twoway-dry-")
        db_path = Path(scratch.name) / "empty.duckdb"
    try:
        with Database.writer(db_path, on_wait=lambda message: click.echo(message, err=True)) as db:
            report = import_file(db, file, kind=kind, survey=survey, mapping=mapping, id_column=id_column,
                                 dry_run=dry_run, progress=None if as_json else progress,
                                 as_of=as_of, force=force)
    except ImportFailed as exc:
        if as_json:
            emit_json(_ordered(exc.report))
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        for e in exc.report["errors"]:
            click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    except TwowayError as exc:
        if as_json:
            rep = empty_report(Path(file).name)
            rep["errors"] = [str(exc)]
            emit_json(_ordered(rep))
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        raise
    finally:
        if scratch is not None:
            scratch.cleanup()
    if as_json:
        emit_json(_ordered(report))
        return
    _print_text(report, dry_run)


def _ordered(report: dict) -> dict:
    out = {k: report.get(k) for k in REPORT_KEYS}
    out.update({k: v for k, v in report.items() if k not in out and not k.startswith("_")})
    return out


def _print_text(r: dict, dry_run: bool) -> None:
    if r.get("duplicate_of"):
        click.echo(f"Already imported as #{r['duplicate_of']}: nothing changed.")
        return
    head = "Checked (dry run, nothing written)" if dry_run else f"Imported as #{r['import_id']}"
    click.echo(f"{head}: {r['format']} {r['kind']} file, {r['rows']:,} "
               + ("respondents" if r["kind"] == "survey" else "rows"))
    if r["kind"] == "employees" and "added" in r:
        click.echo(f"  snapshot {r.get('snapshot') or '(none: first roster or additions)'}: "
                   + ", ".join(f"{k} {r[k]['count']:,}" for k in ("added", "changed", "left", "rehired")))
    if r["kind"] == "survey" and r.get("person_key"):
        click.echo(f"  people identified by {r['person_key']}: {r.get('linked', 0):,} linked to the roster")
    for d, n in (r.get("dropped") or {}).items():
        click.echo(f"  dropped {n} × {d}")
    for it in r["items"][:50]:
        mean = "–" if it["mean"] is None else f"{it['mean']:.3f}"
        q = it["question"].replace("\n", " ")
        click.echo(f"  {it.get('construct') or '(unmapped)':<22} n={it['n']:<6} mean={mean:<7} {q[:80]}")
    for w in r["warnings"]:
        click.echo(f"Warning: {w}", err=True)
