"""Known mistakes for encoder_self_attention. Each class is a whole (wrong) encoder layer.

They all use the course's MultiHeadAttention (the reference of the earlier exercise, which sits
beside them as multi_head_attention.py), so only the wiring of the layer differs.
Shapes in comments: N batch, L source length, D = d_model, h heads.
"""

from torch import nn

from dl_course.grading.mistakes import mistake
from multi_head_attention import MultiHeadAttention


class _Layer(nn.Module):
    """The sub-modules every variant below starts from (built exactly as the exercise asks)."""

    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model))


@mistake("no_relu", "The feed-forward network has no ReLU between its two Linear layers, so it is one linear map "
         "in disguise (and its second layer is named ffn.1 instead of ffn.2).", provides="EncoderLayer")
class NoReLU(nn.Module):
    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.Linear(ff_units, d_model))

    def forward(self, x, source_mask=None):
        context, _ = self.self_attn(x, x, x, mask=source_mask)
        return self.ffn(context)


@mistake("tuple_not_unpacked", "The pair MultiHeadAttention returns, (output, weights), goes straight into the "
         "feed-forward network: unpack it and keep only the output.", provides="EncoderLayer")
class TupleNotUnpacked(_Layer):
    def forward(self, x, source_mask=None):
        return self.ffn(self.self_attn(x, x, x, mask=source_mask))


@mistake("weights_instead_of_output", "The attention weights (N, n_heads, L, L) go to the feed-forward network "
         "instead of the attention output (N, L, D): MultiHeadAttention returns (output, weights), in that order.",
         provides="EncoderLayer")
class WeightsInsteadOfOutput(_Layer):
    def forward(self, x, source_mask=None):
        _, weights = self.self_attn(x, x, x, mask=source_mask)
        return self.ffn(weights)


@mistake("mask_ignored", "The source mask is never given to the self-attention, so every position also attends "
         "to the padding of shorter sequences.", provides="EncoderLayer")
class MaskIgnored(_Layer):
    def forward(self, x, source_mask=None):
        context, _ = self.self_attn(x, x, x)
        return self.ffn(context)


@mistake("ffn_before_attention", "The feed-forward network runs before the self-attention: the layer attends "
         "first (mixing positions) and then transforms each position with the feed-forward network.",
         provides="EncoderLayer")
class FFNBeforeAttention(_Layer):
    def forward(self, x, source_mask=None):
        h = self.ffn(x)
        context, _ = self.self_attn(h, h, h, mask=source_mask)
        return context


@mistake("residual_added", "The input is added back to the attention output (x + attention) before the "
         "feed-forward network: that residual connection belongs to chapter 10's layers, not this one.",
         provides="EncoderLayer")
class ResidualAdded(_Layer):
    def forward(self, x, source_mask=None):
        context, _ = self.self_attn(x, x, x, mask=source_mask)
        return self.ffn(x + context)


class _ExpSumAttention(MultiHeadAttention):
    """The course's attention with its softmax written as exp / sum (which overflows in float32)."""

    def forward(self, query, key, value, mask=None):
        n, lq, _ = query.shape
        q, k, v = self._heads(self.q_proj(query)), self._heads(self.k_proj(key)), self._heads(self.v_proj(value))
        scores = q @ k.transpose(-2, -1) / self.d_k ** 0.5
        if mask is not None:
            scores = scores.masked_fill(~mask.unsqueeze(-3), float("-inf"))
        e = scores.exp()
        weights = e / e.sum(dim=-1, keepdim=True)
        return self.out_proj((weights @ v).transpose(1, 2).reshape(n, lq, self.d_model)), weights


@mistake("softmax_overflows", "The layer is wired right, but the MultiHeadAttention it uses computes its softmax as exp(scores) / "
         "exp(scores).sum(...): once a score passes about 88, exp() overflows in float32 and the output becomes "
         "NaN. Use torch.softmax(scores, dim=-1) in multi_head_attention.py (it subtracts each row's largest "
         "score first), then check multi_head_attention again.", provides="EncoderLayer")
class SoftmaxOverflows(_Layer):
    def __init__(self, d_model, n_heads, ff_units):
        super().__init__(d_model, n_heads, ff_units)
        self.self_attn = _ExpSumAttention(d_model, n_heads)

    def forward(self, x, source_mask=None):
        context, _ = self.self_attn(x, x, x, mask=source_mask)
        return self.ffn(context)
