"""Reference: a GRU cell written from tensor operations, laid out like torch.nn.GRUCell."""

import math

import torch
from torch import nn


class GRUCell(nn.Module):
    """One step of a gated recurrent unit: h' = (1 - z) * n + z * h.

    The parameters stack the three parts row-wise in the order r (reset), z (update),
    n (candidate), so a state dict saved from torch.nn.GRUCell loads as it is.
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            # Registered as None so that `self.bias_ih` still exists but is not a parameter.
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        # The same initialisation as PyTorch: uniform in [-1/sqrt(H), 1/sqrt(H)].
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, hx=None):
        unbatched = x.dim() == 1
        if unbatched:
            x = x.unsqueeze(0)
        if hx is None:
            # Follow the input: same device, same dtype.
            h = x.new_zeros(x.size(0), self.hidden_size)
        else:
            h = hx.unsqueeze(0) if unbatched else hx

        # Both transformations at once: (N, 3H) each, then cut into the r, z, n blocks.
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi = gi + self.bias_ih
            gh = gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, dim=1)
        h_r, h_z, h_n = gh.chunk(3, dim=1)

        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        # The reset gate scales the whole hidden transformation, its bias b_hn included.
        n = torch.tanh(i_n + r * h_n)
        h_new = (1 - z) * n + z * h
        return h_new.squeeze(0) if unbatched else h_new
