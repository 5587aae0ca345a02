"""Figures: a small picture of one output of a case, the reference's beside the learner's.

`Grade.compare(..., figure=...)` keeps one per check (`figure_of`), of the case `_showcase`
picks; plain data only, at most FIGURE_ROWS × FIGURE_COLUMNS cells.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from dl_course.grading.cases import Case, GraderBug
from dl_course.grading.targets import Run

FIGURE_ROWS, FIGURE_COLUMNS = 40, 64
"""The largest picture a figure keeps; bigger tensors are cut (and the figure says so)."""


def _showcase(cases: list[Case]) -> Case:
    """The case pictured: the largest float32 (or dtype-less) one on the CPU among `cases`."""
    for pool in ([c for c in cases if c.device == "cpu" and c.dtype in (None, torch.float32)],
                 [c for c in cases if c.device == "cpu"], cases):
        if pool:
            return pool[-1]  # cases are sorted smallest first
    raise ValueError("no cases")


def _pick(result: Any, path: Any) -> Any:
    """The part of a probe's result that `path` names (see `Grade.compare`'s `figure`), or None."""
    from dl_course.grading.wire import TensorData

    value = result["output"] if isinstance(result, Run) else result
    if path is True:
        return value if isinstance(value, TensorData) else None
    for step in path if isinstance(path, tuple) else (path,):
        if isinstance(value, (tuple, list)) and isinstance(step, int) and not isinstance(step, bool) \
                and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return None
    return value if isinstance(value, TensorData) else None


def _plane(values: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """A 2-D view: index 0 along leading dimensions (a vector is one row, a scalar one cell)."""
    leading = []
    while values.dim() > 2:
        values = values[0]
        leading.append(0)
    if values.dim() < 2:
        values = values.reshape(1, -1)
    return values, leading


def _cells(plane: torch.Tensor) -> list[list[float | None]]:
    rows = plane.double().tolist()
    return [[round(x, 4) if math.isfinite(x) else None for x in row] for row in rows]


def figure_of(expected: Any, got: Any, path: Any, title: str | None, case: str) -> dict:
    """A small picture of one output of a case, the reference's and the learner's side by side.

    Plain data only (lists of floats, rounded to 4 decimals; None where a value is NaN or infinite),
    at most FIGURE_ROWS × FIGURE_COLUMNS cells: tensors with more than two dimensions are shown at
    index 0 of each leading dimension. `got` is None when the learner's side is missing, failed or
    has another shape than the reference's.
    """
    e = _pick(expected, path)
    if e is None or e.values is None:
        raise GraderBug(f"figure={path!r} does not name a tensor with values in the reference's output")
    g = _pick(got, path) if got is not None else None
    plane, leading = _plane(e.values)
    mine = None
    if g is not None and g.values is not None and tuple(g.values.shape) == tuple(e.values.shape):
        mine = _plane(g.values)[0]
    rows, columns = plane.shape
    truncated = rows > FIGURE_ROWS or columns > FIGURE_COLUMNS
    plane = plane[:FIGURE_ROWS, :FIGURE_COLUMNS]
    if mine is not None:
        mine = mine[:FIGURE_ROWS, :FIGURE_COLUMNS]
    if title is None:
        where = "output" + "".join(f"[{s!r}]" for s in (path if isinstance(path, tuple) else
                                                          () if path is True else (path,)))
        title = where + (f" at [{', '.join(map(str, leading))}]" if leading else "")
    return {"title": title, "case": case, "kind": "bool" if e.values.dtype == torch.bool else "float",
            "shape": list(e.shape), "expected": _cells(plane), "got": None if mine is None else _cells(mine),
            "truncated": truncated}
