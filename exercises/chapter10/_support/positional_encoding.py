"""Provided: chapter 9's sinusoidal positional encoding (you do not write this one again).

    pe = PositionalEncoding(max_len, d_model)
    encoded = pe(x)          # x (N, L, d_model), L <= max_len -> (N, L, d_model)

It scales x by sqrt(d_model) and adds the first L rows of a fixed table, kept as the buffer
`pe` of shape (1, max_len, d_model) (so it moves with .to(device) and is saved in state_dict).
"""

import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        # Work in float64 and round once, so the stored float32 table is as exact as it can be.
        positions = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)          # (max_len, 1)
        pair = torch.arange(0, d_model, 2, dtype=torch.float64)                        # 2i = 0, 2, 4, ...
        speeds = torch.exp(pair * (-math.log(10000.0) / d_model))                      # w_i, (d_model/2,)
        angles = positions * speeds                                                    # (max_len, d_model/2)
        table = torch.empty(max_len, d_model, dtype=torch.float64)
        table[:, 0::2] = torch.sin(angles)
        table[:, 1::2] = torch.cos(angles)
        # A buffer: moves with .to(), is saved in state_dict(), and is never trained.
        self.register_buffer("pe", table.to(torch.get_default_dtype()).unsqueeze(0))

    def forward(self, x):
        # x: (N, L, d_model); pe: (1, max_len, d_model) -> keep the first L positions.
        length = x.size(1)
        return x * math.sqrt(self.d_model) + self.pe[:, :length]
