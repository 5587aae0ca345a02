"""Instructor tools: scaffold a new exercise, and prove exercises sound.

`validate` grades, for each exercise, the reference (must pass every check), the starter (must
fail), and every known mistake (must fail and be diagnosed as itself), twice with different
seeds (the verdicts must not change). All of it runs through the same judge as `check`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dl_course.course import Exercise, Pack, load_pack
from dl_course.course.loader import read_toml
from dl_course.course.model import chapter_number
from dl_course.errors import CourseError

__all__ = ["validate", "new_exercise", "ExerciseVerdict", "add_neighbours"]


@dataclass
class ExerciseVerdict:
    exercise: str
    problems: list[str] = field(default_factory=list)
    reference: str = ""
    starter: str = ""
    mistakes: list[tuple[str, str]] = field(default_factory=list)
    stable: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def _static_problems(ex: Exercise) -> list[str]:
    problems = []
    for path, what in ((ex.starter, "starter"), (ex.solution, "reference"), (ex.suite, "hidden suite"),
                       (ex.mistakes, "mistakes file")):
        if not path.is_file():
            problems.append(f"{path}: the {what} is missing")
    if ex.starter.is_file() and "TODO" not in ex.starter.read_text(encoding="utf-8"):
        problems.append(f"{ex.starter}: mark each gap the learner fills with a '# TODO:' comment")
    if not ex.hints:
        problems.append(f"{ex.manifest}: 'hints' is empty; add at least one hint")
    if ex.suite.is_file():
        checks = {"loads", "defines", "api"} | set(re.findall(r"^def test_(\w+)", ex.suite.read_text(encoding="utf-8"),
                                                             re.M))
        mistakes = set(_mistake_ids(ex))
        for i, hint in enumerate(ex.hints):
            if hint.on is None:
                continue
            kind, _, name = hint.on.partition(":")
            known = checks if kind == "check" else mistakes
            if name not in known:
                problems.append(f"{ex.manifest}: 'hints[{i}]': on = {hint.on!r} names no {kind} of this exercise "
                                f"(known: {', '.join(sorted(known))})")
    return problems


def _signature(result) -> tuple:
    return (result.passed, tuple((c.name, c.status) for c in result.checks),
            (result.diagnosis or {}).get("id"), result.error is None)


def validate(pack: Pack, exercises: list[Exercise], device: str = "auto", seeds: tuple[int, int] = (1, 2)
             ) -> list[ExerciseVerdict]:
    from dl_course.grading.runner import Submission, grade

    verdicts = {ex.id: ExerciseVerdict(ex.id, _static_problems(ex)) for ex in exercises}
    with tempfile.TemporaryDirectory(prefix="dl-course-validate-") as tmp:
        subs: list[tuple[str, str, Submission]] = []
        for ex in exercises:
            v = verdicts[ex.id]
            if v.problems:
                continue
            base = Path(tmp) / ex.id
            for role, src in (("reference", ex.solution), ("starter", ex.starter)):
                subs.append((ex.id, role, _as_submission(pack, ex, src, base / role, role)))
            ids = _mistake_ids(ex)
            if not ids:
                v.problems.append(f"{ex.mistakes}: no known mistakes; add at least one with @mistake(...)")
            dst = base / "mistakes" / "mistakes.py"
            dst.parent.mkdir(parents=True)
            shutil.copy(ex.mistakes, dst)
            add_neighbours(pack, ex, dst.parent)
            for mistake_id in ids:
                subs.append((ex.id, f"mistake:{mistake_id}", Submission(ex, dst, f"mistake {mistake_id}", mistake_id)))
        runs = [grade(pack, [s for _, _, s in subs], device=device, seed=seed, author=True) for seed in seeds]
    for (ex_id, role, _), first, second in zip(subs, runs[0], runs[1]):
        v = verdicts[ex_id]
        if _signature(first) != _signature(second):
            v.stable = False
            v.problems.append(f"{role}: the verdict changed between two runs with different seeds "
                              f"({_describe(first)} vs {_describe(second)})")
        if role == "reference":
            v.reference = _describe(first)
            if not first.passed:
                v.problems.append(f"the reference does not pass: {_failure_text(first)}")
        elif role == "starter":
            v.starter = _describe(first)
            if first.passed:
                v.problems.append("the starter passes every check; it must fail until the learner fills it in")
            elif first.score > 0:
                v.problems.append(f"the starter scores {first.score:g}/{first.max_score}; an untouched starter must score 0")
        elif not v.reference.startswith("passes"):
            # Nothing is known about a mistake until the reference it is compared with passes.
            v.mistakes.append((role.split(":", 1)[1], "not checked: the reference fails"))
        else:
            mistake_id = role.split(":", 1)[1]
            got = (first.diagnosis or {}).get("id")
            v.mistakes.append((mistake_id, _describe(first)))
            if first.passed:
                v.problems.append(f"mistake {mistake_id} passes every check; add a check that catches it")
            elif got != mistake_id:
                v.problems.append(f"mistake {mistake_id} fails ({_failure_text(first)}) but is diagnosed as "
                                  f"{got or 'nothing'}; it must be diagnosed as itself")
    return [verdicts[ex.id] for ex in exercises]


def _as_submission(pack: Pack, ex: Exercise, source: Path, folder: Path, role: str):
    """`source` placed as a learner's file in `folder`, with its neighbours, ready to grade."""
    from dl_course.grading.runner import Submission

    dst = folder / ex.file
    dst.parent.mkdir(parents=True)
    shutil.copy(source, dst)
    add_neighbours(pack, ex, dst.parent)
    return Submission(ex, dst, f"{role}/{ex.file}")


def broken_references(pack: Pack, exercises: list[Exercise], device: str = "cpu") -> dict[str, str]:
    """The exercises whose reference fails its own checks, each with why (one judge run for all).
    A class graded against such an exercise would be told its code is wrong, or that the grader
    failed, forever: `grade` asks this first."""
    from dl_course.grading.runner import grade

    if not exercises:
        return {}
    with tempfile.TemporaryDirectory(prefix="dl-course-references-") as tmp:
        subs = [_as_submission(pack, ex, ex.solution, Path(tmp) / ex.id, "reference") for ex in exercises]
        results = grade(pack, subs, device=device, seed=1, author=True)
    return {ex.id: "\n    ".join(_failure_text(r).splitlines()[:4]) for ex, r in zip(exercises, results)
            if not r.passed}


def add_neighbours(pack: Pack, ex: Exercise, folder: Path) -> None:
    """What a learner's chapter folder holds beside the file: support files, and (as if the learner
    had passed them) the references of the earlier exercises this one imports."""
    for name in ex.support:
        shutil.copy(ex.support_file(name), folder / name)
    for used in ex.uses:
        other = pack.exercises[used]
        shutil.copy(other.solution, folder / other.file)


def _mistake_ids(ex: Exercise) -> list[str]:
    """The ids declared in mistakes.py, read from its text (the judge imports it, not this process)."""
    if not ex.mistakes.is_file():
        return []
    text = ex.mistakes.read_text(encoding="utf-8")
    return re.findall(r"""@mistake\(\s*["']([A-Za-z0-9_\-]+)["']""", text)


def _describe(result) -> str:
    if result.passed:
        return "passes"
    first = result.first_failure
    where = f"fails at {first.name}" if first else "fails"
    diag = (result.diagnosis or {}).get("id")
    return where + (f", diagnosed {diag}" if diag else "") + (f" ({result.error.splitlines()[0]})" if result.error else "")


def _failure_text(result) -> str:
    if result.error:
        return result.error
    first = result.first_failure
    return f"{first.name}: {first.message}" if first else "no checks ran"


# -- author new -------------------------------------------------------------------------------

_STARTER = '''"""{title}.

Fill in `{name}`, then run `dl-course check {id}`.
"""

import torch


def {name}(x):
    """TODO for the author: say what it computes, with the shape of every argument and result.

    Args:
        x: a tensor of shape (N, F).

    Returns:
        A tensor of shape (N, F).
    """
    # TODO: the learner writes this.
    raise NotImplementedError("{name} is not written yet")
'''

_SOLUTION = '''"""Reference for {id}: it must pass every hidden check (`dl-course author validate {id}`)."""

import torch


def {name}(x):
    # TODO for the author: the correct implementation, commented where a learner may stumble.
    raise NotImplementedError("write the reference")
'''

_SUITE = '''"""Hidden suite for {id}: one test per check, cheapest first; the docstring's first line is
the check's title. Never copied into the learner's workspace.

A probe drives any target (the learner's code, the reference, a known mistake) the same way:
    t.call(name, *args, grads=SEED, **kwargs)   call a function (grads: backpropagate too)
    t.new(name, *args) / t.load_state / t.to / t.forward(handle, *args, grads=SEED)   modules
The case `c` gives sizes as attributes, c.dtype, c.device, c.seed and c.randn(...).
"""

GRID = [dict(n=1, f=3), dict(n=4, f=5)]


def probe(t, c):
    return t.call("{name}", c.randn(c.n, c.f), grads=c.seed, names=("x",))


def test_shape(grade):
    """Returns a tensor of the right shape"""
    grade.compare(probe, GRID, level="shape", what="{name}(x)")


def test_values(grade):
    """Returns the right values"""
    grade.compare(probe, GRID, level="values", what="{name}(x)")


def test_gradients(grade):
    """Gradients flow back to the input"""
    grade.compare(probe, GRID, grads=True, what="{name}(x)")


def test_device(grade):
    """Works on the input's device"""
    grade.portable(probe, GRID, what="{name}(x)")
'''

_MISTAKES = '''"""Known mistakes for {id}: each a whole wrong implementation, named for its misconception.

`author validate` checks that each fails a check and is diagnosed as itself.
"""

import torch

from dl_course.grading.mistakes import mistake


@mistake("todo_first_mistake", "TODO for the author: one line naming the misconception.")
def {name}(x):
    raise NotImplementedError("write a real wrong variant, the kind learners actually write")
'''

_EXERCISE = '''format_version = 1
id = "{id}"
title = "{title}"
chapter = "{chapter}"
summary = "TODO for the author: one or two sentences saying what to build."
points = 10
file = "{id}.py"
defines = ["{name}"]
# forbid = ["torch.nn.functional.scaled_dot_product_attention"]   # calls watched at run time
time_limit_s = 20

[[hints]]
text = "TODO for the author: the first nudge."

# A hint can come first after a given failure:
# [[hints]]
# on = "mistake:todo_first_mistake"    # or "check:values"
# text = "..."
'''


def new_exercise(root: Path, spec: str) -> list[Path]:
    """Scaffold `chapterN/exercise_id` in the pack at `root`; returns the files written."""
    if "/" not in spec:
        raise CourseError(f"expected CHAPTER/EXERCISE (e.g. chapter9/my_exercise), got {spec!r}")
    chapter_name, exercise_id = spec.split("/", 1)
    if not exercise_id.isidentifier():
        raise CourseError(f"the exercise id must be a Python identifier, got {exercise_id!r}")
    number = _chapter_number(chapter_name)
    created: list[Path] = []
    if not (root / "curriculum").is_dir():
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise CourseError(f"{root} is not a course pack (no curriculum/ folder) and not empty; run this at a "
                              "pack's root, pass --course DIR, or name a new (or empty) folder to start a pack there")
        created += _new_chapter(root, number)  # a new pack: its four parts, with this chapter
    elif not any(m.is_file() for m in (root / "curriculum").glob("*/chapter.toml")) or \
            number not in {c.number for c in load_pack(root).chapters}:
        created += _new_chapter(root, number)
    pack = load_pack(root)
    if exercise_id in pack.exercises:
        raise CourseError(f"exercise {exercise_id!r} already exists in {pack.exercises[exercise_id].dir}")
    chapter = pack.chapter(chapter_name)
    folder = chapter.folder
    values = {"id": exercise_id, "name": exercise_id, "title": exercise_id.replace("_", " ").capitalize(),
              "chapter": chapter.id}
    files = {
        root / "exercises" / folder / exercise_id / "exercise.toml": _EXERCISE,
        root / "exercises" / folder / exercise_id / "starter.py": _STARTER,
        root / "solutions" / folder / f"{exercise_id}.py": _SOLUTION,
        root / "grader" / folder / exercise_id / f"test_{exercise_id}.py": _SUITE,
        root / "grader" / folder / exercise_id / "mistakes.py": _MISTAKES,
    }
    for path in files:
        if path.exists():
            raise CourseError(f"{path} already exists; nothing was written")
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    manifest = root / "curriculum" / folder / "chapter.toml"
    _append_exercise(manifest, exercise_id)
    return created + list(files) + ([] if manifest in created else [manifest])


def _chapter_number(name: str) -> int:
    number = chapter_number(name)
    if number is None:
        raise CourseError(f"expected a chapter such as chapter9 (or 9, ch9, chapter09), got {name!r}")
    return number


_CHAPTER = '''format_version = 1
id = "chapter{number}"
number = {number}
title = "Chapter {number}"  # TODO for the author: the chapter's title
summary = "TODO for the author: what this chapter teaches, in a sentence or two."
lessons = ["00-overview.md"]
exercises = []
'''

_LESSON = '''# Chapter {number}

TODO for the author: the lesson, in Markdown. Add more files and list them, in order, under
`lessons` in chapter.toml.
'''


def _new_chapter(root: Path, number: int) -> list[Path]:
    """A chapter (and, in a new folder, the pack's four parts): its manifest and a first lesson."""
    folder = f"chapter{number:02d}"
    for part in ("curriculum", "exercises", "solutions", "grader"):
        (root / part / folder).mkdir(parents=True, exist_ok=True)
    manifest = root / "curriculum" / folder / "chapter.toml"
    lesson = root / "curriculum" / folder / "00-overview.md"
    if manifest.exists():
        raise CourseError(f"{manifest} already exists but is not chapter {number}; pick another chapter")
    manifest.write_text(_CHAPTER.format(number=number), encoding="utf-8")
    if not lesson.exists():
        lesson.write_text(_LESSON.format(number=number), encoding="utf-8")
    return [manifest, lesson]


def _append_exercise(manifest: Path, exercise_id: str) -> None:
    text = manifest.read_text(encoding="utf-8")
    match = re.search(r"^exercises\s*=\s*\[(.*?)\]", text, re.M | re.S)
    if not match:
        manifest.write_text(text.rstrip() + f'\nexercises = ["{exercise_id}"]\n', encoding="utf-8")
    else:
        inner = match.group(1).strip().rstrip(",")
        items = (inner + ", " if inner else "") + f'"{exercise_id}"'
        manifest.write_text(text[:match.start()] + f"exercises = [{items}]" + text[match.end():], encoding="utf-8")
    read_toml(manifest)  # still valid TOML, or PackError names it
