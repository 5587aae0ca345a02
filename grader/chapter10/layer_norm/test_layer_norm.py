"""Hidden suite: layer_norm. The judge of values and gradients is PyTorch's own nn.LayerNorm,
holding the same (random) weight and bias; solutions/ holds a hand-written twin."""

import pytest
import torch

from dl_course.grading.targets import LocalTarget

against = LocalTarget({"LayerNorm": torch.nn.LayerNorm}, "torch.nn.LayerNorm")

WHAT = "LayerNorm(d_model, eps)(x) with a random weight and bias loaded"

# (N, L, D) inputs. Every case has N > 1 or L > 1 somewhere so statistics over the wrong
# dimension show; `scale`/`shift` stretch and move x: 1e-3 makes the variance (1e-6) smaller
# than eps, where eps under or outside the square root (or no eps) differ by far; `eps` sets
# the module's own eps; `flat` makes the first data point of every sequence constant (variance
# exactly 0: no eps gives 0/0 there).
GRID = [
    dict(n=1, L=3, d=4),
    dict(n=2, L=1, d=6),
    dict(n=2, L=4, d=6),
    dict(n=3, L=2, d=8, scale=10.0, shift=5.0),
    dict(n=2, L=5, d=16, scale=1e-3),
    dict(n=2, L=3, d=6, eps=0.1),
    dict(n=2, L=3, d=5, flat=True),
    dict(n=4, L=7, d=32, scale=3.0, shift=-2.0),
]
# Gradients: not where x is tiny. There the gradient w.r.t. x is about weight / sqrt(eps) (~300)
# and sums of such terms cancel to near 0, so float32 rounding alone exceeds atol: the places of
# eps are judged by the values.
GRAD_GRID = [c for c in GRID if not c.get("flat") and c.get("scale", 1.0) >= 1.0]
SMALL = [GRID[0], GRID[2], GRID[4]]  # a batch of 1, and the variance below eps

# Other numbers of leading dimensions: (D,), (N, D) and (N, A, L, D).
SHAPES = [dict(shape=(5,)), dict(shape=(3, 6)), dict(shape=(1, 4)), dict(shape=(2, 3, 4, 8)),
          dict(shape=(3, 2, 5, 6), scale=1e-3)]
GRAD_SHAPES = [c for c in SHAPES if "scale" not in c]

PARAM_SIZES = [4, 1, 7]


def build(t, c, d=None):
    d = d if d is not None else c.d
    eps = c.params.get("eps")
    layer = t.new("LayerNorm", d) if eps is None else t.new("LayerNorm", d, eps=eps)
    state = {"weight": torch.randn(d, generator=c.generator, dtype=torch.float64).float(),
             "bias": torch.randn(d, generator=c.generator, dtype=torch.float64).float()}
    t.load_state(layer, state)
    t.to(layer, c.device, c.dtype)
    return layer


def inputs(c):
    x = c.randn(c.n, c.L, c.d) * c.params.get("scale", 1.0) + c.params.get("shift", 0.0)
    if c.params.get("flat"):
        # -1.5 is exact in binary, and so are D copies of it summed and divided by D: the mean is
        # exactly -1.5 and x - mean exactly 0 however the learner sums (a random constant would
        # leave a rounding error of ~1e-7 that the division by sqrt(eps) blows up past atol).
        x = torch.cat([torch.full_like(x[:, :1], -1.5), x[:, 1:]], dim=1)
    return x


def probe(t, c):
    layer = build(t, c)
    return t.forward(layer, inputs(c))


def probe_grads(t, c):
    layer = build(t, c)
    return t.forward(layer, inputs(c), grads=c.seed, names=("x",))


def probe_eval(t, c):
    layer = build(t, c)
    t.train(layer, False)
    return t.forward(layer, inputs(c))


def probe_shapes(t, c):
    layer = build(t, c, d=c.shape[-1])
    x = c.randn(*c.shape) * c.params.get("scale", 1.0)
    return t.forward(layer, x, grads=c.seed, names=("x",))


def probe_fresh(t, c):
    layer = t.new("LayerNorm", c.d)
    t.to(layer, c.device, c.dtype)
    return t.forward(layer, inputs(c))


def parameters(t):
    return [sorted((name, tuple(p["shape"])) for name, p in t.new("LayerNorm", d).parameters.items())
            for d in PARAM_SIZES]


def buffers(t):
    return [sorted(t.new("LayerNorm", d).buffers) for d in PARAM_SIZES]


def test_parameters(grade):
    """Has the parameters weight (D,) and bias (D,), nothing else"""
    grade.same(parameters, "the parameters should be exactly those of nn.LayerNorm(d_model): `weight` and `bias`, "
               "each an nn.Parameter of shape (d_model,), one scale and one shift per feature. Checked with "
               "d_model = " + ", ".join(map(str, PARAM_SIZES)))


def test_no_buffers(grade):
    """Keeps no buffers: no running statistics, unlike batch norm"""
    grade.same(buffers, "the module registers buffers; layer normalization computes its statistics from each "
               "data point as it comes, so there is nothing to keep between calls (no running mean or variance)")


@pytest.mark.needs("parameters")
def test_initial(grade):
    """A fresh module is the identity affine map (weight ones, bias zeros), as nn.LayerNorm"""
    grade.compare(probe_fresh, SMALL, level="values", what="a freshly built LayerNorm(d_model)(x)", against=against)


@pytest.mark.needs("parameters")
def test_shape(grade):
    """Returns a tensor shaped like x"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Keeps the input's dtype (float32 and float64)"""
    grade.compare(probe, GRID, level="dtype", what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Matches nn.LayerNorm: each data point standardised over its own features, then scaled and shifted"""
    grade.compare(probe, GRID, level="values", what=WHAT, against=against,
                  figure=True, figure_title="the normalised output (batch 0; row: position, column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x, weight and bias match nn.LayerNorm"""
    grade.compare(probe_grads, GRAD_GRID, grads=True, what=WHAT + " then backward", against=against)


@pytest.mark.needs("parameters")
def test_eval_mode(grade):
    """Gives the same answer in evaluation mode (no running statistics)"""
    grade.compare(probe_eval, GRID, level="values", what=WHAT + ", in eval mode", against=against)


@pytest.mark.needs("parameters")
def test_any_shape(grade):
    """Works on (D,), (N, D) and (N, A, L, D) inputs too, values and gradients"""
    grade.compare(probe_shapes, SHAPES, level="values", what="LayerNorm(D)(x) for x of other shapes",
                  against=against)
    grade.compare(probe_shapes, GRAD_SHAPES, grads=True, what="LayerNorm(D)(x) for x of other shapes, then backward",
                  against=against)


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, SMALL, what=WHAT)
