"""The figures of a verdict (a heatmap of the reference's output beside the learner's) as inline SVG,
for the `%check` HTML: what the TUI draws with coloured cells (`tui.widgets.heatmap.FigurePair`),
drawn here from the same numbers, with no plotting library.

A figure is the plain data the grader sends back (see `grading.result`: `expected`, `got`, `kind`,
`title`, `case`, `truncated`). Both matrices share one colour scale (dark blue → teal → yellow, as
in viridis, the TUI's scale); a cell where the learner's value differs from the reference's is
crossed in red; a value that is not finite (null) is grey. Every piece of text goes through `_e`, and
every number through `float`, so nothing from a verdict is placed into the SVG unescaped.

Part of the IPython extension (`dl_course.jupyter`); imports neither IPython nor torch.
"""

from __future__ import annotations

import math
from typing import Any

from dl_course.colours import colour_for as _rgb
from dl_course.colours import differs as _differs
from dl_course.colours import hex_colour
from dl_course.colours import same_shape as _same_shape
from dl_course.textsafe import html_text as _e

__all__ = ["figure_html", "figures_html", "colour_for"]

_LEVELS = 48
"""Colours are rounded to this many steps, so cells of one colour share one SVG path."""
_MISSING = "#d0d7de"
_MARK = "#ff2d2d"


def colour_for(t: float) -> str:
    """The colour at `t` in [0, 1] along the scale, as #rrggbb."""
    return hex_colour(_rgb(t))


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _matrix(rows: Any) -> list[list[float | None]]:
    if not isinstance(rows, list):
        return []
    out = []
    for row in rows[:200]:
        out.append([_number(v) for v in row[:200]] if isinstance(row, list) else [_number(row)])
    return out


def _text_width(text: str, size: int = 11) -> int:
    """About how wide a label is drawn (sans-serif), so the picture leaves room for it."""
    return int(len(text) * size * 0.6) + 4


def _num(x: float) -> str:
    return f"{x:.3g}"


class _Panel:
    """One matrix drawn at (x, y) with cells of `c` pixels."""

    def __init__(self, values: list[list[float | None]], label: str, kind: str, low: float, high: float):
        self.values, self.label, self.kind, self.low, self.high = values, label, kind, low, high
        self.rows = len(values)
        self.cols = max((len(r) for r in values), default=0)

    def t(self, v: float) -> float:
        if self.kind == "bool":
            return 1.0 if v >= 0.5 else 0.0
        span = self.high - self.low
        return 0.5 if span <= 0 else (v - self.low) / span

    def svg(self, x: int, y: int, c: int, marks: list[list[bool]] | None = None) -> tuple[str, int]:
        """The panel's SVG and the number of crossed cells."""
        inner = c - 1 if c >= 6 else c  # a 1 px gap draws the grid
        paths: dict[str, list[str]] = {}
        crosses: list[str] = []
        for r, row in enumerate(self.values):
            for k, v in enumerate(row):
                px, py = x + k * c, y + r * c
                colour = _MISSING if v is None else colour_for(round(self.t(v) * (_LEVELS - 1)) / (_LEVELS - 1))
                paths.setdefault(colour, []).append(f"M{px} {py}h{inner}v{inner}h-{inner}z")
                if marks and r < len(marks) and k < len(marks[r]) and marks[r][k]:
                    m = max(1, c // 5)
                    d = inner - 2 * m
                    crosses.append(f"M{px + m} {py + m}l{d} {d}m-{d} 0l{d} -{d}")
        parts = [f'<text x="{x}" y="{y - 5}" font-size="11" fill="currentColor">{_e(self.label)}</text>']
        parts += [f'<path fill="{colour}" d="{"".join(d)}"/>' for colour, d in paths.items()]
        if crosses:
            parts.append(f'<path fill="none" stroke="{_MARK}" stroke-width="{max(1.0, c / 7):.1f}" '
                         f'stroke-linecap="round" d="{"".join(crosses)}"/>')
        return "".join(parts), len(crosses)


def figure_html(figure: dict[str, Any]) -> str:
    """One figure: its title, then the reference's matrix beside the learner's, as inline SVG."""
    expected = _matrix(figure.get("expected"))
    got = _matrix(figure.get("got")) if figure.get("got") is not None else None
    kind = "bool" if figure.get("kind") == "bool" else "float"
    if not expected or not any(expected):
        return ""
    flat = [v for m in (expected, got or []) for row in m for v in row if v is not None] or [0.0]
    low, high = min(flat), max(flat)
    rows = max(len(expected), len(got or []))
    cols = max(max(len(r) for r in expected), max((len(r) for r in got or []), default=0))
    c = max(4, min(20, 320 // max(cols, 1), 260 // max(rows, 1)))
    left = _Panel(expected, "expected (the reference)", kind, low, high)
    marks = None
    if got is not None and _same_shape(expected, got):
        marks = [[_differs(e, g, kind) for e, g in zip(er, gr)] for er, gr in zip(expected, got)]
        n = sum(map(sum, marks))
        label = f"yours · {n} of {sum(map(len, marks))} differ (crossed)" if n else "yours · all match"
        right = _Panel(got, label, kind, low, high)
    elif got is not None:
        gflat = [v for row in got for v in row if v is not None] or [0.0]
        right = _Panel(got, "yours (another shape: own scale)", kind, min(gflat), max(gflat))
    else:
        right = None
    top, gap = 16, 28
    width_l = max(left.cols * c, _text_width(left.label))
    body, _ = left.svg(0, top, c)
    width = width_l
    if right is not None:
        part, _ = right.svg(width_l + gap, top, c, marks)
        body += part
        width = width_l + gap + max(right.cols * c, _text_width(right.label))
    else:
        body += (f'<text x="{width_l + gap}" y="{top - 5}" font-size="11" fill="currentColor">yours: no values to '
                 "show (missing, failed or not comparable)</text>")
        width = width_l + gap + 330
    y = top + rows * c + 14
    legend = _legend(kind, low, high, y, any(v is None for m in (expected, got or []) for row in m for v in row))
    height = y + 18
    head = _e(figure.get("title") or figure.get("check") or "figure")
    extra = []
    if figure.get("case"):
        extra.append(_e(figure["case"]))
    shape = figure.get("shape")
    if shape:
        extra.append("shape " + _e("×".join(str(s) for s in shape) if isinstance(shape, list) else shape))
    if figure.get("truncated"):
        extra.append("cut to fit")
    caption = head + (f' <span style="color:#57606a">· {" · ".join(extra)}</span>' if extra else "")
    alt = f"heatmap: {figure.get('title') or figure.get('check') or ''}"
    return (f'<figure class="dl-course-figure" data-check="{_e(figure.get("check", ""))}" style="margin:6px 0">'
            f'<figcaption style="font-size:0.95em;margin-bottom:2px">{caption}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(alt)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" shape-rendering="crispEdges" '
            f'style="font-family:sans-serif;overflow:visible"><title>{_e(alt)}</title>{body}{legend}</svg></figure>')


def _legend(kind: str, low: float, high: float, y: int, missing: bool) -> str:
    t = 'font-size="10" fill="currentColor"'
    if kind == "bool":
        out = (f'<rect x="0" y="{y - 9}" width="10" height="10" fill="{colour_for(1.0)}"/><text x="14" y="{y}" {t}>True'
               f'</text><rect x="50" y="{y - 9}" width="10" height="10" fill="{colour_for(0.0)}"/>'
               f'<text x="64" y="{y}" {t}>False</text>')
        x = 110
    else:
        out = f'<text x="0" y="{y}" {t}>{_e(_num(low))}</text>'
        x = 6 * len(_num(low)) + 6
        for i in range(8):
            out += f'<rect x="{x + 10 * i}" y="{y - 9}" width="10" height="10" fill="{colour_for(i / 7)}"/>'
        x += 84
        out += f'<text x="{x}" y="{y}" {t}>{_e(_num(high))}</text>'
        x += 6 * len(_num(high)) + 16
    if missing:
        out += (f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{_MISSING}"/>'
                f'<text x="{x + 14}" y="{y}" {t}>not finite</text>')
    return out


def figures_html(figures: list[dict[str, Any]]) -> str:
    """Every figure of one exercise's verdict (empty when it has none)."""
    parts = [figure_html(f) for f in figures if isinstance(f, dict)]
    parts = [p for p in parts if p]
    if not parts:
        return ""
    return '<div class="dl-course-figures" style="margin:4px 0">' + "".join(parts) + "</div>"
