"""Known mistakes for PositionalEncoding: each class is a whole wrong answer.

Order matters only where two variants could give the same result on a failing check; here every
variant differs from every other on the check it fails, so the order follows the lesson.
"""

import math

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


@mistake("sin_cos_swapped", "Sine and cosine are swapped: even columns hold sin(p·w_i), odd columns cos(p·w_i) "
         "(so position 0 reads 0, 1, 0, 1, ...).", provides="PositionalEncoding")
class SinCosSwapped(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.cos(pos * speeds)
        pe[:, 1::2] = torch.sin(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]


@mistake("speed_uses_i", "The exponent of the angular speeds is i/d_model instead of 2i/d_model: "
         "w_i = 10000^(−2i/d_model), where 2i is the even column (0, 2, 4, ...), not the pair number i.",
         provides="PositionalEncoding")
class SpeedUsesI(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        i = torch.arange(d_model // 2, dtype=torch.float64)
        speeds = torch.exp(i * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]


@mistake("speed_index_doubled", "The exponent doubles an index that already counts in steps of 2: with "
         "i = 0, 2, 4, ... (torch.arange(0, d_model, 2)), the speed is 10000^(−i/d_model); writing "
         "10000^(−2i/d_model) as well makes it 10000^(−4k/d_model), so the slow columns turn far too slowly. "
         "Double the pair number k = 0, 1, 2, ..., or use the even column index as it is, not both.",
         provides="PositionalEncoding")
class SpeedIndexDoubled(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        even = torch.arange(0, d_model, 2, dtype=torch.float64)      # already 2k
        speeds = 1.0 / 10000.0 ** (2 * even / d_model)                # doubled once more
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]


@mistake("float64_table", "The table is float64 (built with NumPy or dtype=torch.float64): store it in the default "
         "dtype, float32, like every other tensor of a fresh module; .to(dtype) converts it when needed.",
         provides="PositionalEncoding")
class Float64Table(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]


@mistake("pe_parameter", "pe is an nn.Parameter: it shows up in parameters() and an optimizer would change it. "
         "The table is fixed: register it as a buffer.", provides="PositionalEncoding")
class PeParameter(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.pe = nn.Parameter(pe.float().unsqueeze(0))

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]


@mistake("plain_attribute", "pe is a plain tensor attribute: .to(device) does not move it and state_dict() does "
         "not save it. Use self.register_buffer('pe', table).", provides="PositionalEncoding")
class PlainAttribute(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.pe = pe.float().unsqueeze(0)

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]


@mistake("no_batch_dim", "pe has shape (max_len, d_model); it needs a leading 1, (1, max_len, d_model), "
         "to broadcast over the batch as the exercise specifies.", provides="PositionalEncoding")
class NoBatchDim(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float())

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:x.size(1)]


@mistake("no_slice", "The whole table is added: take the first L rows, pe[:, :L], so it matches an input "
         "shorter than max_len.", provides="PositionalEncoding")
class NoSlice(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe


@mistake("no_scaling", "x is not scaled: multiply it by √d_model before adding pe, or the table drowns out "
         "inputs whose values are about as large as the sines and cosines.", provides="PositionalEncoding")
class NoScaling(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, :x.size(1)]


@mistake("scaled_after_adding", "The sum is scaled, (x + pe)·√d_model: only x is scaled, then pe is added as is.",
         provides="PositionalEncoding")
class ScaledAfterAdding(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        return (x + self.pe[:, :x.size(1)]) * math.sqrt(self.d_model)


@mistake("scales_in_place", "x is scaled in place (x *= ... or x.mul_): that changes the caller's tensor and "
         "breaks autograd when x requires grad. Write x * math.sqrt(d_model) to get a new tensor.",
         provides="PositionalEncoding")
class ScalesInPlace(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0))

    def forward(self, x):
        x *= math.sqrt(self.d_model)
        return x + self.pe[:, :x.size(1)]


@mistake("not_persistent", "pe was registered with persistent=False, so state_dict() leaves it out: a saved "
         "model loses it. Keep the default, persistent=True.", provides="PositionalEncoding")
class NotPersistent(nn.Module):
    def __init__(self, max_len, d_model):
        super().__init__()
        self.d_model = d_model
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        speeds = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * speeds)
        pe[:, 1::2] = torch.cos(pos * speeds)
        self.register_buffer("pe", pe.float().unsqueeze(0), persistent=False)

    def forward(self, x):
        return x * math.sqrt(self.d_model) + self.pe[:, :x.size(1)]
