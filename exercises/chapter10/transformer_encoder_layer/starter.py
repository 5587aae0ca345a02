"""Transformer encoder layer: two wrapped sub-layers, norm-first.

Fill in `EncoderLayer.__init__` and `EncoderLayer.forward`, then run
`dl-course check transformer_encoder_layer`.

The attention is chapter 9's `MultiHeadAttention`, PROVIDED in multi_head_attention.py beside
this file (the course's own; copy your chapter09/multi_head_attention.py over it if you prefer
yours). The grader compares your layer with PyTorch's own
nn.TransformerEncoderLayer(d_model, n_heads, ff_units, dropout, batch_first=True,
norm_first=True), holding the same weights (see the parameter layout below); using that module
(or nn.MultiheadAttention) here is not allowed.
"""

import torch
from torch import nn

from multi_head_attention import MultiHeadAttention


class EncoderLayer(nn.Module):
    """One norm-first encoder layer:

        h   = x + drop1(self_attn(norm1(x)))        sub-layer 1: self-attention (with the mask)
        out = h + drop2(ffn(norm2(h)))              sub-layer 2: feed-forward network

    Args:
        d_model: D, the size of every input and output vector.
        n_heads: the number of attention heads (D must be divisible by it).
        ff_units: the width of the feed-forward network's hidden layer.
        dropout: the probability of dropping each element (the grader mostly uses 0).

    Parameter layout (keep these names: the grader loads weights into them, and maps them onto
    nn.TransformerEncoderLayer as shown on the right):
        self_attn = MultiHeadAttention(d_model, n_heads)
            self_attn.q_proj, k_proj, v_proj  ->  self_attn.in_proj_weight / in_proj_bias
                                                  (the three stacked in the order q, k, v)
            self_attn.out_proj                ->  self_attn.out_proj
        ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout),
                            nn.Linear(ff_units, d_model))
            ffn.0                             ->  linear1
            ffn.3                             ->  linear2
        norm1 = nn.LayerNorm(d_model)         ->  norm1   (before the self-attention)
        norm2 = nn.LayerNorm(d_model)         ->  norm2   (before the feed-forward network)
        drop1, drop2 = nn.Dropout(dropout)        (no parameters)
    Also accepted: an ffn without the nn.Dropout (its second Linear is then ffn.2), and, instead
    of norm1/norm2/drop1/drop2, `sublayers = nn.ModuleList([SubLayerWrapper(d_model, dropout)
    for _ in range(2)])` built from your sublayer_wrapper exercise (sublayers.0.norm, ...).
    """

    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        # TODO: build self_attn, ffn, norm1, norm2, drop1 and drop2 as the docstring lists them.
        raise NotImplementedError("EncoderLayer.__init__ is not written yet")

    def forward(self, x, source_mask=None):
        """Encode a source sequence.

        Args:
            x: (N, L, D), the source sequence (already projected and position-encoded).
            source_mask: None, or a torch.bool tensor broadcastable to (N, L, L), usually
                (N, 1, L); True means "this position may be attended to" (False hides padding).

        Returns:
            (N, L, D): the layer's output, one vector per source position.
        """
        # TODO:
        #   1. normalise x with norm1; self-attention on it (query, key and value) with the mask;
        #      MultiHeadAttention returns (output, weights): keep the output;
        #   2. drop it out and add x back (the residual): h;
        #   3. normalise h with norm2, run the feed-forward network, drop out, add h back.
        raise NotImplementedError("EncoderLayer.forward is not written yet")
