"""Known mistakes for multi_head_attention. Each class is a whole (wrong) implementation.

Shapes in comments: N batch, h heads, Lq / Lk query / key lengths, D = d_model, d_k = D // h.
"""

import math

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Projections(nn.Module):
    """The four projections every variant below starts from (built exactly as the exercise asks)."""

    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)


@mistake("softmax_over_queries", "The softmax runs over the queries (dim=-2) instead of over the keys (dim=-1): "
         "each query's weights must sum to 1 across the keys it looks at.", provides="MultiHeadAttention")
class SoftmaxOverQueries(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-2)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("scale_by_d_model", "The scores are divided by √d_model; each head's dot product has only d_k = "
         "d_model / n_heads terms, so the right scale is √d_k.", provides="MultiHeadAttention")
class ScaleByDModel(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_model)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("no_scale", "The scores are not divided by √d_k: plain dot products grow with the number of "
         "dimensions and push the softmax towards a one-hot.", provides="MultiHeadAttention")
class NoScale(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("mask_inverted", "The mask is used the wrong way round: True means 'may attend', so the scores to "
         "hide are where the mask is False (masked_fill(~mask, -inf)).", provides="MultiHeadAttention")
class MaskInverted(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("mask_after_softmax", "The mask zeroes the weights after the softmax, so the remaining weights no longer "
         "sum to 1: put -inf into the scores before the softmax instead.", provides="MultiHeadAttention")
class MaskAfterSoftmax(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        weights = scores.softmax(dim=-1)
        if mask is not None:
            weights = weights.masked_fill(~mask.unsqueeze(1), 0.0)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("mask_not_per_head", "The mask is applied to the (N, h, Lq, Lk) scores without a head dimension: "
         "unsqueeze it to (N, 1, Lq, Lk) so that every head shares it.", provides="MultiHeadAttention")
class MaskNotPerHead(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("no_transpose", "The heads are split and merged with a plain view/reshape to (N, h, L, d_k) and back, "
         "without transpose(1, 2): that cuts the memory in the wrong places and mixes tokens with heads.",
         provides="MultiHeadAttention")
class NoTranspose(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, self.n_heads, lq, self.d_k)
        k = self.k_proj(key).view(n, self.n_heads, key.shape[1], self.d_k)
        v = self.v_proj(value).view(n, self.n_heads, value.shape[1], self.d_k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("merge_without_transpose", "The heads are split correctly but merged with a plain reshape from "
         "(N, h, Lq, d_k) to (N, Lq, D): transpose(1, 2) first, or rows of different tokens get glued together.",
         provides="MultiHeadAttention")
class MergeWithoutTranspose(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("split_without_transpose", "The heads are split with a plain view to (N, h, L, d_k), without going "
         "through (N, L, h, d_k) and transpose(1, 2): each head then gets a block of whole tokens' features "
         "instead of its own slice of every token's features. The merge back is right; the split must mirror it: "
         "x.view(N, L, h, d_k).transpose(1, 2).", provides="MultiHeadAttention")
class SplitWithoutTranspose(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, self.n_heads, lq, self.d_k)
        k = self.k_proj(key).view(n, self.n_heads, key.shape[1], self.d_k)
        v = self.v_proj(value).view(n, self.n_heads, value.shape[1], self.d_k)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).contiguous().view(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("softmax_overflows", "The softmax is written as exp(scores) / exp(scores).sum(...): once a score passes "
         "about 88, exp() overflows to inf in float32 and the weights become NaN (inf / inf). Use "
         "torch.softmax(scores, dim=-1), which subtracts each row's largest score first.",
         provides="MultiHeadAttention")
class SoftmaxOverflows(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        e = scores.exp()
        weights = e / e.sum(dim=-1, keepdim=True)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("key_value_swapped", "Keys and values are swapped: the keys (through k_proj) are what the queries are "
         "compared with, the values (through v_proj) are what gets averaged.", provides="MultiHeadAttention")
class KeyValueSwapped(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("no_out_proj", "The merged heads are returned as they are: they still have to go through out_proj.",
         provides="MultiHeadAttention")
class NoOutProj(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        return (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model), weights


@mistake("averaged_weights", "The weights are averaged over the heads, (N, Lq, Lk); return every head's weights, "
         "(N, n_heads, Lq, Lk).", provides="MultiHeadAttention")
class AveragedWeights(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights.mean(dim=1)


@mistake("weights_detached", "The attention weights are returned detached (.detach() or .data): they must stay "
         "in the graph, so that a loss computed from them reaches the inputs and the projections.",
         provides="MultiHeadAttention")
class WeightsDetached(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights.detach()


@mistake("ignores_bias_flag", "The projections always have a bias: pass bias=bias to every nn.Linear so that "
         "bias=False builds them without one.", provides="MultiHeadAttention")
class IgnoresBiasFlag(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights


@mistake("ignores_device", "A tensor of -inf is created on the CPU (torch.full without device=): hide the masked "
         "scores with scores.masked_fill(~mask, float('-inf')), which stays on the scores' device.",
         provides="MultiHeadAttention")
class IgnoresDevice(_Projections):
    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q = self.q_proj(query).view(n, lq, self.n_heads, self.d_k).transpose(1, 2)
        k = self.k_proj(key).view(n, key.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        v = self.v_proj(value).view(n, value.shape[1], self.n_heads, self.d_k).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            hidden = torch.full(scores.shape, float("-inf"))
            scores = torch.where(mask.unsqueeze(1), scores, hidden)
        weights = scores.softmax(dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)
        return self.out_proj(context), weights
