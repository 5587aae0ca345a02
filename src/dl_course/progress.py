"""The progress store: one SQLite file per workspace (attempts, hints shown, solutions revealed).

Each attempt records where it came from: `source_kind` is `file` (the exercise's .py file) or
`notebook`, and `source` the graded file as the learner names it (`chapter09/subsequent_mask.py`,
`chapter09.ipynb`). Attempts recorded before these columns existed count as `file`.

Safe with several processes at once (a watcher and a terminal): WAL journal, a busy timeout,
and short transactions. A damaged file gets a clear error, never a traceback.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from dl_course.store import connect

__all__ = ["Progress", "Attempt"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise TEXT NOT NULL,
    at REAL NOT NULL,
    passed INTEGER NOT NULL,
    score REAL NOT NULL,
    max_score INTEGER NOT NULL,
    code_hash TEXT NOT NULL,
    diagnosis TEXT,
    failing_check TEXT,
    duration_s REAL NOT NULL,
    seed INTEGER,
    devices TEXT NOT NULL,
    checks TEXT NOT NULL,
    source_kind TEXT,
    source TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_exercise ON attempts (exercise, at);
CREATE TABLE IF NOT EXISTS hints_shown (
    exercise TEXT NOT NULL,
    hint INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (exercise, hint)
);
CREATE TABLE IF NOT EXISTS reveals (
    exercise TEXT NOT NULL,
    at REAL NOT NULL,
    forced INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Attempt:
    exercise: str
    at: float
    passed: bool
    score: float
    max_score: int
    code_hash: str
    diagnosis: str | None
    failing_check: str | None


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a store from before `source_kind`/`source` up to date. Where it cannot be written (a
    read-only folder), a temporary view stands in, so reads still work."""
    have = {row[1] for row in db.execute("PRAGMA table_info(attempts)")}
    missing = [c for c in ("source_kind", "source") if c not in have]
    if not missing:
        return
    try:
        for column in missing:
            db.execute(f"ALTER TABLE attempts ADD COLUMN {column} TEXT")
    except sqlite3.OperationalError:  # read-only: reads go through a view with the new columns empty
        db.execute("CREATE TEMP VIEW attempts AS SELECT *, NULL AS source_kind, NULL AS source FROM main.attempts")


def _kind_filter(kind: str | None) -> tuple[str, tuple]:
    """SQL (and its parameters) for attempts of one kind of source; `file` takes old attempts too."""
    if kind is None:
        return "", ()
    if kind == "file":
        return " AND (source_kind IS NULL OR source_kind = 'file')", ()
    return " AND source_kind = ?", (kind,)


def source_of(result: Any) -> tuple[str, str | None]:
    """(`file` or `notebook`, the graded file as the learner names it) of a result."""
    where = getattr(result, "file", None) or None
    return ("notebook" if where and str(where).lower().endswith(".ipynb") else "file"), where


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    latest = max(parts, key=lambda p: p["last_at"])
    return {"attempts": sum(p["attempts"] for p in parts), "best_score": max(p["best_score"] for p in parts),
            "ever_passed": any(p["ever_passed"] for p in parts), "passed": latest["passed"],
            "last_at": latest["last_at"]}


class Progress:
    """The store of one workspace. Reads work in a read-only folder too; a write that cannot be
    done raises `store.NotSaved` (`StoreReadOnly`, `StoreLocked`) for the caller to report."""

    def __init__(self, path: Path, on_wait: Callable[[str], None] | None = None):
        self.path = path
        self.on_wait = on_wait
        """Told at once (one line) when a write waits for another process's lock."""

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        with connect(self.path, _SCHEMA, "the progress database",
                     damaged=f"Your exercise files are safe; move the database aside (e.g. mv {self.path} "
                             f"{self.path}.broken) and your next check starts a new history",
                     full="free some space and check again; your earlier attempts are kept",
                     write=write, on_wait=self.on_wait) as db:
            _migrate(db)
            yield db

    def record(self, result: Any, code_hash: str) -> None:
        """Store one graded attempt (an ExerciseResult)."""
        self.record_all([(result, code_hash)])

    def record_all(self, attempts: list[tuple[Any, str]]) -> None:
        """Store graded attempts (ExerciseResult, code hash) in one transaction: all or none."""
        rows = []
        for result, code_hash in attempts:
            first = result.first_failure
            rows.append((result.exercise, time.time(), int(result.passed), float(result.score),
                         int(result.max_score), code_hash, (result.diagnosis or {}).get("id"),
                         first.name if first else None, float(result.duration_s), result.seed,
                         json.dumps(result.devices), json.dumps([c.__dict__ for c in result.checks]),
                         *source_of(result)))
        with self._db(write=True) as db:
            db.executemany("INSERT INTO attempts (exercise, at, passed, score, max_score, code_hash, diagnosis, "
                           "failing_check, duration_s, seed, devices, checks, source_kind, source) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def latest(self, exercise: str, kind: str | None = None) -> Attempt | None:
        """The latest attempt (of one kind of source: `file`, `notebook`; default any)."""
        where, extra = _kind_filter(kind)
        with self._db() as db:
            row = db.execute("SELECT exercise, at, passed, score, max_score, code_hash, diagnosis, failing_check "
                             f"FROM attempts WHERE exercise = ?{where} ORDER BY id DESC LIMIT 1",
                             (exercise, *extra)).fetchone()
        return Attempt(row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6], row[7]) if row else None

    def latest_checks(self, exercise: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The checks of the latest attempt (of one kind of source), as recorded (name, title, status, …)."""
        where, extra = _kind_filter(kind)
        with self._db() as db:
            row = db.execute(f"SELECT checks FROM attempts WHERE exercise = ?{where} ORDER BY id DESC LIMIT 1",
                             (exercise, *extra)).fetchone()
        try:
            return list(json.loads(row[0])) if row else []
        except (ValueError, TypeError):
            return []

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per exercise: attempts, best score, ever passed, latest passed (every source together)."""
        return {ex: _merge(parts) for ex, parts in self.by_source().items()}

    def by_source(self) -> dict[str, list[dict[str, Any]]]:
        """Per exercise, per source (the .py file, each notebook), latest first: kind, source,
        attempts, best score, ever passed, latest passed, last time."""
        with self._db() as db:
            rows = db.execute(
                "SELECT exercise, COALESCE(source_kind, 'file') AS k, CASE WHEN COALESCE(source_kind, 'file') = "
                "'file' THEN NULL ELSE source END AS s, COUNT(*), MAX(score), MAX(passed), "
                "(SELECT passed FROM attempts b WHERE b.exercise = a.exercise AND COALESCE(b.source_kind, 'file') = "
                "COALESCE(a.source_kind, 'file') AND (COALESCE(b.source_kind, 'file') = 'file' OR "
                "b.source IS a.source) ORDER BY id DESC LIMIT 1), MAX(at), MAX(source) "
                "FROM attempts a GROUP BY exercise, k, s ORDER BY MAX(at) DESC").fetchall()
        out: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r[0], []).append({"kind": r[1], "source": r[2] if r[1] != "file" else r[8],
                                             "attempts": r[3], "best_score": r[4], "ever_passed": bool(r[5]),
                                             "passed": bool(r[6]), "last_at": r[7]})
        return out

    def ever_passed(self, exercise: str) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM attempts WHERE exercise = ? AND passed = 1 LIMIT 1",
                              (exercise,)).fetchone() is not None

    def hints_shown(self, exercise: str) -> list[int]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT hint FROM hints_shown WHERE exercise = ? ORDER BY at",
                                             (exercise,))]

    def mark_hint(self, exercise: str, hint: int) -> None:
        with self._db(write=True) as db:
            db.execute("INSERT OR IGNORE INTO hints_shown (exercise, hint, at) VALUES (?, ?, ?)",
                       (exercise, hint, time.time()))

    def record_reveal(self, exercise: str, forced: bool) -> None:
        with self._db(write=True) as db:
            db.execute("INSERT INTO reveals (exercise, at, forced) VALUES (?, ?, ?)", (exercise, time.time(), int(forced)))

    def reveals(self, exercise: str) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM reveals WHERE exercise = ?", (exercise,)).fetchone()[0]
