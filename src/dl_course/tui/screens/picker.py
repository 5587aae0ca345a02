"""A small modal that lists one chapter's exercises and returns the chosen id."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from dl_course.course.model import Chapter

__all__ = ["ExercisePicker"]


class ExercisePicker(ModalScreen[str | None]):
    BINDINGS = [("escape", "dismiss(None)", "Close")]

    def __init__(self, chapter: Chapter, rows: list[dict]):
        super().__init__()
        self.chapter, self.rows = chapter, rows

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(f"Exercises of chapter {self.chapter.number}", id="picker-title")
            yield OptionList(*[Option(Text.assemble((f"{r['id']:<26}", "bold"), r["title"], (f"  {r['status']}", "dim")),
                                      id=r["id"]) for r in self.rows])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Called when the learner picks an exercise."""
        self.dismiss(event.option.id)
