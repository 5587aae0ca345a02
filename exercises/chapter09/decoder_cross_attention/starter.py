"""Decoder layer: masked self-attention, cross-attention over the encoder's states, feed-forward.

Pass multi_head_attention first: this file imports your own `MultiHeadAttention` from
chapter09/multi_head_attention.py, so the decoder layer only works once that one does.

Fill in `DecoderLayer.__init__` and `DecoderLayer.forward`, then run
`dl-course check decoder_cross_attention`.
"""

import torch
from torch import nn

from multi_head_attention import MultiHeadAttention


class DecoderLayer(nn.Module):
    """One decoder layer. No layer norm and no residual connection (chapter 10 adds them).

    Args:
        d_model: the size D of every input and output vector.
        n_heads: the number of attention heads in each attention block (D must be divisible by it).
        ff_units: the width of the feed-forward network's hidden layer.

    Sub-modules (keep these names, the grader loads weights into them):
        self_attn: MultiHeadAttention(d_model, n_heads), the decoder looking at its own (shifted) target
        cross_attn: MultiHeadAttention(d_model, n_heads), the decoder looking at the encoder's states
        ffn: nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model))
    """

    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        # TODO: build self.self_attn, self.cross_attn and self.ffn exactly as the docstring lists them.
        raise NotImplementedError("DecoderLayer.__init__ is not written yet")

    def forward(self, x, states, source_mask=None, target_mask=None):
        """Decode: attend to the target so far, then to the source.

        Args:
            x: (N, Lt, D), the (shifted) target sequence.
            states: (N, Ls, D), the encoder's states, one per source position (Ls may differ from Lt).
            source_mask: None, or a torch.bool tensor broadcastable to (N, Lt, Ls), usually (N, 1, Ls);
                True means "this source position may be attended to" (False hides padding).
            target_mask: None, or a torch.bool tensor broadcastable to (N, Lt, Lt), usually the
                (1, Lt, Lt) subsequent mask: target position t may only look at positions 0..t.

        Returns:
            (N, Lt, D): one output vector per target position.
        """
        # TODO:
        #   1. masked self-attention over x (query, key and value: x; mask: the target mask);
        #   2. cross-attention: the query is step 1's output, the keys and the values are the
        #      encoder's states; mask: the source mask;
        #   3. the feed-forward network on step 2's output.
        #   MultiHeadAttention returns (output, weights): only the output carries on.
        raise NotImplementedError("DecoderLayer.forward is not written yet")
