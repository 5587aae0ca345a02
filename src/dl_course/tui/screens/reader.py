"""The chapter reader: one lesson section at a time, with its table of contents.

`n`/`p` move between the chapter's sections; the section and the position within it are
kept (in the workspace) and restored the next time the chapter is opened.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, MarkdownViewer, Tree

from dl_course.course.model import Chapter
from dl_course.tui.screens.base import CourseScreen

__all__ = ["ReaderScreen", "section_title"]

WIDE = 110
"""From this many columns the table of contents is shown beside the text by default."""


def section_title(markdown: str, fallback: str) -> str:
    """The first heading of a lesson file."""
    m = re.search(r"^#{1,3}\s+(.+)$", markdown, re.M)
    return m.group(1).strip() if m else fallback


class ReaderScreen(CourseScreen):
    BINDINGS = [("n,right_square_bracket", "section(1)", "Next"), ("p,left_square_bracket", "section(-1)", "Prev"),
                ("c", "toggle_contents", "Contents"), ("x", "exercises", "Exercises"),
                Binding("t", "app.toggle_theme", "Theme", show=False),
                Binding("q", "app.quit", "Quit", show=False)]

    def __init__(self, chapter: Chapter, sections: list[str]):
        super().__init__()
        self.chapter, self.sections = chapter, sections or ["*(this chapter has no lesson yet)*"]
        self.current = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield MarkdownViewer("", show_table_of_contents=False, id="lesson", open_links=False)
        yield Footer()

    async def on_mount(self) -> None:
        viewer = self.query_one(MarkdownViewer)
        viewer.show_table_of_contents = self.app.size.width >= WIDE
        where = self.course_app.state.reading.get(self.chapter.id)
        section, line = (0, 0.0) if where is None else (int(where), (where - int(where)) * 1e6)
        await self.show(min(max(section, 0), len(self.sections) - 1), line)

    async def show(self, index: int, line: float = 0.0) -> None:
        """Display section `index`, scrolled to `line`."""
        self.current = index
        viewer = self.query_one(MarkdownViewer)
        await viewer.document.update(self.sections[index])
        title = section_title(self.sections[index], f"section {index + 1}")
        self.sub_title = f"Chapter {self.chapter.number} · {index + 1}/{len(self.sections)} · {title}"
        viewer.scroll_to(y=line, animate=False, immediate=False)
        if line:
            # The section is laid out after this refresh: scroll again once it has its height.
            self.call_after_refresh(lambda: viewer.scroll_to(y=line, animate=False))
        viewer.focus()

    def remember(self) -> None:
        """Keep the section and how far down it the learner has read."""
        viewer = self.query_one(MarkdownViewer)
        # Stored as one number: section + line / 1e6 (a section is never a million lines long).
        self.course_app.state.reading[self.chapter.id] = self.current + min(viewer.scroll_y, 999_999) / 1e6
        self.course_app.state.save()

    def on_screen_suspend(self) -> None:
        """Called when another screen goes on top of this one."""
        self.remember()

    def on_unmount(self) -> None:
        try:
            self.remember()
        except Exception:  # noqa: BLE001 - closing down; the position is not worth a crash
            pass

    async def action_section(self, step: int) -> None:
        index = self.current + step
        if 0 <= index < len(self.sections):
            await self.show(index)
            self.remember()
        else:
            self.notify("That was the last section: press x for the exercises." if step > 0
                        else "This is the first section.")

    def action_toggle_contents(self) -> None:
        viewer = self.query_one(MarkdownViewer)
        viewer.show_table_of_contents = not viewer.show_table_of_contents

    def action_exercises(self) -> None:
        """List this chapter's exercises in a picker and open the chosen one."""
        from dl_course.tui.screens.picker import ExercisePicker

        app = self.course_app
        rows = next((c["exercises"] for c in app.listing() if c["id"] == self.chapter.id), [])

        def chosen(exercise_id: str | None) -> None:
            if exercise_id:
                app.open_exercise(exercise_id)

        self.app.push_screen(ExercisePicker(self.chapter, rows), chosen)

    def on_key(self, event) -> None:
        # Arrow keys read the lesson unless the table of contents has the focus.
        viewer = self.query_one(MarkdownViewer)
        if isinstance(self.focused, Tree):
            return
        moves = {"down": viewer.scroll_down, "up": viewer.scroll_up, "pagedown": viewer.scroll_page_down,
                 "pageup": viewer.scroll_page_up, "space": viewer.scroll_page_down, "home": viewer.scroll_home,
                 "end": viewer.scroll_end}
        if event.key in moves:
            moves[event.key](animate=False)
            event.stop()
