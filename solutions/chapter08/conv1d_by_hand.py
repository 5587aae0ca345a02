"""Reference: a 1D convolution (PyTorch's kind: a cross-correlation) from tensor operations."""

import torch


def conv1d(x, weight, bias=None, stride=1, dilation=1):
    c_out, c_in, k = weight.shape
    span = dilation * (k - 1) + 1                # how many steps one window covers
    windows = x.unfold(2, span, stride)          # (N, C_in, L_out, span): one row per window start
    windows = windows[..., ::dilation]           # keep every dilation-th step: (N, C_in, L_out, K)
    # Each output channel o at window l: sum over input channels c and taps k, no flip.
    out = torch.einsum("nclk,ock->nol", windows, weight)  # (N, C_out, L_out)
    if bias is not None:
        out = out + bias.view(1, c_out, 1)       # one bias per output channel
    return out
