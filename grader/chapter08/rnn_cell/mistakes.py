"""Known mistakes for rnn_cell: each class is a whole (wrong) RNN cell that a learner might write.

They are tried in file order and the first one that gives what the learner's code gave on every
case of the failing check names the misconception. `_Cell` holds what they share (parameters laid
out as in nn.RNNCell, batched/unbatched handling, the default state); each variant overrides the
one piece it gets wrong.
"""

import math

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Cell(nn.Module):
    """A correct RNN cell, cut into pieces that the variants below override one at a time."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def zeros(self, x):
        return x.new_zeros(x.shape[0], self.hidden_size)

    def input_part(self, x):
        t = x @ self.weight_ih.T
        return t if self.bias_ih is None else t + self.bias_ih

    def hidden_part(self, h):
        t = h @ self.weight_hh.T
        return t if self.bias_hh is None else t + self.bias_hh

    def combine(self, t_x, t_h):
        return self.act(t_x + t_h)

    def act(self, t):
        return torch.tanh(t)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        if hx is None:
            h = self.zeros(x)
        else:
            h = hx.unsqueeze(0) if single else hx
        h_new = self.combine(self.input_part(x), self.hidden_part(h))
        return h_new.squeeze(0) if single else h_new


# -- wrong parameters ------------------------------------------------------------------------------

@mistake("transposed_weights", "The weights are stored as (F, H) and (H, H) ready for x @ W; nn.RNNCell stores "
         "weight_ih as (H, F), one row per hidden unit, and multiplies by the transpose (x @ W_ih.T, h @ W_hh.T).",
         provides="RNNCell")
class TransposedWeights(_Cell):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)
        self.weight_ih = nn.Parameter(self.weight_ih.detach().T.clone())
        self.weight_hh = nn.Parameter(self.weight_hh.detach().T.clone())

    def input_part(self, x):
        t = x @ self.weight_ih
        return t if self.bias_ih is None else t + self.bias_ih

    def hidden_part(self, h):
        t = h @ self.weight_hh
        return t if self.bias_hh is None else t + self.bias_hh


@mistake("single_bias", "The cell has a single bias of H; nn.RNNCell keeps two, bias_ih and bias_hh (both added "
         "to the same sum), so that its state dict loads into yours.", provides="RNNCell")
class SingleBias(_Cell):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, False)
        if bias:
            self.bias = nn.Parameter(torch.zeros(hidden_size))
        else:
            self.bias = None

    def combine(self, t_x, t_h):
        t = t_x + t_h
        return self.act(t if self.bias is None else t + self.bias)


# -- wrong default state -----------------------------------------------------------------------------
# default_state_on_cpu only fails the device check; default_state_float32_cpu already fails on float64
# inputs. On the device check (float32 on 'meta') the two behave alike, so the narrower one comes first.

@mistake("default_state_on_cpu", "The default hx is created on the CPU (torch.zeros(N, H, dtype=x.dtype) has no "
         "device=): on a GPU it clashes with x. Use x.new_zeros(N, H), which follows x's device.",
         provides="RNNCell")
class DefaultStateOnCpu(_Cell):
    def zeros(self, x):
        return torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)


@mistake("default_state_float32_cpu", "The default hx is torch.zeros(N, H): always float32 and on the CPU. With "
         "float64 inputs (or on a GPU) it clashes with x; x.new_zeros(N, H) follows x's dtype and device.",
         provides="RNNCell")
class DefaultStateFloat32Cpu(_Cell):
    def zeros(self, x):
        return torch.zeros(x.shape[0], self.hidden_size)


# -- wrong shapes ------------------------------------------------------------------------------------

@mistake("unbatched_keeps_batch", "An unbatched x of shape (F,) gives back a (1, H) state; the answer must be shaped "
         "like hx, (H,): remove the batch dimension you added (squeeze(0)).", provides="RNNCell")
class UnbatchedKeepsBatch(_Cell):
    def forward(self, x, hx=None):
        x = x.reshape(-1, x.shape[-1])
        h = self.zeros(x) if hx is None else hx.reshape(-1, self.hidden_size)
        return self.combine(self.input_part(x), self.hidden_part(h))


# -- wrong values ------------------------------------------------------------------------------------

@mistake("relu_nonlinearity", "The sum goes through a relu; nn.RNNCell's default nonlinearity is tanh, which keeps "
         "negative values (squashed into -1..1) instead of cutting them to 0.", provides="RNNCell")
class ReluNonlinearity(_Cell):
    def act(self, t):
        return torch.relu(t)


@mistake("sigmoid_nonlinearity", "The sum goes through a sigmoid, as a gate would; the plain RNN cell uses tanh, "
         "so the new state lies in -1..1, not 0..1.", provides="RNNCell")
class SigmoidNonlinearity(_Cell):
    def act(self, t):
        return torch.sigmoid(t)


@mistake("tanh_input_only", "The tanh is applied to the input part alone, tanh(W_ih x + b_ih) + W_hh h + b_hh; it "
         "goes around the whole sum: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).", provides="RNNCell")
class TanhInputOnly(_Cell):
    def combine(self, t_x, t_h):
        return self.act(t_x) + t_h


@mistake("hidden_forgotten", "The previous state never enters the sum (W_hh h is missing), so the cell has no memory "
         "and weight_hh gets no gradient: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).", provides="RNNCell")
class HiddenForgotten(_Cell):
    def hidden_part(self, h):
        t = h.new_zeros(h.shape) if self.bias_hh is None else self.bias_hh.expand_as(h)
        return t


@mistake("no_nonlinearity", "The sum is returned as it is, without a tanh: the cell is then a linear map and the "
         "state can grow without bound. h' = tanh(W_ih x + b_ih + W_hh h + b_hh).", provides="RNNCell")
class NoNonlinearity(_Cell):
    def act(self, t):
        return t


# -- right values, wrong gradients -------------------------------------------------------------------

@mistake("detached_hidden", "The incoming hx is detached inside the cell (.detach() or .data), so no gradient flows "
         "back to the previous state: backpropagation through time needs that path.", provides="RNNCell")
class DetachedHidden(_Cell):
    def forward(self, x, hx=None):
        return super().forward(x, None if hx is None else hx.detach())
