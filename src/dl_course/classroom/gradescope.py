"""`dl-course gradescope`: grade one Gradescope submission and write Gradescope's results.json.

Inside a Gradescope autograder (its `run_autograder` calls `dl-course gradescope`), the
student's upload is in /autograder/submission and the verdict goes to
/autograder/results/results.json. The upload may be laid out as a workspace or flat (or be one
zip). Each exercise becomes one Gradescope test: its score, its points, and as output every
check with its message and the misconception it matched. Exercises with no file get 0 and say
which file was expected. The same isolation as `dl-course check` applies.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from dl_course.classroom.collect import Student, collect_one
from dl_course.classroom.gradebook import code_digest, exercise_version
from dl_course.classroom.run import notebook_lines
from dl_course.classroom.tasks import grade_batch, staging_root
from dl_course.course.model import Exercise, Pack
from dl_course.errors import CourseError
from dl_course.grading.result import ExerciseResult

__all__ = ["gradescope_results", "DEFAULT_SUBMISSION", "DEFAULT_RESULTS"]

DEFAULT_SUBMISSION = Path("/autograder/submission")
DEFAULT_RESULTS = Path("/autograder/results/results.json")
_MARKS = {"passed": "✓", "failed": "✗", "not_run": "·", "error": "!"}


def _student(submission: Path, pack: Pack, exercises: list[Exercise]) -> Student:
    if not submission.exists():
        raise CourseError(f"{submission}: no such folder (the Gradescope submission); pass --submission DIR")
    zips = sorted(submission.glob("*.zip")) if submission.is_dir() else []
    student = collect_one(submission, pack, exercises, "submission")
    if not student.files and len(zips) == 1:  # an upload that is one zip of the work
        student = collect_one(zips[0], pack, exercises, "submission")
    return student


def _output(ex: Exercise, result: ExerciseResult) -> str:
    lines = []
    if result.error:
        lines.append(f"Could not be graded: {result.error}")
    for c in result.checks:
        lines.append(f"{_MARKS.get(c.status, '?')} {c.name}: {c.title}")
        if c.status in ("failed", "error") and c.message:
            lines += ["    " + line for line in c.message.splitlines()[:12]]
            if c.case and c.case not in c.message:  # the message usually names its case already
                lines.append(f"    failing case: {c.case}")
    if result.diagnosis:
        lines.append(f"\nWhat went wrong: {result.diagnosis.get('message', '')} "
                     f"(known mistake: {result.diagnosis.get('id')})")
    if result.output.strip():
        lines.append("\nYour code printed:\n" + result.output[:4000])
    return "\n".join(lines)


def gradescope_results(pack: Pack, course: str | None, submission: Path, exercise_ids: list[str] | None = None,
                       device: str = "cpu", visibility: str = "visible", seed: int | None = None) -> dict[str, Any]:
    started = time.monotonic()
    chosen = [pack.exercise(e) for e in exercise_ids] if exercise_ids else list(pack.exercises.values())
    needed = {e.id: e for e in chosen}
    for ex in chosen:
        for used in ex.uses:
            needed.setdefault(used, pack.exercises[used])
    student = _student(Path(submission), pack, list(needed.values()))
    if not exercise_ids:
        handed = [e for e in chosen if e.id in student.files]
        chosen = handed or chosen
    items, tests = [], {}
    for ex in chosen:
        got = student.files.get(ex.id)
        name = f"{ex.id}: {ex.title}"
        if student.problem or got is None or got.data is None:
            why = student.problem or (got.problem if got is not None else
                                      f"not submitted: expected {pack.chapter_of(ex).folder}/{ex.file} "
                                      f"(or {Path(ex.file).name} at the top of the upload)")
            tests[ex.id] = {"name": name, "score": 0.0, "max_score": float(ex.points), "output": why,
                            "visibility": visibility}
            continue
        files = {Path(ex.file).name: got.data}
        for used in ex.uses:
            other, theirs = pack.exercises[used], student.files.get(used)
            files[Path(other.file).name] = theirs.data if theirs and theirs.data is not None else other.starter.read_bytes()
        key = ["submission", ex.id, code_digest(files), exercise_version(pack, ex, device)]
        items.append({"key": key, "exercise": ex.id, "files": files, "display": got.path, "slot": len(items),
                      "support_of": list(got.support_of)})
    if items:
        import random

        run = uuid.uuid4().hex[:12]
        task = {"course": course, "device": device, "seed": seed if seed is not None else random.randrange(1, 10**6),
                "run": run, "hide": [], "items": items}
        try:
            answers = grade_batch(task)
        finally:
            import shutil

            shutil.rmtree(staging_root(run), ignore_errors=True)
        for item, answer in zip(items, answers):
            ex = pack.exercises[item["exercise"]]
            name = f"{ex.id}: {ex.title}"
            if "result" not in answer:
                tests[ex.id] = {"name": name, "score": 0.0, "max_score": float(ex.points),
                                "output": f"Could not be graded: {answer.get('infra')}", "visibility": visibility}
                continue
            got = student.files[ex.id]
            result = notebook_lines(got.notebook, ex, ExerciseResult.from_dict(answer["result"]))
            tests[ex.id] = {"name": name, "score": float(result.score), "max_score": float(ex.points),
                            "output": _output(ex, result), "visibility": visibility,
                            "status": "passed" if result.passed else "failed"}
    ordered = [tests[e.id] for e in chosen]
    total = sum(t["score"] for t in ordered)
    passed = sum(t.get("status") == "passed" for t in ordered)
    summary = f"{passed} of {len(ordered)} exercises passed · {total:g}/{sum(t['max_score'] for t in ordered):g} points"
    if student.notes:
        summary += "\n" + "\n".join(student.notes)
    return {"score": round(total, 2), "execution_time": round(time.monotonic() - started, 2), "output": summary,
            "visibility": visibility, "stdout_visibility": "hidden", "tests": ordered}


def write_results(results: dict[str, Any], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
