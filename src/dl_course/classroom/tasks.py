"""A batch of submissions as plain data, and the one function that grades a batch.

The local pool and the Dask workers call the same `grade_batch(task)`: it loads the course
pack, stages each submission in a folder of its own, grades the whole batch in one judge
(`runner.grade`: the judge warms up once, then forks a fresh isolated learner process per
submission) and returns plain dicts. It never touches the gradebook.

Isolation between students: each submission's code may not read the other submissions'
files (the staging area of every class run on the machine, the instructor's SUBMISSIONS and
--out folders), nor the pack's hidden suites and references; only its own staged folder. Behind the OS boundary
(grading.boundary) a submission's code sees none of them at all and cannot reach its judge, so
a batch is graded once; whatever still gets no fair verdict (a judge killed from outside) is
left unrecorded for the next run.

    task = {"course": DIR | None, "device": "cpu", "seed": 123, "run": "a1b2c3",
            "hide": [folder, …], "items": [item, …]}
    item = {"key": [student, exercise, code_hash, version], "exercise": id, "slot": k,
            "files": {file name: bytes}, "display": "ana/chapter09/x.py",
            "support_of": [ids of exercises whose support files it needs, beyond its own]}
    answer = [{"key": [...], "result": ExerciseResult as a dict} | {"key": [...], "infra": why}, …]

"infra" means no fair verdict (the grader, not the code, failed): never recorded as a grade.
"""

from __future__ import annotations

import functools

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["grade_batch", "staging_root"]


STAGING = "dl-course-class"


def staging_area() -> Path:
    """Where every class run of this user on this machine stages submissions; hidden from all of
    them, and (mode 0700, owned by this user) from other users."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    area = Path(tempfile.gettempdir()) / f"{STAGING}-{uid}"
    area.mkdir(mode=0o700, exist_ok=True)
    info = area.lstat()
    if not area.is_dir() or area.is_symlink() or (hasattr(os, "getuid") and info.st_uid != uid):
        raise RuntimeError(f"{area} is not a folder of this user's; remove it and grade again")
    if info.st_mode & 0o077:
        area.chmod(0o700)
    return area


def staging_root(run: str) -> Path:
    return staging_area() / run


def sweep_stale(hours: float = 6.0) -> int:
    """Remove what runs killed midway left in the staging area (untouched for `hours`)."""
    import time

    removed = 0
    try:
        entries = list(staging_area().iterdir())
    except (OSError, RuntimeError):
        return 0
    for run in entries:
        try:
            if time.time() - run.lstat().st_mtime > hours * 3600:
                shutil.rmtree(run, ignore_errors=True)
                removed += 1
        except OSError:
            pass
    return removed


def _make(folder: Path) -> None:
    for attempt in range(5):  # another batch may remove the (empty) shared parent meanwhile
        try:
            folder.mkdir(parents=True)
            return
        except FileNotFoundError:
            if attempt == 4:
                raise


def _not_a_fair_verdict(result) -> bool:
    """The grader, not the code, failed: no verdict at all, or a check the grader could not run."""
    return bool(result.error and not result.checks) or any(c.status == "error" for c in result.checks)


def grade_batch(task: dict[str, Any], on_progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Grade one batch; see the module's docstring for the shapes in and out.

    `on_progress` gets the judge's progress lines (`EXERCISE: check title`), for a live display."""
    from dl_course.classroom.gradebook import exercise_version
    from dl_course.course import load_pack
    from dl_course.errors import CourseError
    from dl_course.grading.runner import Submission, grade

    items = list(task["items"])
    try:
        pack = load_pack(task.get("course"))
    except CourseError as e:
        return [{"key": it["key"], "infra": f"this worker cannot load the course pack: {e}"} for it in items]
    device = task.get("device", "cpu")
    answers: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(items):
        ex = pack.exercises.get(item["exercise"])
        if ex is None:
            answers[i] = {"key": item["key"], "infra": f"this worker's course pack has no exercise {item['exercise']}"}
        elif exercise_version(pack, ex, device) != item["key"][3]:
            answers[i] = {"key": item["key"], "infra": f"this worker's copy of {ex.id} differs from the one being "
                                                      "graded: install the same course pack on every worker"}
        else:
            todo.append((i, item))
    area = staging_area()
    base = staging_root(str(task["run"]))
    staged: list[Path] = []
    try:
        subs = []
        for i, item in todo:
            ex = pack.exercises[item["exercise"]]
            top = base / str(item["slot"])
            folder = top / pack.chapter_of(ex).folder
            if top.exists():
                shutil.rmtree(top)
            _make(folder)
            staged.append(top)
            for name, data in item["files"].items():
                target = folder / Path(name).name
                target.write_bytes(data)
            # Provided files: always the pack's own, whatever was handed in (for a notebook, those of
            # every exercise whose cells are part of it too).
            for other_id in dict.fromkeys([ex.id, *ex.uses, *item.get("support_of", ())]):
                other = pack.exercises.get(other_id)
                for name in other.support if other is not None else ():
                    shutil.copyfile(other.support_file(name), folder / name)
            # Every staged submission (of this run, of another run, of a run killed midway) is out
            # of reach; the engine keeps the submission's own folder readable.
            subs.append(Submission(ex, folder / ex.file, item["display"],
                                   hidden=(str(area), *task.get("hide", ()))))
        seed = int(task["seed"])
        # Several judges share the machine's cores: each of their processes gets its share of
        # torch threads (measured: 1 thread each grades a class faster than the default).
        graded = functools.partial(grade, threads=task.get("threads"))
        results = graded(pack, subs, device=device, seed=seed, on_progress=on_progress) if subs else []
        for (i, item), result in zip(todo, results):
            if _not_a_fair_verdict(result):
                # No verdict (a judge killed from outside, a grader bug): not recorded, so the next
                # run tries again. Learner code cannot cause this: it cannot reach its judge.
                first = next((c for c in result.checks if c.status == "error"), None)
                answers[i] = {"key": item["key"], "infra": result.error or (first.message if first else "no verdict")}
            else:
                answers[i] = {"key": item["key"], "result": result.to_dict()}
    finally:
        for top in staged:
            shutil.rmtree(top, ignore_errors=True)
        try:
            os.rmdir(base)
        except OSError:
            pass  # other batches still use it
    return [answers[i] for i in range(len(items))]
