"""Reference: an LSTM cell written from tensor operations, laid out like torch.nn.LSTMCell."""

import math

import torch
from torch import nn


class LSTMCell(nn.Module):
    """One step of a long short-term memory cell: returns the new hidden and cell states (h', c').

    The parameters stack the four parts row-wise in the order i (input gate), f (forget gate),
    g (candidate), o (output gate), so a state dict saved from torch.nn.LSTMCell loads as it is.
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        else:
            # The attributes exist, but they are not parameters (exactly like nn.LSTMCell).
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
            # Both states start at zero, on x's device and with x's dtype.
            h = x.new_zeros(x.size(0), self.hidden_size)
            c = x.new_zeros(x.size(0), self.hidden_size)
        else:
            h, c = hx
            if unbatched:
                h, c = h.unsqueeze(0), c.unsqueeze(0)

        # All four pre-activations in one go: (N, 4H), then four blocks of H columns.
        gates = x @ self.weight_ih.T + h @ self.weight_hh.T
        if self.bias_ih is not None:
            gates = gates + self.bias_ih + self.bias_hh
        i, f, g, o = gates.chunk(4, dim=1)
        i = torch.sigmoid(i)
        f = torch.sigmoid(f)
        g = torch.tanh(g)
        o = torch.sigmoid(o)

        c_new = f * c + i * g
        h_new = o * torch.tanh(c_new)
        if unbatched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new
