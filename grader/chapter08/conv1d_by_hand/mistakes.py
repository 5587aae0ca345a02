"""Known mistakes for conv1d_by_hand: each function is a whole (wrong) `conv1d` a learner might write.

Tried in file order; the first that gives what the learner's code gave on every case of the failing
check names the misconception. They share the right window-gathering except where they differ.
"""

import torch

from dl_course.grading.mistakes import mistake


def _windows(x, k, stride, dilation):
    span = dilation * (k - 1) + 1
    return x.unfold(2, span, stride)[..., ::dilation]  # (N, C_in, L_out, K)


def _finish(out, bias):
    return out if bias is None else out + bias.view(1, -1, 1)


@mistake("kernel_flipped", "The filter is flipped before it slides (a convolution as textbooks define it). "
         "PyTorch's conv1d does NOT flip it (it computes a cross-correlation): out[n, o, j] = sum of "
         "weight[o, c, k] * x[n, c, j*stride + k*dilation], tap k against step k of the window.",
         provides="conv1d")
def kernel_flipped(x, weight, bias=None, stride=1, dilation=1):
    flipped = torch.flip(weight, dims=[2])
    return _finish(torch.einsum("nclk,ock->nol", _windows(x, weight.size(2), stride, dilation), flipped), bias)


@mistake("channels_last", "The input is treated as channels last, (N, L, C), and permuted before the windows slide; "
         "conv1d's input is channels FIRST, (N, C, L), as given: slide the window along the last dimension.",
         provides="conv1d")
def channels_last(x, weight, bias=None, stride=1, dilation=1):
    x = x.permute(0, 2, 1)
    return _finish(torch.einsum("nclk,ock->nol", _windows(x, weight.size(2), stride, dilation), weight), bias)


@mistake("dilation_ignored", "The dilation is ignored: the K taps of a window must be dilation steps apart, "
         "x[n, c, start + k*dilation], so one window covers dilation*(K-1)+1 steps and "
         "L_out = (L - dilation*(K-1) - 1) // stride + 1.", provides="conv1d")
def dilation_ignored(x, weight, bias=None, stride=1, dilation=1):
    return _finish(torch.einsum("nclk,ock->nol", _windows(x, weight.size(2), stride, 1), weight), bias)


@mistake("stride_ignored", "The stride is ignored: the window must move `stride` steps between two outputs, so "
         "output j starts at step j*stride and L_out = (L - dilation*(K-1) - 1) // stride + 1.",
         provides="conv1d")
def stride_ignored(x, weight, bias=None, stride=1, dilation=1):
    return _finish(torch.einsum("nclk,ock->nol", _windows(x, weight.size(2), 1, dilation), weight), bias)


@mistake("one_window_short", "The last window is missing: L_out is one short. A window fits at every start from 0 "
         "to L - span (span = dilation*(K-1)+1), both ends included: L_out = (L - span) // stride + 1.",
         provides="conv1d")
def one_window_short(x, weight, bias=None, stride=1, dilation=1):
    out = torch.einsum("nclk,ock->nol", _windows(x, weight.size(2), stride, dilation), weight)
    return _finish(out[:, :, :-1], bias)


@mistake("taps_summed_first", "The K taps of a window are summed before they are weighted (each "
         "channel's window by its filter's total): each tap k has its own weight[o, c, k] and multiplies its own "
         "step x[n, c, start + k*dilation]; sum over the channels and taps only after multiplying.", provides="conv1d")
def taps_summed_first(x, weight, bias=None, stride=1, dilation=1):
    windows = _windows(x, weight.size(2), stride, dilation).sum(-1)  # (N, C_in, L_out)
    return _finish(torch.einsum("ncl,oc->nol", windows, weight.sum(-1)), bias)


@mistake("bias_on_last_dim", "The bias is added as it comes, shape (C_out,), to an (N, C_out, L_out) output: it "
         "broadcasts against the LAST dimension, the positions (an error unless C_out == L_out, wrong values then). "
         "Give it the shape (1, C_out, 1): bias.view(1, -1, 1) (or bias[:, None]).", provides="conv1d")
def bias_on_last_dim(x, weight, bias=None, stride=1, dilation=1):
    out = torch.einsum("nclk,ock->nol", _windows(x, weight.size(2), stride, dilation), weight)
    return out if bias is None else out + bias


@mistake("output_buffer_on_cpu", "The output is preallocated with torch.zeros(N, C_out, L_out, dtype=x.dtype), on "
         "the CPU: on a GPU filling it from x fails. Use x.new_zeros(...), or build the output from x without a buffer.",
         provides="conv1d")
def output_buffer_on_cpu(x, weight, bias=None, stride=1, dilation=1):
    windows = _windows(x, weight.size(2), stride, dilation)
    out = torch.zeros(x.size(0), weight.size(0), windows.size(2), dtype=x.dtype)
    for j in range(windows.size(2)):
        out[:, :, j] = torch.einsum("nck,ock->no", windows[:, :, j], weight)
    return _finish(out, bias)


@mistake("output_buffer_float32", "The output is preallocated with torch.zeros(N, C_out, L_out): float32 on the "
         "CPU whatever x is, so float64 results are rounded to float32 (and a GPU would refuse). Use "
         "x.new_zeros(...).", provides="conv1d")
def output_buffer_float32(x, weight, bias=None, stride=1, dilation=1):
    windows = _windows(x, weight.size(2), stride, dilation)
    out = torch.zeros(x.size(0), weight.size(0), windows.size(2))
    for j in range(windows.size(2)):
        out[:, :, j] = torch.einsum("nck,ock->no", windows[:, :, j], weight)
    return _finish(out, bias)
