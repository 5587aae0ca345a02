"""Reference: layer normalization over the last dimension, as nn.LayerNorm(d_model, eps)."""

import torch
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.d_model = d_model
        self.eps = eps
        # One scale and one shift per feature; the identity to begin with.
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        # Statistics of each data point (row) over its own D features: (..., 1) each.
        mean = x.mean(dim=-1, keepdim=True)
        centred = x - mean
        var = (centred * centred).mean(dim=-1, keepdim=True)   # biased: divides by D
        # eps sits under the square root, as in PyTorch.
        standardised = centred / torch.sqrt(var + self.eps)
        return standardised * self.weight + self.bias
