"""Hidden suite: autoregressive_predict (greedy generation with a target mask, detached feedback).

The decoder is the provided ToyDecoder (autoregressive_support.py, beside exercise.toml), built in
each target with seeded weights and handed to the learner's function. It has two layers of
masked self-attention, so the LAST position of its output (the only one kept) changes when the
target mask is missing or wrong: the value checks see the mask without having to record it.
Detaching shows in the gradients: the reference feeds back detached copies but returns each
prediction with the graph of the call that made it, so gradients that also flow through the
feedback loop differ.
"""

import torch

from autoregressive_support import ToyDecoder

WHAT = "autoregressive_predict(decoder, states, first_input, steps, source_mask)"

# n batch, f features, d decoder width (and states'), ls source length, steps; mask: the source mask.
GRID = [
    dict(n=1, f=2, d=4, ls=2, steps=1, mask="none"),
    dict(n=1, f=4, d=8, ls=2, steps=2, mask="none"),
    dict(n=2, f=2, d=8, ls=3, steps=3, mask="padding"),
    dict(n=3, f=3, d=6, ls=4, steps=4, mask="none"),
    dict(n=2, f=1, d=4, ls=5, steps=5, mask="padding"),
    dict(n=4, f=2, d=8, ls=3, steps=6, mask="padding"),
]
NAMES = ("decoder", "states", "first_input", "steps", "source_mask")


def build(t, c):
    decoder = t.new("autoregressive_support:ToyDecoder", c.f, c.d)
    t.load_state(decoder, c.state_of(ToyDecoder, c.f, c.d))
    if c.device != "cpu" or c.dtype != torch.float32:
        t.to(decoder, c.device, c.dtype)
    return decoder


def arguments(t, c):
    decoder = build(t, c)
    states = c.randn(c.n, c.ls, c.d)
    first_input = c.randn(c.n, 1, c.f)
    source_mask = c.keep_mask(c.n, 1, c.ls) if c.mask == "padding" else None
    return decoder, states, first_input, c.steps, source_mask


def probe(t, c):
    return t.call("autoregressive_predict", *arguments(t, c))


def probe_grads(t, c):
    return t.call("autoregressive_predict", *arguments(t, c), grads=c.seed, names=NAMES)


def test_shape(grade):
    """Returns the predictions only: (N, steps, F)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """The predictions keep the inputs' dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


def test_values(grade):
    """Each step runs the decoder on everything so far, under a lower-triangular target mask"""
    grade.compare(probe, GRID, level="values", what=WHAT)


def test_gradients(grade):
    """Fed-back predictions are detached; the returned ones keep their own step's graph"""
    grade.compare(probe_grads, GRID[1:5], grads=True, what=WHAT + " then backward")


def test_device(grade):
    """Works on whatever device the inputs live on (the target mask included)"""
    grade.portable(probe, GRID[:4], what=WHAT)
