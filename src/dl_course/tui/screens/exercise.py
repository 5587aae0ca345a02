"""The exercise panel: what to build, the learner's file, the last result, and the actions
(check, hint, solution, reset, edit in $EDITOR, watch)."""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Footer, Header, Label, Markdown, Static

from dl_course.course.api import starter_api
from dl_course.course.model import Exercise
from dl_course.errors import CourseError
from dl_course.textsafe import clean
from dl_course.tui.screens.base import CourseScreen
from dl_course.tui.screens.modals import ConfirmScreen, TextScreen
from dl_course.tui.widgets import LossPlot, ResultView

__all__ = ["ExerciseScreen"]


class ExerciseScreen(CourseScreen):
    BINDINGS = [("c", "check", "Check"), ("e", "edit", "Edit"), ("w", "watch", "Watch"), ("h", "hint", "Hint"),
                Binding("H", "hint_back", "Previous hint", show=False), Binding("x", "close_hint", "Close hint", show=False),
                ("s", "solution", "Solution"), ("r", "reset", "Reset"), Binding("t", "app.toggle_theme", "Theme", show=False),
                Binding("q", "app.quit", "Quit", show=False)]

    def __init__(self, exercise: Exercise):
        super().__init__()
        self.exercise = exercise
        self.result: Any = None
        self.watching = False
        self.checking = False
        self._seen: list[int] | None = None

    @property
    def path(self):
        app = self.course_app
        ws = app.ctx.need_workspace()
        return ws.file_for(app.ctx.pack, self.exercise)

    def compose(self) -> ComposeResult:
        ex = self.exercise
        yield Header()
        with VerticalScroll(id="exercise-body"):
            yield Static(Text.assemble((ex.title, "bold"), (f"   {ex.id} · {ex.points} points", "dim")),
                         id="exercise-title")
            yield Static(ex.summary or "", id="instructions")
            api = starter_api(ex.starter)
            if api:
                with Collapsible(title="What to build: names, arguments, shapes", collapsed=True, id="api"):
                    for item in api:
                        yield Static(Syntax(item.signature, "python", theme="ansi_dark", background_color="default"),
                                     classes="api-signature")
                        if item.doc:
                            yield Static(Text(item.doc), classes="api-doc")
            yield Static(id="file-line")
            yield Label("", id="status")
            with Vertical(id="result"):
                yield ResultView()
        yield Footer()

    def on_mount(self) -> None:
        app = self.course_app
        self.sub_title = self.exercise.title
        ws = app.ctx.workspace
        file_line = self.query_one("#file-line", Static)
        if ws is None:
            file_line.update(Text("No workspace: run `dl-course start "
                                  f"{app.ctx.pack.chapter_of(self.exercise).id}` to get this exercise's file.",
                                  style="yellow"))
            return
        path = self.path
        exists = path.exists()
        file_line.update(Text.assemble("Your file: ", (ws.display(path), "bold cyan"),
                                       ("" if exists else "  (not created yet: run dl-course start)", "yellow")))
        self._show_last()

    def _show_last(self) -> None:
        """Coming to the exercise: its last check in full (the "What went wrong" box and the
        pictures too, when the TUI made it), and whether the file is still the code it checked."""
        app = self.course_app
        state = app.file_state(self.exercise.id)
        if state == "unchecked":
            return
        result = app.last_result(self.exercise.id)
        checks: list[dict] = []
        if result is None:
            try:
                checks = app.ctx.progress.latest_checks(self.exercise.id, kind="file")  # this screen is about the .py
            except CourseError as e:
                self.fail(str(e))
        if state == "reset":
            self._show(ResultView(note="Your file is the starter again (it was reset after its last check). "
                                       "Press c to check it."))
            return
        note = "Your file has changed since this check: press c to check it again." if state == "changed" else ""
        if result is not None:
            self._show(ResultView(result, note=note, recalled=True))
        elif checks:
            self._show(ResultView(checks=checks, note=note))

    def _show(self, view: ResultView) -> None:
        box = self.query_one("#result", Vertical)
        box.remove_children()
        box.mount(view)

    def _have_file(self) -> bool:
        """Whether the learner's file exists; if not, say how to get it."""
        app = self.course_app
        if app.ctx.workspace is not None and self.path.exists():
            return True
        self.fail(f"{self.exercise.file} does not exist yet: run `dl-course start "
                  f"{app.ctx.pack.chapter_of(self.exercise).id}` (or press s on the map)")
        return False

    def set_status(self, text: str) -> None:
        if self.is_attached:  # the learner may have left this screen while a check ran
            self.query_one("#status", Label).update(Text(clean(text)))  # plain text, never markup

    # -- check ------------------------------------------------------------------------------
    def action_check(self) -> None:
        """Grade the learner's file in a worker; the UI stays live and shows what runs."""
        if not self._have_file():
            return
        if self.checking:
            self.notify("A check is already running.")
            return
        self.checking = True
        self.set_status("checking…")
        for plot in self.query(LossPlot):
            plot.remove()
        self._grade()

    @work(thread=True, exclusive=True, group="check")
    def _grade(self) -> None:
        app = self.course_app
        call = app.from_thread  # the learner may quit mid-check: then nothing is called back
        try:
            results = app.check(self.exercise, on_progress=lambda line: call(self.set_status, f"checking… {line}"),
                                on_metric=lambda event: call(self._metric, event))
        except CourseError as e:
            call(self._done, None, str(e))
            return
        except Exception as e:  # noqa: BLE001 - the grader failed: say so, keep the app alive
            call(self._done, None, f"the check could not run: {e}")
            return
        call(self._done, results[0] if results else None, None)

    def _metric(self, event: dict) -> None:
        if not self.is_attached:
            return
        plots = list(self.query(LossPlot))
        plot = plots[0] if plots else None
        if plot is None:
            plot = LossPlot(id="loss")
            self.query_one("#exercise-body").mount(plot, before=self.query_one("#result"))
            self.call_after_refresh(plot.add, event)
            return
        plot.add(event)

    def _done(self, result: Any, error: str | None) -> None:
        self.checking = False
        for note in self.course_app.take_not_saved():
            self.app.notify(note, title="Not saved", severity="warning", timeout=12)
        if not self.is_attached:  # left while it ran: the attempt is recorded; say how it went
            if result is not None:
                self.app.notify(f"{self.exercise.id}: {'passed' if result.passed else 'not yet'}")
            return
        if error:
            self.set_status("")
            self.fail(error)
            return
        self.result = result
        verdict = "passed ✓" if result.passed else "not yet ✗"
        self.set_status(f"checked: {verdict}" + ("   (watching your file)" if self.watching else ""))
        self._show(ResultView(result))
        if result.passed:
            self.notify(f"{self.exercise.id} passes. Press s to compare with the reference.", title="Well done")

    # -- hints, solution, reset ----------------------------------------------------------------
    def action_hint(self) -> None:
        """The next hint, in a panel under the result (the pictures stay in sight). With the panel
        open, h pages forward through the hints already seen, then asks for a new one."""
        panel = self._hint_panel()
        if panel is not None and panel.position < len(self.seen_hints) - 1:
            self._show_hint(panel.position + 1)
            return
        try:
            report = self.course_app.next_hint(self.exercise)
        except CourseError as e:
            self.fail(str(e))
            return
        if report.hint is None:
            if report.total == 0:
                self.notify("This exercise has no hints. The lesson has the full story.")
            elif panel is None and self.seen_hints:
                self._show_hint(len(self.seen_hints) - 1, f"you have seen all {report.total}")
            else:
                self.notify(f"No more hints (you have seen all {report.total}). Press H to read them again; "
                            "the lesson has the full story.")
            return
        index = next((i for i, h in enumerate(self.exercise.hints) if h is report.hint), None)
        if index is None:
            index = self.exercise.hints.index(report.hint)
        if index in self.seen_hints:
            self.seen_hints.remove(index)
        self.seen_hints.append(index)
        self._show_hint(len(self.seen_hints) - 1, report.why)

    def action_hint_back(self) -> None:
        """The hint before the one shown (H): every hint already seen can be read again."""
        panel = self._hint_panel()
        if not self.seen_hints:
            self.notify("No hint seen yet: press h for the first.")
        elif panel is None:
            self._show_hint(len(self.seen_hints) - 1)
        elif panel.position > 0:
            self._show_hint(panel.position - 1)
        else:
            self.notify("This is the first hint you saw.")

    @property
    def seen_hints(self) -> list[int]:
        """The hints seen so far (their indices in the exercise's list), in the order they were seen."""
        if self._seen is None:
            try:
                self._seen = list(self.course_app.ctx.progress.hints_shown(self.exercise.id)) \
                    if self.course_app.ctx.workspace is not None else []
            except CourseError:
                self._seen = []
            total = len(self.exercise.hints)
            self._seen = [i for i in self._seen if 0 <= i < total]
        return self._seen

    def _hint_panel(self) -> "HintPanel | None":
        panels = list(self.query(HintPanel))
        return panels[0] if panels else None

    def _show_hint(self, position: int, why: str = "") -> None:
        index = self.seen_hints[position]
        title = f"Hint {position + 1} of {len(self.exercise.hints)}" + (f" · {why}" if why else "")
        panel = self._hint_panel()
        new = panel is None
        if panel is None:
            panel = HintPanel()
        panel.show(position, title, self.exercise.hints[index].text,
                   ("H previous · " if position > 0 else "") + "h next · x close")
        if new:
            self.query_one("#exercise-body").mount(panel)
        self.call_after_refresh(panel.scroll_visible, animate=False)

    def action_close_hint(self) -> None:
        panel = self._hint_panel()
        if panel is not None:
            panel.remove()

    def action_back(self) -> None:
        """Esc closes the hint first, then goes back to the map."""
        if self._hint_panel() is not None:
            self.action_close_hint()
            return
        super().action_back()

    def action_solution(self) -> None:
        app = self.course_app

        def show(reveal: bool) -> None:
            try:
                text = app.solution(self.exercise, reveal=reveal)
            except CourseError as e:
                self.fail(str(e))
                return
            self.app.push_screen(TextScreen(f"Reference solution · {self.exercise.id}", f"```python\n{text}\n```"))

        try:
            passed = app.ctx.progress.ever_passed(self.exercise.id) if app.ctx.workspace else False
        except CourseError as e:
            self.fail(str(e))
            return
        if passed:
            show(False)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                show(True)

        self.app.push_screen(ConfirmScreen("You have not passed this exercise yet. See the reference anyway? "
                                           "(This is recorded in your progress.)", yes="Reveal"), answered)

    def action_reset(self) -> None:
        if self.course_app.ctx.workspace is None:
            self.fail("no workspace: nothing to reset")
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                path, backup = self.course_app.reset(self.exercise)
            except CourseError as e:
                self.fail(str(e))
                return
            where = f"; your file is backed up in {backup}" if backup else ""
            self.notify(f"{path.name} is the starter again{where}", timeout=10)
            self.result = None  # the verdict on screen was about code that is gone
            self.set_status("")
            for plot in self.query(LossPlot):
                plot.remove()
            kept = f" (yours is backed up in {self.course_app.ctx.workspace.display(backup)})" if backup else ""
            self._show(ResultView(note=f"Your file is the starter again{kept}. Press c to check it."))

        self.app.push_screen(ConfirmScreen(f"Put the starter back in {self.path.name}? Your current file is "
                                           "backed up first.", yes="Reset"), answered)

    # -- editing and watching ----------------------------------------------------------------
    def action_edit(self) -> None:
        """Open the file in $VISUAL/$EDITOR; the app suspends and comes back, then checks."""
        if not self._have_file():
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or _fallback_editor()
        if not editor:
            self.fail(f"no editor found: set $EDITOR (e.g. export EDITOR=nano), or open {self.path} yourself")
            return
        before = self.path.read_bytes()
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(self.path)])
        except Exception as e:  # noqa: BLE001 - no terminal to hand over (tests, some terminals)
            self.fail(f"could not start {editor}: {e}")
            return
        if self.path.exists() and self.path.read_bytes() != before:
            self.action_check()

    def action_watch(self) -> None:
        if not self._have_file():
            return
        self.watching = not self.watching
        if self.watching:
            self.set_status("watching your file: each save is checked")
            self._watch()
        else:
            self.workers.cancel_group(self, "watch")
            self.set_status("stopped watching")

    @work(exclusive=True, group="watch")
    async def _watch(self) -> None:
        from dl_course.watch import changes

        async for _ in changes(self.path):
            if not self.watching:
                break
            self.action_check()


def _fallback_editor() -> str | None:
    """With $VISUAL and $EDITOR unset, as git does: `editor` (Debian's choice), then nano, vim, vi
    (notepad on Windows)."""
    import shutil

    for name in ("editor", "nano", "vim", "vi", "notepad"):
        if shutil.which(name):
            return name
    return None


class HintPanel(Vertical):
    """One hint, framed, under the result: it never covers the pictures above it."""

    DEFAULT_CSS = """
    HintPanel { height: auto; border: round $accent; padding: 0 1; margin: 1 0 1 0; }
    HintPanel > Markdown { margin: 0; padding: 0; }
    HintPanel MarkdownBlock:last-child { margin-bottom: 0; }
    """

    def __init__(self) -> None:
        super().__init__(id="hint")
        self.position = 0
        self.text = ""

    def compose(self) -> ComposeResult:
        yield Markdown(self.text)

    def show(self, position: int, title: str, text: str, keys: str) -> None:
        self.position, self.text = position, text
        self.border_title = title
        self.border_subtitle = keys
        for markdown in self.query(Markdown):  # none before it is composed: compose shows the text
            markdown.update(text)
