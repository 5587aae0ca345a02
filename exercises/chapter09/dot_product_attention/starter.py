"""Scaled dot-product attention.

Fill in `dot_product_attention`, then run `dl-course check dot_product_attention`.
"""

import math

import torch


def dot_product_attention(query, key, value, mask=None):
    """Attend from every query to the keys, and average the values with the attention weights.

    Args:
        query: (N, Lq, Dk), one vector per query position.
        key: (N, Lk, Dk), one vector per key position (the same size Dk as the queries).
        value: (N, Lk, Dv), one vector per key position; Dv may differ from Dk.
        mask: None, or a torch.bool tensor broadcastable to (N, Lq, Lk), such as a padding mask
            (N, 1, Lk) or a subsequent mask (1, Lq, Lq). True means "this query may attend to
            this key"; keys hidden by False must get exactly zero weight.

    Returns:
        context: (N, Lq, Dv), for every query the weighted average of the values.
        alphas: (N, Lq, Lk), the attention weights; each query's row sums to 1 over the keys.
    """
    # TODO: scores = query · keyᵀ / sqrt(Dk), shape (N, Lq, Lk).
    # TODO: where the mask is False, put -inf into the scores (before the softmax).
    # TODO: softmax over the keys, then weight the values.
    raise NotImplementedError("dot_product_attention is not written yet")
