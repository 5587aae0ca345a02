r"""Making text that came from a learner safe to show: on a terminal, in the TUI, in HTML, in Markdown, in CSV.

Anything a learner's process produced (what it printed, an exception's message, a traceback, a file
or folder name, a student's name taken from a submission folder) may carry terminal control
sequences that clear the screen, move the cursor or recolour what follows, and so fake a verdict
("✓ passed") outside the box it is shown in. `clean` removes them; the functions below it escape
what is left for the markup it is placed into.

- `clean(text)`: drops every escape sequence (CSI, OSC, DCS…, 7- and 8-bit) whole, then every other
  control character except newline and tab (C0, DEL, C1), and the Unicode bidirectional overrides
  and isolates (which reorder what a reader sees). A carriage return becomes a newline (so `✗\r✓`
  cannot overwrite a line), `\r\n` one newline. Idempotent; plain text passes unchanged.
- `visible(name)`: for a name that identifies something (a student's folder, a file): each control
  character, newline and tab included, written as `\xNN`, so that a name never controls the
  terminal and two names that differ only in control characters still read differently
  (`\x1b[2Jana` is not `ana`).
- `clean_data(value)`: `clean` on every string in nested dicts/lists (keys too); other values as they are.
- `html_text(text)`: cleaned and HTML-escaped (quotes too, so also safe in an attribute).
- `markdown_text(text)`: cleaned, on one line, for a Markdown table cell: HTML and Markdown
  syntax (`<`, `>`, `&`, `|`, `*`, `_`, backticks, brackets…) shown as written, never interpreted.
- `markdown_code(text)`: cleaned, on one line, as an inline code span that no backtick can end early.
- `csv_cell(text)`: cleaned, and never read as a formula by a spreadsheet (`=cmd|' /C calc'!A0`).
- `rich_markup(text)`: cleaned and escaped for Rich markup, where learner text must go into a markup
  string (prefer `rich.text.Text(clean(text))`, which never parses markup).

Nothing here imports anything beyond the standard library.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["clean", "visible", "clean_data", "html_text", "markdown_text", "markdown_code", "csv_cell", "rich_markup"]

# Escape sequences, removed whole (so a coloured print reads as plain text, not `[31m…`):
# CSI (ESC [ or 8-bit 0x9b) parameters, intermediates, a final byte; OSC / DCS / SOS / PM / APC strings
# up to their terminator (BEL or ST) or, unterminated, to the end of the line; other two-byte ESC x.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# Every other control character but \t and \n (\r is handled before), and the bidi controls.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: Any) -> str:
    """`text` (made a string) without control sequences or control characters but newline and tab."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    if not _CONTROLS.search(text):
        return text  # the common case: nothing to do
    text = _SEQUENCES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


_NAME_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def visible(name: Any) -> str:
    """`name` with every control character (newline and tab too) written as `\\xNN` / `\\uNNNN`."""
    name = name if isinstance(name, str) else ("" if name is None else str(name))
    return _NAME_CONTROLS.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", name)


def clean_data(value: Any) -> Any:
    """`clean` applied to every string inside dicts, lists and tuples (keys too)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value


def html_text(text: Any) -> str:
    return html.escape(clean(text), quote=True)


# Inline Markdown (a table cell holds inline content only): emphasis, code, links and images, tables, strikes.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown_text(text: Any) -> str:
    """For a Markdown table cell: one line, HTML escaped as entities, Markdown syntax backslash-escaped."""
    one_line = " ".join(clean(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def markdown_code(text: Any) -> str:
    """An inline code span around `text` (one line) that its own backticks cannot close; `|` escaped for tables.

    Inside a code span Markdown shows `<`, `&` and the rest as written, so only the fence and the
    table's `|` need care."""
    one_line = " ".join(clean(text).split())
    longest = max((len(m) for m in re.findall(r"`+", one_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{pad}{one_line}{pad}{fence}".replace("|", "\\|")


def csv_cell(text: Any) -> str:
    """For a spreadsheet: cleaned, and a cell that would start a formula (`=`, `+`, `-`, `@`, tab, CR) is
    prefixed with `'`, which spreadsheets show as text (OWASP's advice for CSV injection)."""
    text = clean(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else text


def rich_markup(text: Any) -> str:
    from rich.markup import escape

    return escape(clean(text))
