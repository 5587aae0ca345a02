"""Hidden suite: last_real_output(padded_out (N, L, H), lengths (N,)) -> (N, H) at each last real step.

Padding comes two ways: "noise" (what an RNN computes over padded inputs: it keeps changing) and
"zeros" (what pad_packed_sequence gives). Most cases are padded past the longest sequence; the last
check has the longest sequence fill the padded length, as pad_sequence makes it.
"""

import torch

WHAT = "last_real_output(padded_out, lengths)"

# n batch, l padded length, h features; pad "noise" (default) or "zeros". Batch of 1 and H = 1 included.
PADDED = [
    dict(n=1, l=2, h=1),
    dict(n=1, l=4, h=3),
    dict(n=1, l=3, h=2, pad="zeros"),
    dict(n=3, l=5, h=2, pad="zeros"),
    dict(n=4, l=4, h=3),
    dict(n=2, l=6, h=1, pad="zeros"),
    dict(n=5, l=7, h=4),
    dict(n=6, l=9, h=5, pad="zeros"),
    dict(n=8, l=12, h=6),
]
# The longest sequence is exactly L long (as from pad_sequence or pad_packed_sequence).
FULL = [
    dict(n=1, l=3, h=2, full=True),
    dict(n=3, l=4, h=2, pad="zeros", full=True),
    dict(n=5, l=6, h=3, full=True),
    dict(n=7, l=8, h=4, pad="zeros", full=True),
]


def inputs(c):
    out = c.randn(c.n, c.l, c.h)
    if c.params.get("full"):
        lengths = c.randint(1, c.l + 1, c.n)
        lengths[c.n // 2] = c.l
    else:
        lengths = c.randint(1, c.l, c.n)  # every sequence ends before the padded length
    if c.params.get("pad") == "zeros":
        steps = torch.arange(c.l, device=lengths.device)
        real = steps.view(1, c.l) < lengths.view(c.n, 1)  # (N, L)
        out = out * real.unsqueeze(-1).to(out.dtype)
    return out, lengths


def probe(t, c):
    return t.call("last_real_output", *inputs(c))


def probe_grads(t, c):
    return t.call("last_real_output", *inputs(c), grads=c.seed, names=("padded_out", "lengths"))


def test_shape(grade):
    """Returns (N, H): one row per sequence"""
    grade.compare(probe, PADDED, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """The answer keeps padded_out's dtype (float32 and float64)"""
    grade.compare(probe, PADDED, level="dtype", what=WHAT)


def test_values(grade):
    """Row i is padded_out[i, lengths[i] - 1], never padding"""
    grade.compare(probe, PADDED, level="values", what=WHAT, figure=True,
                  figure_title="last real outputs (sequences × features)")


def test_gradients(grade):
    """The gradient reaches padded_out at each last real step, and nowhere else"""
    grade.compare(probe_grads, PADDED + FULL, grads=True, what="the gradients of " + WHAT)


def test_full_length(grade):
    """The longest sequence may fill the whole padded length"""
    grade.compare(probe, FULL, level="values", what=WHAT)


def test_device(grade):
    """It follows padded_out's device"""
    grade.portable(probe, PADDED + FULL, what=WHAT)
