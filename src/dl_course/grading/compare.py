"""Compare what the learner's code gave with what the reference gave, most basic property first.

Levels, in order: structure → shape → dtype → device → values. `compare(expected, got, level)`
returns the first difference as a sentence for the learner, or None. Strength is that of
`torch.testing.assert_close` (shape, dtype, device, NaN are all checked; no broadcasting; a
`uint8` is not a `bool`), with a message that gives the largest error and where it is.
"""

from __future__ import annotations

from typing import Any

import torch

from dl_course.course.model import Tolerance
from dl_course.grading.wire import TensorData

__all__ = ["compare", "LEVELS", "describe"]

LEVELS = ("structure", "shape", "dtype", "device", "values")


def describe(value: Any) -> str:
    if isinstance(value, TensorData):
        return f"a tensor of shape {_shape(value.shape)}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if value is None:
        return "None"
    return f"{type(value).__name__} {value!r}"[:80]


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    idx = []
    for size in reversed(shape):
        idx.append(flat % size if size else 0)
        flat //= size if size else 1
    return tuple(reversed(idx))


def _fmt(x: Any) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def compare(expected: Any, got: Any, level: str, tolerances: dict[str, Tolerance], path: str = "output") -> str | None:
    """The first difference between two decoded trees, up to `level`, or None."""
    depth = LEVELS.index(level)
    if isinstance(expected, TensorData):
        if not isinstance(got, TensorData):
            return f"{path}: expected a tensor of shape {_shape(expected.shape)}, got {describe(got)}"
        if depth >= 1 and expected.shape != got.shape:
            return f"{path}: expected shape {_shape(expected.shape)}, got {_shape(got.shape)}"
        if depth >= 2 and expected.dtype != got.dtype:
            return f"{path}: expected dtype {expected.dtype}, got {got.dtype}"
        if depth >= 3 and expected.device != got.device:
            return (f"{path}: expected the tensor on device '{expected.device}' (where the inputs are), "
                    f"got '{got.device}'")
        if depth >= 4 and expected.values is not None:
            if got.values is None:  # only a tensor on `meta` may come without its values
                return f"{path}: the tensor came without its values (expected them on '{expected.device}')"
            return _values(expected.values, got.values, tolerances, path)
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{path}: expected {describe(expected)}, got {describe(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = compare(e, g, level, tolerances, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{path}: expected a dict, got {describe(got)}"
        for key in expected:
            if key not in got:
                return f"{path}: '{key}' is missing"
        for key in got:
            if key not in expected:
                return f"{path}: unexpected '{key}'"
            problem = compare(expected[key], got[key], level, tolerances, f"{path}['{key}']" if path else key)
            if problem:
                return problem
        return None
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        if depth >= 4 and abs(expected - got) > 1e-6 + 1e-5 * abs(expected):
            return f"{path}: expected {expected:.6g}, got {got:.6g}"
        return None
    if type(expected) is not type(got) or (depth >= 4 and expected != got):
        return f"{path}: expected {describe(expected)}, got {describe(got)}"
    return None


def _values(expected: torch.Tensor, got: torch.Tensor, tolerances: dict[str, Tolerance], path: str) -> str | None:
    if expected.numel() == 0:
        return None
    if not expected.is_floating_point() and not expected.is_complex():
        wrong = expected != got
        count = int(wrong.sum())
        if count == 0:
            return None
        at = _index(int(wrong.flatten().nonzero()[0]), tuple(expected.shape))
        return (f"{path}: {count} of {expected.numel()} values differ; first at index {list(at)}: "
                f"expected {_fmt(expected[at].item())}, got {_fmt(got[at].item())}")
    tol = tolerances.get(str(expected.dtype).replace("torch.", ""), Tolerance(rtol=1e-5, atol=1e-8))
    e, g = expected.double(), got.double()
    e_nan, g_nan = torch.isnan(e), torch.isnan(g)
    if bool((g_nan & ~e_nan).any()):
        at = _index(int((g_nan & ~e_nan).flatten().nonzero()[0]), tuple(expected.shape))
        return f"{path}: contains NaN at index {list(at)} where {_fmt(e[at].item())} was expected"
    diff = (e - g).abs()
    diff = torch.where(e_nan & g_nan, torch.zeros_like(diff), diff)
    both_inf = torch.isinf(e) & (e == g)
    diff = torch.where(both_inf, torch.zeros_like(diff), diff)
    diff = torch.nan_to_num(diff, nan=float("inf"))
    allowed = tol.atol + tol.rtol * e.abs().nan_to_num(0.0, posinf=0.0, neginf=0.0)
    bad = diff > allowed
    count = int(bad.sum())
    if count == 0:
        return None
    # The worst offender relative to what was allowed there (not merely the largest difference,
    # which may sit within tolerance next to a large value).
    flat = int(torch.where(bad, diff - allowed, torch.full_like(diff, -float("inf"))).flatten().argmax())
    at = _index(flat, tuple(expected.shape))
    digits = 10 if diff.flatten()[flat].item() < 1e-4 * max(1.0, abs(e[at].item())) else 6
    return (f"{path}: {count} of {expected.numel()} values differ; the worst is at index {list(at)}: "
            f"expected {e[at].item():.{digits}g}, got {g[at].item():.{digits}g} (error "
            f"{diff.flatten()[flat].item():.3g}; tolerance atol={tol.atol:g}, rtol={tol.rtol:g})")
