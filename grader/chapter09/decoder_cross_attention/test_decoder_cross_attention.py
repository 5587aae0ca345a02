"""Hidden suite: decoder_cross_attention (masked self-attention, cross-attention over the encoder's
states, then a feed-forward network; batch-first, bool masks with True = may attend). The learner's
file imports their own MultiHeadAttention; the reference imports the course's
(`uses = ["multi_head_attention"]`)."""

import pytest
import torch

from decoder_cross_attention import DecoderLayer as ReferenceLayer

WHAT = "DecoderLayer(d_model, n_heads, ff_units)(x, states, source_mask=..., target_mask=...)"

# Lt != Ls almost everywhere (so keys, values and queries cannot be mixed up unnoticed, nor the two
# masks), one case with Lt == Ls (where such mix-ups compute something instead of failing, so they can
# be told apart), both masks alone and together, several heads but one case, a batch of 1.
GRID = [
    dict(n=1, Lt=3, Ls=3, d=8, h=2, ff=16, masks="none"),
    dict(n=2, Lt=4, Ls=6, d=12, h=3, ff=20, masks="both"),
    dict(n=1, Lt=5, Ls=3, d=16, h=4, ff=8, masks="target"),
    dict(n=3, Lt=2, Ls=5, d=10, h=1, ff=12, masks="source"),
    dict(n=2, Lt=6, Ls=4, d=24, h=6, ff=32, masks="both"),
    # x and states multiplied by `big`: attention scores of about ±100, where exp() overflows in float32
    # (a softmax written as exp(s) / exp(s).sum() gives NaN there; torch.softmax does not).
    dict(n=2, Lt=4, Ls=5, d=16, h=4, ff=16, masks="both", big=16),
]

# The causality check backpropagates from one target position at a time, so it stays small.
CAUSAL_GRID = [
    dict(n=2, Lt=5, Ls=4, d=12, h=3, ff=16, masks="both"),
    dict(n=1, Lt=4, Ls=6, d=8, h=2, ff=8, masks="target"),
]


def padding_mask(c, n, length):
    """(N, 1, L): sequence i keeps its first lengths[i] positions, 1 <= lengths[i] < L, so every
    source sequence has padding at its end."""
    lengths = c.randint(1, length, n)
    return (torch.arange(length, device=c.device) < lengths.unsqueeze(-1)).unsqueeze(1)


def inputs(c):
    big = c.params.get("big", 1)
    x = c.randn(c.n, c.Lt, c.d) * big
    states = c.randn(c.n, c.Ls, c.d) * big
    source_mask = padding_mask(c, c.n, c.Ls) if c.masks in ("source", "both") else None
    target_mask = None
    if c.masks in ("target", "both"):  # (1, Lt, Lt): target position t sees positions 0..t
        target_mask = torch.ones(1, c.Lt, c.Lt, dtype=torch.bool).tril().to(c.device)
    return x, states, source_mask, target_mask


def build(t, c):
    layer = t.new("DecoderLayer", c.d, c.h, c.ff)
    t.load_state(layer, c.state_of(ReferenceLayer, c.d, c.h, c.ff))
    t.to(layer, c.device, c.dtype)
    return layer


def probe(t, c):
    layer = build(t, c)
    x, states, source_mask, target_mask = inputs(c)
    return t.forward(layer, x, states, source_mask=source_mask, target_mask=target_mask)


def probe_grads(t, c):
    layer = build(t, c)
    x, states, source_mask, target_mask = inputs(c)
    return t.forward(layer, x, states, source_mask=source_mask, target_mask=target_mask, grads=c.seed,
                     names=("x", "states"))


CONFIGS = [(8, 2, 16), (12, 3, 5), (6, 1, 6)]


def parameters(t):
    return [sorted((name, tuple(p["shape"])) for name, p in t.new("DecoderLayer", d, h, ff).parameters.items())
            for d, h, ff in CONFIGS]


def test_parameters(grade):
    """Has self_attn and cross_attn (two MultiHeadAttention) and ffn (Linear, ReLU, Linear), nothing else"""
    grade.same(parameters, "the parameters should be exactly those of self_attn and cross_attn, each a "
               "MultiHeadAttention(d_model, n_heads) (q_proj, k_proj, v_proj, out_proj), and of ffn = "
               "nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model)) (ffn.0 and "
               "ffn.2). Checked with (d_model, n_heads, ff_units) = " + ", ".join(map(str, CONFIGS)))


@pytest.mark.needs("parameters")
def test_shapes(grade):
    """Returns one vector per target position, (N, Lt, d_model), also when Lt != Ls"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Keeps the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


@pytest.mark.needs("parameters")
def test_causality(grade):
    """With a subsequent target mask, the output at step t depends on no target step after t"""
    grade.causal(probe_grads, CAUSAL_GRID, length="Lt", input="x", what=WHAT)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Self-attention, cross-attention and the feed-forward network give the right outputs (all mask kinds)"""
    grade.compare(probe, GRID, level="values", what=WHAT,
                  figure=True, figure_title="the layer's output (batch 0; row: target position, column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x, states and every parameter are right"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward")


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, GRID, what=WHAT)
