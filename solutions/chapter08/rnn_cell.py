"""Reference: a plain (Elman) RNN cell written from tensor operations, laid out like torch.nn.RNNCell."""

import math

import torch
from torch import nn


class RNNCell(nn.Module):
    """One step of a plain RNN cell with tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).

    The parameters have the names and shapes of torch.nn.RNNCell's, so a state dict saved from
    it loads as it is.
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        else:
            # The attributes exist, but they are not parameters (exactly like nn.RNNCell).
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's initialisation: uniform in [-1/sqrt(H), 1/sqrt(H)].
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, hx=None):
        unbatched = x.dim() == 1
        if unbatched:
            x = x.unsqueeze(0)
        if hx is None:
            # The state starts at zero, on x's device and with x's dtype.
            h = x.new_zeros(x.size(0), self.hidden_size)
        else:
            h = hx.unsqueeze(0) if unbatched else hx

        pre = x @ self.weight_ih.T + h @ self.weight_hh.T
        if self.bias_ih is not None:
            pre = pre + self.bias_ih + self.bias_hh
        h_new = torch.tanh(pre)
        return h_new.squeeze(0) if unbatched else h_new
