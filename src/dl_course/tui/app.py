"""The Textual app: wires the screens, the learner's course and the warm grader.

Drawing never imports torch: grading runs in other processes, and a judge is started ahead
of time (`WarmJudge`) so a check after an edit answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from dl_course import service
from dl_course.course.model import Exercise
from dl_course.errors import CourseError
from dl_course.tui.screens import ExerciseScreen, HelpScreen, MapScreen, ReaderScreen
from dl_course.tui.state import UiState

__all__ = ["CourseApp"]


class CourseApp(App):
    """dl-course in the terminal: the course map, lessons and exercises."""

    TITLE = "dl-course"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False  # every action has a key of its own (see `?`); the footer needs the room
    BINDINGS = [("question_mark", "help", "Help")]

    def __init__(self, ctx: service.Course, chapter: str | None = None, exercise: str | None = None,
                 warm: bool = True, device: str = "auto", course: str | None = None, cwd: Path | None = None):
        super().__init__()
        self.ctx = ctx
        self.course, self.cwd = course, cwd or Path.cwd()
        self.first_chapter, self.first_exercise = chapter, exercise
        self.state = UiState.load(ctx.workspace.state_dir if ctx.workspace else None)
        self.device = device
        self._use_warm = warm
        self.warm: Any = None
        self.closing = False
        """Set when quitting: a check in flight is cancelled (its processes killed, nothing recorded)."""

    # -- life cycle --------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.state.theme in self.available_themes:
            self.theme = self.state.theme
        self.push_screen(MapScreen())
        try:
            if self.first_chapter:
                self.open_chapter(self.first_chapter)
            if self.first_exercise:
                self.open_exercise(self.first_exercise)
        except CourseError as e:
            self.notify(str(e), severity="error")
        if self._use_warm and self.ctx.workspace is not None:
            # After the first paint: the spare judge imports torch on the other core meanwhile.
            self.set_timer(0.3, self._start_warm)

    def _start_warm(self) -> None:
        from dl_course.grading.runner import WarmJudge

        if self.warm is None:
            self.warm = WarmJudge().start()

    def on_unmount(self) -> None:
        self.state.save()
        self.cancel_checks()

    def cancel_checks(self) -> None:
        """Stop at once whatever is grading: the judges and their learner processes are killed,
        and the cancelled check records nothing. (Quitting must not wait for a capstone's training.)"""
        from dl_course.grading.runner import close_all

        self.closing = True
        if self.warm is not None:
            self.warm.close()
        close_all()

    async def action_quit(self) -> None:
        self.cancel_checks()
        self.exit()

    def from_thread(self, callback, *args: Any) -> None:
        """`call_from_thread` for a worker that may outlive the app: after quitting, nothing."""
        if self.closing:
            return
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:  # the app stopped meanwhile
            pass

    # -- navigation ---------------------------------------------------------------------------
    def open_chapter(self, name: str) -> None:
        chapter = self.ctx.pack.chapter(name)
        try:
            sections = service.lessons(self.ctx, chapter.id)
        except CourseError as e:  # a lesson file cannot be read: say which, keep the app alive
            self.notify(str(e), severity="error")
            return
        self.push_screen(ReaderScreen(chapter, sections))

    def open_exercise(self, exercise_id: str) -> None:
        self.push_screen(ExerciseScreen(self.ctx.pack.exercise(exercise_id)))

    def start_chapter(self, chapter_id: str) -> service.StartReport:
        """Scaffold a chapter (creating the workspace here if there is none), as `dl-course start`."""
        report = service.start(chapter_id, self.course, cwd=self.cwd)
        if self.ctx.workspace is None:
            self.ctx = service.open_course(self.course, cwd=self.cwd)
            reading = self.state.reading
            self.state = UiState.load(self.ctx.workspace.state_dir if self.ctx.workspace else None)
            self.state.reading.update(reading)
            if self._use_warm:
                self._start_warm()
        return report

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"
        self.state.theme = self.theme
        self.state.save()

    # -- what the screens ask of the course (one place, so tests can see it) ----------------------
    def listing(self) -> list[dict]:
        """`service.listing`: an exercise whose file was put back to the starter after its last
        check says `reset` (that check was of code that is gone; it no longer says "passed")."""
        return service.listing(self.ctx)

    def file_state(self, exercise_id: str) -> str:
        """`service.file_state`: unchecked, checked, reset, changed or missing."""
        return service.file_state(self.ctx, self.ctx.pack.exercise(exercise_id))

    def last_result(self, exercise_id: str) -> Any:
        """The whole last check of the exercise's file in the TUI (an ExerciseResult, with its
        diagnosis and pictures), when it is the attempt the progress store holds as the latest;
        else None (a later check from the command line, say: then only its checks are known)."""
        saved = self.state.results.get(exercise_id)
        if saved is None:
            return None
        try:
            latest = self.ctx.progress.latest(exercise_id, kind="file")
        except CourseError:
            return None
        from dl_course.grading.result import ExerciseResult

        try:
            result = ExerciseResult.from_dict(saved["result"])
        except (KeyError, TypeError, ValueError):
            return None
        if latest is None or latest.code_hash != saved["code_hash"] or latest.passed != result.passed \
                or abs(latest.score - result.score) > 1e-9:
            return None
        return result

    def check(self, exercise: Exercise, on_progress=None, on_metric=None) -> list[Any]:
        if self.warm is None and self._use_warm:
            self._start_warm()
        results = service.check(self.ctx, [exercise], device=self.device, on_progress=on_progress,
                                on_metric=on_metric, warm=self.warm, record_now=False)
        if self.closing:  # cancelled by quitting: the judge was killed, so this is no verdict
            self.ctx.pending.clear()
            return []
        for result, digest in self.ctx.pending:  # the TUI checks .py files only
            self.state.remember_result(result.exercise, digest, result.to_dict())
        service.record_pending(self.ctx)
        return results

    def take_not_saved(self) -> list[str]:
        """What could not be recorded since last asked (a read-only folder, a lock held too long)."""
        notes, self.ctx.not_saved[:] = list(self.ctx.not_saved), []
        return notes

    def next_hint(self, exercise: Exercise) -> service.HintReport:
        return service.next_hint(self.ctx, exercise)

    def solution(self, exercise: Exercise, reveal: bool = False) -> str:
        return service.solution(self.ctx, exercise, reveal=reveal)

    def reset(self, exercise: Exercise):
        return service.reset(self.ctx, exercise)
