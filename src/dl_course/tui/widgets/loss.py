"""The training loss while a model trains: a sparkline and the latest figures."""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

__all__ = ["LossPlot"]


class LossPlot(Vertical):
    """Grows with each training report (`{"step", "steps", "loss", "losses"}` from the grader)."""

    DEFAULT_CSS = """
    LossPlot { height: auto; margin: 1 0 0 0; }
    LossPlot Sparkline { height: 4; }
    LossPlot > .loss-label { color: $text-muted; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.losses: list[float] = []

    def compose(self) -> ComposeResult:
        yield Label("training loss", classes="loss-label")
        yield Sparkline([], summary_function=lambda xs: sum(xs) / len(xs))

    def add(self, event: dict[str, Any]) -> None:
        chunk = event.get("losses") or ([event["loss"]] if "loss" in event else [])
        self.losses += [float(x) for x in chunk if isinstance(x, (int, float))]
        if not self.losses:
            return
        # On a log scale: the first steps would otherwise flatten everything after them.
        self.query_one(Sparkline).data = [math.log10(max(x, 1e-12)) for x in self.losses]
        step, steps = event.get("step"), event.get("steps")
        where = f"step {step}/{steps}  ·  " if step is not None and steps else ""
        self.query_one(".loss-label", Label).update(
            f"training loss (log scale)  ·  {where}first {self.losses[0]:.4f}  ·  now {self.losses[-1]:.4f}  ·  "
            f"lowest {min(self.losses):.4f}")
