"""Known mistakes for collate_packed: each function is a whole (wrong) `collate_packed`.

Tried in file order; the first that gives what the learner's code gave on every case of the failing
check names the misconception.
"""

import torch
from torch.nn.utils import rnn as rnn_utils

from dl_course.grading.mistakes import mistake


@mistake("enforce_sorted_left_on", "The sequences are packed with enforce_sorted=True (the default), which requires "
         "them sorted by decreasing length: a batch sampled at random is not. Pass enforce_sorted=False and "
         "let packing sort them (and remember their order).", provides="collate_packed")
def enforce_sorted_left_on(batch):
    packed = rnn_utils.pack_sequence([seq for seq, _ in batch])
    return packed, torch.stack([label for _, label in batch]).view(-1, 1)


@mistake("sorted_without_labels", "The sequences are sorted by length before packing, but the labels are left in "
         "the order given: label i no longer belongs to sequence i. Do not sort by hand: pack_sequence(..., "
         "enforce_sorted=False) sorts internally and unpacks in the original order.", provides="collate_packed")
def sorted_without_labels(batch):
    sequences = sorted((seq for seq, _ in batch), key=len, reverse=True)
    packed = rnn_utils.pack_sequence(sequences)
    return packed, torch.stack([label for _, label in batch]).view(-1, 1)


@mistake("sorted_batch", "The batch is sorted by length (sequences and labels together) and packed as sorted, so "
         "it unpacks in the sorted order, not in the order given. pack_sequence(..., enforce_sorted=False) sorts "
         "internally and keeps the original order (sorted_indices / unsorted_indices), so the model's outputs "
         "line up with the batch as sampled.", provides="collate_packed")
def sorted_batch(batch):
    ordered = sorted(batch, key=lambda pair: len(pair[0]), reverse=True)
    packed = rnn_utils.pack_sequence([seq for seq, _ in ordered])
    return packed, torch.stack([label for _, label in ordered]).view(-1, 1)


@mistake("lengths_from_padded_size", "The sequences are padded and packed with the padded length as every "
         "sequence's length, so the padding is packed as if it were data and the RNN reads it. Pack with each "
         "sequence's own length, len(seq) (or use pack_sequence, which needs no lengths).",
         provides="collate_packed")
def lengths_from_padded_size(batch):
    padded = rnn_utils.pad_sequence([seq for seq, _ in batch], batch_first=True)
    lengths = [padded.size(1)] * padded.size(0)
    packed = rnn_utils.pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    return packed, torch.stack([label for _, label in batch]).view(-1, 1)


@mistake("packed_as_time_first", "The sequences are padded batch first, (N, L, F), but packed without "
         "batch_first=True, so pack_padded_sequence reads dimension 0 as time and dimension 1 as the batch. "
         "Say batch_first=True to both, or to neither.", provides="collate_packed")
def packed_as_time_first(batch):
    padded = rnn_utils.pad_sequence([seq for seq, _ in batch], batch_first=True)
    lengths = torch.tensor([len(seq) for seq, _ in batch])
    packed = rnn_utils.pack_padded_sequence(padded, lengths, enforce_sorted=False)
    return packed, torch.stack([label for _, label in batch]).view(-1, 1)


@mistake("labels_flat", "The labels come back as (N,) (torch.cat of the (1,) labels); a classifier's logits are "
         "(N, 1), and BCEWithLogitsLoss wants the labels in the same shape: stack them, torch.stack(labels) "
         "(or .view(-1, 1)).", provides="collate_packed")
def labels_flat(batch):
    packed = rnn_utils.pack_sequence([seq for seq, _ in batch], enforce_sorted=False)
    return packed, torch.cat([label for _, label in batch])
