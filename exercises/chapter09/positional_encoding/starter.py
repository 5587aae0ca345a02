"""Sinusoidal positional encoding.

Fill in `PositionalEncoding`, then run `dl-course check positional_encoding`.
"""

import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """Adds a fixed table of sines and cosines to a batch of sequences.

    Args:
        max_len: the longest sequence the module will see.
        d_model: the number of features of each element (an even number).

    The table `pe` has shape (1, max_len, d_model). For position p and pair i
    (i = 0, 1, ..., d_model/2 - 1), with angular speed w_i = exp(-ln(10000) * 2i / d_model):

        pe[0, p, 2i]     = sin(p * w_i)      (even columns)
        pe[0, p, 2i + 1] = cos(p * w_i)      (odd columns)

    It is part of the module's state but not something to train: register it as a buffer.
    """

    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        # TODO: build the (max_len, d_model) table of sines and cosines, add a leading
        # dimension of 1, and register it as the buffer `pe`.
        raise NotImplementedError("PositionalEncoding.__init__ is not written yet")

    def forward(self, x):
        """x: (N, L, d_model) with L <= max_len. Returns x * sqrt(d_model) + pe for the first L positions,
        shape (N, L, d_model)."""
        # TODO: scale x, then add the first L rows of the table.
        raise NotImplementedError("PositionalEncoding.forward is not written yet")
