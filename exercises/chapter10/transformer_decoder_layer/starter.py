"""Transformer decoder layer: three wrapped sub-layers, norm-first.

Fill in `DecoderLayer.__init__` and `DecoderLayer.forward`, then run
`dl-course check transformer_decoder_layer`.

The attention is chapter 9's `MultiHeadAttention`, PROVIDED in multi_head_attention.py beside
this file (the course's own; copy your chapter09/multi_head_attention.py over it if you prefer
yours). The grader compares your layer with PyTorch's own
nn.TransformerDecoderLayer(d_model, n_heads, ff_units, dropout, batch_first=True,
norm_first=True), holding the same weights (see the parameter layout below); using that module
(or nn.MultiheadAttention) here is not allowed.
"""

import torch
from torch import nn

from multi_head_attention import MultiHeadAttention


class DecoderLayer(nn.Module):
    """One norm-first decoder layer:

        h1  = x  + drop1(self_attn(norm1(x)))                  masked self-attention (target mask)
        h2  = h1 + drop2(cross_attn(norm2(h1), states))        cross-attention (source mask)
        out = h2 + drop3(ffn(norm3(h2)))                       feed-forward network

    In the cross-attention the query is norm2(h1); the keys and the values are the encoder's
    states, as they come (the encoder's final norm has normalised them already).

    Args:
        d_model: D, the size of every input and output vector.
        n_heads: the number of attention heads in each attention (D must be divisible by it).
        ff_units: the width of the feed-forward network's hidden layer.
        dropout: the probability of dropping each element (the grader mostly uses 0).

    Parameter layout (keep these names: the grader loads weights into them, and maps them onto
    nn.TransformerDecoderLayer as shown on the right):
        self_attn = MultiHeadAttention(d_model, n_heads)
            self_attn.q_proj, k_proj, v_proj   ->  self_attn.in_proj_weight / in_proj_bias
                                                   (the three stacked in the order q, k, v)
            self_attn.out_proj                 ->  self_attn.out_proj
        cross_attn = MultiHeadAttention(d_model, n_heads)
            laid out the same way              ->  multihead_attn
        ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout),
                            nn.Linear(ff_units, d_model))
            ffn.0                              ->  linear1
            ffn.3                              ->  linear2
        norm1, norm2, norm3 = nn.LayerNorm(d_model) each  ->  norm1, norm2, norm3
        drop1, drop2, drop3 = nn.Dropout(dropout) each        (no parameters)
    Also accepted: an ffn without the nn.Dropout (its second Linear is then ffn.2), and, instead
    of the norms and drops, `sublayers = nn.ModuleList([SubLayerWrapper(d_model, dropout)
    for _ in range(3)])` built from your sublayer_wrapper exercise (sublayers.0.norm, ...).
    """

    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        # TODO: build self_attn, cross_attn, ffn, norm1..norm3 and drop1..drop3 as listed above.
        raise NotImplementedError("DecoderLayer.__init__ is not written yet")

    def forward(self, x, states, source_mask=None, target_mask=None):
        """Decode: attend to the target so far, then to the source, then transform.

        Args:
            x: (N, Lt, D), the (shifted) target sequence, projected and position-encoded.
            states: (N, Ls, D), the encoder's states, one per source position (Ls may differ
                from Lt).
            source_mask: None, or a torch.bool tensor broadcastable to (N, Lt, Ls), usually
                (N, 1, Ls); True means "this source position may be attended to".
            target_mask: None, or a torch.bool tensor broadcastable to (N, Lt, Lt), usually the
                (1, Lt, Lt) subsequent mask: target position t may only look at 0..t.

        Returns:
            (N, Lt, D): one output vector per target position.
        """
        # TODO:
        #   1. masked self-attention on norm1(x) (query, key and value), with the target mask;
        #      keep the output of the pair, drop it out, add x back: h1;
        #   2. cross-attention: query norm2(h1), keys and values the states, the source mask;
        #      drop it out, add h1 back: h2;
        #   3. the feed-forward network on norm3(h2); drop it out, add h2 back.
        raise NotImplementedError("DecoderLayer.forward is not written yet")
