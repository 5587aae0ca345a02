"""The base of every full screen: shared bindings and a way to report recoverable failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from dl_course.tui.app import CourseApp

__all__ = ["CourseScreen"]


class CourseScreen(Screen):
    BINDINGS = [("escape", "back", "Back"), ("question_mark", "app.help", "Help")]

    @property
    def course_app(self) -> "CourseApp":
        return self.app  # type: ignore[return-value]

    def action_back(self) -> None:
        """Called when the learner presses Esc: go back one screen (the map stays)."""
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def fail(self, message: str) -> None:
        """A problem the learner can fix: a notification, never a crash."""
        self.notify(message, severity="error", timeout=8)
