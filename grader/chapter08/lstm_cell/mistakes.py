"""Known mistakes for lstm_cell: each class is a whole (wrong) LSTM cell that a learner might write.

They are tried in file order and the first one that gives what the learner's code gave on every
case of the failing check names the misconception. `_Cell` holds what they share (parameters laid
out as in nn.LSTMCell, batched/unbatched handling, the default state); each variant overrides the
one piece it gets wrong.
"""

import math

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Cell(nn.Module):
    """A correct LSTM cell, cut into pieces that the variants below override one at a time."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def zeros(self, x):
        return x.new_zeros(x.shape[0], self.hidden_size)

    def pre(self, x, h):
        gates = x @ self.weight_ih.T + h @ self.weight_hh.T
        if self.bias_ih is not None:
            gates = gates + self.bias_ih + self.bias_hh
        return gates

    def blocks(self, gates):
        i, f, g, o = gates.chunk(4, 1)
        return i, f, g, o

    def activate(self, i, f, g, o):
        return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)

    def cell(self, i, f, g, c):
        return f * c + i * g

    def hidden(self, o, c_new):
        return o * torch.tanh(c_new)

    def answer(self, h_new, c_new):
        return h_new, c_new

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        if hx is None:
            h, c = self.zeros(x), self.zeros(x)
        else:
            h, c = hx
            h, c = (h.unsqueeze(0), c.unsqueeze(0)) if single else (h, c)
        i, f, g, o = self.activate(*self.blocks(self.pre(x, h)))
        c_new = self.cell(i, f, g, c)
        h_new = self.hidden(o, c_new)
        if single:
            h_new, c_new = h_new.squeeze(0), c_new.squeeze(0)
        return self.answer(h_new, c_new)


# -- wrong parameters ------------------------------------------------------------------------------

@mistake("transposed_weights", "The weights are stored as (F, 4H) and (H, 4H), ready for x @ W; nn.LSTMCell stores "
         "them as (4H, F) and (4H, H), one row per output unit, and multiplies by their transpose.",
         provides="LSTMCell")
class TransposedWeights(_Cell):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)
        self.weight_ih = nn.Parameter(self.weight_ih.detach().T.clone())
        self.weight_hh = nn.Parameter(self.weight_hh.detach().T.clone())

    def pre(self, x, h):
        gates = x @ self.weight_ih + h @ self.weight_hh
        if self.bias_ih is not None:
            gates = gates + self.bias_ih + self.bias_hh
        return gates


@mistake("single_bias", "The cell has a single bias of 4H; nn.LSTMCell keeps two, bias_ih and bias_hh (both added "
         "to the same pre-activation), so that its state dict loads into yours.", provides="LSTMCell")
class SingleBias(_Cell):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, False)
        if bias:
            self.bias = nn.Parameter(torch.zeros(4 * hidden_size))
        else:
            self.bias = None

    def pre(self, x, h):
        gates = x @ self.weight_ih.T + h @ self.weight_hh.T
        return gates if self.bias is None else gates + self.bias


# -- wrong default state -----------------------------------------------------------------------------
# default_state_on_cpu only fails the device check; default_state_float32_cpu already fails on float64
# inputs. On the device check (float32 on 'meta') the two behave alike, so the narrower one comes first.

@mistake("default_state_on_cpu", "The default (h, c) is created on the CPU (torch.zeros(N, H, dtype=x.dtype) has no "
         "device=): on a GPU it clashes with x. Use x.new_zeros(N, H), which follows x's device.",
         provides="LSTMCell")
class DefaultStateOnCpu(_Cell):
    def zeros(self, x):
        return torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)


@mistake("default_state_float32_cpu", "The default (h, c) is torch.zeros(N, H): always float32 and on the CPU. With "
         "float64 inputs (or on a GPU) it clashes with x; x.new_zeros(N, H) follows x's dtype and device.",
         provides="LSTMCell")
class DefaultStateFloat32Cpu(_Cell):
    def zeros(self, x):
        return torch.zeros(x.shape[0], self.hidden_size)


# -- wrong shapes ------------------------------------------------------------------------------------

@mistake("unbatched_keeps_batch", "An unbatched x of shape (F,) gives back (1, H) states; the answers must be shaped "
         "like h, (H,): remove the batch dimension you added (squeeze(0)) from h' and c'.", provides="LSTMCell")
class UnbatchedKeepsBatch(_Cell):
    def forward(self, x, hx=None):
        x = x.reshape(-1, x.shape[-1])
        if hx is None:
            h, c = self.zeros(x), self.zeros(x)
        else:
            h, c = (s.reshape(-1, self.hidden_size) for s in hx)
        i, f, g, o = self.activate(*self.blocks(self.pre(x, h)))
        c_new = self.cell(i, f, g, c)
        return self.hidden(o, c_new), c_new


# -- wrong values ------------------------------------------------------------------------------------

@mistake("gates_ifog", "The rows are read in the order i, f, o, g, as some texts write them; nn.LSTMCell stacks them "
         "as i, f, g, o: the third block of H rows is the candidate g and the last one the output gate o.",
         provides="LSTMCell")
class GatesIFOG(_Cell):
    def blocks(self, gates):
        i, f, o, g = gates.chunk(4, 1)
        return i, f, g, o


@mistake("states_swapped", "The states come back in the wrong order, (c', h'); nn.LSTMCell returns the hidden state "
         "first, (h', c'), the same order as the (h, c) it takes.", provides="LSTMCell")
class StatesSwapped(_Cell):
    def answer(self, h_new, c_new):
        return c_new, h_new


@mistake("sigmoid_candidate", "The candidate g goes through a sigmoid; the gates i, f and o use sigmoids (values in "
         "0..1), but g is new content for the cell and uses tanh (values in -1..1).", provides="LSTMCell")
class SigmoidCandidate(_Cell):
    def activate(self, i, f, g, o):
        return torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(g), torch.sigmoid(o)


@mistake("tanh_output_gate", "The output gate o goes through tanh; like every gate it must be a sigmoid, a fraction "
         "between 0 and 1 of tanh(c') that is let out.", provides="LSTMCell")
class TanhOutputGate(_Cell):
    def activate(self, i, f, g, o):
        return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.tanh(o)


@mistake("input_gate_forgotten", "The candidate is added to the cell without the input gate, c' = f * c + g; the "
         "input gate decides how much of it gets in: c' = f * c + i * g.", provides="LSTMCell")
class InputGateForgotten(_Cell):
    def cell(self, i, f, g, c):
        return f * c + g


@mistake("forget_gate_on_candidate", "The forget and input gates are swapped: c' = i * c + f * g; the forget gate "
         "scales the OLD cell state and the input gate the candidate: c' = f * c + i * g.", provides="LSTMCell")
class ForgetGateOnCandidate(_Cell):
    def cell(self, i, f, g, c):
        return i * c + f * g


@mistake("no_tanh_on_cell", "The new hidden state is o * c' without a tanh; the cell state is squashed first: "
         "h' = o * tanh(c').", provides="LSTMCell")
class NoTanhOnCell(_Cell):
    def hidden(self, o, c_new):
        return o * c_new


# -- right values, wrong gradients -------------------------------------------------------------------

@mistake("detached_state", "The incoming (h, c) is detached inside the cell (.detach() or .data), so no gradient "
         "flows back to the previous states: backpropagation through time needs that path.", provides="LSTMCell")
class DetachedState(_Cell):
    def forward(self, x, hx=None):
        if hx is not None:
            hx = tuple(s.detach() for s in hx)
        return super().forward(x, hx)
