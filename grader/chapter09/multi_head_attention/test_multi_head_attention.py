"""Hidden suite: multi_head_attention (narrow multi-head attention, batch-first, bool mask True = may attend)."""

import pytest
import torch
from torch import nn
import torch.nn.functional as F

from dl_course.grading.targets import LocalTarget

WHAT = "MultiHeadAttention(d_model, n_heads, bias)(query, key, value, mask)"


class TorchAttention(nn.Module):
    """Trusted stand-in built on PyTorch's own multi-head attention, with our layout and mask convention.

    Same sub-modules as the exercise (q_proj, k_proj, v_proj, out_proj), so one state dict fits both.
    """

    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        lk = key.shape[1]
        attn_mask = None
        if mask is not None:
            # Ours: True = may attend, broadcastable to (N, Lq, Lk).
            # PyTorch's: True = may NOT attend, (N * heads, Lq, Lk), batch-major then head.
            attn_mask = ~mask.expand(n, lq, lk).repeat_interleave(self.n_heads, dim=0)
        in_bias = None
        if self.q_proj.bias is not None:
            in_bias = torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias])
        out, weights = F.multi_head_attention_forward(
            query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1),
            self.d_model, self.n_heads,
            in_proj_weight=None, in_proj_bias=in_bias, bias_k=None, bias_v=None, add_zero_attn=False,
            dropout_p=0.0, out_proj_weight=self.out_proj.weight, out_proj_bias=self.out_proj.bias,
            training=False, need_weights=True, attn_mask=attn_mask, use_separate_proj_weight=True,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight, v_proj_weight=self.v_proj.weight,
            average_attn_weights=False,
        )
        return out.transpose(0, 1), weights


def pytorch():
    return LocalTarget({"MultiHeadAttention": TorchAttention}, "torch.nn.MultiheadAttention")


# Several heads everywhere but one case (with one head some mistakes are invisible), Lq != Lk in
# cross-attention, masks of both kinds, bias=False, a batch of 1. `big` multiplies the queries and keys
# so that the scores spread to about ±100: there exp() overflows in float32 and a softmax written as
# exp(s) / exp(s).sum() gives NaN, where torch.softmax does not.
GRID = [
    dict(n=1, lq=3, lk=3, d=8, h=2, bias=True, attn="self", mask="none"),
    dict(n=2, lq=4, lk=6, d=12, h=3, bias=True, attn="cross", mask="padding"),
    dict(n=2, lq=5, lk=5, d=16, h=4, bias=False, attn="self", mask="causal"),
    dict(n=3, lq=2, lk=7, d=6, h=1, bias=True, attn="cross", mask="none"),
    dict(n=2, lq=6, lk=3, d=32, h=8, bias=True, attn="cross", mask="full"),
    dict(n=1, lq=5, lk=4, d=20, h=5, bias=False, attn="cross", mask="padding"),
    dict(n=2, lq=4, lk=5, d=16, h=2, bias=True, attn="cross", mask="padding", big=16),
]


def inputs(c):
    big = c.params.get("big", 1)
    query = c.randn(c.n, c.lq, c.d) * big
    if c.attn == "self":
        key = value = query
    else:
        key, value = c.randn(c.n, c.lk, c.d) * big, c.randn(c.n, c.lk, c.d)
    if c.mask == "padding":  # (N, 1, Lk): some keys hidden from every query
        mask = c.keep_mask(c.n, 1, c.lk)
    elif c.mask == "causal":  # (1, Lq, Lq): query i sees keys 0..i
        mask = torch.ones(1, c.lq, c.lk, dtype=torch.bool).tril().to(c.device)
    elif c.mask == "full":  # (N, Lq, Lk): an arbitrary pattern per query
        mask = c.keep_mask(c.n, c.lq, c.lk)
    else:
        mask = None
    return query, key, value, mask


def build(t, c):
    module = t.new("MultiHeadAttention", c.d, c.h, bias=c.bias)
    t.load_state(module, c.state_of(TorchAttention, c.d, c.h, bias=c.bias))
    t.to(module, c.device, c.dtype)
    return module


def probe(t, c):
    module = build(t, c)
    return t.forward(module, *inputs(c))


def probe_grads(t, c):
    module = build(t, c)
    return t.forward(module, *inputs(c), grads=c.seed, names=("query", "key", "value"))


CONFIGS = [(8, 2, True), (12, 3, False), (6, 1, True)]


def submodules(t):
    return [sorted((name, tuple(p["shape"])) for name, p in t.new("MultiHeadAttention", d, h, bias=b).parameters.items())
            for d, h, b in CONFIGS]


def test_parameters(grade):
    """Has q_proj, k_proj, v_proj and out_proj, each a Linear(d_model, d_model) with bias only when asked"""
    grade.same(submodules, "the parameters should be exactly q_proj, k_proj, v_proj and out_proj, each an "
               "nn.Linear(d_model, d_model, bias=bias): their weights (D, D) and, only when bias=True, their "
               "biases (D,). Checked with (d_model, n_heads, bias) = " + ", ".join(map(str, CONFIGS)))


@pytest.mark.needs("parameters")
def test_shapes(grade):
    """Returns output (N, Lq, D) and weights (N, n_heads, Lq, Lk)"""
    grade.compare(probe, GRID, level="shape", dtypes=("float32",), what=WHAT)


@pytest.mark.needs("parameters")
def test_dtype(grade):
    """Both outputs keep the input's dtype"""
    grade.compare(probe, GRID, level="dtype", what=WHAT)


@pytest.mark.needs("parameters")
def test_values(grade):
    """Output and weights match PyTorch's multi-head attention (self, cross, masked, several heads)"""
    grade.compare(probe, GRID, level="values", what=WHAT, against=pytorch(),
                  figure=1, figure_title="attention weights (batch 0, head 0; row: query, column: key)")


@pytest.mark.needs("parameters")
def test_gradients(grade):
    """Gradients w.r.t. query, key, value and every parameter are right"""
    grade.compare(probe_grads, GRID, grads=True, what=WHAT + " then backward")


@pytest.mark.needs("parameters")
def test_device(grade):
    """Works on whatever device the inputs live on"""
    grade.portable(probe, GRID, what=WHAT)
