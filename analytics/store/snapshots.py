"""Sharing one organisation's file between the dashboard, the CLI and other app instances.

DuckDB's rules shape everything here:

1. One process may open a file read-write; while it does, the file is locked, and no other
   process can open it at all — not even read-only.
2. Any number of processes may open a file read-only, but only while no process has it
   read-write.
3. Inside one process, any number of threads may use one open file through their own
   connections (`cursor()`), reading in parallel; writes are transactions on one connection.

So a dashboard that kept the live file open read-write (as Twoway once did) locked every CLI
command out, and a dashboard that opened it read-only would lock every import out. Instead:

* **Writers** — `import`, `undo`, the Upload page — take an inter-process lock on a sidecar
  file (`<db>.lock`, `fcntl.flock`) before opening the live file read-write, so two imports
  queue ("waiting for another import…") instead of failing. When the data changed they
  CHECKPOINT, copy the file to `<db>.snapshots/.v<N>…tmp`, read every column of the copy
  back (a truncated or corrupted file is refused here, before anyone sees it), rename it to
  `v<N>.duckdb`, and replace the `LATEST` pointer (JSON) with an atomic rename. Before the
  check, the released data's maps for the default anonymity threshold are built into the copy
  (`released.precompute`), once per data version instead of once per reader process, and so
  is the claims engine's unfiltered and one-department results (`stored_results.precompute`).
* **Readers** — the dashboard, `imports`, `claims` — never open the live file. They open the
  snapshot `LATEST` names, read-only, which any number of processes and app instances can do
  at once, even while an import runs. `Database.refresh()` reads `LATEST` (a few hundred
  bytes) and moves to a newer snapshot; the dashboard does that once per script run, and its
  cache key contains the snapshot, so new data appears on the next rerun and old cache
  entries can never be served for it.
* **Pinned links** (`as_of`) are answered from the newest snapshot: it holds every row with
  the import that wrote it, and `analytics.store.pinning` filters to the imports up to the
  pin. Old snapshots are therefore not needed for links; the newest `KEEP` are kept so
  instances that have not switched yet (or that share the folder over a network file
  system without POSIX delete semantics) keep reading theirs.
* A live file that changed without a publish (another tool wrote it, `demo --force` replaced
  it) is noticed by its identity (inode, size, mtime, WAL) in `LATEST`, and republished by the
  next reader — unless an import holds the lock, in which case readers keep the last snapshot
  until that import publishes.
* A file the user cannot write (read-only file or folder) is opened directly read-only: no
  writer can exist, so rule 2 allows it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import threading
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from analytics.errors import TwowayError
from analytics.store.database import Database, DatabaseBusy, DatabaseDamaged, damaged_message
from analytics.store.schema import SCHEMA_VERSION

#: How many published snapshots stay on disk (the newest serves; older ones for slow switchers).
KEEP = 3
#: How long a writer waits for another import before giving up.
LOCK_WAIT_SECONDS = 1800.0
POINTER = "LATEST"
_SNAPSHOT = re.compile(r"^v(\d+)\.duckdb$")

Wait = Callable[[str], None]
_held = threading.local()


def lock_path(live: Path) -> Path:
    return live.with_name(live.name + ".lock")


def snapshot_dir(live: Path) -> Path:
    return live.with_name(live.name + ".snapshots")


# -- the writers' lock ------------------------------------------------------------------------
class LockBusy(Exception):
    """Raised by `write_lock(wait=False)` when another writer holds the lock."""


@contextlib.contextmanager
def write_lock(live: Path, on_wait: Wait | None = None, wait: bool = True) -> Iterator[None]:
    """Hold the inter-process import lock of `live` (re-entrant within one thread).

    `flock` locks belong to an open file, so two threads of one process exclude each other
    too; the lock is released by the kernel if the process dies.
    """
    key = str(Path(live).resolve())
    held: set[str] = getattr(_held, "paths", None) or set()
    _held.paths = held
    if key in held:
        yield
        return
    try:
        fd = os.open(lock_path(live), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise TwowayError(f"cannot create the import lock {lock_path(live)}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if not wait:
                raise LockBusy(str(live)) from None
            (on_wait or (lambda m: None))(f"Waiting for another import into {live.name} to finish…")
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                time.sleep(0.1)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TwowayError(f"another import into {live} has run for over "
                                          f"{LOCK_WAIT_SECONDS / 60:.0f} minutes; try again later") from None
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- the pointer ------------------------------------------------------------------------------
def identity(live: Path) -> list[int]:
    """What changes when anything writes the live file: inode, size, mtime, and its WAL's."""
    st = os.stat(live)
    try:
        wal = os.stat(str(live) + ".wal")
        wal_id = [wal.st_size, wal.st_mtime_ns]
    except FileNotFoundError:
        wal_id = [0, 0]
    return [st.st_ino, st.st_size, st.st_mtime_ns, *wal_id]


def read_latest(live: Path) -> dict | None:
    """The current pointer, or None when there is none (or it names a missing file)."""
    folder = snapshot_dir(live)
    try:
        pointer = json.loads((folder / POINTER).read_text(encoding="utf-8"))
        name = str(pointer["snapshot"])
        if not _SNAPSHOT.match(name) or not (folder / name).is_file():
            return None
        pointer["seq"] = int(pointer["seq"])
        return pointer
    except (OSError, ValueError, KeyError, TypeError):
        return None


def code_version() -> str:
    """Names this Twoway's code (every `analytics` module and the numeric libraries' versions):
    the results a snapshot stores at publish (released maps, the engine's unfiltered results) are
    only used by the code that computed them, so a snapshot of other code is republished once."""
    from analytics.store.stored_results import ENGINE_FINGERPRINT

    return ENGINE_FINGERPRINT


def is_fresh(live: Path, pointer: dict | None) -> bool:
    """Whether the pointer names a snapshot of the live file as it is now, published by this
    Twoway (its schema and its code): a snapshot published before an upgrade is republished once,
    from the migrated live file, so readers get the stored results of the code they run instead
    of computing every figure themselves until the next import."""
    return (pointer is not None and pointer.get("source") == identity(live)
            and pointer.get("schema", 5) == SCHEMA_VERSION and pointer.get("code") == code_version())


# -- publishing -------------------------------------------------------------------------------
def verify(file: Path) -> None:
    """Read every column of every table of `file`, so damage shows here and not on a page.

    DuckDB checks a block's checksum when it reads it; metadata alone (counts) does not read
    data blocks, so each column is aggregated. Raises `DatabaseDamaged`.
    """
    with Database(file, read_only=True) as copy:
        tables = copy.query(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").rows
        for schema, table in tables:  # names from the file's own catalog, quoted
            quoted = ".".join('"' + name.replace('"', '""') + '"' for name in (schema, table))
            try:
                copy.query(f"SELECT bit_xor(hash(COLUMNS(*))) FROM {quoted}")
            except duckdb.Error as exc:  # any failure to read a stored column is damage here
                raise DatabaseDamaged(damaged_message(file, exc)) from None


def _precompute(live: Path, tmp: Path) -> None:
    """Store the released maps of the default k in the copy (`released.precompute`), so no reader
    process builds them. Should that fail, the copy is taken again without them: readers then
    build the maps themselves, as they do for another k, and the import still publishes."""
    from analytics import privacy
    from analytics.store import released, stored_results

    try:
        with Database(tmp) as copy:
            released.precompute(copy, privacy.min_group_size())
            stored_results.precompute(copy, privacy.min_group_size())  # the unfiltered and one-department results
            copy.checkpoint()
    except DatabaseDamaged:
        raise
    except Exception as exc:  # noqa: BLE001 — an optimisation must never stop an import
        warnings.warn(f"released data not precomputed for {live.name} ({type(exc).__name__}: {exc}); "
                      "readers will build it", RuntimeWarning, stacklevel=2)
        shutil.copyfile(live, tmp)


def publish(db: Database) -> dict:
    """Publish `db` (a writer, lock held) as the newest snapshot; returns the new pointer."""
    live = db.path
    db.checkpoint()
    folder = snapshot_dir(live)
    folder.mkdir(exist_ok=True)
    old = read_latest(live)
    seqs = [int(m.group(1)) for p in folder.iterdir() if (m := _SNAPSHOT.match(p.name))]
    seq = max(seqs + [old["seq"] if old else 0]) + 1
    name = f"v{seq}.duckdb"
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    try:
        shutil.copyfile(live, tmp)
        _precompute(live, tmp)
        verify(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    pointer = {"snapshot": name, "seq": seq, "data_version": db.data_version(), "source": identity(live),
               "schema": SCHEMA_VERSION, "code": code_version(), "token": f"{seq}-{secrets.token_hex(6)}",
               "published_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    tmp_pointer = folder / f".{POINTER}.{os.getpid()}.tmp"
    tmp_pointer.write_text(json.dumps(pointer), encoding="utf-8")
    os.replace(tmp_pointer, folder / POINTER)
    _prune(folder, seq)
    return pointer


def _prune(folder: Path, newest: int) -> None:
    for p in folder.iterdir():
        m = _SNAPSHOT.match(p.name)
        if m and int(m.group(1)) <= newest - KEEP:
            p.unlink(missing_ok=True)


@contextlib.contextmanager
def open_writer(live: Path, on_wait: Wait | None = None) -> Iterator[Database]:
    """The live file read-write under the lock; on a clean exit, publish if the data changed."""
    live.parent.mkdir(parents=True, exist_ok=True)
    if live.exists() and not writable(live):
        raise TwowayError(f"database {live} is read-only (the file or its folder is not writable); "
                          "it can be viewed, but imports and undo need a writable file")
    with write_lock(live, on_wait):
        with Database(live) as db:
            before = db.data_version()
            yield db
            pointer = read_latest(live)
            if db.data_version() != before or pointer is None or pointer.get("data_version") != before:
                publish(db)


# -- reading ----------------------------------------------------------------------------------
def writable(live: Path) -> bool:
    """Whether Twoway may write `live`: the file and its folder are writable, and the file's mode
    has a write bit (a file made read-only with chmod stays read-only even for root)."""
    return (os.access(live, os.W_OK) and os.access(live.parent, os.W_OK)
            and bool(os.stat(live).st_mode & 0o222))


def current(live: Path, on_wait: Wait | None = None) -> dict:
    """The pointer readers should use now, republishing a stale one when no import is running."""
    pointer = read_latest(live)
    if is_fresh(live, pointer):
        return pointer
    try:
        with write_lock(live, on_wait, wait=pointer is None):
            pointer = read_latest(live)
            if is_fresh(live, pointer):
                return pointer
            try:
                with Database(live) as db:
                    return publish(db)
            except DatabaseBusy:
                if pointer is None:
                    raise
                return pointer  # a program outside Twoway holds the file: serve what was published
    except LockBusy:
        return pointer  # an import is under way and will publish when it ends


def open_reader(live: Path, on_wait: Wait | None = None) -> Database:
    """A read-only `Database` on the latest snapshot of `live` (see the module docstring)."""
    live = Path(live)
    if not live.is_file():
        raise TwowayError(f"database {live} does not exist")
    if not writable(live):
        return Database(live, read_only=True)  # nobody can write it: read it where it is
    pointer = current(live, on_wait)
    db = Database(snapshot_dir(live) / pointer["snapshot"], read_only=True)
    db.path, db.snapshot = live, pointer
    db._pointers[db._gen] = pointer
    return db


def refresh(db: Database) -> bool:
    """Move `db` (a reader) to the newest snapshot; True when this thread's snapshot changed."""
    before = db.data_token()
    pointer = current(db.path)
    if pointer["token"] != (db.snapshot or {}).get("token"):
        db._switch(snapshot_dir(db.path) / pointer["snapshot"], pointer)
    else:
        db._release_thread()  # another thread switched already: follow it
    return db.data_token() != before
