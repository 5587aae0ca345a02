"""The chapter reader: one lesson section at a time, with the chapter's contents.

`n`/`p` move between the chapter's sections; `c` shows the contents, which list every section
of the chapter (and the headings of the one being read): Enter jumps there. The section and the
position within it are kept (in the workspace) and restored the next time the chapter is opened.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.binding import Binding
from textual.widgets import Footer, Header, MarkdownViewer, Tree
from textual.widgets._markdown import MarkdownBlock

from dl_course.course.model import Chapter
from dl_course.tui.screens.base import CourseScreen

__all__ = ["ReaderScreen", "section_title"]

WIDE = 110
"""From this many columns the table of contents is shown beside the text by default."""


def section_title(markdown: str, fallback: str) -> str:
    """The first heading of a lesson file."""
    m = re.search(r"^#{1,3}\s+(.+)$", markdown, re.M)
    return m.group(1).strip() if m else fallback


def short_title(title: str, chapter_number: int | str) -> str:
    """A section title without a leading "Chapter N —" (the header names the chapter already)."""
    m = re.match(rf"Chapter\s+{re.escape(str(chapter_number))}\s*[—–:·-]+\s*(.+)$", title)
    return m.group(1).strip() if m else title


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
        contents: Tree[tuple[str, object]] = Tree(f"Chapter {self.chapter.number}", id="contents")
        contents.show_root = False
        contents.guide_depth = 1
        contents.auto_expand = False
        with Horizontal(id="reader"):
            yield contents
            yield MarkdownViewer("", show_table_of_contents=False, id="lesson", open_links=False)
        yield Footer()

    @property
    def contents(self) -> Tree:
        return self.query_one("#contents", Tree)

    async def on_mount(self) -> None:
        self.contents.display = self.app.size.width >= WIDE
        where = self.course_app.state.reading.get(self.chapter.id)
        section, line = (0, 0.0) if where is None else (int(where), (where - int(where)) * 1e6)
        await self.show(min(max(section, 0), len(self.sections) - 1), line)

    async def show(self, index: int, line: float = 0.0) -> None:
        """Display section `index`, scrolled to `line`."""
        self.current = index
        viewer = self.query_one(MarkdownViewer)
        await viewer.document.update(self.sections[index])
        title = short_title(section_title(self.sections[index], f"section {index + 1}"), self.chapter.number)
        self.sub_title = f"Chapter {self.chapter.number} · {index + 1}/{len(self.sections)} · {title}"
        self._fill_contents()
        viewer.scroll_to(y=line, animate=False, immediate=False)
        if line:
            # The section is laid out after this refresh: scroll again once it has its height.
            self.call_after_refresh(lambda: viewer.scroll_to(y=line, animate=False))
        if not self.contents.has_focus:
            viewer.focus()

    def _fill_contents(self) -> None:
        """Every section of the chapter, one line each; under the one being read, its headings."""
        tree = self.contents
        tree.clear()
        here = None
        for i, text in enumerate(self.sections):
            title = short_title(section_title(text, f"section {i + 1}"), self.chapter.number)
            current = i == self.current
            node = tree.root.add_leaf(_fit(Text.assemble((f"{i + 1:>2}  ", "dim"), (title, "bold" if current else ""))),
                                      data=("section", i))
            if current:
                here = node
                document = self.query_one(MarkdownViewer).document
                for level, name, block_id in document.table_of_contents[1:]:
                    if level <= 3:
                        tree.root.add_leaf(_fit(Text("    " + "  " * (level - 2) + name, style="dim")),
                                           data=("heading", block_id))
        if here is not None:
            tree.move_cursor(here)

    async def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        """Called when the learner presses Enter on (or clicks) a line of the contents."""
        event.stop()
        kind, where = event.node.data or (None, None)
        viewer = self.query_one(MarkdownViewer)
        if kind == "section" and isinstance(where, int):
            if where != self.current:
                await self.show(where)
                self.remember()
            else:
                viewer.scroll_home(animate=False)
        elif kind == "heading":
            try:
                block = viewer.document.query_one(f"#{where}", MarkdownBlock)
            except Exception:  # noqa: BLE001 - the section changed meanwhile
                return
            viewer.scroll_to_widget(block, top=True, animate=False)
        if self.app.size.width < WIDE:  # narrow: the contents make room for the text again
            self.contents.display = False
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

    def action_back(self) -> None:
        """Esc: on a narrow screen, where the contents take half the width, they close first."""
        if self.contents.display and self.app.size.width < WIDE:
            self.contents.display = False
            self.query_one(MarkdownViewer).focus()
            return
        super().action_back()

    def action_toggle_contents(self) -> None:
        """Show the contents (focused, so arrows and Enter pick a section), or hide them."""
        contents = self.contents
        contents.display = not contents.display
        if contents.display:
            contents.focus()
        else:
            self.query_one(MarkdownViewer).focus()

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


CONTENTS_WIDTH = 38
"""The columns a line of the contents may take (the panel is 40 wide, with its border)."""


def _fit(text: Text) -> Text:
    """One line of the contents, cut with an ellipsis rather than mid-word at the panel's edge."""
    text.truncate(CONTENTS_WIDTH, overflow="ellipsis")
    return text
