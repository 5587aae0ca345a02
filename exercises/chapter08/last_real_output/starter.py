"""The last real output of each padded sequence.

Fill in `last_real_output`, then run `dl-course check last_real_output`.
"""

import torch


def last_real_output(padded_out, lengths):
    """Pick, for every sequence of a padded batch, the output at its last REAL step.

    Args:
        padded_out: (N, L, H), a recurrent layer's outputs for N sequences padded to length L
            (batch first). Past a sequence's length the rows are padding: zeros (as
            pad_packed_sequence gives) or whatever the layer computed over the padding.
        lengths: (N,) int64 tensor on padded_out's device, the real length of each
            sequence (1 <= lengths[i] <= L), in any order.

    Returns:
        (N, H): row i is padded_out[i, lengths[i] - 1], with padded_out's dtype and device,
        and connected to padded_out for gradients.
    """
    # TODO: index each sequence at its own last real step.
    raise NotImplementedError("last_real_output is not written yet")
