"""Reference: a norm-first Transformer decoder layer: masked self-attention, cross-attention over
the encoder's states, and a feed-forward network, each wrapped as x + drop(sublayer(norm(x))).
Batch-first; masks are bool, True = may attend: target_mask broadcastable to (N, Lt, Lt),
source_mask to (N, Lt, Ls)."""

from torch import nn

from multi_head_attention import MultiHeadAttention


class DecoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ff_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(ff_units, d_model),
        )
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.drop1 = nn.Dropout(dropout)
        self.drop2 = nn.Dropout(dropout)
        self.drop3 = nn.Dropout(dropout)

    def forward(self, x, states, source_mask=None, target_mask=None):
        # Sub-layer 1: the target attends to its own past (the target mask hides the future).
        y = self.norm1(x)
        context, _ = self.self_attn(y, y, y, mask=target_mask)
        h1 = x + self.drop1(context)
        # Sub-layer 2: the decoder asks (queries from the normalised h1), the encoder answers (keys
        # and values are its states, used as they are: the encoder normalised them already).
        context, _ = self.cross_attn(self.norm2(h1), states, states, mask=source_mask)
        h2 = h1 + self.drop2(context)
        # Sub-layer 3: the feed-forward network, position by position.
        return h2 + self.drop3(self.ffn(self.norm3(h2)))
