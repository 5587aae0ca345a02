"""A long short-term memory (LSTM) cell, one time step.

Fill in `LSTMCell`, then run `dl-course check lstm_cell`.
Build it from tensor operations: torch.nn.LSTMCell, torch.nn.LSTM and torch.lstm_cell are off limits
(you may use them in a scratch file to compare your answers).
"""

import math

import torch
from torch import nn


class LSTMCell(nn.Module):
    """One step of an LSTM, with the same parameters as torch.nn.LSTMCell.

    Args:
        input_size: F, the number of features of x.
        hidden_size: H, the size of the hidden state (and of the cell state).
        bias: when False, the cell has no bias parameters at all.

    Parameters (rows stacked in the order i, f, g, o; each block has H rows):
        weight_ih: (4*H, F)  [W_ii; W_if; W_ig; W_io]
        weight_hh: (4*H, H)  [W_hi; W_hf; W_hg; W_ho]
        bias_ih:   (4*H,)    [b_ii; b_if; b_ig; b_io]   (only when bias=True)
        bias_hh:   (4*H,)    [b_hi; b_hf; b_hg; b_ho]   (only when bias=True)

    Equations (σ is the sigmoid, ⊙ multiplies element by element):
        i  = σ(W_ii x + b_ii + W_hi h + b_hi)        input gate
        f  = σ(W_if x + b_if + W_hf h + b_hf)        forget gate
        g  = tanh(W_ig x + b_ig + W_hg h + b_hg)     candidate
        o  = σ(W_io x + b_io + W_ho h + b_ho)        output gate
        c′ = f ⊙ c + i ⊙ g
        h′ = o ⊙ tanh(c′)
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
            hx: the previous states as a tuple (h, c), each (N, H), or (H,) to match an
                unbatched x; None means both are zeros (on x's device, with x's dtype).

        Returns:
            (h′, c′), the new hidden state and the new cell state, each shaped like h:
            (N, H), or (H,) when x is unbatched.
        """
        # TODO: compute the gates i, f, o and the candidate g, then c′ and h′.
        raise NotImplementedError("LSTMCell.forward is not written yet")
