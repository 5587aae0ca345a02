"""Known mistakes for last_real_output: each function is a whole (wrong) version a learner might write.

Tried in file order; the first that gives what the learner's code gave on every case of the failing
check names the misconception.
"""

import torch

from dl_course.grading.mistakes import mistake


@mistake("last_column", "padded_out[:, -1] is the last PADDED step: only the longest sequences end there, the "
         "others give padding. Take each sequence at its own last real step, lengths - 1.",
         provides="last_real_output")
def last_column(padded_out, lengths):
    return padded_out[:, -1]


@mistake("off_by_one", "Each sequence is taken at index lengths[i], one step past its end: a sequence of length 3 "
         "has its steps at 0, 1, 2, so the last real one is lengths - 1.", provides="last_real_output")
def off_by_one(padded_out, lengths):
    rows = torch.arange(padded_out.size(0), device=padded_out.device)
    return padded_out[rows, lengths]


@mistake("lengths_from_padding", "The lengths are worked out from padded_out (counting the rows that are not all "
         "zeros) instead of taken from `lengths`: padding is zeros only after pad_packed_sequence; an RNN run over "
         "padded inputs keeps changing its state there. Use the lengths you are given.",
         provides="last_real_output")
def lengths_from_padding(padded_out, lengths):
    counted = (padded_out != 0).any(-1).sum(1)
    rows = torch.arange(padded_out.size(0), device=padded_out.device)
    return padded_out[rows, counted - 1]


@mistake("time_index_only", "padded_out[:, lengths - 1] indexes the time dimension only, so every sequence is taken "
         "at all N positions: (N, N, H). Pair each row with its own position: "
         "padded_out[torch.arange(N), lengths - 1].", provides="last_real_output")
def time_index_only(padded_out, lengths):
    return padded_out[:, lengths - 1]


@mistake("gather_index_not_expanded", "gather's index is (N, 1, 1), so it picks ONE number per sequence (its first "
         "feature): gather returns the shape of its index. Expand the index over the H features first.",
         provides="last_real_output")
def gather_index_not_expanded(padded_out, lengths):
    index = (lengths - 1).view(-1, 1, 1)
    return padded_out.gather(1, index).squeeze(1)


@mistake("squeeze_all", "A bare .squeeze() removes every dimension of size 1, so a batch of one sequence (or H = 1) "
         "loses a dimension of the (N, H) answer. Squeeze the step dimension only: .squeeze(1).",
         provides="last_real_output")
def squeeze_all(padded_out, lengths):
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, padded_out.size(2))
    return padded_out.gather(1, index).squeeze()
