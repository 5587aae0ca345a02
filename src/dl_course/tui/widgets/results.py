"""One exercise's verdict: each check with its mark, the first failure's message, the known
mistake standing out, the learner's output, and the pictures the grader sent back.

Every piece of text is placed as a `rich.text.Text` (never parsed as markup) and cleaned of control
characters: an `ExerciseResult` is clean already, a recorded attempt read back from the progress
store (an older store, or one the learner's code wrote to) is cleaned here."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from dl_course.textsafe import clean
from dl_course.tui.widgets.heatmap import FigurePair

__all__ = ["ResultView", "MARKS"]

MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "not_run": ("·", "grey50"), "error": ("!", "magenta")}


class ResultView(Vertical):
    """Shows an `ExerciseResult` (or the checks of a recorded attempt)."""

    DEFAULT_CSS = """
    ResultView { height: auto; }
    ResultView > .summary { text-style: bold; margin: 0 0 1 0; }
    ResultView > .note { margin: 0 0 1 0; }
    ResultView > .checks { margin: 0; }
    ResultView > .failure { padding: 0 0 0 4; color: $error; }
    ResultView > .grader-error { color: $warning; }
    ResultView > .diagnosis { border: round $warning; padding: 0 1; margin: 1 0 0 2; height: auto; }
    ResultView > .output { border: round $panel-lighten-2; padding: 0 1; margin: 1 0 0 2; color: $text-muted; }
    ResultView > .error { color: $error; margin: 1 0 0 0; }
    """

    def __init__(self, result: Any = None, checks: list[dict] | None = None, note: str = "", recalled: bool = False,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.result = result
        self.recorded = checks
        self.note = note
        """A line above the verdict (the file changed since, was reset, …)."""
        self.recalled = recalled
        """The result is the last check, shown again (coming back to the exercise), not a new one."""

    def compose(self) -> ComposeResult:
        r = self.result
        if self.note:
            yield Static(Text(self.note, style="yellow"), classes="note")
        if r is None and not self.recorded:
            if not self.note:
                yield Static("Not checked yet. Press c to check your file.", classes="summary")
            return
        if r is None:
            yield Static("Your last attempt (press c to check again):", classes="summary")
            yield from self._checks(self.recorded or [])
            return
        if self.recalled:
            yield Static(Text("Your last check (press c to check again):", style="dim"), classes="recalled")
        mark, colour = ("✓ passed", "green") if r.passed else ("✗ not yet", "red")
        yield Static(Text.assemble((mark, f"bold {colour}"), f"   {r.score:g}/{r.max_score} points",
                                   (f"   {r.duration_s:.2f} s", "dim"),
                                   (f"   seed {r.seed}" if r.seed is not None else "", "dim")), classes="summary")
        if r.error:
            yield Static(Text(clean(r.error)), classes="error")
        yield from self._checks([c.__dict__ for c in r.checks])
        if r.diagnosis:
            body = Text.assemble(("What went wrong\n", "bold yellow"), (clean(r.diagnosis.get("message", "")), "bold"),
                                 (f"\nknown mistake: {clean(r.diagnosis.get('id'))}", "dim"))
            yield Static(body, classes="diagnosis")
        for fig in getattr(r, "figures", None) or []:
            yield FigurePair(fig)
        if r.output.strip():
            yield Static(Text("Your code printed:\n" + clean(r.output).rstrip()[-3000:]), classes="output")

    def _checks(self, checks: list[dict]) -> ComposeResult:
        """One line a check (a long title wraps under itself, not under the mark); the first
        failure's message right under its line."""
        width = max([12] + [len(clean(c.get("name", ""))) for c in checks])
        grid = _grid(width)
        shown = False
        for c in checks:
            status = clean(c.get("status", "failed"))
            m, col = MARKS.get(status, ("?", "white"))
            grid.add_row(Text(m, style=col), Text(clean(c.get("name", "")), style=col if status != "passed" else ""),
                         Text(clean(c.get("title", "")), style="dim" if status == "not_run" else ""))
            if not shown and status in ("failed", "error") and c.get("message"):
                shown = True
                yield Static(grid, classes="checks")
                line = c.get("line")
                message = clean(c["message"]) + (f"\n(line {int(line)} of your file)"
                                                 if isinstance(line, int) and not isinstance(line, bool) else "")
                yield Static(Text(message), classes="failure" if status == "failed" else "failure grader-error")
                grid = _grid(width)
        if grid.row_count:
            yield Static(grid, classes="checks")


def _grid(name_width: int) -> Table:
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(width=1, no_wrap=True)
    grid.add_column(width=name_width, no_wrap=True, overflow="ellipsis")
    grid.add_column(ratio=1)
    return grid
