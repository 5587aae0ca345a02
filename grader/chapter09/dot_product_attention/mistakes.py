"""Known mistakes for dot_product_attention. Each function is a whole (wrong) implementation.

Shapes: query (N, Lq, Dk), key (N, Lk, Dk), value (N, Lk, Dv), mask broadcastable to (N, Lq, Lk).
"""

import math

import torch

from dl_course.grading.mistakes import mistake


@mistake("softmax_over_queries", "The softmax runs over the queries (dim=-2) instead of over the keys (dim=-1): "
         "each query's weights must sum to 1 across the keys it looks at.")
def dot_product_attention(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-2)
    return alphas @ value, alphas


@mistake("no_scale", "The scores are not scaled: divide them by sqrt(Dk) before the softmax, or large dot "
         "products push it towards a one-hot.", provides="dot_product_attention")
def no_scale(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("scale_by_dv", "The scores are divided by sqrt(Dv), the size of the values: the dot products have Dk "
         "terms (the size of queries and keys), so divide by sqrt(Dk).", provides="dot_product_attention")
def scale_by_dv(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(value.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("scale_by_dk", "The scores are divided by Dk; the scale is its square root, sqrt(Dk) (the spread of a "
         "sum of Dk products grows like sqrt(Dk)).", provides="dot_product_attention")
def scale_by_dk(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / query.shape[-1]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("mask_inverted", "The mask is used the wrong way round: True means \"may attend\", so the scores to "
         "hide are where the mask is False (masked_fill(~mask, -inf)).", provides="dot_product_attention")
def mask_inverted(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("mask_after_softmax", "The mask is applied to the weights after the softmax: the hidden keys get 0, "
         "but each row no longer sums to 1. Put -inf into the scores before the softmax, which then "
         "renormalises over the visible keys.", provides="dot_product_attention")
def mask_after_softmax(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    alphas = scores.softmax(dim=-1)
    if mask is not None:
        alphas = alphas * mask
    return alphas @ value, alphas


@mistake("fill_zero", "Hidden scores are set to 0 instead of -inf: exp(0) = 1, so hidden keys still get "
         "weight. Fill them with float('-inf') so that the softmax gives them exactly 0.",
         provides="dot_product_attention")
def fill_zero(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("ignores_mask", "The mask has no effect. Remember that masked_fill returns a new tensor: "
         "scores = scores.masked_fill(~mask, float('-inf')).", provides="dot_product_attention")
def ignores_mask(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores.masked_fill(~mask, float("-inf"))  # result thrown away
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("key_value_swapped", "Keys and values are swapped: the queries are compared with the keys (Q·Kᵀ), "
         "and the weights average the values.", provides="dot_product_attention")
def key_value_swapped(query, key, value, mask=None):
    scores = query @ value.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ key, alphas


@mistake("weights_transposed", "The weights are returned transposed, (N, Lk, Lq): return them as the softmax "
         "made them, one row per query, (N, Lq, Lk).", provides="dot_product_attention")
def weights_transposed(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas.transpose(-2, -1)


@mistake("weights_not_returned", "Only the context is returned: return a pair, (context, alphas).",
         provides="dot_product_attention")
def weights_not_returned(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1) @ value


@mistake("weights_detached", "The weights are returned detached (.detach() or .data): they must stay in the "
         "graph, so that a loss computed from them reaches the queries and the keys.",
         provides="dot_product_attention")
def weights_detached(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas.detach()


@mistake("ignores_device", "A tensor of -inf is created without device= (so on the CPU): hide the scores with "
         "scores.masked_fill(~mask, float('-inf')), which stays on the scores' device.",
         provides="dot_product_attention")
def ignores_device(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        hidden = torch.full(scores.shape, float("-inf"), dtype=scores.dtype)
        scores = torch.where(mask, scores, hidden)
    alphas = scores.softmax(dim=-1)
    return alphas @ value, alphas


@mistake("softmax_overflows", "The softmax is written as exp(scores) / exp(scores).sum(...): once a score passes "
         "about 88, exp() overflows to inf in float32 and the weights become NaN (inf / inf). Use "
         "torch.softmax(scores, dim=-1), which subtracts each row's largest score before exponentiating.",
         provides="dot_product_attention")
def softmax_overflows(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    e = torch.exp(scores)
    alphas = e / e.sum(dim=-1, keepdim=True)
    return alphas @ value, alphas
