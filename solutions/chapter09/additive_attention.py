"""Reference: additive (Bahdanau-style) attention, batch-first, bool mask with True = may attend."""

import torch
from torch import nn


class AdditiveAttention(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        # Queries and keys may have different sizes: each gets its own projection into a shared
        # space of `hidden_size` features. No biases (a bias on both would just add up to one).
        self.w_query = nn.Linear(query_size, hidden_size, bias=False)
        self.w_key = nn.Linear(key_size, hidden_size, bias=False)
        # v turns each tanh feature vector into one number: the score.
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, key, value, mask=None):
        # (N, Lq, Dq) -> (N, Lq, H) and (N, Lk, Dk) -> (N, Lk, H)
        q = self.w_query(query)
        k = self.w_key(key)
        # Every query with every key: (N, Lq, 1, H) + (N, 1, Lk, H) -> (N, Lq, Lk, H)
        features = torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))
        # (N, Lq, Lk, H) -> (N, Lq, Lk, 1) -> (N, Lq, Lk)
        scores = self.v(features).squeeze(-1)
        if mask is not None:
            # True = may attend: hide the others before the softmax, so that they get exactly 0.
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)  # each query's weights sum to 1 over the keys
        # (N, Lq, Lk) @ (N, Lk, Dv) -> (N, Lq, Dv)
        context = torch.bmm(alphas, value)
        return context, alphas
