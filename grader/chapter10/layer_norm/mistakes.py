"""Known mistakes for layer_norm: each class is a whole (wrong) LayerNorm.

Every one holds `weight` and `bias` (unless its mistake is about them), so the forward checks can
load the same state into it. Shapes in comments: x is (..., D), statistics are (..., 1).
"""

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Affine(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.d_model, self.eps = d_model, eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))


@mistake("unbiased_variance", "The variance divides by D - 1 (torch.var / torch.std default to unbiased=True): "
         "layer normalization uses the biased variance, which divides by D. Pass unbiased=False "
         "(or correction=0), or compute ((x - mean) ** 2).mean(-1, keepdim=True).", provides="LayerNorm")
class UnbiasedVariance(_Affine):
    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


@mistake("stats_over_batch", "The mean and variance are taken over the batch (dim 0), feature by feature: that "
         "is batch normalization. Layer normalization takes them over the features of each data point, the "
         "last dimension (dim=-1).", provides="LayerNorm")
class StatsOverBatch(_Affine):
    def forward(self, x):
        mean = x.mean(0, keepdim=True)
        var = x.var(0, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


@mistake("stats_over_sequence", "The mean and variance are taken over the sequence (dim 1), across positions: "
         "layer normalization standardises every data point on its own, over its features (dim=-1).",
         provides="LayerNorm")
class StatsOverSequence(_Affine):
    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = x.var(1, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


@mistake("stats_over_whole_sequence", "The mean and variance are taken over a whole sequence at once (positions "
         "and features, dims 1 and 2), as nn.LayerNorm([L, D]) would: here every data point (position) gets its "
         "own statistics, over its D features only.", provides="LayerNorm")
class StatsOverWholeSequence(_Affine):
    def forward(self, x):
        mean = x.mean((-2, -1), keepdim=True)
        var = x.var((-2, -1), unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


@mistake("eps_outside_sqrt", "eps is added to the standard deviation, (x - mean) / (std + eps); it belongs under "
         "the square root, (x - mean) / sqrt(var + eps). The two agree when the variance is large and differ a lot "
         "when it is about eps or smaller.", provides="LayerNorm")
class EpsOutsideSqrt(_Affine):
    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.var(-1, unbiased=False, keepdim=True).sqrt()
        return (x - mean) / (std + self.eps) * self.weight + self.bias


@mistake("annotated_transformer_formula", "This is the LayerNorm of \"The Annotated Transformer\": an unbiased "
         "standard deviation (x.std(-1)) with eps added outside the square root. nn.LayerNorm divides by "
         "sqrt(var + eps) with the biased variance (divide by D).", provides="LayerNorm")
class AnnotatedTransformerFormula(_Affine):
    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, keepdim=True)
        return self.weight * (x - mean) / (std + self.eps) + self.bias


@mistake("no_eps", "There is no eps: a data point whose features are all equal has variance 0, and 0 / 0 gives "
         "NaN. Divide by sqrt(var + eps).", provides="LayerNorm")
class NoEps(_Affine):
    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var) * self.weight + self.bias


@mistake("eps_ignored", "The eps given to the constructor is ignored (a fixed 1e-5 is used): LayerNorm(d_model, "
         "eps=0.1) must use 0.1.", provides="LayerNorm")
class EpsIgnored(_Affine):
    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + 1e-5) * self.weight + self.bias


@mistake("shift_then_scale", "The bias is added before the weight multiplies: (x̂ + bias) * weight. The affine "
         "step is x̂ * weight + bias: scale first, then shift.", provides="LayerNorm")
class ShiftThenScale(_Affine):
    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return ((x - mean) / torch.sqrt(var + self.eps) + self.bias) * self.weight


@mistake("no_affine", "There are no learnable parameters: layer normalization ends with a per-feature affine map, "
         "x̂ * weight + bias, with `weight` (ones) and `bias` (zeros) as nn.Parameter of shape (D,).",
         provides="LayerNorm")
class NoAffine(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps)


@mistake("gamma_beta_names", "The parameters are called gamma and beta, as in PyTorch's documentation, but "
         "nn.LayerNorm stores them as `weight` and `bias`; a state dict saved from nn.LayerNorm will not load.",
         provides="LayerNorm")
class GammaBetaNames(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(d_model))
        self.beta = nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.gamma + self.beta


@mistake("running_statistics", "The module keeps running statistics in buffers, as batch normalization does: "
         "layer normalization needs none, and behaves the same in training and in evaluation mode.",
         provides="LayerNorm")
class RunningStatistics(_Affine):
    def __init__(self, d_model, eps=1e-5):
        super().__init__(d_model, eps)
        self.register_buffer("running_mean", torch.zeros(1))
        self.register_buffer("running_var", torch.ones(1))

    def forward(self, x):
        if self.training:
            mean = x.mean(-1, keepdim=True)
            var = x.var(-1, unbiased=False, keepdim=True)
            with torch.no_grad():
                self.running_mean.mul_(0.9).add_(0.1 * mean.mean())
                self.running_var.mul_(0.9).add_(0.1 * var.mean())
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
