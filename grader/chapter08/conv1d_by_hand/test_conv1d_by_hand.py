"""Hidden suite: conv1d_by_hand, conv1d(x (N, C_in, L), weight (C_out, C_in, K), bias=None, stride=1, dilation=1).

The judge of values and gradients is torch.nn.functional.conv1d itself (forbidden to the learner).
Grids: plain (stride 1, dilation 1), strided, dilated, and both; windows that fit exactly
(L = span) included, with and without a bias, a batch of one, one channel, and C_out == L_out
now and then (where a bias broadcast over the positions gives values instead of an error).
"""

import torch.nn.functional as F

from dl_course.grading.targets import LocalTarget

WHAT = "conv1d(x, weight, bias, stride, dilation)"


def _conv1d(x, weight, bias=None, stride=1, dilation=1):
    return F.conv1d(x, weight, bias, stride=stride, dilation=dilation)


against = LocalTarget({"conv1d": _conv1d}, "torch.nn.functional.conv1d")

# n batch, c in channels, o out channels, l length, k taps; s stride, d dilation; bias unless bias=False.
PLAIN = [
    dict(n=1, c=1, o=1, l=3, k=3),
    dict(n=1, c=2, o=3, l=5, k=3),
    dict(n=2, c=3, o=2, l=6, k=2, bias=False),
    dict(n=3, c=2, o=4, l=7, k=4),
    dict(n=2, c=4, o=3, l=9, k=1),
    dict(n=4, c=3, o=5, l=11, k=3, bias=False),
]
STRIDED = [
    dict(n=1, c=1, o=2, l=5, k=2, s=2),
    dict(n=2, c=2, o=3, l=8, k=3, s=2),
    dict(n=3, c=3, o=2, l=10, k=2, s=3, bias=False),
    dict(n=2, c=2, o=4, l=13, k=3, s=4),
]
DILATED = [
    dict(n=1, c=1, o=1, l=5, k=3, d=2),
    dict(n=2, c=2, o=3, l=9, k=3, d=2),
    dict(n=2, c=3, o=2, l=10, k=2, d=4, bias=False),
    dict(n=3, c=2, o=3, l=12, k=3, d=3),
]
BOTH = [
    dict(n=1, c=2, o=2, l=9, k=3, s=2, d=2),
    dict(n=2, c=3, o=3, l=14, k=3, s=3, d=2),
    dict(n=3, c=2, o=4, l=16, k=2, s=2, d=5, bias=False),
]
ALL = PLAIN + STRIDED + DILATED + BOTH


def inputs(c):
    args = [c.randn(c.n, c.c, c.l), c.randn(c.o, c.c, c.k)]
    if c.params.get("bias", True):
        args.append(c.randn(c.o))
    return args


def _kwargs(c):
    kw = {}
    if "s" in c.params:
        kw["stride"] = c.s
    if "d" in c.params:
        kw["dilation"] = c.d
    return kw


def probe(t, c):
    return t.call("conv1d", *inputs(c), **_kwargs(c))


def probe_grads(t, c):
    return t.call("conv1d", *inputs(c), grads=c.seed, names=("x", "weight", "bias"), **_kwargs(c))


def test_shape(grade):
    """Returns (N, C_out, L_out), L_out = (L - dilation·(K-1) - 1) // stride + 1"""
    grade.compare(probe, ALL, level="shape", dtypes=("float32",), what=WHAT, against=against)


def test_dtype(grade):
    """The output keeps x's dtype (float32 and float64)"""
    grade.compare(probe, PLAIN, level="dtype", what=WHAT, against=against)


def test_values(grade):
    """Stride 1, no dilation: the values F.conv1d gives"""
    grade.compare(probe, PLAIN, level="values", what=WHAT, against=against, figure=True,
                  figure_title="output (sequence 0: output channels × positions)")


def test_stride(grade):
    """With a stride, the window moves stride steps between outputs"""
    grade.compare(probe, STRIDED, level="values", what=WHAT, against=against)


def test_dilation(grade):
    """With a dilation, the taps are dilation steps apart (with and without a stride)"""
    grade.compare(probe, DILATED + BOTH, level="values", what=WHAT, against=against)


def test_gradients(grade):
    """Gradients w.r.t. x, weight and bias match F.conv1d's"""
    grade.compare(probe_grads, ALL, grads=True, what="the gradients of " + WHAT, against=against)


def test_device(grade):
    """It follows the input's device"""
    grade.portable(probe, PLAIN + BOTH, what=WHAT)
