"""Opening the SQLite files dl-course keeps (the progress store, the class gradebook).

One place decides how a connection is set up (WAL, a busy timeout, so two dl-course at once
wait for each other rather than corrupt anything) and how a failure is told to a person: a
locked file, a full disk and a damaged file each get a message that says what to do.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dl_course.errors import WorkspaceError

__all__ = ["connect"]


@contextmanager
def connect(path: Path, schema: str, name: str, damaged: str, full: str) -> Iterator[sqlite3.Connection]:
    """A connection to `path` (created with `schema` if new), closed afterwards.

    Args:
        path: the database file; its folder is created.
        schema: SQL run on every open (`CREATE … IF NOT EXISTS`).
        name: how to call it in messages, e.g. "the progress database".
        damaged: what to do when the file is damaged (appended to the message).
        full: what to do when the disk is full (appended to the message).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        raise WorkspaceError(f"cannot open {name} {path}: {e}") from None
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(schema)
        yield conn
    except sqlite3.DatabaseError as e:
        text = str(e).lower()
        if isinstance(e, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            raise WorkspaceError(f"{name} {path} stayed locked by another dl-course; try again") from None
        if isinstance(e, sqlite3.OperationalError) and "disk" in text:
            raise WorkspaceError(f"{name} {path} could not be written ({e}); {full}") from None
        raise WorkspaceError(f"{name} {path} is damaged ({e}). {damaged}") from None
    finally:
        conn.close()
