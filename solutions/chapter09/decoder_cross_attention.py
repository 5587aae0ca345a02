"""Reference: one decoder layer: masked self-attention, cross-attention over the encoder's states,
then a position-wise feed-forward network.

No layer norm and no residual connection yet (chapter 10 adds both). Batch-first; masks are bool,
True = may attend: target_mask broadcastable to (N, Lt, Lt), source_mask to (N, Lt, Ls).
"""

from torch import nn

from multi_head_attention import MultiHeadAttention


class DecoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ff_units),
            nn.ReLU(),
            nn.Linear(ff_units, d_model),
        )

    def forward(self, x, states, source_mask=None, target_mask=None):
        # 1. Masked self-attention over the (shifted) target: position t may only look at 0..t.
        h, _ = self.self_attn(x, x, x, mask=target_mask)  # (N, Lt, D)
        # 2. Cross-attention: the decoder asks (queries from h), the encoder answers (keys AND values
        #    from its states); the source mask hides padded source positions.
        h, _ = self.cross_attn(h, states, states, mask=source_mask)  # (N, Lt, D)
        # 3. The feed-forward network, position by position.
        return self.ffn(h)  # (N, Lt, D)
