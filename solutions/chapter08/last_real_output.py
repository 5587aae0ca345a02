"""Reference: the output at each padded sequence's last real step."""

import torch


def last_real_output(padded_out, lengths):
    rows = torch.arange(padded_out.size(0), device=padded_out.device)
    last = lengths.to(device=padded_out.device, dtype=torch.long) - 1  # a length of 3 ends at index 2
    return padded_out[rows, last]  # one (sequence, step) pair per row: (N, H)
