"""Known mistakes for decoder_cross_attention. Each class is a whole (wrong) decoder layer.

They all use the course's MultiHeadAttention (the reference of the earlier exercise, which sits
beside them as multi_head_attention.py), so only the wiring of the layer differs.
Shapes in comments: N batch, Lt target length, Ls source length, D = d_model.
"""

from torch import nn

from dl_course.grading.mistakes import mistake
from multi_head_attention import MultiHeadAttention


class _Layer(nn.Module):
    """The sub-modules every variant below starts from (built exactly as the exercise asks)."""

    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model))


@mistake("key_value_swapped", "In the cross-attention the encoder's states are the keys but the decoder's own "
         "self-attention output is the values: both the keys and the values must be the encoder's states.",
         provides="DecoderLayer")
class KeyValueSwapped(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=target_mask)
        h, _ = self.cross_attn(h, states, h, mask=source_mask)  # values (N, Lt, D) instead of (N, Ls, D)
        return self.ffn(h)


@mistake("query_from_states", "The cross-attention's roles are reversed: the encoder's states ask (query) and the "
         "decoder answers (keys and values). The query comes from the decoder, the keys and values from the "
         "encoder, so there is one output per target position.", provides="DecoderLayer")
class QueryFromStates(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=target_mask)
        h, _ = self.cross_attn(states, h, h, mask=source_mask)  # (N, Ls, D)
        return self.ffn(h)


@mistake("masks_swapped", "The two masks are swapped: the target (subsequent) mask belongs to the self-attention "
         "over the target, the source (padding) mask to the cross-attention over the encoder's states.",
         provides="DecoderLayer")
class MasksSwapped(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=source_mask)
        h, _ = self.cross_attn(h, states, states, mask=target_mask)
        return self.ffn(h)


@mistake("target_mask_ignored", "The target mask is never given to the self-attention, so every target position "
         "also sees the positions after it: the decoder peeks at the answers it should predict.",
         provides="DecoderLayer")
class TargetMaskIgnored(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x)
        h, _ = self.cross_attn(h, states, states, mask=source_mask)
        return self.ffn(h)


@mistake("cross_query_from_input", "The cross-attention's query is the raw input x instead of the self-attention's "
         "output, so the self-attention is computed and then thrown away.", provides="DecoderLayer")
class CrossQueryFromInput(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=target_mask)  # never used below
        out, _ = self.cross_attn(x, states, states, mask=source_mask)
        return self.ffn(out)


@mistake("same_attention_twice", "The self-attention block is used twice, also for the cross-attention: the two "
         "are separate blocks with their own weights (self.cross_attn for the second).", provides="DecoderLayer")
class SameAttentionTwice(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=target_mask)
        h, _ = self.self_attn(h, states, states, mask=source_mask)
        return self.ffn(h)


@mistake("cross_before_self", "The cross-attention comes before the self-attention: the decoder first looks at its "
         "own target so far (masked self-attention) and then consults the source (cross-attention).",
         provides="DecoderLayer")
class CrossBeforeSelf(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.cross_attn(x, states, states, mask=source_mask)
        h, _ = self.self_attn(h, h, h, mask=target_mask)
        return self.ffn(h)


@mistake("no_ffn", "The cross-attention's output is returned as it is: it still has to go through the "
         "feed-forward network (self.ffn).", provides="DecoderLayer")
class NoFFN(_Layer):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=target_mask)
        h, _ = self.cross_attn(h, states, states, mask=source_mask)
        return h


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
         "score first), then check multi_head_attention again.", provides="DecoderLayer")
class SoftmaxOverflows(_Layer):
    def __init__(self, d_model, n_heads, ff_units):
        super().__init__(d_model, n_heads, ff_units)
        self.self_attn = _ExpSumAttention(d_model, n_heads)
        self.cross_attn = _ExpSumAttention(d_model, n_heads)

    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, mask=target_mask)
        h, _ = self.cross_attn(h, states, states, mask=source_mask)
        return self.ffn(h)
