"""Provided: an encoder layer and a decoder layer to stack (you do not write these here).

They are PyTorch's own norm-first layers with this course's conventions (batch-first, bool masks
with True = may attend) and the course's signatures, so they stand in for the layers of the two
previous exercises:

    layer = EncoderLayer(d_model=8, n_heads=2, ff_units=16)
    out = layer(x, source_mask)                      # x (N, L, D) -> (N, L, D)

    layer = DecoderLayer(d_model=8, n_heads=2, ff_units=16)
    out = layer(x, states, source_mask, target_mask) # x (N, Lt, D), states (N, Ls, D)

Both keep `d_model` as an attribute. Your own EncoderLayer and DecoderLayer (from
transformer_encoder_layer.py and transformer_decoder_layer.py) can be stacked the same way.
"""

from torch import nn


def pytorch_mask(mask, n, lq, lk, heads):
    """This course's mask (True = may attend, broadcastable to (N, Lq, Lk)) as PyTorch's
    attn_mask: True = may NOT attend, one (Lq, Lk) slice per head, (N * heads, Lq, Lk)."""
    if mask is None:
        return None
    return (~mask.expand(n, lq, lk)).repeat_interleave(heads, dim=0)


class EncoderLayer(nn.TransformerEncoderLayer):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__(d_model, n_heads, ff_units, dropout, batch_first=True, norm_first=True)
        self.d_model, self.n_heads, self.ff_units = d_model, n_heads, ff_units

    def forward(self, x, source_mask=None):
        n, length = x.shape[0], x.shape[1]
        return super().forward(x, src_mask=pytorch_mask(source_mask, n, length, length, self.n_heads))


class DecoderLayer(nn.TransformerDecoderLayer):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__(d_model, n_heads, ff_units, dropout, batch_first=True, norm_first=True)
        self.d_model, self.n_heads, self.ff_units = d_model, n_heads, ff_units

    def forward(self, x, states, source_mask=None, target_mask=None):
        n, lt, ls = x.shape[0], x.shape[1], states.shape[1]
        return super().forward(x, states, tgt_mask=pytorch_mask(target_mask, n, lt, lt, self.n_heads),
                               memory_mask=pytorch_mask(source_mask, n, lt, ls, self.n_heads))
