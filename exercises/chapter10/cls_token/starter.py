"""The special classifier token [CLS] of a vision transformer.

Fill in `PatchEmbeddingWithCLS`, then run `dl-course check cls_token`.
"""

import torch
from torch import nn


class PatchEmbeddingWithCLS(nn.Module):
    """Puts one learned [CLS] embedding in front of every sequence of patch embeddings.

    Args:
        d_model: D, the width of a patch embedding.

    Parameters (keep the name, the grader loads weights into it):
        cls_token: (1, 1, D), an nn.Parameter that starts at zeros; the same token for every
            image of every batch, learned like any other weight.
    """

    def __init__(self, d_model):
        super().__init__()
        # TODO: create the learnable token, shape (1, 1, d_model), zeros to begin with.
        raise NotImplementedError("PatchEmbeddingWithCLS.__init__ is not written yet")

    def forward(self, x):
        """Prepend the token to each sequence.

        Args:
            x: (N, P, D), a batch of N sequences of P patch embeddings.

        Returns:
            (N, 1 + P, D): out[n, 0] is the token, out[n, 1:] is x[n]. Gradients reach x and
            the token (the token's gradient is the sum over the batch).
        """
        # TODO: give the token a batch dimension of N (without copying it out of autograd),
        #       then concatenate it BEFORE the patches along the sequence dimension.
        raise NotImplementedError("PatchEmbeddingWithCLS.forward is not written yet")
