"""A small modal that lists one chapter's exercises and returns the chosen id."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from dl_course.course.model import Chapter
from dl_course.tui.screens.map import exercise_row

__all__ = ["ExercisePicker"]

PICKER_MAX = 120
"""The picker's widest (columns, with its frame); narrower terminals get all but 4 columns."""


class ExercisePicker(ModalScreen[str | None]):
    BINDINGS = [("escape", "dismiss(None)", "Close")]

    def __init__(self, chapter: Chapter, rows: list[dict]):
        super().__init__()
        self.chapter, self.rows = chapter, rows

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(f"Exercises of chapter {self.chapter.number}", id="picker-title")
            # One line an exercise, its status in a column of its own: only the title gives way.
            width = min(self.app.size.width - 4, PICKER_MAX) - 6
            longest = max((len(r["title"]) for r in self.rows), default=20)
            yield OptionList(*[Option(exercise_row(r, width, longest), id=r["id"]) for r in self.rows])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Called when the learner picks an exercise."""
        self.dismiss(event.option.id)
