"""Reference: a norm-first Transformer encoder layer (self-attention, then a feed-forward network,
each wrapped as x + drop(sublayer(norm(x)))). Batch-first; the source mask is bool, True = may
attend, broadcastable to (N, L, L)."""

from torch import nn

from multi_head_attention import MultiHeadAttention


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ff_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(ff_units, d_model),
        )
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.drop1 = nn.Dropout(dropout)
        self.drop2 = nn.Dropout(dropout)

    def forward(self, x, source_mask=None):
        # Sub-layer 1: the source attends to itself. Only the attention's input is normalised;
        # x itself is what gets added back.
        y = self.norm1(x)
        context, _ = self.self_attn(y, y, y, mask=source_mask)
        h = x + self.drop1(context)
        # Sub-layer 2: the feed-forward network, position by position, wrapped the same way.
        return h + self.drop2(self.ffn(self.norm2(h)))
