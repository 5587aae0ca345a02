"""Reference: a collate function that packs a batch of variable-length sequences."""

import torch
from torch.nn.utils import rnn as rnn_utils


def collate_packed(batch):
    sequences = [seq for seq, _ in batch]
    labels = [label for _, label in batch]
    # enforce_sorted=False: pack_sequence sorts by length itself and remembers the order it was
    # given (sorted_indices / unsorted_indices), so unpacking gives the sequences back in that order.
    packed = rnn_utils.pack_sequence(sequences, enforce_sorted=False)
    return packed, torch.stack(labels).view(-1, 1)  # labels stay in the order given: (N, 1)
