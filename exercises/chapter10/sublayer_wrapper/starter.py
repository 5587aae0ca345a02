"""Sub-layer wrapper: normalise, run the sub-layer, drop out, add the residual (norm-first).

Fill in `SubLayerWrapper.__init__` and `SubLayerWrapper.forward`, then run
`dl-course check sublayer_wrapper`.

The norm here is PyTorch's own `nn.LayerNorm(d_model)`, as in the book, so this exercise does not
hang on your `layer_norm` exercise. Two sub-layers to try it with are provided in
sublayer_support.py (FeedForward and SelfAttention).
"""

import torch
from torch import nn


class SubLayerWrapper(nn.Module):
    """Wraps any sub-layer (self-attention, cross-attention, a feed-forward network) norm-first:

        output = x + drop(sublayer(norm(x)))

    Args:
        d_model: D, the number of features of every data point.
        dropout: the probability of dropping each element of the sub-layer's output.

    Sub-modules (keep these names, the grader loads weights into `norm`):
        norm: nn.LayerNorm(d_model)
        drop: nn.Dropout(dropout)
    The sub-layer itself is not part of the wrapper: it comes in as an argument of forward.
    """

    def __init__(self, d_model, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        # TODO: build self.norm and self.drop as the docstring lists them.
        raise NotImplementedError("SubLayerWrapper.__init__ is not written yet")

    def forward(self, x, sublayer):
        """Run one wrapped sub-layer.

        Args:
            x: (N, L, D), the sub-layer's input (the output of the previous sub-layer).
            sublayer: any callable taking one (N, L, D) tensor and returning (N, L, D): a module,
                or a lambda such as `lambda y: attn(y, mask=mask)`.

        Returns:
            (N, L, D): x + drop(sublayer(norm(x))).
        """
        # TODO:
        #   1. normalise the input;
        #   2. run the sub-layer on the normalised input;
        #   3. drop out the sub-layer's output;
        #   4. add it to the input as it came in (the residual connection).
        raise NotImplementedError("SubLayerWrapper.forward is not written yet")
