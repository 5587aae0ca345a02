"""The TUI's screens: the course map, the chapter reader, the exercise panel, and modals."""

from dl_course.tui.screens.exercise import ExerciseScreen
from dl_course.tui.screens.map import MapScreen
from dl_course.tui.screens.modals import ConfirmScreen, HelpScreen, TextScreen
from dl_course.tui.screens.reader import ReaderScreen

__all__ = ["MapScreen", "ReaderScreen", "ExerciseScreen", "ConfirmScreen", "HelpScreen", "TextScreen"]
