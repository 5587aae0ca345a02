"""Reference: the subsequent (target) mask."""

import torch


def subsequent_mask(size, device=None):
    # Lower triangle including the diagonal: row i may see columns 0..i.
    allowed = torch.ones(size, size, dtype=torch.bool, device=device).tril()
    return allowed.unsqueeze(0)
