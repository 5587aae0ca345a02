"""Layer normalization, written by hand.

Fill in `LayerNorm.__init__` and `LayerNorm.forward`, then run `dl-course check layer_norm`.
PyTorch's own normalizations (`nn.LayerNorm`, `F.layer_norm`, and the group, instance, batch
and RMS norms, which can be bent into a layer norm) are off limits here: build it from means,
a variance and a square root.
"""

import torch
from torch import nn


class LayerNorm(nn.Module):
    """Standardises every data point over its own features, then scales and shifts each feature.

    It must behave exactly as `nn.LayerNorm(d_model, eps=eps)`.

    Args:
        d_model: D, the number of features of each data point (the last dimension of x).
        eps: a small number added to the variance, under the square root.

    Parameters (keep these names, the grader loads weights into them):
        weight: (D,), starts at ones  (PyTorch's docs call it gamma)
        bias:   (D,), starts at zeros (PyTorch's docs call it beta)
    """

    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.d_model = d_model
        self.eps = eps
        # TODO: create the two learnable parameters, `weight` and `bias`, each of shape (D,).
        raise NotImplementedError("LayerNorm.__init__ is not written yet")

    def forward(self, x):
        """Normalise x over its last dimension.

        Args:
            x: (..., D), e.g. (N, L, D): any number of leading dimensions.

        Returns:
            (..., D), the same shape, dtype and device as x:
            (x - mean) / sqrt(var + eps) * weight + bias, where mean and var are taken over
            the D features of each data point on its own (var divides by D, not D - 1).
        """
        # TODO:
        #   1. the mean and the (biased) variance of each data point, over the last dimension;
        #      keep that dimension so they broadcast against x.
        #   2. standardise: subtract the mean, divide by sqrt(var + eps).
        #   3. scale by weight and shift by bias.
        raise NotImplementedError("LayerNorm.forward is not written yet")
