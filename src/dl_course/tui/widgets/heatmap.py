"""A heatmap: a small matrix drawn as coloured cells with a scale, and a reference/learner pair.

Fed with the `figures` the grader sends back (plain lists of numbers, never tensors). Cells
where the learner's value differs from the reference are marked with `×`.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from dl_course.colours import colour_for
from dl_course.colours import differs as _differs
from dl_course.colours import hex_colour as _hex
from dl_course.colours import same_shape as _same_shape

__all__ = ["Heatmap", "FigurePair", "colour_for"]


class Heatmap(Static):
    """One matrix as coloured cells, with a scale from its smallest to its largest value."""

    DEFAULT_CSS = """
    Heatmap { width: auto; height: auto; padding: 0 1 0 0; }
    """

    def __init__(self, values: Sequence[Sequence[float]], title: str = "", kind: str = "float",
                 low: float | None = None, high: float | None = None,
                 marks: Sequence[Sequence[bool]] | None = None, cell: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        self.values = [list(map(float, row)) for row in values]
        self.title, self.kind, self.marks, self.cell = title, kind, marks, cell
        flat = [v for row in self.values for v in row] or [0.0]
        self.low = min(flat) if low is None else low
        self.high = max(flat) if high is None else high

    def _t(self, v: float) -> float:
        if self.kind == "bool":
            return 1.0 if v >= 0.5 else 0.0
        span = self.high - self.low
        return 0.5 if span <= 0 else (v - self.low) / span

    def render(self) -> Group:
        lines = [Text(self.title, style="bold")] if self.title else []
        for r, row in enumerate(self.values):
            line = Text()
            for c, v in enumerate(row):
                rgb = colour_for(self._t(v))
                marked = bool(self.marks and self.marks[r][c])
                fg = "#ffffff" if sum(rgb) < 380 else "#000000"
                glyph = ("×" if marked else " ").ljust(self.cell)
                line.append(glyph, Style(bgcolor=_hex(rgb), color="#ff2d2d" if marked else fg, bold=marked))
            lines.append(line)
        lines.append(self._legend())
        return Group(*lines)

    def _legend(self) -> Text:
        if self.kind == "bool":
            return Text.assemble(("  ", Style(bgcolor=_hex(colour_for(1.0)))), " True  ",
                                 ("  ", Style(bgcolor=_hex(colour_for(0.0)))), " False")
        bar = Text(f"{self.low:.3g} ")
        for i in range(8):
            bar.append(" ", Style(bgcolor=_hex(colour_for(i / 7))))
        bar.append(f" {self.high:.3g}")
        return bar


class FigurePair(Vertical):
    """The reference's matrix beside the learner's, on one colour scale, differences marked."""

    DEFAULT_CSS = """
    FigurePair { height: auto; margin: 1 0 0 0; }
    FigurePair > .figure-title { color: $text-muted; width: 1fr; }
    FigurePair > Horizontal { height: auto; }
    """

    def __init__(self, figure: dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.figure = figure

    def compose(self) -> ComposeResult:
        fig = self.figure
        expected = fig.get("expected") or []
        got = fig.get("got")
        kind = fig.get("kind", "float")
        flat = [v for m in (expected, got or []) for row in m for v in row] or [0.0]
        low, high = min(flat), max(flat)
        cols = max((len(r) for r in expected), default=1)
        cell = 2 if cols <= 18 else 1
        head = fig.get("title") or fig.get("check", "")
        if fig.get("case"):
            head += f"  ·  {fig['case']}"
        if fig.get("truncated"):
            head += "  ·  (cut to fit)"
        yield Static(Text(head), classes="figure-title")  # wraps at a space, never cut mid-word
        with Horizontal():
            yield Heatmap(expected, "expected", kind, low, high, cell=cell, classes="expected")
            if got is not None and _same_shape(expected, got):
                marks = [[_differs(e, g, kind) for e, g in zip(er, gr)] for er, gr in zip(expected, got)]
                n = sum(map(sum, marks))
                title = f"yours · {n} differ" if n else "yours · all match"
                yield Heatmap(got, title, kind, low, high, marks=marks, cell=cell, classes="got")
            elif got is not None:
                yield Heatmap(got, "yours (another shape)", kind, cell=cell, classes="got")

