"""A plain (Elman) RNN cell, one time step.

Fill in `RNNCell`, then run `dl-course check rnn_cell`.
Build it from tensor operations: torch.nn.RNNCell, torch.nn.RNN and torch.rnn_tanh_cell are off
limits (you may use them in a scratch file to compare your answers).
"""

import math

import torch
from torch import nn


class RNNCell(nn.Module):
    """One step of a plain RNN with tanh, with the same parameters as torch.nn.RNNCell.

    Args:
        input_size: F, the number of features of x.
        hidden_size: H, the size of the hidden state.
        bias: when False, the cell has no bias parameters at all.

    Parameters:
        weight_ih: (H, F)   W_ih, applied to the input
        weight_hh: (H, H)   W_hh, applied to the previous hidden state
        bias_ih:   (H,)     b_ih   (only when bias=True)
        bias_hh:   (H,)     b_hh   (only when bias=True)

    Equation:
        h′ = tanh(W_ih x + b_ih + W_hh h + b_hh)
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
            hx: the previous hidden state, (N, H), or (H,) to match an unbatched x;
                None means zeros (on x's device, with x's dtype).

        Returns:
            h′, the new hidden state, shaped like hx: (N, H), or (H,) when x is unbatched.
        """
        # TODO: compute h′ = tanh(W_ih x + b_ih + W_hh h + b_hh).
        raise NotImplementedError("RNNCell.forward is not written yet")
