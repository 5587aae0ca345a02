"""Hidden suite: transformer_decoder_layer (norm-first, batch-first, bool masks with True = may
attend). The judge of values and gradients is PyTorch's own nn.TransformerDecoderLayer
(norm_first=True, batch_first=True), run on the course's parameter layout (see `TorchTwin`);
solutions/ holds a hand-written twin.

Layouts: the starter documents norm1..norm3 and ffn.0/ffn.3; a learner may also build the ffn
without its nn.Dropout (ffn.2) or wrap the sub-layers in `sublayers = nn.ModuleList([...])` of
SubLayerWrapper (sublayers.0.norm ...), as the book's final version does. Probes read each
target's own parameter names, load the same weights under them, and report gradients under the
documented names, so every layout is judged alike.
"""

import pytest
import torch
from torch import nn

from _shared.transformer import canonical, documented, padding_mask, torch_mask
from dl_course.grading.targets import LocalTarget
from multi_head_attention import MultiHeadAttention

WHAT = "DecoderLayer(d_model, n_heads, ff_units, dropout)(x, states, source_mask, target_mask)"


# -- the course's layout, and PyTorch's module run on it ------------------------------------------
def _in_proj(a, what):
    return torch.cat([getattr(a.q_proj, what), getattr(a.k_proj, what), getattr(a.v_proj, what)])


class TorchTwin(nn.Module):
    """The course's parameters (self_attn, cross_attn, ffn.0, ffn.3, norm1..norm3) and a forward
    that runs nn.TransformerDecoderLayer(norm_first=True, batch_first=True) on them: each
    attention's q, k and v stacked into in_proj_weight/in_proj_bias (cross_attn ->
    multihead_attn), ffn.0 -> linear1, ffn.3 -> linear2."""

    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.n_heads = n_heads
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(ff_units, d_model))
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.__dict__["torch_layer"] = nn.TransformerDecoderLayer(
            d_model, n_heads, ff_units, dropout, batch_first=True, norm_first=True)

    def torch_parameters(self):
        out = {}
        for mine, theirs in (("self_attn", "self_attn"), ("cross_attn", "multihead_attn")):
            a = getattr(self, mine)
            out[f"{theirs}.in_proj_weight"] = _in_proj(a, "weight")
            out[f"{theirs}.in_proj_bias"] = _in_proj(a, "bias")
            out[f"{theirs}.out_proj.weight"], out[f"{theirs}.out_proj.bias"] = a.out_proj.weight, a.out_proj.bias
        for mine, theirs in ((self.ffn[0], "linear1"), (self.ffn[3], "linear2"), (self.norm1, "norm1"),
                             (self.norm2, "norm2"), (self.norm3, "norm3")):
            out[f"{theirs}.weight"], out[f"{theirs}.bias"] = mine.weight, mine.bias
        return out

    def forward(self, x, states, source_mask=None, target_mask=None):
        layer = self.torch_layer
        layer.train(self.training)
        n, lt, ls = x.shape[0], x.shape[1], states.shape[1]
        kwargs = {"tgt_mask": torch_mask(target_mask, n, lt, lt, self.n_heads),
                  "memory_mask": torch_mask(source_mask, n, lt, ls, self.n_heads)}
        return torch.func.functional_call(layer, self.torch_parameters(), (x, states), kwargs)


against = LocalTarget({"DecoderLayer": TorchTwin}, "torch.nn.TransformerDecoderLayer(norm_first=True)")


# -- cases ------------------------------------------------------------------------------------
# Lt != Ls but once (so queries, keys and values cannot be mixed up unnoticed, nor the masks),
# both masks alone and together, several heads but once, a batch of 1; `scale`/`shift` move x
# and the states away from mean 0 and variance 1, so a norm skipped or misplaced shows.
GRID = [
    dict(n=1, Lt=3, Ls=3, d=8, h=2, ff=16, masks="both"),
    dict(n=2, Lt=4, Ls=6, d=12, h=3, ff=20, masks="both", scale=2.0, shift=1.0),
    dict(n=1, Lt=5, Ls=3, d=16, h=4, ff=8, masks="target", scale=0.5, shift=-1.0),
    dict(n=3, Lt=2, Ls=5, d=8, h=1, ff=12, masks="source"),
]
SMALL = GRID[:2]
DROP_GRID = [dict(c, p=1.0) for c in GRID[:3]]
# Backpropagating from one target position at a time: kept small.
CAUSAL_GRID = [dict(n=2, Lt=5, Ls=4, d=12, h=3, ff=16, masks="both")]

CONFIGS = [(8, 2, 16), (12, 3, 5), (6, 1, 6)]


def inputs(c):
    scale, shift = c.params.get("scale", 1.0), c.params.get("shift", 0.0)
    x = c.randn(c.n, c.Lt, c.d) * scale + shift
    states = c.randn(c.n, c.Ls, c.d) * scale - shift
    source_mask = padding_mask(c, c.n, c.Ls) if c.masks in ("source", "both") else None
    target_mask = None
    if c.masks in ("target", "both"):  # (1, Lt, Lt): target position t sees positions 0..t
        target_mask = torch.ones(1, c.Lt, c.Lt, dtype=torch.bool).tril().to(c.device)
    return x, states, source_mask, target_mask


def weights(c):
    """The documented layout's weights: the reference's initial ones, with random norms."""
    state = c.state_of(TorchTwin, c.d, c.h, c.ff)
    for key in list(state):
        if key.startswith("norm"):
            noise = torch.randn(c.d, generator=c.generator, dtype=torch.float64).float()
            state[key] = (1.0 + 0.5 * noise) if key.endswith("weight") else noise
    return state


def build(t, c, dropout=0.0):
    layer = t.new("DecoderLayer", c.d, c.h, c.ff, dropout)
    own = {canonical(name): name for name in layer.parameters}
    t.load_state(layer, {own.get(k, k): v for k, v in weights(c).items()})
    t.to(layer, c.device, c.dtype)
    return layer


# Masks go in positionally, in the documented order: a layer whose forward names them otherwise
# (the book's `source_mask=None, target_mask=None` after the states, or any other names) is judged
# on what it computes.
def probe(t, c):
    layer = build(t, c)
    return t.forward(layer, *inputs(c))


def probe_grads(t, c):
    layer = build(t, c)
    return documented(t.forward(layer, *inputs(c), grads=c.seed, names=("x", "states")))


def probe_drop_train(t, c):
    layer = build(t, c, dropout=c.p)
    return t.forward(layer, *inputs(c))


def probe_drop_eval(t, c):
    layer = build(t, c, dropout=c.p)
    t.train(layer, False)
    return t.forward(layer, *inputs(c))


def parameters(t):
    return [sorted((canonical(name), tuple(p["shape"]))
                   for name, p in t.new("DecoderLayer", d, h, ff).parameters.items()) for d, h, ff in CONFIGS]


def test_parameters(grade):
    """Has self_attn, cross_attn, ffn and norm1..norm3 as the starter lays them out, nothing else with parameters"""
    grade.same(parameters, "the parameters should be exactly those of self_attn and cross_attn, each a "
               "MultiHeadAttention(d_model, n_heads) (q_proj, k_proj, v_proj, out_proj), ffn = "
               "nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_units, "
               "d_model)) (ffn.0 and ffn.3), and three nn.LayerNorm(d_model), norm1, norm2 and norm3 (or a "
               "ModuleList `sublayers` of three SubLayerWrapper). Checked with (d_model, n_heads, ff_units) = "
               + ", ".join(map(str, CONFIGS)))


@pytest.mark.needs("parameters")
def test_shape(grade):
    """Returns one vector per target position, (N, Lt, d_model), also when Lt != Ls"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Keeps the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_causality(grade):
    """With a subsequent target mask, the output at step t depends on no target step after t"""
    grade.causal(probe_grads, CAUSAL_GRID, length="Lt", input="x", what=WHAT)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Matches nn.TransformerDecoderLayer(norm_first=True) with the same weights (dropout 0; all mask kinds)"""
    grade.compare(probe, GRID, level="values", what=WHAT + " with dropout = 0", against=against,
                  figure=True, figure_title="the layer's output (batch 0; row: target position, column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x, states and every parameter match nn.TransformerDecoderLayer's"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " with dropout = 0, then backward", against=against)


@pytest.mark.needs("parameters")
def test_drop_train(grade):
    """In training mode, dropout = 1 drops the three sub-layers' branches only: the output is x itself"""
    grade.compare(probe_drop_train, DROP_GRID, level="values", what=WHAT + " with dropout = 1.0, in training mode",
                  against=against)


@pytest.mark.needs("parameters")
def test_drop_eval(grade):
    """In evaluation mode dropout is off, even with dropout = 1"""
    grade.compare(probe_drop_eval, DROP_GRID, level="values", what=WHAT + " with dropout = 1.0, in eval mode",
                  against=against)


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, SMALL, what=WHAT)
