"""A gated recurrent unit (GRU) cell, one time step.

Fill in `GRUCell`, then run `dl-course check gru_cell`.
Build it from tensor operations: torch.nn.GRUCell, torch.nn.GRU and torch.gru_cell are off limits
(you may use them in a scratch file to compare your answers).
"""

import math

import torch
from torch import nn


class GRUCell(nn.Module):
    """One step of a GRU, with the same parameters as torch.nn.GRUCell.

    Args:
        input_size: F, the number of features of x.
        hidden_size: H, the size of the hidden state.
        bias: when False, the cell has no bias parameters at all.

    Parameters (rows stacked in the order r, z, n; each block has H rows):
        weight_ih: (3*H, F)  [W_ir; W_iz; W_in]
        weight_hh: (3*H, H)  [W_hr; W_hz; W_hn]
        bias_ih:   (3*H,)    [b_ir; b_iz; b_in]   (only when bias=True)
        bias_hh:   (3*H,)    [b_hr; b_hz; b_hn]   (only when bias=True)

    Equations (σ is the sigmoid, ⊙ multiplies element by element):
        r  = σ(W_ir x + b_ir + W_hr h + b_hr)
        z  = σ(W_iz x + b_iz + W_hz h + b_hz)
        n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        h′ = (1 − z) ⊙ n + z ⊙ h
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        # TODO: create weight_ih and weight_hh as nn.Parameter (the values do not matter here:
        #       reset_parameters below fills them), and bias_ih, bias_hh when bias is True.
        #       When bias is False, register the biases as None instead.

        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialisation: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)]. (Already done.)"""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, hx=None):
        """One time step.

        Args:
            x: the input, (N, F), or (F,) for a single unbatched example.
            hx: the previous hidden state, (N, H) or (H,) to match x; None means zeros
                (on x's device, with x's dtype).

        Returns:
            h′, the new hidden state, shaped like hx: (N, H), or (H,) when x is unbatched.
        """
        # TODO: compute the gates r and z, the candidate n, and the new hidden state.
        raise NotImplementedError("GRUCell.forward is not written yet")
