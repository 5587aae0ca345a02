"""Hidden suite: lstm_cell. The reference is PyTorch's own torch.nn.LSTMCell, with the same state dict."""

import pytest
import torch

from _shared.recurrent import initial_message, initial_spread
from dl_course.grading.targets import LocalTarget

# PyTorch's cell is the judge of values and gradients; solutions/ holds a hand-written twin.
against = LocalTarget({"LSTMCell": torch.nn.LSTMCell}, "torch.nn.LSTMCell")

WHAT = "LSTMCell(F, H)(x, (h, c))"

# Each point: n (batch; absent = unbatched x of shape (F,)), f (features), h (hidden size),
# hx ("given" = a tuple (h, c), or "default" = not passed) and bias.
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

PARAM_SHAPES = [(3, 5, True), (3, 5, False), (1, 1, True), (2, 2, True), (4, 2, False)]


def build(t, c):
    """The cell under test, holding the state of a seeded nn.LSTMCell, moved to the case's device and dtype."""
    bias = c.params.get("bias", True)
    cell = t.new("LSTMCell", c.f, c.h, bias=bias)
    t.load_state(cell, c.state_of(torch.nn.LSTMCell, c.f, c.h, bias=bias))
    t.to(cell, c.device, c.dtype)
    return cell


def inputs(c):
    batch = (c.params["n"],) if "n" in c.params else ()
    x = c.randn(*batch, c.f)
    hx = (c.randn(*batch, c.h), c.randn(*batch, c.h)) if c.params.get("hx", "given") == "given" else None
    return x, hx


def probe(t, c):
    cell = build(t, c)
    x, hx = inputs(c)
    return t.forward(cell, x) if hx is None else t.forward(cell, x, hx)


def probe_grads(t, c):
    # The random upstream gradient covers both outputs, h' and c'; the gradients of x, of h and c
    # inside the tuple, and of every parameter are compared.
    cell = build(t, c)
    x, hx = inputs(c)
    if hx is None:
        return t.forward(cell, x, grads=c.seed, names=("x",))
    return t.forward(cell, x, hx, grads=c.seed, names=("x", "(h, c)"))


def parameter_shapes(t):
    out = []
    for f, h, bias in PARAM_SHAPES:
        cell = t.new("LSTMCell", f, h, bias=bias)
        out.append(sorted((name, tuple(p["shape"])) for name, p in cell.parameters.items()))
    return out


def test_parameters(grade):
    """Parameter names and shapes match nn.LSTMCell"""
    grade.same(parameter_shapes,
               "the parameters differ from torch.nn.LSTMCell's: LSTMCell(F, H) should have exactly weight_ih (4H, F), "
               "weight_hh (4H, H), bias_ih (4H,) and bias_hh (4H,), and with bias=False only the two weights "
               f"(we built {', '.join(f'LSTMCell({f}, {h}, bias={b})' for f, h, b in PARAM_SHAPES)})")


@pytest.mark.needs("parameters")
def test_initial(grade):
    """A fresh cell starts as nn.LSTMCell's does: uniform in [-1/sqrt(H), 1/sqrt(H)]"""
    grade.same(initial_spread("LSTMCell"), initial_message("LSTMCell"))


@pytest.mark.needs("parameters")
def test_shape(grade):
    """(h', c') is a pair shaped like h: (N, H) each, or (H,) for an unbatched x"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """h' and c' have the dtype of the input (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_values(grade):
    """h' and c' have the values nn.LSTMCell gives"""
    grade.compare(probe, GRID, level="values", what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x, h, c and every parameter match nn.LSTMCell"""
    grade.compare(probe_grads, GRID, grads=True, what="the gradients of " + WHAT, against=against)


@pytest.mark.needs("parameters")
def test_device(grade):
    """The cell follows its input's device (the default (h, c) included)"""
    grade.portable(probe, GRID, what=WHAT)
