"""Two ready-made sub-layers to wrap (provided: you do not write these).

Both take x of shape (N, L, D) and return (N, L, D), so either can be the `sublayer` of a
SubLayerWrapper:

    wrapper = SubLayerWrapper(d_model=8)
    ffn = FeedForward(d_model=8, ff_units=16)
    out = wrapper(x, ffn)                    # x + drop(ffn(norm(x)))

    attn = SelfAttention(d_model=8, n_heads=2)
    out = wrapper(x, attn)                   # x + drop(attn(norm(x)))

A sub-layer that needs more than x (a mask, the encoder's states) is wrapped in a lambda:

    out = wrapper(x, lambda y: attn(y, mask=source_mask))
"""

import torch
from torch import nn


class FeedForward(nn.Module):
    """The position-wise feed-forward network of a Transformer layer: Linear, ReLU, Linear."""

    def __init__(self, d_model, ff_units):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model))

    def forward(self, x):
        return self.net(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention that returns only its output (N, L, D).

    mask: None, or a bool tensor (N, 1, L) or (N, L, L), True = may attend (this course's rule).
    """

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)

    def forward(self, x, mask=None):
        attn_mask = None
        if mask is not None:
            n, length = x.shape[0], x.shape[1]
            # PyTorch's bool masks mean the opposite: True = may NOT attend, one per head.
            attn_mask = ~mask.expand(n, length, length).repeat_interleave(self.n_heads, dim=0)
        out, _ = self.attn(x, x, x, attn_mask=attn_mask, need_weights=False)
        return out
