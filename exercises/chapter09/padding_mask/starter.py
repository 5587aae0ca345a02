"""The padding (source) mask.

Fill in `padding_mask`, then run `dl-course check padding_mask`.
"""

import torch


def padding_mask(seq, pad_value=0.0):
    """Mark which positions of a padded batch of sequences hold real data.

    Args:
        seq: a float tensor of shape (N, L, F): N sequences, each padded to length L, of points
            with F features. A padded position is one whose F features all equal `pad_value`.
        pad_value: the number used for padding.

    Returns:
        A `torch.bool` tensor of shape (N, 1, L), on the same device as `seq`: entry [n, 0, l] is
        True when position l of sequence n is real, that is, when at least one of its features
        differs from `pad_value`. The middle dimension of size 1 lets the mask broadcast over
        the queries of (N, Lq, L) attention scores.
    """
    # TODO: compare with pad_value, reduce over the features, add the middle dimension.
    raise NotImplementedError("padding_mask is not written yet")
