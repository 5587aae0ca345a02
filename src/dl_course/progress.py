"""The progress store: one SQLite file per workspace (attempts, hints shown, solutions revealed).

Safe with several processes at once (a watcher and a terminal): WAL journal, a busy timeout,
and short transactions. A damaged file gets a clear error, never a traceback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

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
    checks TEXT NOT NULL
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


class Progress:
    """The store of one workspace. Reads work in a read-only folder too; a write that cannot be
    done raises `store.NotSaved` (`StoreReadOnly`, `StoreLocked`) for the caller to report."""

    def __init__(self, path: Path, on_wait: Callable[[str], None] | None = None):
        self.path = path
        self.on_wait = on_wait
        """Told at once (one line) when a write waits for another process's lock."""

    def _db(self, write: bool = False):
        return connect(self.path, _SCHEMA, "the progress database",
                       damaged=f"Your exercise files are safe; move the database aside (e.g. mv {self.path} "
                               f"{self.path}.broken) and your next check starts a new history",
                       full="free some space and check again; your earlier attempts are kept",
                       write=write, on_wait=self.on_wait)

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
                         json.dumps(result.devices), json.dumps([c.__dict__ for c in result.checks])))
        with self._db(write=True) as db:
            db.executemany("INSERT INTO attempts (exercise, at, passed, score, max_score, code_hash, diagnosis, "
                           "failing_check, duration_s, seed, devices, checks) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           rows)

    def latest(self, exercise: str) -> Attempt | None:
        with self._db() as db:
            row = db.execute("SELECT exercise, at, passed, score, max_score, code_hash, diagnosis, failing_check "
                             "FROM attempts WHERE exercise = ? ORDER BY id DESC LIMIT 1", (exercise,)).fetchone()
        return Attempt(row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6], row[7]) if row else None

    def latest_checks(self, exercise: str) -> list[dict[str, Any]]:
        """The checks of the latest attempt, as recorded (name, title, status, message, …)."""
        with self._db() as db:
            row = db.execute("SELECT checks FROM attempts WHERE exercise = ? ORDER BY id DESC LIMIT 1",
                             (exercise,)).fetchone()
        try:
            return list(json.loads(row[0])) if row else []
        except (ValueError, TypeError):
            return []

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per exercise: attempts, best score, ever passed, latest passed."""
        with self._db() as db:
            rows = db.execute(
                "SELECT exercise, COUNT(*), MAX(score), MAX(passed), "
                "(SELECT passed FROM attempts b WHERE b.exercise = a.exercise ORDER BY id DESC LIMIT 1), MAX(at) "
                "FROM attempts a GROUP BY exercise").fetchall()
        return {r[0]: {"attempts": r[1], "best_score": r[2], "ever_passed": bool(r[3]), "passed": bool(r[4]),
                       "last_at": r[5]} for r in rows}

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
