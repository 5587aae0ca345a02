"""Known mistakes for additive_attention. Each class is a whole (wrong) implementation.

They are tried in file order; the first that gives what the learner's code gave on every case of
the failing check names the misconception. Grouped by the check that catches them: parameters,
shapes, values, gradients, device.

Shapes in comments: N batch, Lq / Lk query / key lengths, Dq / Dk / Dv feature sizes, H hidden size.
"""

import math

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Layers(nn.Module):
    """The three projections the exercise asks for, built right (most variants go wrong later)."""

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.w_query = nn.Linear(query_size, hidden_size, bias=False)
        self.w_key = nn.Linear(key_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)


# -- wrong parameters --------------------------------------------------------------------------------

@mistake("linear_bias", "The three nn.Linear layers keep their default bias: additive attention here is "
         "v · tanh(W_q q + W_k k), with no bias anywhere (pass bias=False).", provides="AdditiveAttention")
class LinearBias(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.w_query = nn.Linear(query_size, hidden_size)
        self.w_key = nn.Linear(key_size, hidden_size)
        self.v = nn.Linear(hidden_size, 1)

    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("sizes_swapped", "w_query is built for key_size inputs and w_key for query_size ones: w_query projects "
         "the queries (nn.Linear(query_size, hidden_size)), w_key the keys (nn.Linear(key_size, hidden_size)).",
         provides="AdditiveAttention")
class SizesSwapped(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.w_query = nn.Linear(key_size, hidden_size, bias=False)
        self.w_key = nn.Linear(query_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, query, key, value, mask=None):
        q, k = self.w_key(query), self.w_query(key)
        scores = self.v(torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("v_as_vector", "v is kept as a bare nn.Parameter vector of shape (H,); the exercise's v is a layer, "
         "nn.Linear(hidden_size, 1, bias=False), whose weight v.weight is (1, H).", provides="AdditiveAttention")
class VAsVector(nn.Module):
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        self.w_query = nn.Linear(query_size, hidden_size, bias=False)
        self.w_key = nn.Linear(key_size, hidden_size, bias=False)
        self.v = nn.Parameter(torch.randn(hidden_size) / math.sqrt(hidden_size))

    def forward(self, query, key, value, mask=None):
        features = torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))
        scores = features @ self.v
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


# -- wrong shapes ------------------------------------------------------------------------------------

@mistake("keys_as_values", "The alphas mix the keys instead of the values: keys only decide the weights, the "
         "context is alphas @ value, of size Dv.", provides="AdditiveAttention")
class KeysAsValues(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ key, alphas


@mistake("diagonal_only", "The projected queries (N, Lq, H) and keys (N, Lk, H) are added as they are, so query i "
         "only meets key i (and the shapes clash when Lq ≠ Lk): unsqueeze them to (N, Lq, 1, H) and "
         "(N, 1, Lk, H) so that every query meets every key.", provides="AdditiveAttention")
class DiagonalOnly(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query) + self.w_key(key))).squeeze(-1)  # (N, L)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("projections_applied_swapped", "w_query is applied to the keys and w_key to the queries: each projection "
         "reads its own input, w_query(query) of size Dq and w_key(key) of size Dk.", provides="AdditiveAttention")
class ProjectionsAppliedSwapped(_Layers):
    def forward(self, query, key, value, mask=None):
        q, k = self.w_key(query), self.w_query(key)
        scores = self.v(torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


# -- wrong values ------------------------------------------------------------------------------------

@mistake("no_tanh", "The tanh is missing: without it v · (W_q q + W_k k) splits into a query part, the same for "
         "every key (the softmax cancels it), plus a key part, so the weights no longer depend on the query.",
         provides="AdditiveAttention")
class NoTanh(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1)).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("softmax_over_queries", "The softmax runs over the queries (dim=1) instead of over the keys (dim=-1): "
         "each query's weights must sum to 1 across the keys it looks at.", provides="AdditiveAttention")
class SoftmaxOverQueries(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=1)
        return alphas @ value, alphas


@mistake("scaled_by_sqrt_hidden", "The scores are divided by √hidden_size, as in scaled dot-product attention; "
         "additive scores are used as v gives them (the tanh already bounds each feature).",
         provides="AdditiveAttention")
class ScaledBySqrtHidden(_Layers):
    def forward(self, query, key, value, mask=None):
        features = torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))
        scores = self.v(features).squeeze(-1) / math.sqrt(features.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("mask_inverted", "The mask is used the wrong way round: True means 'may attend', so the scores to hide "
         "are where the mask is False (masked_fill(~mask, -inf)).", provides="AdditiveAttention")
class MaskInverted(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("mask_zero_filled", "Hidden scores are set to 0 instead of -inf: e^0 = 1, so hidden keys still get "
         "weight; only -inf gives them exactly 0 after the softmax.", provides="AdditiveAttention")
class MaskZeroFilled(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, 0.0)
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("mask_after_softmax", "The mask zeroes the weights after the softmax, so the remaining weights no longer "
         "sum to 1: put -inf into the scores before the softmax instead.", provides="AdditiveAttention")
class MaskAfterSoftmax(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        alphas = torch.softmax(scores, dim=-1)
        if mask is not None:
            alphas = alphas.masked_fill(~mask, 0.0)
        return alphas @ value, alphas


# -- wrong gradients ---------------------------------------------------------------------------------

@mistake("alphas_detached", "The alphas are returned detached (.detach() or .data): they must stay in the graph, "
         "so that a loss computed from the weights reaches the inputs and the projections.",
         provides="AdditiveAttention")
class AlphasDetached(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas.detach()


# -- wrong device ------------------------------------------------------------------------------------

@mistake("ignores_device", "A tensor of -inf is created without a device (torch.full(...) lands on the CPU): hide "
         "the masked scores with scores.masked_fill(~mask, float('-inf')), which stays on the scores' device.",
         provides="AdditiveAttention")
class IgnoresDevice(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = torch.where(mask, scores, torch.full(scores.shape, float("-inf")))
        alphas = torch.softmax(scores, dim=-1)
        return alphas @ value, alphas


@mistake("softmax_overflows", "The softmax is written as exp(scores) / exp(scores).sum(...): once a score passes "
         "about 88, exp() overflows to inf in float32 and the weights become NaN (inf / inf). Use "
         "torch.softmax(scores, dim=-1), which subtracts each row's largest score first.",
         provides="AdditiveAttention")
class SoftmaxOverflows(_Layers):
    def forward(self, query, key, value, mask=None):
        scores = self.v(torch.tanh(self.w_query(query).unsqueeze(2) + self.w_key(key).unsqueeze(1))).squeeze(-1)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        e = scores.exp()
        alphas = e / e.sum(dim=-1, keepdim=True)
        return alphas @ value, alphas
