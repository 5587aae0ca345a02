"""The subsequent (target) mask of a Transformer decoder.

Fill in `subsequent_mask`, then run `dl-course check subsequent_mask`.
"""

import torch


def subsequent_mask(size, device=None):
    """A mask that lets each target position see itself and earlier positions only.

    Args:
        size: the target sequence length L.
        device: where to create the mask (None means the default device).

    Returns:
        A `torch.bool` tensor of shape (1, L, L): entry [0, i, j] is True when position i may
        attend to position j, that is, when j <= i.
    """
    # TODO: build the (1, size, size) boolean mask on `device`.
    raise NotImplementedError("subsequent_mask is not written yet")
