"""What each learner command does, as plain functions returning data (the CLI only prints).

Nothing here imports torch: grading happens in other processes (see `grading.runner`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dl_course.course import Exercise, Hint, Pack, load_pack, read_lessons
from dl_course.errors import CourseError, WorkspaceError
from dl_course.progress import Progress
from dl_course.store import NotSaved, StoreLocked, writable
from dl_course.workspace import Workspace, code_hash, create_workspace, find_workspace

__all__ = ["Course", "open_course", "start", "check", "listing", "next_hint", "solution", "reset", "lesson_text", "lessons",
           "StartReport", "HintReport"]


@dataclass
class Course:
    """A pack and, when there is one, the learner's workspace and its progress store."""

    pack: Pack
    workspace: Workspace | None
    on_wait: Callable[[str], None] | None = None
    """Told at once when a write to the progress store waits for another process's lock."""
    pending: list = field(default_factory=list)
    """Graded attempts (result, code hash) not recorded yet (`check(record_now=False)`)."""
    not_saved: list[str] = field(default_factory=list)
    """What could not be recorded this time (a read-only folder, a lock held too long), one line
    each: the verdicts and hints were still given. The caller says so."""

    @property
    def progress(self) -> Progress:
        return Progress(self.need_workspace().database, on_wait=self.on_wait)

    @property
    def read_only(self) -> bool:
        """Whether the workspace's progress cannot be written (a read-only folder)."""
        return self.workspace is not None and not writable(self.workspace.database)

    def _write(self, what: str, do: Callable[[], None]) -> bool:
        """Run a write to the progress store; if it cannot be done, note why in `not_saved`."""
        try:
            do()
        except NotSaved as e:
            after = ("run it again once that process is done" if isinstance(e, StoreLocked)
                     else "nothing is kept until the folder is writable again")
            self.not_saved.append(f"{what}: {e}; {after}")
            return False
        return True

    def need_workspace(self) -> Workspace:
        if self.workspace is None:
            raise WorkspaceError("no dl-course workspace here or above this folder; "
                                 "run `dl-course start chapter9` in the folder where you want to work")
        return self.workspace


def open_course(course: str | None = None, cwd: Path | None = None) -> Course:
    workspace = find_workspace(cwd)
    pack = load_pack(course or (workspace.course if workspace else None))
    return Course(pack, workspace)


@dataclass
class StartReport:
    workspace: Workspace
    created_workspace: bool
    chapter_id: str
    files: list[tuple[Path, bool]] = field(default_factory=list)


def start(chapter: str, course: str | None = None, cwd: Path | None = None) -> StartReport:
    cwd = cwd or Path.cwd()
    ctx = open_course(course, cwd)
    chap = ctx.pack.chapter(chapter)
    created = ctx.workspace is None
    workspace = ctx.workspace or create_workspace(cwd, course)
    files = workspace.scaffold(ctx.pack, chap)
    return StartReport(workspace, created, chap.id, files)


def exercise(pack: Pack, name: str) -> Exercise:
    """`pack.exercise(name)`, and for a misspelled name, the ids it may have meant."""
    try:
        return pack.exercise(name)
    except CourseError:
        import difflib

        key = name.strip().rsplit("/", 1)[-1].removesuffix(".py")
        close = difflib.get_close_matches(key, list(pack.exercises), n=3, cutoff=0.6)
        if not close:
            raise
        maybe = " or ".join(f"'{c}'" for c in close)
        raise CourseError(f"no exercise '{name}' in this course: did you mean {maybe}? "
                          "(`dl-course list` shows them all)") from None


def select(ctx: Course, names: list[str], cwd: Path | None = None) -> list[Exercise]:
    """The exercises a learner means: those named, else every started one under `cwd`."""
    ws = ctx.need_workspace()
    if names:
        chosen = [exercise(ctx.pack, n) for n in names]
        missing = [e for e in chosen if not ws.file_for(ctx.pack, e).is_file()]
        if missing:
            e = missing[0]
            chapter = ctx.pack.chapter_of(e)
            raise CourseError(f"{ws.display(ws.file_for(ctx.pack, e))} does not exist yet; "
                              f"run `dl-course start {chapter.id}` to create it")
        return chosen
    started = ws.started(ctx.pack, cwd or Path.cwd())
    if not started:
        raise CourseError("no exercise files under this folder; run `dl-course start chapter9` first, "
                          "or name an exercise: `dl-course check subsequent_mask`")
    return started


def check(ctx: Course, exercises: list[Exercise], device: str = "auto", seed: int | None = None,
          on_progress=None, on_metric=None, warm=None, record_now: bool = True):
    """Grade the learner's files and record every attempt. Returns the results in order.

    `warm` is a `grading.runner.WarmJudge` (the TUI and `--watch` keep one) for an instant check;
    `on_metric` receives structured training reports (for a live loss plot). With `record_now`
    False the attempts wait in `ctx.pending` for `record_pending(ctx)`, so the caller can show
    the verdict first (recording may wait for another process's lock).
    """
    from dl_course.grading.runner import Submission, grade

    ws = ctx.need_workspace()
    subs, hashes = [], []
    for ex in exercises:
        path = ws.file_for(ctx.pack, ex)
        hashes.append(code_hash(path))
        subs.append(Submission(ex, path, ws.display(path)))
    options = dict(device=device, seed=seed, on_progress=on_progress, on_metric=on_metric)
    results = warm.grade(ctx.pack, subs, **options) if warm is not None else grade(ctx.pack, subs, **options)
    ctx.pending.extend(zip(results, hashes))
    if record_now:
        record_pending(ctx)
    return results


def record_pending(ctx: Course) -> bool:
    """Record the attempts waiting in `ctx.pending` (see `check`); False when they could not be."""
    attempts, ctx.pending[:] = list(ctx.pending), []
    return record(ctx, attempts) if attempts else True


def record(ctx: Course, attempts: list) -> bool:
    """Record graded attempts (result, code hash) in one go; a folder that is read-only or a lock
    held too long leaves a line in `ctx.not_saved` instead (the verdicts stand)."""
    what = "the verdict above stands, but it was not recorded" if len(attempts) == 1 else \
        f"the {len(attempts)} verdicts above stand, but they were not recorded"
    return ctx._write(what, lambda: ctx.progress.record_all(attempts))


def listing(ctx: Course) -> list[dict]:
    """Chapters with their exercises: each exercise's status, of the file the learner works in.

    That is the exercise's .py file when it has been checked, else the notebook it was last
    checked in, else the .py file again (`not started` / `started`): a notebook's Run All never
    changes what is said about a .py file. `file` is relative to the workspace (`path` is the full
    path), `source` says which kind of file the row is about, and `elsewhere` lists the other files
    this exercise was checked in, with their own status.
    """
    parts = ctx.progress.by_source() if ctx.workspace else {}
    out = []
    for chapter in ctx.pack.chapters:
        rows = []
        for exercise_id in chapter.exercises:
            ex = ctx.pack.exercises[exercise_id]
            path = ctx.workspace.file_for(ctx.pack, ex) if ctx.workspace else None
            sources = parts.get(ex.id, [])
            mine = next((p for p in sources if p["kind"] == "file"), None) or (sources[0] if sources else None)
            shown = ctx.workspace.display(path) if path is not None else None
            if mine is not None and mine["kind"] != "file":
                shown = mine["source"]
            status = _status(mine, path)
            if mine is not None and mine["kind"] == "file" and _is_starter(path, ex) and \
                    file_state(ctx, ex) == "reset":
                status = "reset"  # checked, then put back to the starter: that check was of code that is gone
            rows.append({"id": ex.id, "title": ex.title, "points": ex.points, "status": status,
                         "best_score": mine["best_score"] if mine else None,
                         "attempts": mine["attempts"] if mine else 0,
                         "file": shown, "path": str(path) if path is not None else None,
                         "source": mine["kind"] if mine else "file",
                         "exists": bool(path is not None and path.exists()) or bool(mine and mine["kind"] != "file"),
                         "elsewhere": [{"file": p["source"], "source": p["kind"], "status": _status(p, None),
                                        "attempts": p["attempts"], "best_score": p["best_score"]}
                                       for p in sources if p is not mine]})
        out.append({"id": chapter.id, "number": chapter.number, "title": chapter.title, "exercises": rows})
    return out


def passing(ctx: Course) -> set[str]:
    """The exercises whose latest recorded attempt (of the file the learner works in) passed;
    empty when the progress store cannot be read, since this only steers a suggestion."""
    try:
        return {row["id"] for chapter in listing(ctx) for row in chapter["exercises"] if row["status"] == "passed"}
    except Exception:  # noqa: BLE001 - a damaged or locked store must not hide a verdict
        return set()


def file_state(ctx: Course, ex: Exercise) -> str:
    """How the exercise's .py file stands against its last check: `unchecked` (none yet, or the
    store cannot be read), `checked` (the file is the code last checked), `reset` (it is the
    starter again, and the last check was of other code), `changed`, or `missing`."""
    if ctx.workspace is None:
        return "missing"
    path = ctx.workspace.file_for(ctx.pack, ex)
    try:
        latest = ctx.progress.latest(ex.id, kind="file")
    except CourseError:
        return "unchecked"
    if latest is None:
        return "unchecked"
    try:
        mine = code_hash(path)
    except OSError:
        return "missing"
    if mine == latest.code_hash:
        return "checked"
    return "reset" if _is_starter(path, ex) else "changed"


def _is_starter(path: Path | None, ex: Exercise) -> bool:
    try:
        return path is not None and path.read_bytes() == ex.starter.read_bytes()
    except OSError:
        return False


def _status(info: dict | None, path: Path | None) -> str:
    if info is None:
        return "not started" if path is None or not path.exists() else "started"
    return "passed" if info["passed"] else ("failed" if not info["ever_passed"] else "passed before")


@dataclass
class HintReport:
    exercise: str
    hint: Hint | None
    number: int
    total: int
    why: str = ""
    """Why this hint came first (it is attached to the latest failure), or ''."""


def next_hint(ctx: Course, exercise: Exercise) -> HintReport:
    """The next unseen hint, those attached to the learner's latest failure first."""
    store = ctx.progress
    shown = set(store.hints_shown(exercise.id))
    latest = store.latest(exercise.id)
    keys = set()
    if latest is not None and not latest.passed:
        if latest.diagnosis:
            keys.add(f"mistake:{latest.diagnosis}")
        if latest.failing_check:
            keys.add(f"check:{latest.failing_check}")
    order = [i for i, h in enumerate(exercise.hints) if h.on in keys] + \
            [i for i, h in enumerate(exercise.hints) if h.on is None]
    total = len(exercise.hints)
    for i in order:
        if i not in shown:
            ctx._write("the hint is shown, but not marked as seen", lambda: store.mark_hint(exercise.id, i))
            hint = exercise.hints[i]
            why = "it is about your latest failure" if hint.on in keys else ""
            return HintReport(exercise.id, hint, len(shown) + 1, total, why)
    return HintReport(exercise.id, None, len(shown), total)


def solution(ctx: Course, exercise: Exercise, reveal: bool = False) -> str:
    """The reference, once the learner has passed (or with `reveal`, which is recorded)."""
    store = ctx.progress
    passed = store.ever_passed(exercise.id)
    if not passed and not reveal:
        raise CourseError(f"the solution of {exercise.id} opens once you pass it; to see it anyway, run "
                          f"`dl-course solution {exercise.id} --reveal` (this is recorded in your progress)")
    ctx._write("the solution is shown, but that you looked was not recorded", lambda: store.record_reveal(exercise.id, forced=not passed))
    return exercise.solution.read_text(encoding="utf-8")


def reset(ctx: Course, exercise: Exercise) -> tuple[Path, Path | None]:
    ws = ctx.need_workspace()
    backup = ws.reset(ctx.pack, exercise)
    return ws.file_for(ctx.pack, exercise), backup


def lessons(ctx: Course, chapter: str) -> list[str]:
    """The chapter's lesson files, read, in order."""
    return read_lessons(ctx.pack.chapter(chapter))


def lesson_text(ctx: Course, chapter: str) -> str:
    return "\n\n---\n\n".join(lessons(ctx, chapter))
