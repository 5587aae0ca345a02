"""Hidden suite: sublayer_wrapper (norm-first: x + drop(sublayer(norm(x))), batch-first).

The sub-layers are the provided ones (sublayer_support.py, beside exercise.toml), built in the
learner's process and handed to forward as its `sublayer` argument; the wrapper's norm holds a
random weight and bias, so a norm that is skipped or misplaced shows."""

import pytest
import torch

from sublayer_support import FeedForward, SelfAttention

WHAT = "SubLayerWrapper(d_model, dropout)(x, sublayer)"

# `sub` picks the sub-layer: "ffn" (Linear, ReLU, Linear; works on each position alone) or "attn"
# (multi-head self-attention; mixes positions). `scale`/`shift` move x away from mean 0 and
# variance 1, so that normalising x (or not) makes a large difference.
GRID = [
    dict(n=1, L=3, d=4, sub="ffn", ff=8),
    dict(n=2, L=4, d=6, sub="attn", h=2),
    dict(n=3, L=2, d=8, sub="ffn", ff=16, scale=5.0, shift=2.0),
    dict(n=1, L=5, d=12, sub="attn", h=3, scale=0.5, shift=-1.0),
    dict(n=4, L=6, d=16, sub="ffn", ff=32),
]
SMALL = GRID[:3]
# dropout = 1.0 drops the whole sub-layer branch in training mode, and dropout is off in
# evaluation mode: the two checks where its place shows without any randomness.
DROPOUT_GRID = [dict(c, p=1.0) for c in GRID[:4]]

PARAM_SIZES = [(4, 0.0), (1, 0.1), (7, 0.5)]


def build(t, c):
    wrapper = t.new("SubLayerWrapper", c.d, dropout=c.params.get("p", 0.0))
    state = {"norm.weight": torch.randn(c.d, generator=c.generator, dtype=torch.float64).float(),
             "norm.bias": torch.randn(c.d, generator=c.generator, dtype=torch.float64).float()}
    t.load_state(wrapper, state)
    t.to(wrapper, c.device, c.dtype)
    if c.sub == "ffn":
        sub = t.new("sublayer_support:FeedForward", c.d, c.ff)
        t.load_state(sub, c.state_of(FeedForward, c.d, c.ff))
    else:
        sub = t.new("sublayer_support:SelfAttention", c.d, c.h)
        t.load_state(sub, c.state_of(SelfAttention, c.d, c.h))
    t.to(sub, c.device, c.dtype)
    return wrapper, sub


def inputs(c):
    return c.randn(c.n, c.L, c.d) * c.params.get("scale", 1.0) + c.params.get("shift", 0.0)


def probe(t, c):
    wrapper, sub = build(t, c)
    return t.forward(wrapper, inputs(c), sub)


def probe_grads(t, c):
    wrapper, sub = build(t, c)
    return t.forward(wrapper, inputs(c), sub, grads=c.seed, names=("x",))


def probe_eval(t, c):
    wrapper, sub = build(t, c)
    t.train(wrapper, False)
    t.train(sub, False)
    return t.forward(wrapper, inputs(c), sub)


def parameters(t):
    return [sorted((name, tuple(p["shape"])) for name, p in t.new("SubLayerWrapper", d, dropout=p).parameters.items())
            for d, p in PARAM_SIZES]


def test_parameters(grade):
    """Has norm = nn.LayerNorm(d_model) and nothing else with parameters"""
    grade.same(parameters, "the parameters should be exactly those of norm = nn.LayerNorm(d_model): norm.weight "
               "and norm.bias, each (d_model,). The sub-layer is not part of the wrapper (it comes in as an "
               "argument of forward), and nn.Dropout has no parameters. Checked with (d_model, dropout) = "
               + ", ".join(map(str, PARAM_SIZES)))


@pytest.mark.needs("parameters")
def test_shape(grade):
    """Returns a tensor shaped like x, (N, L, d_model)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Keeps the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Norm-first: x + sublayer(norm(x)) (dropout 0), with a feed-forward and a self-attention sub-layer"""
    grade.compare(probe, GRID, level="values", what=WHAT + " with dropout = 0",
                  figure=True, figure_title="the wrapped sub-layer's output (batch 0; row: position, column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x, norm.weight and norm.bias are right"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " with dropout = 0, then backward")


@pytest.mark.needs("parameters")
def test_drop_train(grade):
    """In training mode, dropout = 1 drops the sub-layer's branch only: the output is x itself"""
    grade.compare(probe, DROPOUT_GRID, level="values", what=WHAT + " with dropout = 1.0, in training mode")
    grade.compare(probe_grads, DROPOUT_GRID, grads=True,
                  what=WHAT + " with dropout = 1.0, in training mode, then backward")


@pytest.mark.needs("parameters")
def test_drop_eval(grade):
    """In evaluation mode dropout is off: x + sublayer(norm(x)) even with dropout = 1"""
    grade.compare(probe_eval, DROPOUT_GRID, level="values", what=WHAT + " with dropout = 1.0, in eval mode")


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, SMALL, what=WHAT)
