"""Reusable TUI widgets: results, heatmaps, the loss plot."""

from dl_course.tui.widgets.heatmap import FigurePair, Heatmap
from dl_course.tui.widgets.loss import LossPlot
from dl_course.tui.widgets.results import ResultView

__all__ = ["FigurePair", "Heatmap", "LossPlot", "ResultView"]
