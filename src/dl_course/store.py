"""Opening the SQLite files dl-course keeps (the progress store, the class gradebook).

One place decides how a connection is set up (WAL, a busy timeout, so two dl-course at once
wait for each other rather than corrupt anything) and how a failure is told to a person: a
locked file, a read-only folder, a full disk and a damaged file each get a message that says
what to do, and a command that only reads never needs to write.

    connect(..., write=False)   reads; in a read-only folder, reads the file as it is (or an
                                empty history when there is none)
    connect(..., write=True)    one write transaction (BEGIN IMMEDIATE … COMMIT); waits for
                                another process's write lock, saying so at once (`on_wait`),
                                and gives up after `lock_wait_s()` with `StoreLocked`
"""

from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from dl_course.errors import WorkspaceError

__all__ = ["connect", "writable", "describe_lock", "StoreReadOnly", "StoreLocked", "NotSaved", "lock_wait_s", "LOCK_WAIT_ENV"]

LOCK_WAIT_ENV = "DL_COURSE_LOCK_WAIT"
"""Seconds to wait for another process's write lock before giving up (default 30)."""

_FIRST_TRY_S = 0.25  # wait this long quietly before saying that we wait


def lock_wait_s() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, "30")))
    except ValueError:
        return 30.0


class NotSaved(WorkspaceError):
    """A write that could not be done; what was graded or shown is still good, only not kept."""


class StoreReadOnly(NotSaved):
    """The database's folder (or file) cannot be written: a read-only mount, no permission."""


class StoreLocked(NotSaved):
    """Another process held the write lock for longer than we wait."""


def writable(path: Path) -> bool:
    """Whether `path` (a database file) can be written: its folder exists (or can be made) and
    the folder and the file are writable (EROFS counts, also for root)."""
    folder = path.parent
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def _lock_holders(path: Path) -> str:
    """The processes that have `path` (or its -wal) open, as 'pid 123 (sqlite3)', best effort (Linux)."""
    wanted = {str(path.resolve()), str(path.resolve()) + "-wal"}
    found = []
    me = os.getpid()
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != me]
    except OSError:
        return ""
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                        with open(f"/proc/{pid}/comm") as f:
                            found.append(f"pid {pid} ({f.read().strip()})")
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return ", ".join(sorted(set(found))[:3])


def describe_lock(path: Path) -> str:
    """'the write lock on PATH, held by pid 123 (sqlite3)' (the holder when it can be seen)."""
    holders = _lock_holders(path)
    return f"the write lock on {path}" + (f", held by {holders}" if holders else " (held by another process)")


def _is_locked(e: BaseException) -> bool:
    text = str(e).lower()
    return isinstance(e, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _is_read_only(e: BaseException) -> bool:
    text = str(e).lower()
    return "readonly" in text or "read-only" in text or getattr(e, "errno", None) in (errno.EROFS, errno.EACCES,
                                                                                      errno.EPERM)


@contextmanager
def connect(path: Path, schema: str, name: str, damaged: str, full: str, write: bool = False,
            on_wait: Callable[[str], None] | None = None) -> Iterator[sqlite3.Connection]:
    """A connection to `path` (created with `schema` if new), closed afterwards.

    Args:
        path: the database file; its folder is created (when writable).
        schema: SQL run on every open (`CREATE … IF NOT EXISTS`).
        name: how to call it in messages, e.g. "the progress database".
        damaged: what to do when the file is damaged (appended to the message).
        full: what to do when the disk is full (appended to the message).
        write: one write transaction: committed at the end of the `with`, rolled back on error.
        on_wait: told at once (one line) when another process holds the write lock and we wait.

    Raises:
        StoreReadOnly: a write where the folder or file cannot be written.
        StoreLocked: a write that waited `lock_wait_s()` for another process's lock.
        WorkspaceError: a damaged file, a full disk, a file that cannot be opened.
    """
    path = Path(path)
    if not writable(path):
        if write:
            raise StoreReadOnly(f"{path.parent} is read-only, so {name} cannot be written")
        with _read_only(path, schema, name, damaged) as conn:
            yield conn
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=lock_wait_s(), isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        if _is_read_only(e):
            raise StoreReadOnly(f"{path.parent} is read-only, so {name} cannot be written") from None
        raise WorkspaceError(f"cannot open {name} {path}: {e}") from None
    began = False
    try:
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(lock_wait_s() * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(schema)
            if write:
                conn.execute(f"PRAGMA busy_timeout = {int(min(_FIRST_TRY_S, lock_wait_s()) * 1000)}")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as e:
                    if not _is_locked(e) or lock_wait_s() <= _FIRST_TRY_S:
                        raise
                    if on_wait is not None:
                        on_wait(f"waiting up to {lock_wait_s():.0f} s for {describe_lock(path)}…")
                    conn.execute(f"PRAGMA busy_timeout = {int(lock_wait_s() * 1000)}")
                    conn.execute("BEGIN IMMEDIATE")
                began = True
        except sqlite3.OperationalError as e:
            if _is_locked(e) and write:
                raise StoreLocked(f"gave up after {lock_wait_s():.0f} s waiting for {describe_lock(path)}") from None
            raise
        yield conn
        if began:
            conn.execute("COMMIT")
            began = False
    except sqlite3.DatabaseError as e:
        text = str(e).lower()
        if _is_locked(e):
            if write:
                raise StoreLocked(f"gave up after {lock_wait_s():.0f} s waiting for {describe_lock(path)}") from None
            raise WorkspaceError(f"{name} {path} stayed locked ({describe_lock(path)}); try again") from None
        if _is_read_only(e):
            raise StoreReadOnly(f"{path.parent} is read-only, so {name} cannot be written") from None
        if isinstance(e, sqlite3.OperationalError) and "disk" in text:
            raise WorkspaceError(f"{name} {path} could not be written ({e}); {full}") from None
        raise WorkspaceError(f"{name} {path} is damaged ({e}). {damaged}") from None
    finally:
        if began:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        conn.close()


@contextmanager
def _read_only(path: Path, schema: str, name: str, damaged: str) -> Iterator[sqlite3.Connection]:
    """Read `path` where nothing may be written: the file as it is (immutable: no -wal/-shm made),
    or an empty database with the schema when there is no file yet."""
    try:
        if path.is_file():
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.executescript(schema)
    except (OSError, sqlite3.Error) as e:
        raise WorkspaceError(f"cannot open {name} {path}: {e}") from None
    try:
        yield conn
    except sqlite3.DatabaseError as e:
        if _is_read_only(e):
            raise StoreReadOnly(f"{path.parent} is read-only, so {name} cannot be written") from None
        raise WorkspaceError(f"{name} {path} is damaged ({e}). {damaged}") from None
    finally:
        conn.close()
