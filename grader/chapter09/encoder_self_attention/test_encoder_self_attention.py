"""Hidden suite: encoder_self_attention (self-attention then a feed-forward network, batch-first,
bool source mask with True = may attend). The learner's file imports their own MultiHeadAttention;
the reference imports the course's (`uses = ["multi_head_attention"]`)."""

import pytest
import torch

from encoder_self_attention import EncoderLayer as ReferenceLayer

WHAT = "EncoderLayer(d_model, n_heads, ff_units)(x, source_mask=...)"

# Several heads in all but one case, padding masks of shape (N, 1, L), a batch of 1, and never
# L == d_model (so a layer that feeds the (N, h, L, L) weights to the feed-forward network always
# fails the same way).
GRID = [
    dict(n=1, L=3, d=8, h=2, ff=16, mask="none"),
    dict(n=2, L=4, d=12, h=3, ff=20, mask="padding"),
    dict(n=1, L=5, d=16, h=4, ff=8, mask="padding"),
    dict(n=3, L=6, d=10, h=1, ff=12, mask="none"),
    dict(n=2, L=7, d=24, h=6, ff=32, mask="padding"),
    # x multiplied by `big`: attention scores of about ±100, where exp() overflows in float32 (a softmax
    # written as exp(s) / exp(s).sum() gives NaN there; torch.softmax does not).
    dict(n=2, L=5, d=16, h=4, ff=16, mask="padding", big=16),
]


def padding_mask(c, n, length):
    """(N, 1, L): sequence i keeps its first lengths[i] positions, 1 <= lengths[i] < L, so every
    sequence has padding at its end (a layer that ignores the mask cannot pass by chance)."""
    lengths = c.randint(1, length, n)
    return (torch.arange(length, device=c.device) < lengths.unsqueeze(-1)).unsqueeze(1)


def inputs(c):
    x = c.randn(c.n, c.L, c.d) * c.params.get("big", 1)
    mask = padding_mask(c, c.n, c.L) if c.mask == "padding" else None
    return x, mask


def build(t, c):
    layer = t.new("EncoderLayer", c.d, c.h, c.ff)
    t.load_state(layer, c.state_of(ReferenceLayer, c.d, c.h, c.ff))
    t.to(layer, c.device, c.dtype)
    return layer


def probe(t, c):
    layer = build(t, c)
    x, mask = inputs(c)
    return t.forward(layer, x, source_mask=mask)


def probe_grads(t, c):
    layer = build(t, c)
    x, mask = inputs(c)
    return t.forward(layer, x, source_mask=mask, grads=c.seed, names=("x",))


CONFIGS = [(8, 2, 16), (12, 3, 5), (6, 1, 6)]


def parameters(t):
    return [sorted((name, tuple(p["shape"])) for name, p in t.new("EncoderLayer", d, h, ff).parameters.items())
            for d, h, ff in CONFIGS]


def test_parameters(grade):
    """Has self_attn (a MultiHeadAttention) and ffn (Linear, ReLU, Linear), nothing else with parameters"""
    grade.same(parameters, "the parameters should be exactly those of self_attn = MultiHeadAttention(d_model, "
               "n_heads) (self_attn.q_proj, k_proj, v_proj, out_proj) and ffn = nn.Sequential(nn.Linear(d_model, "
               "ff_units), nn.ReLU(), nn.Linear(ff_units, d_model)) (ffn.0 and ffn.2). Checked with (d_model, "
               "n_heads, ff_units) = " + ", ".join(map(str, CONFIGS)))


@pytest.mark.needs("parameters")
def test_shapes(grade):
    """Returns the encoder's states, (N, L, d_model)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Keeps the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Self-attention then the feed-forward network gives the right states (with and without padding masks)"""
    grade.compare(probe, GRID, level="values", what=WHAT,
                  figure=True, figure_title="the layer's output (batch 0; row: position, column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x and every parameter are right"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward")


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, GRID, what=WHAT)
