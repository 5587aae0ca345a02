"""Encoder layer: self-attention, then a feed-forward network.

Pass multi_head_attention first: this file imports your own `MultiHeadAttention` from
chapter09/multi_head_attention.py, so the encoder layer only works once that one does.

Fill in `EncoderLayer.__init__` and `EncoderLayer.forward`, then run
`dl-course check encoder_self_attention`.
"""

import torch
from torch import nn

from multi_head_attention import MultiHeadAttention


class EncoderLayer(nn.Module):
    """One encoder layer: every source position attends to the whole source, then goes through a
    small feed-forward network on its own. No layer norm and no residual connection (chapter 10).

    Args:
        d_model: the size D of every input and output vector.
        n_heads: the number of attention heads (D must be divisible by it).
        ff_units: the width of the feed-forward network's hidden layer.

    Sub-modules (keep these names, the grader loads weights into them):
        self_attn: MultiHeadAttention(d_model, n_heads)
        ffn: nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model))
    """

    def __init__(self, d_model, n_heads, ff_units):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.ff_units = ff_units
        # TODO: build self.self_attn and self.ffn exactly as the docstring above lists them.
        raise NotImplementedError("EncoderLayer.__init__ is not written yet")

    def forward(self, x, source_mask=None):
        """Encode a source sequence.

        Args:
            x: (N, L, D), the source sequence (already of size d_model).
            source_mask: None, or a torch.bool tensor broadcastable to (N, L, L), usually (N, 1, L);
                True means "this position may be attended to" (False hides padding).

        Returns:
            (N, L, D): the encoder's states, one per source position.
        """
        # TODO:
        #   1. self-attention: x is the query, the key and the value; pass the source mask.
        #      MultiHeadAttention returns (output, weights): which one carries on?
        #   2. send the result through the feed-forward network.
        raise NotImplementedError("EncoderLayer.forward is not written yet")
