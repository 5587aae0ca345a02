"""Multi-head (narrow) attention.

Fill in `MultiHeadAttention.forward` (and anything you need in `__init__`), then run
`dl-course check multi_head_attention`.
"""

import math

import torch
from torch import nn


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention with `n_heads` narrow heads.

    Args:
        d_model: the size D of every input and output vector.
        n_heads: the number of heads h; each head works on d_k = D // h features.
        bias: whether the four projections have a bias.

    The four projections are already here; keep their names, the grader loads weights into them.
    """

    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_k = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query, key, value, mask=None):
        """Attend from every query to the keys, and mix the values.

        Args:
            query: (N, Lq, D).
            key: (N, Lk, D).
            value: (N, Lk, D).
            mask: None, or a torch.bool tensor broadcastable to (N, Lq, Lk); True means
                "this query may attend to this key". Hidden scores become -inf before softmax.

        Returns:
            output: (N, Lq, D), the heads' context vectors merged and sent through out_proj.
            weights: (N, n_heads, Lq, Lk), each head's attention weights (rows sum to 1).
        """
        # TODO:
        #   1. project query, key and value;
        #   2. split the last dimension into heads: (N, L, D) -> (N, h, L, d_k);
        #   3. scores = Q Kᵀ / sqrt(d_k), hide masked keys, softmax over the keys;
        #   4. weights @ V, bring the heads back together: (N, h, Lq, d_k) -> (N, Lq, D);
        #   5. out_proj.
        raise NotImplementedError("MultiHeadAttention.forward is not written yet")
