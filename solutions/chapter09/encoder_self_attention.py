"""Reference: one encoder layer built from self-attention and a position-wise feed-forward network.

No layer norm and no residual connection yet (chapter 10 adds both). Batch-first; the mask is bool,
True = may attend, broadcastable to (N, L, L).
"""

from torch import nn

from multi_head_attention import MultiHeadAttention


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ff_units),
            nn.ReLU(),
            nn.Linear(ff_units, d_model),
        )

    def forward(self, x, source_mask=None):
        # Self-attention: every position of the source asks every (unpadded) position of the same
        # source. The layer keeps the context vectors and drops the weights (second element).
        context, _ = self.self_attn(x, x, x, mask=source_mask)  # (N, L, D)
        # The same two-layer network is applied to every position on its own.
        return self.ffn(context)  # (N, L, D)
