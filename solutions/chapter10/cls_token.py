"""Reference: prepend one learned [CLS] embedding to every sequence of patch embeddings."""

import torch
from torch import nn


class PatchEmbeddingWithCLS(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        # One token for the whole model, learned like any weight; zeros to begin with.
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))

    def forward(self, x):
        # (1, 1, D) -> (N, 1, D): expand makes a view, so every row's gradient flows back into
        # the one token (summed over the batch).
        tokens = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat([tokens, x], dim=1)      # (N, 1 + P, D), the token first
