"""Reference: scaled dot-product attention, batch-first, bool mask with True = may attend."""

import math

import torch


def dot_product_attention(query, key, value, mask=None):
    d_k = query.shape[-1]
    # (N, Lq, Dk) @ (N, Dk, Lk) -> (N, Lq, Lk): how well each query matches each key.
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        # Hidden keys get -inf, so the softmax gives them exactly 0 and renormalises the rest.
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = torch.softmax(scores, dim=-1)  # each query's weights sum to 1 over the keys
    # (N, Lq, Lk) @ (N, Lk, Dv) -> (N, Lq, Dv): the weighted average of the values.
    context = torch.matmul(alphas, value)
    return context, alphas
