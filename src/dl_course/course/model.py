"""The course-pack model: frozen dataclasses, one doc line per field.

Nothing here reads files (see `loader`) or imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Tolerance", "Hint", "Exercise", "Chapter", "Pack"]


@dataclass(frozen=True)
class Tolerance:
    """How close a learner's floating-point value must be to the reference's."""

    rtol: float
    """Relative tolerance, as in `torch.testing.assert_close`."""
    atol: float
    """Absolute tolerance, as in `torch.testing.assert_close`."""


@dataclass(frozen=True)
class Hint:
    """One hint; shown one at a time by `dl-course hint`."""

    text: str
    """What the learner reads (Markdown)."""
    on: str | None = None
    """Optional: `check:NAME` or `mistake:ID`; then this hint comes first after that failure."""


@dataclass(frozen=True)
class Exercise:
    """One exercise, as described by its `exercise.toml`."""

    id: str
    """Unique id across the pack, a Python identifier (also the command-line name)."""
    title: str
    """A short title for lists and headings."""
    chapter: str
    """The id of the chapter it belongs to (e.g. `chapter9`)."""
    file: str
    """The file the learner edits, relative to the chapter's workspace folder."""
    defines: tuple[str, ...]
    """The names the learner's file must define."""
    summary: str = ""
    """One or two sentences saying what to build."""
    points: int = 10
    """The score of a full pass."""
    forbid: tuple[str, ...] = ()
    """Dotted names the learner's code may not call at run time (functions or nn.Module classes)."""
    uses: tuple[str, ...] = ()
    """Ids of earlier exercises (same chapter) whose file this one imports (e.g. multi_head_attention)."""
    support: tuple[str, ...] = ()
    """Provided helper modules, copied into the learner's chapter folder: each lies beside
    exercise.toml, or in the chapter's `exercises/<chapter>/_support/` when several exercises
    provide the same module (see `support_file`)."""
    hints: tuple[Hint, ...] = ()
    """Ordered hints."""
    time_limit_s: float = 20.0
    """Seconds of processor time the learner's code may use in total for one check."""
    tolerance: dict[str, Tolerance] = field(default_factory=dict)
    """Per dtype name (`float32`, `float64`), the tolerance for values and gradients."""
    equivalent_mutants: dict[str, str] = field(default_factory=dict)
    """Mutant id → why that mutant of the reference computes the same function (see
    `dl-course author mutants`): a surviving mutant passes validation only when declared here."""
    support_files: tuple[Path, ...] = ()
    """Where each of `support` lies, in the same order."""
    dir: Path = Path()
    """The folder holding `exercise.toml` and `starter.py`."""
    solution: Path = Path()
    """The reference module in `solutions/`."""
    suite_dir: Path = Path()
    """The folder in `grader/` holding the hidden suite and `mistakes.py`."""

    def support_file(self, name: str) -> Path:
        """Where the provided module `name` lies (as the loader found it)."""
        found = dict(zip(self.support, self.support_files))
        return found.get(name, self.dir / name)

    @property
    def starter(self) -> Path:
        return self.dir / "starter.py"

    @property
    def manifest(self) -> Path:
        return self.dir / "exercise.toml"

    @property
    def suite(self) -> Path:
        return self.suite_dir / f"test_{self.id}.py"

    @property
    def mistakes(self) -> Path:
        return self.suite_dir / "mistakes.py"


@dataclass(frozen=True)
class Chapter:
    """One chapter, as described by its `chapter.toml`."""

    id: str
    """Canonical id, `chapter<N>` (the learner may also type `N`, `chN`, `chapter0N`)."""
    number: int
    """The chapter number."""
    title: str
    """The chapter's title."""
    summary: str
    """A paragraph for the course map and the workspace README."""
    lessons: tuple[Path, ...]
    """Lesson Markdown files, in reading order."""
    exercises: tuple[str, ...]
    """Exercise ids, in the order they are meant to be done."""
    folder: str = ""
    """The folder name used in the pack and in the workspace (e.g. `chapter09`)."""


def chapter_number(name: str) -> int | None:
    """The number a learner or author means by `9`, `ch9`, `chapter9` or `chapter09`, or None."""
    key = name.strip().lower()
    for prefix in ("chapter", "ch"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    return int(key) if key.isdigit() else None


@dataclass(frozen=True)
class Pack:
    """A whole course pack: four folders, one audience each."""

    root: Path
    """The folder holding `curriculum/`, `exercises/`, `solutions/` and `grader/`."""
    chapters: tuple[Chapter, ...]
    """Chapters in number order."""
    exercises: dict[str, Exercise]
    """Exercises by id."""

    @property
    def hidden_dirs(self) -> tuple[Path, Path]:
        """Folders the learner's code must never read."""
        return (self.root / "solutions", self.root / "grader")

    @property
    def shared_files(self) -> list[Path]:
        """Helpers the hidden suites share (`grader/_shared/*.py`, imported as `_shared.NAME`):
        trusted, hidden like the rest of `grader/`."""
        folder = self.root / "grader" / "_shared"
        return sorted(folder.glob("*.py")) if folder.is_dir() else []

    def chapter(self, name: str) -> Chapter:
        """The chapter a learner means by `9`, `ch9`, `chapter9` or `chapter09`."""
        from dl_course.errors import CourseError

        number = chapter_number(name)
        for chapter in self.chapters:
            if number == chapter.number:
                return chapter
        known = ", ".join(c.id for c in self.chapters)
        raise CourseError(f"no chapter '{name}' in this course (chapters: {known})")

    def exercise(self, name: str) -> Exercise:
        """The exercise with this id (or its file name)."""
        from dl_course.errors import CourseError

        key = name.strip()
        key = key[:-3] if key.endswith(".py") else key
        key = key.rsplit("/", 1)[-1]
        if key in self.exercises:
            return self.exercises[key]
        known = ", ".join(self.exercises)
        raise CourseError(f"no exercise '{name}' in this course (exercises: {known})")

    def chapter_of(self, exercise: Exercise) -> Chapter:
        return self.chapter(exercise.chapter)
