"""The course map: each chapter with a progress bar, each exercise with its state."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Label, ListItem, ListView, ProgressBar, Static

from dl_course.tui.screens.base import CourseScreen

__all__ = ["MapScreen"]

_STATE = {"passed": ("✓", "green"), "passed before": ("✓", "yellow"), "failed": ("✗", "red"),
          "started": ("○", "cyan"), "not started": ("·", "grey50")}


class ChapterItem(ListItem):
    def __init__(self, chapter: dict):
        super().__init__(classes="chapter")
        self.chapter = chapter

    def compose(self) -> ComposeResult:
        rows = self.chapter["exercises"]
        done = sum(1 for r in rows if r["status"] in ("passed", "passed before"))
        with Horizontal():
            yield Label(Text.assemble((f"Chapter {self.chapter['number']}", "bold"), f"  {self.chapter['title']}"),
                        classes="chapter-title")
            bar = ProgressBar(total=max(len(rows), 1), show_eta=False, show_percentage=False)
            bar.progress = done
            yield bar
            yield Label(f"{done}/{len(rows)}", classes="chapter-count")


class ExerciseItem(ListItem):
    def __init__(self, row: dict, chapter_id: str):
        super().__init__(classes="exercise")
        self.row, self.chapter_id = row, chapter_id

    def compose(self) -> ComposeResult:
        mark, colour = _STATE.get(self.row["status"], ("?", "white"))
        score = f"{self.row['best_score']:g}/{self.row['points']}" if self.row["best_score"] is not None else ""
        yield Label(Text.assemble(("   " + mark + " ", colour), (f"{self.row['id']:<24}", "bold"),
                                  f"{self.row['title'][:38]:<40}", (f"{self.row['status']:<14}", colour),
                                  (score, "dim")))


class MapScreen(CourseScreen):
    """The first screen: where the learner is in the course."""

    BINDINGS = [Binding("escape", "back", "Back", show=False), ("enter", "select_cursor", "Open"),
                ("q", "app.quit", "Quit"), ("t", "app.toggle_theme", "Theme")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="banner")
        yield ListView(id="course-map")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_map()

    def on_screen_resume(self) -> None:
        """Called when the learner comes back to the map: statuses may have changed."""
        self.refresh_map()

    def refresh_map(self) -> None:
        app = self.course_app
        banner = self.query_one("#banner", Static)
        if app.ctx.workspace is None:
            banner.update(Text("No workspace here yet: you can read every lesson; to do the exercises, run "
                               "`dl-course start chapter9` in the folder where you want to work.", style="yellow"))
        else:
            banner.update(Text(f"Workspace: {app.ctx.workspace.root}", style="dim"))
        try:
            chapters = app.listing()
        except Exception as e:  # a damaged progress store: say so, keep the map usable
            self.fail(str(e))
            return
        view = self.query_one("#course-map", ListView)
        index = view.index
        view.clear()
        for chapter in chapters:
            view.append(ChapterItem(chapter))
            for row in chapter["exercises"]:
                view.append(ExerciseItem(row, chapter["id"]))
        if index is not None:
            self.call_after_refresh(lambda: setattr(view, "index", min(index, len(view.children) - 1)))
        else:
            view.index = 0
        view.focus()

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        """Called when the learner presses Enter on (or clicks) a row."""
        item = event.item
        if isinstance(item, ChapterItem):
            self.course_app.open_chapter(item.chapter["id"])
        elif isinstance(item, ExerciseItem):
            self.course_app.open_exercise(item.row["id"])
