"""Hidden suite: bidirectional_rnn, run_bidirectional(cell_fwd, cell_bwd, x) -> (outputs (N, L, 2H), h_n (2, N, H)).

The judge of values and gradients is PyTorch's own nn.RNN(bidirectional=True, batch_first=True),
run with the forward cell's parameters as its `_l0` weights and the backward cell's as its
`_l0_reverse` weights (the same tensors, so gradients reach both cells). The cells handed to the
learner are plain nn.RNNCell: forbidding torch.nn.RNN fences the layer's kernels only. Gradients
of the cells' parameters are read back after the call with operator.attrgetter.
"""

import torch
from torch import nn

from dl_course.grading.targets import LocalTarget

WHAT = "run_bidirectional(cell_fwd, cell_bwd, x)"
PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _nn_rnn(cell_fwd, cell_bwd, x):
    """nn.RNN(bidirectional=True, batch_first=True) carrying both cells' parameters."""
    rnn = nn.RNN(cell_fwd.input_size, cell_fwd.hidden_size, bias=cell_fwd.bias,
                 nonlinearity=cell_fwd.nonlinearity, batch_first=True,
                 bidirectional=True).to(device=x.device, dtype=x.dtype)
    names = PARAMS if cell_fwd.bias else PARAMS[:2]
    weights = {f"{name}_l0": getattr(cell_fwd, name) for name in names}
    weights.update({f"{name}_l0_reverse": getattr(cell_bwd, name) for name in names})
    return torch.func.functional_call(rnn, weights, (x,))


against = LocalTarget({"run_bidirectional": _nn_rnn}, "torch.nn.RNN(bidirectional=True, batch_first=True)")

# n batch, l length, f features, h hidden. Batch of 1 and length 1 included; n != l in most, so a
# swapped N and L shows; lengths of 2 and more, so a forgotten flip shows.
GRID = [
    dict(n=1, l=1, f=1, h=1),
    dict(n=1, l=3, f=2, h=2),
    dict(n=2, l=4, f=2, h=3),
    dict(n=3, l=2, f=3, h=2, bias=False),
    dict(n=3, l=5, f=2, h=4),
    dict(n=4, l=3, f=3, h=5, nonlinearity="relu"),
    dict(n=5, l=6, f=2, h=3),
    dict(n=6, l=7, f=4, h=6, bias=False),
]


def build(t, c, seed_shift):
    """One direction's cell: seeded nn.RNNCell weights (each direction its own), on the case's device and dtype."""
    bias, nonlinearity = c.params.get("bias", True), c.params.get("nonlinearity", "tanh")
    cell = t.new("torch.nn:RNNCell", c.f, c.h, bias=bias, nonlinearity=nonlinearity)
    state = c.state_of(nn.RNNCell, c.f, c.h, bias=bias)
    if seed_shift:  # the backward direction gets other weights than the forward one
        state = {k: torch.flip(v, dims=[0]) * -0.9 for k, v in state.items()}
    t.load_state(cell, state)
    if c.device != "cpu" or c.dtype != torch.float32:
        t.to(cell, c.device, c.dtype)
    return cell


def probe(t, c):
    return t.call("run_bidirectional", build(t, c, 0), build(t, c, 1), c.randn(c.n, c.l, c.f))


def probe_grads(t, c):
    fwd, bwd = build(t, c, 0), build(t, c, 1)
    run = t.call("run_bidirectional", fwd, bwd, c.randn(c.n, c.l, c.f), grads=c.seed,
                 names=("cell_fwd", "cell_bwd", "x"))
    grads = run.get("grads")
    if isinstance(grads, dict):
        names = PARAMS if c.params.get("bias", True) else PARAMS[:2]
        getter = t.new("operator:attrgetter", *(f"{name}.grad" for name in names))
        for label, cell in (("fwd", fwd), ("bwd", bwd)):
            got = t.call(getter, cell)["output"]
            got = got if isinstance(got, tuple) else (got,)
            grads["params"].update({f"{name} of cell_{label}": g for name, g in zip(names, got)})
    return run


def test_shape(grade):
    """Returns outputs (N, L, 2H) and h_n (2, N, H)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT, against=against)


def test_dtype(grade):
    """The outputs keep the input's dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT, against=against)


def test_outputs(grade):
    """outputs: forward states, then backward states, both in step order"""
    grade.compare(_outputs_only, GRID, level="values", what=WHAT + "[0]", against=against, figure=True,
                  figure_title="outputs (sequence 0: steps × [forward | backward] units)")


def test_h_n(grade):
    """h_n holds each direction's final state"""
    grade.compare(_h_n_only, GRID, level="values", what=WHAT + "[1]", against=against)


def test_gradients(grade):
    """Gradients w.r.t. x and both cells' parameters match nn.RNN's"""
    grade.compare(probe_grads, GRID, grads=True, what="the gradients of " + WHAT, against=against)


def test_device(grade):
    """It follows the input's device (the default states included)"""
    grade.portable(probe, GRID, what=WHAT)


def _part(t, c, index):
    out = probe(t, c)["output"]
    return out[index] if isinstance(out, tuple) and len(out) == 2 else out


def _outputs_only(t, c):
    return _part(t, c, 0)


def _h_n_only(t, c):
    return _part(t, c, 1)
