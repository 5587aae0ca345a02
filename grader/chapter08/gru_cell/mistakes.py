"""Known mistakes for gru_cell: each class is a whole (wrong) GRU cell that a learner might write.

They are tried in file order and the first one that gives what the learner's code gave on every
case of the failing check names the misconception, so variants that fail a later check come after
those that fail an earlier one only when they cannot be confused with them.
"""

import math

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


def _uniform_(module, hidden_size):
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


# -- wrong parameters ------------------------------------------------------------------------------

@mistake("transposed_weights", "The weights are stored as (F, 3H) and (H, 3H), ready for x @ W; nn.GRUCell stores "
         "them as (3H, F) and (3H, H), one row per output unit, and multiplies by their transpose.",
         provides="GRUCell")
class TransposedWeights(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(input_size, 3 * hidden_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, 3 * hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.bias_ih = self.bias_hh = None
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        gi, gh = x @ self.weight_ih, h @ self.weight_hh
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        out = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
        return out.squeeze(0) if single else out


@mistake("bias_ignored", "With bias=False the cell still creates bias_ih and bias_hh; nn.GRUCell(..., bias=False) "
         "has no bias parameters at all (register them as None).", provides="GRUCell")
class BiasAlways(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        gi = x @ self.weight_ih.T + self.bias_ih
        gh = h @ self.weight_hh.T + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        out = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
        return out.squeeze(0) if single else out


# -- wrong default hidden state ------------------------------------------------------------------------
# default_hx_on_cpu only fails the device check; default_hx_float32_cpu already fails on float64 inputs.
# On the device check (float32 on 'meta') the two behave alike, so the narrower one must come first.

@mistake("default_hx_on_cpu", "The default hidden state is created on the CPU (torch.zeros(N, H, dtype=x.dtype) "
         "has no device=): on a GPU it clashes with x. Use x.new_zeros(N, H), which follows x's device.",
         provides="GRUCell")
class DefaultHxOnCpu(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        if hx is None:
            h = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
        else:
            h = hx.unsqueeze(0) if single else hx
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        out = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
        return out.squeeze(0) if single else out



@mistake("default_hx_float32_cpu", "The default hidden state is torch.zeros(N, H): always float32 and on the CPU. "
         "Build it from x (x.new_zeros(N, H)) so it follows x's dtype and device.", provides="GRUCell")
class DefaultHxFloat32(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        if hx is None:
            h = torch.zeros(x.shape[0], self.hidden_size)
        else:
            h = hx.unsqueeze(0) if single else hx
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        out = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
        return out.squeeze(0) if single else out


# -- wrong values ---------------------------------------------------------------------------------

@mistake("update_reversed", "The update gate is used the wrong way round: z is the share of the OLD state that is "
         "kept, h' = (1 - z) * n + z * h, not z * n + (1 - z) * h.", provides="GRUCell")
class UpdateReversed(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        out = z * n + (1 - z) * h
        return out.squeeze(0) if single else out


@mistake("gates_zrn", "The rows are read in the order z, r, n; nn.GRUCell stacks them as r (reset), z (update), "
         "n (candidate): the first H rows of each weight and bias belong to r.", provides="GRUCell")
class GatesZRN(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_z, i_r, i_n = gi.chunk(3, 1)
        h_z, h_r, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        out = (1 - z) * n + z * h
        return out.squeeze(0) if single else out


@mistake("reset_before_matmul", "The reset gate is applied to h before the matrix product, W_hn (r * h) + b_hn; "
         "nn.GRUCell applies it after: r * (W_hn h + b_hn).", provides="GRUCell")
class ResetBeforeMatmul(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        H = self.hidden_size
        w_hr, w_hz, w_hn = self.weight_hh.split(H, 0)
        gi = x @ self.weight_ih.T
        if self.bias_ih is not None:
            gi = gi + self.bias_ih
            b_hr, b_hz, b_hn = self.bias_hh.split(H, 0)
        else:
            b_hr = b_hz = b_hn = 0
        i_r, i_z, i_n = gi.chunk(3, 1)
        r = torch.sigmoid(i_r + h @ w_hr.T + b_hr)
        z = torch.sigmoid(i_z + h @ w_hz.T + b_hz)
        n = torch.tanh(i_n + (r * h) @ w_hn.T + b_hn)
        out = (1 - z) * n + z * h
        return out.squeeze(0) if single else out


@mistake("reset_without_bhn", "b_hn is left outside the reset product: n = tanh(W_in x + b_in + r * (W_hn h) + b_hn); "
         "in nn.GRUCell the reset gate scales b_hn too: r * (W_hn h + b_hn).", provides="GRUCell")
class ResetWithoutBhn(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        # Biases added to the input side, as if every bias could go there: b_hn escapes the reset gate.
        gi = x @ self.weight_ih.T
        if self.bias_ih is not None:
            gi = gi + self.bias_ih + self.bias_hh
        gh = h @ self.weight_hh.T
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        out = (1 - z) * n + z * h
        return out.squeeze(0) if single else out


@mistake("sigmoid_candidate", "The candidate n goes through a sigmoid; the gates r and z use sigmoids (values in 0..1), "
         "but n uses tanh (values in -1..1), like a plain RNN's state.", provides="GRUCell")
class SigmoidCandidate(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else (hx.unsqueeze(0) if single else hx)
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.sigmoid(i_n + r * h_n)
        out = (1 - z) * n + z * h
        return out.squeeze(0) if single else out


@mistake("unbatched_keeps_batch", "An unbatched x of shape (F,) gives back (1, H); the answer must be shaped like "
         "hx, (H,): remove the batch dimension you added (squeeze(0)).", provides="GRUCell")
class UnbatchedKeepsBatch(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        x = x.reshape(-1, x.shape[-1])
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else hx.reshape(-1, self.hidden_size)
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h


# -- right values, wrong gradients -------------------------------------------------------------------

@mistake("detached_hidden", "The hidden state is detached inside the cell (hx.detach() or hx.data), so no gradient "
         "flows back to hx: backpropagation through time needs that path.", provides="GRUCell")
class DetachedHidden(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size))
            self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_(self, hidden_size)

    def forward(self, x, hx=None):
        single = x.dim() == 1
        x = x.unsqueeze(0) if single else x
        if hx is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)
        else:
            h = (hx.unsqueeze(0) if single else hx).detach()
        gi = x @ self.weight_ih.T
        gh = h @ self.weight_hh.T
        if self.bias_ih is not None:
            gi, gh = gi + self.bias_ih, gh + self.bias_hh
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        out = (1 - z) * torch.tanh(i_n + r * h_n) + z * h
        return out.squeeze(0) if single else out
