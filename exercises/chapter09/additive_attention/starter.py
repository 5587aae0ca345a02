"""Additive (Bahdanau-style) attention.

Fill in `AdditiveAttention` (both `__init__` and `forward`), then run
`dl-course check additive_attention`.
Build it from tensor operations: PyTorch's own attention routines
(scaled_dot_product_attention, nn.MultiheadAttention) are off limits here.
"""

import torch
from torch import nn


class AdditiveAttention(nn.Module):
    """Attention whose score is a small one-layer network instead of a dot product.

    For a query q_i and a key k_j:

        score(q_i, k_j) = v · tanh(W_q q_i + W_k k_j)

    The scores of one query over all the keys go through a softmax (the attention weights,
    "alphas"), and the context vector of that query is the alphas-weighted sum of the values.
    Queries and keys may have different sizes: each has its own projection into a shared
    space of `hidden_size` features.

    Args:
        query_size: Dq, the number of features of each query.
        key_size: Dk, the number of features of each key.
        hidden_size: H, the size of the shared space where queries and keys are added.

    Sub-modules (the grader loads weights into them, so keep these names, sizes and no biases):
        w_query: nn.Linear(query_size, hidden_size, bias=False)   weight (H, Dq)
        w_key:   nn.Linear(key_size, hidden_size, bias=False)     weight (H, Dk)
        v:       nn.Linear(hidden_size, 1, bias=False)            weight (1, H)
    """

    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        # TODO: create the three projections w_query, w_key and v described above
        #       (all three without a bias).

    def forward(self, query, key, value, mask=None):
        """Score every query against every key, and mix the values.

        Args:
            query: (N, Lq, Dq).
            key: (N, Lk, Dk).
            value: (N, Lk, Dv); Dv may differ from both Dq and Dk.
            mask: None, or a torch.bool tensor broadcastable to (N, Lq, Lk), e.g. (N, 1, Lk)
                for padding; True means "this query may attend to this key". Hidden keys get a
                score of -inf before the softmax, so their weight is exactly 0.

        Returns:
            context: (N, Lq, Dv), one mixture of the values per query.
            alphas: (N, Lq, Lk), the attention weights; each query's row sums to 1 over the keys.
        """
        # TODO:
        #   1. project the queries and the keys into the shared space: (N, Lq, H) and (N, Lk, H);
        #   2. add every query to every key (broadcasting): (N, Lq, Lk, H), then tanh;
        #   3. v turns each H-vector into one score: (N, Lq, Lk);
        #   4. hide the masked scores with -inf, softmax over the keys;
        #   5. context = alphas @ value.
        raise NotImplementedError("AdditiveAttention.forward is not written yet")
