"""One `dl-course grade` run: collect, decide what needs grading, grade it, record every verdict.

    plan = prepare(pack, SUBMISSIONS, out, ...)   # who handed in what; what the gradebook already has
    report = execute(plan, workers=2)             # or scheduler="tcp://host:8786"

Only this process writes the gradebook: the pool's workers and the Dask workers send back
plain dicts. A verdict is committed as soon as its batch comes back, so an interrupted run
keeps every finished batch; running the same command again grades only the rest.
"""

from __future__ import annotations

import math
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dl_course.classroom.collect import Student, collect
from dl_course.classroom.gradebook import Gradebook, RosterEntry, code_digest, exercise_version
from dl_course.classroom.tasks import staging_root, sweep_stale
from dl_course.course.model import Exercise, Pack
from dl_course.errors import CourseError
from dl_course.grading.result import ExerciseResult

__all__ = ["Plan", "RunReport", "prepare", "execute", "batches"]


@dataclass
class Plan:
    pack: Pack
    course: str | None
    submissions: Path
    gradebook: Gradebook
    exercises: list[Exercise]
    students: list[Student]
    ignored: list[str]
    roster: list[RosterEntry]
    items: list[dict[str, Any]]
    """What must be graded now (see `tasks`)."""
    reused: int
    device: str
    seed: int
    notebooks: dict[tuple[str, str], Any] = field(default_factory=dict)
    """(student, exercise) → the put-together file of an exercise taken from a notebook."""

    @property
    def missing(self) -> int:
        return sum(e.status == "missing" for e in self.roster)

    @property
    def refused(self) -> int:
        return sum(e.status == "refused" for e in self.roster)


@dataclass
class RunReport:
    plan: Plan
    graded: int = 0
    not_graded: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    workers: int = 1
    scheduler: str | None = None


def prepare(pack: Pack, submissions: Path, out: Path, course: str | None = None,
            exercise_ids: list[str] | None = None, device: str = "cpu", seed: int | None = None,
            regrade: bool = False) -> Plan:
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    exercise_ids = [part.strip() for e in exercise_ids or () for part in e.split(",") if part.strip()]
    chosen = [pack.exercise(e) for e in exercise_ids] if exercise_ids else list(pack.exercises.values())
    needed = {e.id: e for e in chosen}
    for ex in chosen:  # a student's files of the exercises an exercise imports are graded with it
        for used in ex.uses:
            needed.setdefault(used, pack.exercises[used])
    students, ignored = collect(submissions, pack, list(needed.values()), skip=(out,))
    if not exercise_ids:  # the exercises the class handed in, in course order
        handed = {ex_id for s in students for ex_id in s.files}
        chosen = [e for e in chosen if e.id in handed]
        if not chosen:
            names = ", ".join(sorted({Path(e.file).name for e in pack.exercises.values()}))
            raise CourseError(f"{submissions}: no exercise files found in {len(students)} student entries "
                              f"(looking for {names}); name exercises with --exercise to grade them anyway")
    book = Gradebook(out)
    versions = {ex.id: exercise_version(pack, ex, device) for ex in chosen}
    roster: list[RosterEntry] = []
    candidates: list[tuple[RosterEntry, dict[str, bytes], Exercise]] = []
    notebooks: dict[tuple[str, str], Any] = {}
    supports: dict[tuple[str, str], list[str]] = {}
    for student in students:
        for ex in chosen:
            version = versions[ex.id]
            got = student.files.get(ex.id)
            if student.problem:
                roster.append(RosterEntry(student.name, ex.id, "refused", None, version, None, student.problem))
                continue
            if got is None:
                roster.append(RosterEntry(student.name, ex.id, "missing", None, version, None,
                                          f"no {Path(ex.file).name} found"))
                continue
            display = f"{student.name}/{got.path}"
            if got.data is None:
                roster.append(RosterEntry(student.name, ex.id, "refused", None, version, display, got.problem))
                continue
            files = {Path(ex.file).name: got.data}
            for used in ex.uses:
                other = pack.exercises[used]
                theirs = student.files.get(used)
                files[Path(other.file).name] = (theirs.data if theirs is not None and theirs.data is not None
                                                else other.starter.read_bytes())
            entry = RosterEntry(student.name, ex.id, "submitted", code_digest(files), version, display)
            roster.append(entry)
            candidates.append((entry, files, ex))
            if got.notebook is not None:
                notebooks[(student.name, ex.id)] = got.notebook
                supports[(student.name, ex.id)] = list(got.support_of)
    if regrade:
        book.forget(e.key for e, _, _ in candidates)
    known = book.known(e.key for e, _, _ in candidates)
    items = []
    for entry, files, ex in candidates:
        if entry.key in known:
            continue
        items.append({"key": list(entry.key), "exercise": ex.id, "files": files, "display": entry.file,
                      "support_of": supports.get((entry.student, ex.id), [])})
    items.sort(key=lambda it: (it["exercise"], it["key"][0]))  # one exercise's reference loads once a judge
    for slot, item in enumerate(items):
        item["slot"] = slot
    book.set_roster(roster)
    book.set_meta("course", course or "")
    return Plan(pack, course, submissions, book, chosen, students, ignored, roster, items,
                reused=len(candidates) - len(items), device=device, seed=book.seed(seed), notebooks=notebooks)


def prove_references(plan: Plan) -> None:
    """Refuse to grade against a reference that fails its own checks: every student would be
    failed, or told the grader failed, on every run. Each exercise version is proved once (the
    gradebook remembers it), so a re-run pays nothing."""
    from dl_course.author import broken_references

    wanted = {item["exercise"] for item in plan.items}
    keys = {ex.id: f"reference_ok:{exercise_version(plan.pack, ex, plan.device)}" for ex in plan.exercises
            if ex.id in wanted}
    todo = [ex for ex in plan.exercises if ex.id in keys and plan.gradebook.meta(keys[ex.id]) is None]
    broken = broken_references(plan.pack, todo, plan.device)
    for ex in todo:
        if ex.id not in broken:
            plan.gradebook.set_meta(keys[ex.id], "1")
    if broken:
        where = f" --course {plan.course}" if plan.course else ""
        lines = [f"  {ex_id}: {why}" for ex_id, why in broken.items()]
        others = [ex.id for ex in plan.exercises if ex.id not in broken]
        raise CourseError(
            f"the pack's reference fails its own checks, so nobody can be graded fairly on "
            f"{', '.join(broken)}; nothing was graded:\n" + "\n".join(lines) +
            f"\nFix the reference (see `dl-course author validate {' '.join(broken)}{where}`)"
            + (f", or grade the rest with {' '.join('--exercise ' + e for e in others)}." if others else "."))


def _from_notebook(plan: Plan, key: tuple[str, ...], result: ExerciseResult) -> ExerciseResult:
    return notebook_lines(plan.notebooks.get((key[0], key[1])), plan.pack.exercises[key[1]], result)


def notebook_lines(assembled: Any, ex: Exercise, result: ExerciseResult) -> ExerciseResult:
    """Name lines of a notebook's exercise as `cell C, line M`, as `dl-course check NOTEBOOK` does."""
    if assembled is None or not result.file:
        return result
    from dl_course.notebook import locate_line

    also = (os.path.join(os.path.dirname(result.file), ex.file),)
    for check in result.checks:
        check.message, check.line = locate_line(assembled, check.message, result.file, check.line, also)
    if result.error:
        result.error = locate_line(assembled, result.error, result.file, None, also)[0]
    return result


# A judge's start (torch imported by the judge and by its learner zygote) costs about as much CPU
# as grading this many submission-exercises: a second judge pays off only past about that many
# items each (measured on two cores: 10 students × 2 exercises graded no faster on 2 judges).
MIN_ITEMS_PER_JUDGE = 20


def batches(plan: Plan, workers: int, batch_size: int | None = None) -> list[dict[str, Any]]:
    """Split the plan's items into batches. Each batch pays a judge's start (two `import torch`),
    so the number of judges follows the class size (one per MIN_ITEMS_PER_JUDGE items, at most
    `workers`), and a large class gets batches of at most about 40 submission-exercises (an
    interruption loses at most the batches in flight)."""
    n = len(plan.items)
    if n == 0:
        return []
    if batch_size is None:
        judges = max(1, min(workers, n // MIN_ITEMS_PER_JUDGE))
        per_judge = max(1, math.ceil(n / (judges * 40)))
        batch_size = math.ceil(n / (judges * per_judge))
    run = uuid.uuid4().hex[:12]
    hide = [str(plan.submissions), str(plan.gradebook.folder)]
    # Torch threads per process: the cores shared among the local judges (each judge has a learner
    # process beside it).
    threads = max(1, (os.cpu_count() or 1) // (2 * workers)) if workers else 1
    return [{"course": plan.course, "device": plan.device, "seed": plan.seed, "run": run, "hide": hide,
             "threads": threads, "items": plan.items[i:i + batch_size]} for i in range(0, n, max(1, batch_size))]


def execute(plan: Plan, workers: int = 1, scheduler: str | None = None, batch_size: int | None = None,
            on_start: Callable[[int], None] | None = None,
            on_batch: Callable[[list[dict[str, Any]], int], None] | None = None,
            on_finished: Callable[[int], None] | None = None) -> RunReport:
    """Grade the plan's items; record each verdict as its batch comes back.

    `on_batch(answers, told)` follows each batch (`told` of them were already announced one by one
    through `on_finished`, which only the local pool calls)."""
    report = RunReport(plan, workers=workers, scheduler=scheduler)
    tasks = batches(plan, workers, batch_size)
    if scheduler:  # a Dask worker runs several batches at once on cores we cannot see from here
        for task in tasks:
            task["threads"] = 1
    if on_start is not None:
        on_start(len(plan.items))
    started = time.monotonic()
    if not scheduler:
        sweep_stale()
    if scheduler:
        from dl_course.classroom.dask import dask_answers

        stream = dask_answers(tasks, scheduler)
    else:
        from dl_course.classroom.pool import local_answers

        stream = local_answers(tasks, workers, on_finished)
    seen: set[tuple[str, ...]] = set()
    try:
        for answers, told in stream:
            for answer in answers:
                key = tuple(answer["key"])
                seen.add(key)
                if "result" in answer:
                    plan.gradebook.record(key, _from_notebook(plan, key, ExerciseResult.from_dict(answer["result"])))
                    report.graded += 1
                else:
                    report.not_graded.append((key, answer.get("infra", "not graded")))
            if on_batch is not None:
                on_batch(answers, told)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        stream.close()
        report.seconds = time.monotonic() - started
        if tasks and not scheduler:
            shutil.rmtree(staging_root(tasks[0]["run"]), ignore_errors=True)
    if not report.interrupted:
        for item in plan.items:
            if tuple(item["key"]) not in seen:
                report.not_graded.append((tuple(item["key"]), "no answer came back for it"))
    return report


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
