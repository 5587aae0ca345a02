"""Hidden suite: transformer_encoder_layer (norm-first, batch-first, bool source mask with True =
may attend). The judge of values and gradients is PyTorch's own nn.TransformerEncoderLayer
(norm_first=True, batch_first=True), run on the course's parameter layout (see `TorchTwin`);
solutions/ holds a hand-written twin.

Layouts: the starter documents norm1/norm2 and ffn.0/ffn.3; a learner may also build the ffn
without its nn.Dropout (ffn.2) or wrap the sub-layers in `sublayers = nn.ModuleList([...])` of
SubLayerWrapper (sublayers.0.norm, sublayers.1.norm), as the book's final version does. Probes
read each target's own parameter names, load the same weights under them, and report gradients
under the documented names, so every layout is judged alike.
"""

import pytest
import torch
from torch import nn

from _shared.transformer import canonical, documented, padding_mask, torch_mask
from dl_course.grading.targets import LocalTarget
from multi_head_attention import MultiHeadAttention

WHAT = "EncoderLayer(d_model, n_heads, ff_units, dropout)(x, source_mask)"


# -- the course's layout, and PyTorch's module run on it ------------------------------------------
class TorchTwin(nn.Module):
    """The course's parameters (self_attn.{q,k,v,out}_proj, ffn.0, ffn.3, norm1, norm2), and a
    forward that runs nn.TransformerEncoderLayer(norm_first=True, batch_first=True) on them:
    q, k and v stacked into in_proj_weight/in_proj_bias, ffn.0 -> linear1, ffn.3 -> linear2.
    Gradients flow back through the stacking to the course's own parameters."""

    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.n_heads = n_heads
        self.self_attn = MultiHeadAttention(d_model, n_heads)  # a holder of q/k/v/out_proj only
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(ff_units, d_model))
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        # Kept out of the module tree: every one of its parameters is replaced on each call.
        self.__dict__["torch_layer"] = nn.TransformerEncoderLayer(
            d_model, n_heads, ff_units, dropout, batch_first=True, norm_first=True)

    def torch_parameters(self):
        a = self.self_attn
        return {
            "self_attn.in_proj_weight": torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]),
            "self_attn.in_proj_bias": torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]),
            "self_attn.out_proj.weight": a.out_proj.weight, "self_attn.out_proj.bias": a.out_proj.bias,
            "linear1.weight": self.ffn[0].weight, "linear1.bias": self.ffn[0].bias,
            "linear2.weight": self.ffn[3].weight, "linear2.bias": self.ffn[3].bias,
            "norm1.weight": self.norm1.weight, "norm1.bias": self.norm1.bias,
            "norm2.weight": self.norm2.weight, "norm2.bias": self.norm2.bias,
        }

    def forward(self, x, source_mask=None):
        layer = self.torch_layer
        layer.train(self.training)
        n, length, _ = x.shape
        mask = torch_mask(source_mask, n, length, length, self.n_heads)
        return torch.func.functional_call(layer, self.torch_parameters(), (x,), {"src_mask": mask})


against = LocalTarget({"EncoderLayer": TorchTwin}, "torch.nn.TransformerEncoderLayer(norm_first=True)")


# -- cases ------------------------------------------------------------------------------------
# Several heads in all but one case, padding masks (N, 1, L) and full (N, L, L) masks, a batch of
# 1; `scale`/`shift` move x away from mean 0 and variance 1, so a norm skipped or misplaced shows.
GRID = [
    dict(n=1, L=3, d=8, h=2, ff=16, mask="none"),
    dict(n=2, L=4, d=12, h=3, ff=20, mask="padding"),
    dict(n=1, L=5, d=16, h=4, ff=8, mask="padding", scale=3.0, shift=1.0),
    dict(n=2, L=5, d=8, h=1, ff=12, mask="full", scale=0.5, shift=-2.0),
]
SMALL = GRID[:2]
# Dropout 1: in training mode every sub-layer's branch is dropped (the layer returns x itself);
# in eval mode dropout is off. Both show where the dropouts are without any randomness.
DROP_GRID = [dict(c, p=1.0) for c in GRID[:3]]

CONFIGS = [(8, 2, 16), (12, 3, 5), (6, 1, 6)]


def inputs(c):
    x = c.randn(c.n, c.L, c.d) * c.params.get("scale", 1.0) + c.params.get("shift", 0.0)
    mask = None
    if c.mask == "padding":
        mask = padding_mask(c, c.n, c.L)
    elif c.mask == "full":  # (N, L, L), every row keeps at least its first position
        mask = c.keep_mask(c.n, c.L, c.L, p=0.6)
    return x, mask


def weights(c):
    """The documented layout's weights: the reference's initial ones, with random norms (so that
    norm1 and norm2 differ from each other and from the identity)."""
    state = c.state_of(TorchTwin, c.d, c.h, c.ff)
    for key in list(state):
        if key.startswith("norm"):
            noise = torch.randn(c.d, generator=c.generator, dtype=torch.float64).float()
            state[key] = (1.0 + 0.5 * noise) if key.endswith("weight") else noise
    return state


def build(t, c, dropout=0.0):
    layer = t.new("EncoderLayer", c.d, c.h, c.ff, dropout)
    own = {canonical(name): name for name in layer.parameters}
    t.load_state(layer, {own.get(k, k): v for k, v in weights(c).items()})
    t.to(layer, c.device, c.dtype)
    return layer


# Masks go in positionally: `forward(self, x, mask=None)` (the book's name) is as right as
# `source_mask`.
def probe(t, c):
    layer = build(t, c)
    x, mask = inputs(c)
    return t.forward(layer, x, mask)


def probe_grads(t, c):
    layer = build(t, c)
    x, mask = inputs(c)
    return documented(t.forward(layer, x, mask, grads=c.seed, names=("x",)))


def probe_drop_train(t, c):
    layer = build(t, c, dropout=c.p)
    x, mask = inputs(c)
    return t.forward(layer, x, mask)


def probe_drop_eval(t, c):
    layer = build(t, c, dropout=c.p)
    t.train(layer, False)
    x, mask = inputs(c)
    return t.forward(layer, x, mask)


def parameters(t):
    return [sorted((canonical(name), tuple(p["shape"]))
                   for name, p in t.new("EncoderLayer", d, h, ff).parameters.items()) for d, h, ff in CONFIGS]


def test_parameters(grade):
    """Has self_attn, ffn, norm1 and norm2 as the starter lays them out, nothing else with parameters"""
    grade.same(parameters, "the parameters should be exactly those of self_attn = MultiHeadAttention(d_model, "
               "n_heads) (q_proj, k_proj, v_proj, out_proj), ffn = nn.Sequential(nn.Linear(d_model, ff_units), "
               "nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_units, d_model)) (ffn.0 and ffn.3), and two "
               "nn.LayerNorm(d_model), norm1 and norm2 (or a ModuleList `sublayers` of two SubLayerWrapper). "
               "Checked with (d_model, n_heads, ff_units) = " + ", ".join(map(str, CONFIGS)))


@pytest.mark.needs("parameters")
def test_shape(grade):
    """Returns one vector per source position, (N, L, d_model)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Keeps the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT, against=against)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Matches nn.TransformerEncoderLayer(norm_first=True) with the same weights (dropout 0; with and without masks)"""
    grade.compare(probe, GRID, level="values", what=WHAT + " with dropout = 0", against=against,
                  figure=True, figure_title="the layer's output (batch 0; row: position, column: feature)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. x and every parameter match nn.TransformerEncoderLayer's"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " with dropout = 0, then backward", against=against)


@pytest.mark.needs("parameters")
def test_drop_train(grade):
    """In training mode, dropout = 1 drops both sub-layers' branches only: the output is x itself"""
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
