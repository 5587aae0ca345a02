"""The cell that `dl-course check rnn_over_sequence` hands to your `run_rnn`. Do not edit it.

`TensorRNNCell` IS an `nn.RNNCell` (a subclass, with the same parameters, the same arguments and
the same answers, errors included); only its one step is written out in tensor operations. The
checker needs that because this exercise forbids PyTorch's recurrent kernels (`nn.RNN` and the
`rnn_tanh` family of ops), and `nn.RNNCell` itself runs on one of them. In your own experiments
a plain `nn.RNNCell` behaves exactly the same:

    cell = nn.RNNCell(input_size=2, hidden_size=3)      # or TensorRNNCell(2, 3)
    h = cell(x_t, h)                                     # (N, F), (N, H) -> (N, H)
"""

import torch
from torch import nn


class TensorRNNCell(nn.RNNCell):
    """nn.RNNCell with its step in tensor operations: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            h = x.new_zeros(x.size(0), self.hidden_size)
        else:
            h = hx if batched else hx.unsqueeze(0)
        pre = x @ self.weight_ih.T + h @ self.weight_hh.T
        if self.bias:
            pre = pre + self.bias_ih + self.bias_hh
        out = torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)
        return out if batched else out.squeeze(0)
