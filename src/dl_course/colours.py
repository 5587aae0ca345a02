"""The colour scale and cell comparison that every picture of a figure shares (the TUI's heatmaps,
the notebook's SVG): plain Python, so neither Textual nor torch comes with it."""

from __future__ import annotations

__all__ = ["colour_for", "hex_colour", "differs", "same_shape"]

# A perceptually ordered scale (dark blue → teal → yellow), as in viridis.
_SCALE = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


def colour_for(t: float) -> tuple[int, int, int]:
    """The colour at `t` in [0, 1] along the scale."""
    t = min(1.0, max(0.0, t))
    pos = t * (len(_SCALE) - 1)
    i = min(int(pos), len(_SCALE) - 2)
    frac = pos - i
    a, b = _SCALE[i], _SCALE[i + 1]
    return tuple(round(a[k] + (b[k] - a[k]) * frac) for k in range(3))  # type: ignore[return-value]


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


def differs(a: float | None, b: float | None, kind: str) -> bool:
    """Whether a learner's cell differs from the reference's (None: not a finite number)."""
    if a is None or b is None:
        return (a is None) != (b is None)
    if kind == "bool":
        return (a >= 0.5) != (b >= 0.5)
    return abs(a - b) > 1e-3 + 1e-3 * abs(a)


def same_shape(a: list, b: list) -> bool:
    return len(a) == len(b) and all(len(x) == len(y) for x, y in zip(a, b))
