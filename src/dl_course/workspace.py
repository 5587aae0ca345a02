"""The learner's workspace: a folder with `dl-course.toml`, one sub-folder per chapter.

    my-course/
      dl-course.toml            marks the workspace (and which course pack it follows)
      chapter09/
        README.md               what to do in this chapter
        subsequent_mask.py      the learner's file: scaffolded once, never overwritten
      .dl-course/
        progress.sqlite         attempts, hints, reveals (see progress.py)
        backups/                copies made before `reset`

Nothing here imports torch. Nothing here overwrites a file the learner may have edited.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dl_course.course.model import Chapter, Exercise, Pack
from dl_course.errors import WorkspaceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Workspace", "MARKER", "find_workspace", "create_workspace", "code_hash", "write_new"]

MARKER = "dl-course.toml"
STATE_DIR = ".dl-course"


def code_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Workspace:
    root: Path
    course: str | None
    """The course pack the workspace follows: None for the built-in one, else a folder."""

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def database(self) -> Path:
        return self.state_dir / "progress.sqlite"

    def chapter_dir(self, chapter: Chapter) -> Path:
        return self.root / chapter.folder

    def file_for(self, pack: Pack, exercise: Exercise) -> Path:
        return self.chapter_dir(pack.chapter_of(exercise)) / exercise.file

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def scaffold(self, pack: Pack, chapter: Chapter) -> list[tuple[Path, bool]]:
        """Write the chapter's README and every missing stub; return (path, created) for each."""
        with _writing(self.chapter_dir(chapter), "write the chapter's files"):
            return self._scaffold(pack, chapter)

    def _scaffold(self, pack: Pack, chapter: Chapter) -> list[tuple[Path, bool]]:
        folder = self.chapter_dir(chapter)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        readme = folder / "README.md"
        written.append((readme, write_new(readme, chapter_readme(pack, chapter))))
        for exercise_id in chapter.exercises:
            exercise = pack.exercises[exercise_id]
            path = folder / exercise.file
            written.append((path, write_new(path, exercise.starter.read_text(encoding="utf-8"))))
            for name in exercise.support:
                support = folder / name
                written.append((support, write_new(support, exercise.support_file(name).read_text(encoding="utf-8"))))
        return written

    def started(self, pack: Pack, under: Path | None = None) -> list[Exercise]:
        """Exercises whose file exists, in course order, limited to those under `under`."""
        out = []
        base = (under or self.root).resolve()
        for chapter in pack.chapters:
            for exercise_id in chapter.exercises:
                exercise = pack.exercises[exercise_id]
                path = self.file_for(pack, exercise).resolve()
                if path.is_file() and (base == path.parent or base in path.parents):
                    out.append(exercise)
        return out

    def reset(self, pack: Pack, exercise: Exercise) -> Path | None:
        """Back the learner's file up, then put the starter back. Returns the backup's path.
        Where either cannot be written, nothing is changed (the file is never replaced unbacked)."""
        with _writing(self.file_for(pack, exercise), f"reset {exercise.id}"):
            return self._reset(pack, exercise)

    def _reset(self, pack: Pack, exercise: Exercise) -> Path | None:
        path = self.file_for(pack, exercise)
        backup = None
        if path.exists():
            backups = self.state_dir / "backups"
            backups.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            backup = backups / f"{exercise.id}-{stamp}.py"
            n = 1
            while backup.exists():
                n += 1
                backup = backups / f"{exercise.id}-{stamp}-{n}.py"
            shutil.copy2(path, backup)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".py.tmp")
        tmp.write_text(exercise.starter.read_text(encoding="utf-8"), encoding="utf-8")
        os.replace(tmp, path)
        return backup


class _writing:
    """Turn a failed write under `where` (read-only folder, no permission, full disk) into a
    WorkspaceError that says what could not be done and why, instead of a traceback."""

    def __init__(self, where: Path, doing: str):
        self.where, self.doing = where, doing

    def __enter__(self):
        return self

    def __exit__(self, kind, e, _tb):
        if isinstance(e, OSError) and not isinstance(e, FileExistsError):
            import errno

            why = {errno.EROFS: "the folder is read-only (a read-only file system)",
                   errno.EACCES: "you may not write there (permission denied)",
                   errno.EPERM: "you may not write there (permission denied)",
                   errno.ENOSPC: "the disk is full"}.get(e.errno, e.strerror or str(e))
            where = e.filename or self.where
            raise WorkspaceError(f"cannot {self.doing}: {why} ({where}); your own files are as they were") from None
        return False


def write_new(path: Path, text: str) -> bool:
    """Create `path` with `text` unless it exists (atomically: never clobbers a learner's file)."""
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        return False
    return True


def chapter_readme(pack: Pack, chapter: Chapter) -> str:
    lines = [f"# Chapter {chapter.number}: {chapter.title}", "", " ".join(chapter.summary.split()), "",
             "## Exercises", "", "Edit each file in your own editor, then grade it:", ""]
    for i, exercise_id in enumerate(chapter.exercises, 1):
        ex = pack.exercises[exercise_id]
        lines.append(f"{i}. `{ex.file}` — {ex.title}. {ex.summary}".rstrip())
        lines.append(f"   Check it with `dl-course check {ex.id}`; stuck? `dl-course hint {ex.id}`.")
    lines += ["", f"Read the lesson with `dl-course lesson {chapter.id}`. `dl-course check` (no name) grades every",
              "exercise file under the current folder; `dl-course progress` shows how far you are.", ""]
    return "\n".join(lines)


def find_workspace(start: Path | None = None) -> Workspace | None:
    """The workspace containing `start` (walking up to a `dl-course.toml`), or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        marker = folder / MARKER
        if marker.is_file():
            return _read(marker)
    return None


def _read(marker: Path) -> Workspace:
    try:
        data = tomllib.loads(marker.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise WorkspaceError(f"{marker}: cannot be read as TOML ({e}); fix it or delete it to start afresh") from None
    course = data.get("course")
    if course is not None and not isinstance(course, str):
        raise WorkspaceError(f"{marker}: 'course' must be a string (a folder), got {course!r}")
    return Workspace(root=marker.parent, course=course or None)


def create_workspace(root: Path, course: str | None = None) -> Workspace:
    with _writing(root, f"create a dl-course workspace in {root}"):
        return _create_workspace(root, course)


def _create_workspace(root: Path, course: str | None) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    marker = root / MARKER
    lines = ["# This folder is a dl-course workspace. Your progress lives in .dl-course/.", "format_version = 1"]
    if course:
        lines.append(f"course = {str(Path(course).resolve())!r}".replace("'", '"'))
    write_new(marker, "\n".join(lines) + "\n")
    return _read(marker)
