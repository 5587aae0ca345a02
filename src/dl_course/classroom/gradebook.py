"""The class's gradebook: one SQLite file in --out.

Each verdict is kept under (student, exercise, code hash, exercise version): the same code
graded against the same exercise is never graded twice, and a re-run grades only what changed.
Each verdict is committed as soon as it is recorded, so an interrupted run (Ctrl-C, a killed
worker, a full disk) keeps everything already graded and the next run resumes from there.

The *exercise version* is a hash of everything that decides a verdict besides the student's
code: the manifest, the hidden suite, the known mistakes, the reference (and those of the
exercises it uses), its support files, the engine's version and the devices. The *code hash*
covers the student's file and their files of the exercises it imports (`uses`).

Safe with several processes at once (WAL journal, busy timeout, short transactions), like the
learner's progress store; a damaged file gets a clear error.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from dl_course import __version__
from dl_course.course.model import Exercise, Pack
from dl_course.store import connect
from dl_course.grading.result import ExerciseResult

__all__ = ["Gradebook", "RosterEntry", "exercise_version", "code_digest", "FILENAME"]

FILENAME = "gradebook.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    version TEXT NOT NULL,
    passed INTEGER NOT NULL,
    score REAL NOT NULL,
    max_score INTEGER NOT NULL,
    diagnosis TEXT,
    failing_check TEXT,
    error TEXT,
    result TEXT NOT NULL,
    graded_at REAL NOT NULL,
    PRIMARY KEY (student, exercise, code_hash, version)
);
CREATE TABLE IF NOT EXISTS roster (
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    status TEXT NOT NULL,
    code_hash TEXT,
    version TEXT NOT NULL,
    file TEXT,
    note TEXT,
    PRIMARY KEY (student, exercise)
);
"""


def _digest(parts: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in parts:
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"<missing>"


def exercise_version(pack: Pack, ex: Exercise, device: str) -> str:
    """A hash of everything that decides this exercise's verdicts, besides the student's code."""
    parts = [("engine", __version__.encode()), ("device", device.encode()),
             ("manifest", _read(ex.manifest)), ("suite", _read(ex.suite)), ("mistakes", _read(ex.mistakes)),
             ("solution", _read(ex.solution))]
    parts += [(f"support:{name}", _read(ex.support_file(name))) for name in ex.support]
    parts += [(f"shared:{path.name}", _read(path)) for path in pack.shared_files]
    for used in ex.uses:
        other = pack.exercises.get(used)
        if other is not None:
            parts.append((f"uses:{used}", _read(other.solution)))
    return _digest(parts)[:24]


def code_digest(files: dict[str, bytes]) -> str:
    """A hash of the student's files graded together (their file and the files it imports)."""
    return _digest(sorted(files.items()))


@dataclass(frozen=True)
class RosterEntry:
    """What the latest run found for one student and one exercise."""

    student: str
    exercise: str
    status: str
    """`submitted`, `missing` (no file) or `refused` (a file that could not be graded: too big…)."""
    code_hash: str | None
    version: str
    file: str | None
    note: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.student, self.exercise, self.code_hash or "", self.version)


class Gradebook:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / FILENAME

    def _db(self):
        return connect(self.path, _SCHEMA, "the gradebook",
                       damaged=f"Move it aside (e.g. mv {self.path} {self.path}.broken) and grade again",
                       full="every verdict recorded before this one is kept: free some space and run the same "
                            "command again to resume")

    # -- settings kept with the gradebook ---------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                       "excluded.value", (key, value))

    def seed(self, wanted: int | None) -> int:
        """The class's seed: `wanted`, else the one chosen when the gradebook was created."""
        if wanted is not None:
            self.set_meta("seed", str(wanted))
            return wanted
        kept = self.meta("seed")
        if kept is not None:
            return int(kept)
        import random

        chosen = random.randrange(1, 10**6)
        self.set_meta("seed", str(chosen))
        return chosen

    # -- verdicts ---------------------------------------------------------------------------
    def known(self, keys: Iterable[tuple[str, str, str, str]]) -> set[tuple[str, str, str, str]]:
        """Which of these keys already have a verdict."""
        wanted = set(keys)
        with self._db() as db:
            rows = db.execute("SELECT student, exercise, code_hash, version FROM verdicts").fetchall()
        return wanted & {tuple(r) for r in rows}

    def record(self, key: tuple[str, str, str, str], result: ExerciseResult) -> None:
        """Keep one verdict, committed at once."""
        first = result.first_failure
        row = (*key, int(result.passed), float(result.score), int(result.max_score),
               (result.diagnosis or {}).get("id"), first.name if first else None, result.error,
               json.dumps(result.to_dict()), time.time())
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO verdicts (student, exercise, code_hash, version, passed, score, "
                       "max_score, diagnosis, failing_check, error, result, graded_at) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)

    def count(self) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def forget(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        """Drop these verdicts (for --regrade)."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("DELETE FROM verdicts WHERE student = ? AND exercise = ? AND code_hash = ? AND "
                           "version = ?", list(keys))
            db.execute("COMMIT")

    # -- the roster: what the latest run found ----------------------------------------------
    def set_roster(self, entries: list[RosterEntry]) -> None:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM roster")
            db.executemany("INSERT INTO roster (student, exercise, status, code_hash, version, file, note) "
                           "VALUES (?,?,?,?,?,?,?)",
                           [(e.student, e.exercise, e.status, e.code_hash, e.version, e.file, e.note)
                            for e in entries])
            db.execute("COMMIT")

    def current(self) -> list[tuple[RosterEntry, ExerciseResult | None]]:
        """Each roster entry with its verdict (None when not graded yet, or not submitted)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT r.student, r.exercise, r.status, r.code_hash, r.version, r.file, r.note, v.result "
                "FROM roster r LEFT JOIN verdicts v ON v.student = r.student AND v.exercise = r.exercise "
                "AND v.code_hash = r.code_hash AND v.version = r.version ORDER BY r.student, r.rowid").fetchall()
        out = []
        for *fields, result in rows:
            out.append((RosterEntry(*fields), ExerciseResult.from_dict(json.loads(result)) if result else None))
        return out
