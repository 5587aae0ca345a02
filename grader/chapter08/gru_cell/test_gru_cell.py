"""Hidden suite: gru_cell. The reference is PyTorch's own torch.nn.GRUCell, with the same state dict."""

import pytest
import torch

from _shared.recurrent import initial_message, initial_spread
from dl_course.grading.targets import LocalTarget

# PyTorch's cell is the judge of values and gradients; solutions/ holds a hand-written twin.
against = LocalTarget({"GRUCell": torch.nn.GRUCell}, "torch.nn.GRUCell")

# Each point: n (batch; absent = unbatched x of shape (F,)), f (features), h (hidden size),
# hx ("given" or "default" = not passed) and bias.
GRID = [
    dict(n=1, f=1, h=1),
    dict(f=3, h=4),
    dict(f=3, h=4, hx="default"),
    dict(n=1, f=3, h=4),
    dict(n=1, f=2, h=3, hx="default"),
    dict(n=4, f=3, h=5),
    dict(n=4, f=3, h=5, bias=False),
    dict(n=3, f=5, h=2, hx="default"),
    dict(n=2, f=4, h=6, hx="default", bias=False),
    dict(f=4, h=6, bias=False),
    dict(n=6, f=7, h=8),
    dict(n=5, f=10, h=16, hx="default"),
]

PARAM_SHAPES = [(3, 5, True), (3, 5, False), (1, 1, True), (4, 2, False)]


def build(t, c):
    """The cell under test, holding the state of a seeded nn.GRUCell, moved to the case's device and dtype."""
    bias = c.params.get("bias", True)
    cell = t.new("GRUCell", c.f, c.h, bias=bias)
    t.load_state(cell, c.state_of(torch.nn.GRUCell, c.f, c.h, bias=bias))
    t.to(cell, c.device, c.dtype)
    return cell


def inputs(c):
    batch = (c.params["n"],) if "n" in c.params else ()
    x = c.randn(*batch, c.f)
    hx = c.randn(*batch, c.h) if c.params.get("hx", "given") == "given" else None
    return x, hx


def probe(t, c):
    cell = build(t, c)
    x, hx = inputs(c)
    return t.forward(cell, x) if hx is None else t.forward(cell, x, hx)


def probe_grads(t, c):
    cell = build(t, c)
    x, hx = inputs(c)
    if hx is None:
        return t.forward(cell, x, grads=c.seed, names=("x",))
    return t.forward(cell, x, hx, grads=c.seed, names=("x", "hx"))


def parameter_shapes(t):
    out = []
    for f, h, bias in PARAM_SHAPES:
        cell = t.new("GRUCell", f, h, bias=bias)
        out.append(sorted((name, tuple(p["shape"])) for name, p in cell.parameters.items()))
    return out


def test_parameters(grade):
    """Parameter names and shapes match nn.GRUCell"""
    grade.same(parameter_shapes,
               "the parameters differ from torch.nn.GRUCell's: GRUCell(F, H) should have exactly weight_ih (3H, F), "
               "weight_hh (3H, H), bias_ih (3H,) and bias_hh (3H,), and with bias=False only the two weights "
               f"(we built {', '.join(f'GRUCell({f}, {h}, bias={b})' for f, h, b in PARAM_SHAPES)})")


@pytest.mark.needs("parameters")
def test_initial(grade):
    """A fresh cell starts as nn.GRUCell's does: uniform in [-1/sqrt(H), 1/sqrt(H)]"""
    grade.same(initial_spread("GRUCell"), initial_message("GRUCell"))


@pytest.mark.needs("parameters")
def test_shape(grade):
    """h' has the shape of hx: (N, H), or (H,) for an unbatched x"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what="GRUCell(F, H)(x, hx)", against=against)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """h' has the dtype of the input (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what="GRUCell(F, H)(x, hx)", against=against)


@pytest.mark.needs("parameters")
def test_values(grade):
    """h' has the values nn.GRUCell gives"""
    grade.compare(probe, GRID, level="values", what="GRUCell(F, H)(x, hx)", against=against)


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x, hx and every parameter match nn.GRUCell"""
    grade.compare(probe_grads, GRID, grads=True, what="the gradients of GRUCell(F, H)(x, hx)", against=against)


@pytest.mark.needs("parameters")
def test_device(grade):
    """The cell follows its input's device (the default hx included)"""
    grade.portable(probe, GRID, what="GRUCell(F, H)(x, hx)")
