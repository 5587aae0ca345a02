"""Provided: chapter 9's multi-head attention (you do not write this one again).

This is the course's answer to chapter 9's multi_head_attention exercise, so chapter 10 does
not hang on it. If you prefer your own, copy your chapter09/multi_head_attention.py over this
file: it must keep the same interface.

    attn = MultiHeadAttention(d_model, n_heads)
    out, weights = attn(query, key, value, mask=mask)

query (N, Lq, D), key and value (N, Lk, D); mask None or bool broadcastable to (N, Lq, Lk),
True = may attend. Returns out (N, Lq, D) and weights (N, n_heads, Lq, Lk). Parameters:
q_proj, k_proj, v_proj and out_proj, each nn.Linear(D, D). Narrow attention: each head works
on its own slice of the projections. No dropout inside.
"""

import math

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_k = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def _heads(self, x):
        # (N, L, D) -> (N, L, h, d_k) -> (N, h, L, d_k): each head gets its own slice of the projection.
        n, length, _ = x.shape
        return x.view(n, length, self.n_heads, self.d_k).transpose(1, 2)

    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self._heads(self.q_proj(query))
        k = self._heads(self.k_proj(key))
        v = self._heads(self.v_proj(value))

        # (N, h, Lq, d_k) @ (N, h, d_k, Lk) -> (N, h, Lq, Lk)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.d_k)
        if mask is not None:
            # (N, Lq, Lk)-broadcastable -> (N, 1, Lq, Lk): one mask shared by every head.
            scores = scores.masked_fill(~mask.unsqueeze(-3), float("-inf"))
        weights = torch.softmax(scores, dim=-1)

        # (N, h, Lq, Lk) @ (N, h, Lk, d_k) -> (N, h, Lq, d_k) -> (N, Lq, h, d_k) -> (N, Lq, D)
        context = torch.matmul(weights, v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights
