"""The course map: each chapter with a progress bar, each exercise with its state."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget
from textual.css.query import NoMatches
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Label, ListItem, ListView, ProgressBar, Static

from dl_course.errors import CourseError
from dl_course.tui.screens.base import CourseScreen

__all__ = ["MapScreen"]

_STATE = {"passed": ("✓", "green"), "passed before": ("✓", "yellow"), "failed": ("✗", "red"),
          "started": ("○", "cyan"), "reset": ("○", "cyan"), "not started": ("·", "grey50")}


class ChapterItem(ListItem):
    def __init__(self, chapter: dict):
        super().__init__(classes="chapter")
        self.chapter = chapter
        self.key = chapter["id"]

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(Text.assemble((f"Chapter {self.chapter['number']}", "bold"), f"  {self.chapter['title']}"),
                        classes="chapter-title")
            total, done = self._counts()
            bar = ProgressBar(total=total, show_eta=False, show_percentage=False)
            bar.progress = done
            yield bar
            yield Label(f"{done}/{len(self.chapter['exercises'])}", classes="chapter-count")

    def _counts(self) -> tuple[int, int]:
        rows = self.chapter["exercises"]
        return max(len(rows), 1), sum(1 for r in rows if r["status"] in ("passed", "passed before"))

    def update(self, chapter: dict) -> None:
        """Show the chapter's latest progress."""
        self.chapter = chapter
        total, done = self._counts()
        try:
            self.query_one(ProgressBar).update(total=total, progress=done)
            self.query_one(".chapter-count", Label).update(f"{done}/{len(chapter['exercises'])}")
        except NoMatches:  # not drawn yet (the map was covered at once): compose uses the new data
            pass


class ExerciseItem(ListItem):
    def __init__(self, row: dict, chapter_id: str, title_width: int = 60):
        super().__init__(classes="exercise")
        self.row, self.chapter_id, self.title_width = row, chapter_id, title_width
        self.key = row["id"]

    def compose(self) -> ComposeResult:
        yield ExerciseRow(self.row, title_width=self.title_width)

    def update(self, row: dict) -> None:
        """Show the exercise's latest status."""
        self.row = row
        try:
            self.query_one(ExerciseRow).row = row
        except NoMatches:  # not drawn yet: compose uses the new data
            pass


class ExerciseRow(Widget):
    """One exercise on one line, in columns: its mark, id, title, status and best score.

    The title takes what the width leaves (up to the longest title), then ends in `…`: only the
    title gives way, so the status never wraps onto a line of its own, and a wide terminal shows
    whole titles with the status right after them rather than at the far edge."""

    DEFAULT_CSS = "ExerciseRow { width: 1fr; height: 1; }"
    row: reactive[dict] = reactive(dict, layout=False)

    def __init__(self, row: dict, title_width: int = 60, mark: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.set_reactive(ExerciseRow.row, row)
        self.title_width, self.mark = title_width, mark

    def render(self) -> Table:
        return exercise_row(self.row, self.size.width or 80, self.title_width, self.mark)


ID_WIDTH = 23
"""Wide enough for every built-in exercise id (`decoder_cross_attention`); a longer one ends in `…`."""
STATUS_WIDTH = 13


def exercise_row(row: dict, width: int, title_width: int = 60, mark: bool = True) -> Table:
    """`row` (from `service.listing`) as one line of `width` columns."""
    sign, colour = _STATE.get(row["status"], ("?", "white"))
    fixed = ID_WIDTH + STATUS_WIDTH + 6 + 3 + (4 if mark else 0)
    grid = Table.grid(padding=(0, 1))
    if mark:
        grid.add_column(width=3, no_wrap=True)
    grid.add_column(width=ID_WIDTH, no_wrap=True, overflow="ellipsis")
    grid.add_column(width=max(8, min(title_width, width - fixed)), no_wrap=True, overflow="ellipsis")
    grid.add_column(width=STATUS_WIDTH, no_wrap=True, overflow="ellipsis")
    grid.add_column(width=6, no_wrap=True, justify="right")
    score = f"{row['best_score']:g}/{row['points']}" if row.get("best_score") is not None else ""
    cells = [Text(row["id"], style="bold"), Text(row["title"]), Text(row["status"], style=colour),
             Text(score, style="dim")]
    if mark:
        cells.insert(0, Text("  " + sign, style=colour))
    grid.add_row(*cells)
    return grid


class MapScreen(CourseScreen):
    """The first screen: where the learner is in the course."""

    BINDINGS = [Binding("escape", "back", "Back", show=False), ("enter", "open", "Open"),
                ("s", "start", "Start chapter"),
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
            banner.update(Text("No workspace here yet: you can read every lesson. To do the exercises, press s on a "
                               "chapter to start it in this folder (or run `dl-course start chapter9` where you "
                               "want to work).", style="yellow"))
        else:
            banner.update(Text(f"Workspace: {_short(app.ctx.workspace.root)}", style="dim"))
        try:
            chapters = app.listing()
        except CourseError as e:  # a damaged progress store: say so, keep the map usable
            self.fail(str(e))
            return
        view = self.query_one("#course-map", ListView)
        wanted = []
        for chapter in chapters:
            wanted.append((chapter["id"], chapter, None))
            wanted += [(row["id"], row, chapter["id"]) for row in chapter["exercises"]]
        items = list(view.children)
        if [getattr(i, "key", None) for i in items] == [k for k, _, _ in wanted]:
            # Coming back to the map: update what changed in place (no flicker, no rebuild).
            for item, (_, data, _) in zip(items, wanted):
                item.update(data)
        else:
            view.clear()
            longest = max((len(d["title"]) for _, d, parent in wanted if parent is not None), default=20)
            view.extend(ChapterItem(d) if parent is None else ExerciseItem(d, parent, longest)
                        for _, d, parent in wanted)
            view.index = 0
        view.focus()

    def action_open(self) -> None:
        """Open the highlighted row (Enter, when the list itself did not take the key)."""
        view = self.query_one("#course-map", ListView)
        if view.highlighted_child is not None:
            self._open(view.highlighted_child)

    def action_start(self) -> None:
        """Write the highlighted chapter's exercise files (and the workspace, if there is none)."""
        view = self.query_one("#course-map", ListView)
        item = view.highlighted_child
        chapter_id = item.chapter["id"] if isinstance(item, ChapterItem) else getattr(item, "chapter_id", None)
        if chapter_id is None:
            return
        try:
            report = self.course_app.start_chapter(chapter_id)
        except CourseError as e:
            self.fail(str(e))
            return
        made = [p.name for p, created in report.files if created]
        where = "Created a workspace in " + str(report.workspace.root) + ". " if report.created_workspace else ""
        self.notify(where + (f"Wrote {', '.join(made)}." if made else "Every file was already there (kept)."),
                    title=f"Started {chapter_id}", timeout=8)
        self.refresh_map()

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        """Called when the learner presses Enter on (or clicks) a row."""
        self._open(event.item)

    def _open(self, item: ListItem) -> None:
        if isinstance(item, ChapterItem):
            self.course_app.open_chapter(item.chapter["id"])
        elif isinstance(item, ExerciseItem):
            self.course_app.open_exercise(item.row["id"])


def _short(path: Path) -> str:
    """The path with the home folder written `~`, as a shell shows it."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except (ValueError, RuntimeError, OSError):
        return str(path)
