"""Reads a course pack from disk into the model, with errors that name the file and the field.

Layout (see the README, "Course-pack format"):

    curriculum/chapterNN/chapter.toml  + lesson Markdown
    exercises/chapterNN/<id>/exercise.toml + starter.py
    solutions/chapterNN/<id>.py
    grader/chapterNN/<id>/test_<id>.py + mistakes.py
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from dl_course.course.model import Chapter, Exercise, Hint, Pack, Tolerance
from dl_course.errors import PackError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_pack", "read_lessons", "builtin_pack_root", "resolve_pack_root", "FORMAT_VERSION", "PACK_ENV"]

FORMAT_VERSION = 1
PACK_ENV = "DL_COURSE_PACK"
DEFAULT_TOLERANCE = {
    "float32": Tolerance(rtol=1e-4, atol=1e-5),
    "float64": Tolerance(rtol=1e-7, atol=1e-9),
}

_MISSING = object()


def builtin_pack_root() -> Path:
    """The pack shipped with the program: inside the wheel, or the repository in a dev install."""
    here = Path(__file__).resolve().parent.parent
    shipped = here / "_pack"
    if (shipped / "curriculum").is_dir():
        return shipped
    repo = here.parent.parent
    if (repo / "curriculum").is_dir():
        return repo
    raise PackError(shipped, "the built-in course pack is missing from this installation; reinstall dl-course")


def resolve_pack_root(course: str | Path | None = None) -> Path:
    """`--course DIR`, else $DL_COURSE_PACK, else the built-in pack."""
    chosen = course or os.environ.get(PACK_ENV)
    if not chosen:
        return builtin_pack_root()
    root = Path(chosen).expanduser().resolve()
    if not (root / "curriculum").is_dir() or not (root / "exercises").is_dir():
        raise PackError(root, "not a course pack: expected the folders curriculum/ and exercises/ inside it")
    return root


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise PackError(path, "file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise PackError(path, f"not valid TOML: {e}") from None


class _Fields:
    """Typed access to one TOML table, raising PackError naming the field."""

    def __init__(self, path: Path, data: dict[str, Any], known: set[str]):
        self.path, self.data = path, data
        unknown = sorted(set(data) - known)
        if unknown:
            raise PackError(path, f"unknown field (known fields: {', '.join(sorted(known))})", unknown[0])

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        if name not in self.data:
            if default is _MISSING:
                raise PackError(self.path, f"missing; expected {_kind_name(kind)}", name)
            return default
        value = self.data[name]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise PackError(self.path, f"expected {_kind_name(kind)}, got {value!r}", name)
        if not isinstance(value, kind):
            raise PackError(self.path, f"expected {_kind_name(kind)}, got {type(value).__name__} {value!r}", name)
        if isinstance(value, str) and not value.strip():
            raise PackError(self.path, "is empty; give it a value", name)
        return value

    def strings(self, name: str, default: Any = _MISSING) -> tuple[str, ...]:
        value = self.get(name, list, default)
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise PackError(self.path, f"item {i} must be a non-empty string, got {item!r}", name)
        return tuple(value)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _check_version(fields: _Fields) -> None:
    version = fields.get("format_version", int)
    if version != FORMAT_VERSION:
        raise PackError(fields.path, f"this dl-course reads format_version {FORMAT_VERSION}, got {version}", "format_version")


def load_chapter(path: Path) -> Chapter:
    f = _Fields(path, read_toml(path), {"format_version", "id", "number", "title", "summary", "lessons", "exercises"})
    _check_version(f)
    number = f.get("number", int)
    chapter_id = f.get("id", str)
    if chapter_id != f"chapter{number}":
        raise PackError(path, f"expected 'chapter{number}' to match number = {number}, got {chapter_id!r}", "id")
    lessons = []
    for name in f.strings("lessons", ()):
        lesson = path.parent / name
        if not lesson.is_file():
            raise PackError(path, f"lesson file {name!r} not found beside chapter.toml", "lessons")
        lessons.append(lesson)
    return Chapter(
        id=chapter_id,
        number=number,
        title=f.get("title", str),
        summary=f.get("summary", str, ""),
        lessons=tuple(lessons),
        exercises=f.strings("exercises", ()),
        folder=path.parent.name,
    )


def load_exercise(path: Path, pack_root: Path, chapter_folder: str) -> Exercise:
    known = {"format_version", "id", "title", "chapter", "summary", "points", "file", "defines", "forbid",
             "hints", "time_limit_s", "tolerance", "uses", "support", "equivalent_mutants"}
    f = _Fields(path, read_toml(path), known)
    _check_version(f)
    exercise_id = f.get("id", str)
    if not exercise_id.isidentifier():
        raise PackError(path, f"must be a Python identifier, got {exercise_id!r}", "id")
    if path.parent.name != exercise_id:
        raise PackError(path, f"must match its folder name {path.parent.name!r}, got {exercise_id!r}", "id")
    file = f.get("file", str, f"{exercise_id}.py")
    if "/" in file or "\\" in file or not file.endswith(".py"):
        raise PackError(path, f"must be a plain file name ending in .py, got {file!r}", "file")
    points = f.get("points", int, 10)
    if points <= 0:
        raise PackError(path, f"must be positive, got {points}", "points")
    time_limit = float(f.get("time_limit_s", (int, float), 20.0))
    if not 0 < time_limit <= 3600:
        raise PackError(path, f"must be between 0 and 3600 seconds, got {time_limit}", "time_limit_s")
    defines = f.strings("defines")
    if not defines:
        raise PackError(path, "must list at least one name the learner defines", "defines")
    hints = []
    for i, item in enumerate(f.get("hints", list, [])):
        where = f"hints[{i}]"
        if not isinstance(item, dict):
            raise PackError(path, "each hint is a table with 'text' (and optionally 'on')", where)
        text, on = item.get("text"), item.get("on")
        if not isinstance(text, str) or not text.strip():
            raise PackError(path, "'text' is missing or empty; write the hint or remove it", where)
        if on is not None and (not isinstance(on, str) or not on.startswith(("check:", "mistake:"))):
            raise PackError(path, f"'on' must look like 'check:NAME' or 'mistake:ID', got {on!r}", where)
        if set(item) - {"text", "on"}:
            raise PackError(path, f"unknown keys {sorted(set(item) - {'text', 'on'})}", where)
        hints.append(Hint(text=text.strip(), on=on))
    tolerance = dict(DEFAULT_TOLERANCE)
    for dtype, spec in f.get("tolerance", dict, {}).items():
        where = f"tolerance.{dtype}"
        if dtype not in DEFAULT_TOLERANCE:
            raise PackError(path, f"unknown dtype; expected one of {sorted(DEFAULT_TOLERANCE)}", where)
        if not isinstance(spec, dict) or set(spec) - {"rtol", "atol"}:
            raise PackError(path, "expected a table with 'rtol' and/or 'atol'", where)
        for key, value in spec.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise PackError(path, f"'{key}' must be a non-negative number, got {value!r}", where)
        base = tolerance[dtype]
        tolerance[dtype] = Tolerance(rtol=float(spec.get("rtol", base.rtol)), atol=float(spec.get("atol", base.atol)))
    equivalent = {}
    for i, item in enumerate(f.get("equivalent_mutants", list, [])):
        where = f"equivalent_mutants[{i}]"
        if not isinstance(item, dict) or set(item) != {"id", "reason"}:
            raise PackError(path, "each entry is a table with 'id' (a mutant id such as 'dim@12') and 'reason'", where)
        mutant, reason = item["id"], item["reason"]
        if not isinstance(mutant, str) or not re.fullmatch(r"[a-z_]+@[0-9]+(#[0-9]+)?", mutant):
            raise PackError(path, f"'id' must look like 'operator@line' or 'operator@line#n', got {mutant!r}", where)
        if not isinstance(reason, str) or not reason.strip():
            raise PackError(path, "'reason' is missing or empty: say why the mutant computes the same function", where)
        if mutant in equivalent:
            raise PackError(path, f"{mutant!r} is declared twice", where)
        equivalent[mutant] = reason.strip()
    return Exercise(
        id=exercise_id,
        title=f.get("title", str),
        chapter=f.get("chapter", str),
        file=file,
        defines=defines,
        summary=f.get("summary", str, "").strip(),
        points=points,
        forbid=f.strings("forbid", ()),
        uses=f.strings("uses", ()),
        support=f.strings("support", ()),
        support_files=_support_files(path, f.strings("support", ())),
        hints=tuple(hints),
        time_limit_s=time_limit,
        tolerance=tolerance,
        equivalent_mutants=equivalent,
        dir=path.parent,
        solution=pack_root / "solutions" / chapter_folder / f"{exercise_id}.py",
        suite_dir=pack_root / "grader" / chapter_folder / exercise_id,
    )


SHARED_SUPPORT = "_support"
"""The folder, beside a chapter's exercise folders, of support modules several exercises provide."""


def _support_files(path: Path, names: tuple[str, ...]) -> tuple[Path, ...]:
    """Where each provided module lies: beside exercise.toml, or in exercises/<chapter>/_support/
    when several exercises of the chapter provide the same one (never both: which would win?)."""
    found = []
    shared_dir = path.parent.parent / SHARED_SUPPORT
    for name in names:
        if "/" in name or "\\" in name or not name.endswith(".py"):
            raise PackError(path, f"{name!r} must be the name of a .py file (beside exercise.toml, or in "
                                  f"{shared_dir.parent.name}/{SHARED_SUPPORT}/)", "support")
        own, shared = path.parent / name, shared_dir / name
        if own.is_file() and shared.is_file():
            raise PackError(path, f"{name!r} lies both beside exercise.toml and in {shared_dir}: keep one", "support")
        if not own.is_file() and not shared.is_file():
            raise PackError(path, f"{name!r} is neither beside exercise.toml nor in {shared_dir}", "support")
        found.append(own if own.is_file() else shared)
    return tuple(found)


def load_pack(root: Path | str | None = None) -> Pack:
    """Load and cross-check a whole pack. Raises PackError naming the first problem found."""
    root = resolve_pack_root(root)
    chapters = []
    for manifest in sorted((root / "curriculum").glob("*/chapter.toml")):
        chapters.append(load_chapter(manifest))
    if not chapters:
        raise PackError(root / "curriculum", "no chapters found (expected curriculum/<chapter>/chapter.toml)")
    chapters.sort(key=lambda c: c.number)
    by_id = {}
    for chapter in chapters:
        if chapter.id in by_id:
            raise PackError(root / "curriculum" / chapter.folder / "chapter.toml", "duplicate chapter id", "id")
        by_id[chapter.id] = chapter
    exercises: dict[str, Exercise] = {}
    for chapter in chapters:
        manifest_path = root / "curriculum" / chapter.folder / "chapter.toml"
        for exercise_id in chapter.exercises:
            path = root / "exercises" / chapter.folder / exercise_id / "exercise.toml"
            if not path.is_file():
                raise PackError(manifest_path, f"lists exercise {exercise_id!r} but {path} does not exist", "exercises")
            if exercise_id in exercises:
                raise PackError(manifest_path, f"exercise {exercise_id!r} is listed twice", "exercises")
            exercise = load_exercise(path, root, chapter.folder)
            if exercise.chapter != chapter.id:
                raise PackError(path, f"expected {chapter.id!r} (the chapter listing it), got {exercise.chapter!r}",
                                "chapter")
            exercises[exercise_id] = exercise
    for exercise in exercises.values():
        for used in exercise.uses:
            other = exercises.get(used)
            if other is None or other.chapter != exercise.chapter:
                raise PackError(exercise.manifest, f"{used!r} is not an exercise of {exercise.chapter}", "uses")
    return Pack(root=root, chapters=tuple(chapters), exercises=exercises)


def read_lessons(chapter: Chapter) -> list[str]:
    """The text of each of the chapter's lesson files, in reading order."""
    texts = []
    for lesson in chapter.lessons:
        try:
            texts.append(lesson.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise PackError(lesson, f"cannot be read ({e})") from None
    return texts
