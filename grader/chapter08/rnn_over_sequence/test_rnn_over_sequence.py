"""Hidden suite: rnn_over_sequence, run_rnn(cell, x, h0=None) -> (outputs (N, L, H), h_n (1, N, H)).

The judge of values and gradients is PyTorch's own nn.RNN(batch_first=True), run with the cell's
own parameters (so gradients reach the cell). The cell handed to the learner's function is a
plain nn.RNNCell: forbidding torch.nn.RNN fences the layer's kernels only, not the cell's.
Gradients of the cell's parameters are read back after the call with operator.attrgetter.
"""

import pytest
import torch
from torch import nn

from dl_course.grading.targets import LocalTarget

WHAT = "run_rnn(cell, x, h0)"
PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _nn_rnn(cell, x, h0=None):
    """nn.RNN(batch_first=True) carrying the cell's parameters (the same tensors, so gradients reach them)."""
    rnn = nn.RNN(cell.input_size, cell.hidden_size, bias=cell.bias, nonlinearity=cell.nonlinearity,
                 batch_first=True).to(device=x.device, dtype=x.dtype)
    names = PARAMS if cell.bias else PARAMS[:2]
    weights = {f"{name}_l0": getattr(cell, name) for name in names}
    args = (x,) if h0 is None else (x, h0)
    return torch.func.functional_call(rnn, weights, args)


against = LocalTarget({"run_rnn": _nn_rnn}, "torch.nn.RNN(batch_first=True)")

# n batch, l length, f features, h hidden; h0 "given" (the default) or "default" (not passed).
# Batch of 1 and length 1 included; n != l in most, so a swapped N and L shows.
GRID = [
    dict(n=1, l=1, f=1, h=1),
    dict(n=1, l=3, f=2, h=2),
    dict(n=1, l=4, f=2, h=3, h0="default"),
    dict(n=2, l=3, f=3, h=4),
    dict(n=3, l=4, f=2, h=2, h0="default"),
    dict(n=3, l=2, f=4, h=3, h0="default", bias=False),
    dict(n=4, l=5, f=3, h=5, bias=False),
    dict(n=5, l=6, f=2, h=4),
    dict(n=6, l=7, f=5, h=8, h0="default"),
]


def build(t, c):
    """The cell handed to run_rnn: seeded nn.RNNCell weights, on the case's device and dtype."""
    bias = c.params.get("bias", True)
    cell = t.new("torch.nn:RNNCell", c.f, c.h, bias=bias)
    t.load_state(cell, c.state_of(nn.RNNCell, c.f, c.h, bias=bias))
    if c.device != "cpu" or c.dtype != torch.float32:
        t.to(cell, c.device, c.dtype)
    return cell


def inputs(c):
    x = c.randn(c.n, c.l, c.f)
    h0 = c.randn(1, c.n, c.h) if c.params.get("h0", "given") == "given" else None
    return (x,) if h0 is None else (x, h0)


def probe(t, c):
    cell = build(t, c)
    return t.call("run_rnn", cell, *inputs(c))


def probe_grads(t, c):
    cell = build(t, c)
    args = inputs(c)
    run = t.call("run_rnn", cell, *args, grads=c.seed, names=("cell", "x", "h0")[:1 + len(args)])
    grads = run.get("grads")
    if isinstance(grads, dict):
        names = PARAMS if c.params.get("bias", True) else PARAMS[:2]
        getter = t.new("operator:attrgetter", *(f"{name}.grad" for name in names))
        got = t.call(getter, cell)["output"]
        got = got if isinstance(got, tuple) else (got,)
        grads["params"] = dict(zip(names, got))
    return run


def test_shape(grade):
    """Returns outputs (N, L, H) and h_n (1, N, H)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT, against=against)


def test_dtype(grade):
    """The outputs keep the input's dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT, against=against)


def test_values(grade):
    """outputs and h_n have the values nn.RNN gives with the cell's weights"""
    grade.compare(probe, GRID, level="values", what=WHAT, against=against, figure=0,
                  figure_title="outputs (sequence 0: steps × hidden units)")


def test_gradients(grade):
    """Gradients w.r.t. x, h0 and the cell's parameters match nn.RNN's"""
    grade.compare(probe_grads, GRID, grads=True, what="the gradients of " + WHAT, against=against)


def test_device(grade):
    """It follows the input's device (the default state included)"""
    grade.portable(probe, GRID, what=WHAT)
