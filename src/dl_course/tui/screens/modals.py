"""Modal screens: a yes/no question, a page of Markdown (hints, the solution), and help."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Markdown

__all__ = ["ConfirmScreen", "TextScreen", "HelpScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Asks one question; dismisses with True (yes) or False."""

    BINDINGS = [("y", "answer(True)", "Yes"), ("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, yes: str = "Yes"):
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(id="buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Called when a button is clicked."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class TextScreen(ModalScreen[None]):
    """A page of Markdown over the current screen; Esc or q closes it."""

    BINDINGS = [("escape,q", "close", "Close")]

    def __init__(self, title: str, markdown: str):
        super().__init__()
        self.title_text, self.markdown = title, markdown

    def compose(self) -> ComposeResult:
        with Vertical(id="page"):
            yield Label(self.title_text, id="page-title")
            with VerticalScroll():
                yield Markdown(self.markdown)
            yield Label("Esc to close", id="page-footer")

    def action_close(self) -> None:
        self.dismiss(None)


HELP = """\
**Everywhere**

| key | does |
| --- | --- |
| `?` | this help |
| `Esc` | back |
| `t` | dark / light theme |
| `q` | quit |

**Course map**: `↑` `↓` to move, `Enter` opens a chapter's lesson or an exercise, `s` starts the
chapter (writes its exercise files here; never overwrites yours).

**Lesson**: `↑` `↓` `PgUp` `PgDn` to read, `n` `p` the next or previous section, `c` the contents
(every section: `↑` `↓` and `Enter` to jump), `x` the chapter's exercises. Your reading position is kept.

**Exercise**

| key | does |
| --- | --- |
| `c` | check your file |
| `e` | open your file in `$EDITOR` (checked when you come back) |
| `w` | watch: check again each time you save |
| `h` | the next hint (under your result); `H` the one before: hints seen can be read again |
| `s` | the solution (after you pass; before that it asks, and it is recorded) |
| `r` | put the starter back (your file is backed up first) |

The mouse works too: click a row, scroll with the wheel.
"""


class HelpScreen(TextScreen):
    def __init__(self) -> None:
        super().__init__("dl-course · keys", HELP)
