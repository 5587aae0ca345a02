"""A collate function that packs variable-length sequences.

Fill in `collate_packed`, then run `dl-course check collate_packed`. A DataLoader calls it with
the list of (sequence, label) pairs it sampled, and hands its answer to your training loop:

    loader = DataLoader(dataset, batch_size=16, shuffle=True, collate_fn=collate_packed)
"""

import torch
from torch.nn.utils import rnn as rnn_utils


def collate_packed(batch):
    """Turn a list of (sequence, label) pairs into one packed batch and its labels.

    Args:
        batch: a list of N pairs (seq, label), as a Dataset's __getitem__ returns them:
            seq is (L_i, F), the L_i points of one sequence (lengths differ, in any order);
            label is a (1,) float tensor (1.0 or 0.0).

    Returns:
        (packed, labels):
            packed: a torch.nn.utils.rnn.PackedSequence of the N sequences that unpacks
                (pad_packed_sequence) to the sequences IN THE ORDER GIVEN, as packing with
                enforce_sorted=False does; the points keep their dtype and device.
            labels: (N, 1), label i belongs to sequence i (the order given).
    """
    # TODO: gather the sequences and the labels, pack the sequences (they are not sorted
    #       by length), and stack the labels into an (N, 1) tensor.
    raise NotImplementedError("collate_packed is not written yet")
