"""A 1D convolution by hand.

Fill in `conv1d`, then run `dl-course check conv1d_by_hand`.
F.conv1d and nn.Conv1d (and the other convolution functions and layers) are off limits: build it
from tensor operations, a loop over the window positions, `x.unfold`, einsum: your choice.
"""

import torch


def conv1d(x, weight, bias=None, stride=1, dilation=1):
    """What torch.nn.functional.conv1d(x, weight, bias, stride=stride, dilation=dilation) computes
    (no padding).

    Args:
        x: (N, C_in, L), channels FIRST: for a batch of sequences (N, L, F) that is
            x = seq.permute(0, 2, 1), each feature a channel.
        weight: (C_out, C_in, K), one filter of K taps per input channel, per output channel.
        bias: (C_out,), one number per output channel, or None.
        stride: how many steps the window moves between two outputs.
        dilation: the gap between two taps of the window: taps at
            start, start + dilation, ..., start + dilation * (K - 1).

    Returns:
        (N, C_out, L_out), with L_out = (L - dilation * (K - 1) - 1) // stride + 1:
        out[n, o, j] = bias[o] + sum over c and k of
                       weight[o, c, k] * x[n, c, j * stride + k * dilation]
        (as PyTorch does it: the filter is NOT flipped). x's dtype and device.
    """
    # TODO: work out L_out, gather each window's K taps from every input channel,
    #       multiply by the filters, sum over the channels and the taps, add the bias.
    raise NotImplementedError("conv1d is not written yet")
