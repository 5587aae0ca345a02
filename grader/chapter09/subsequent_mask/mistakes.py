"""Known mistakes for subsequent_mask."""

import torch

from dl_course.grading.mistakes import mistake


@mistake("upper_triangular", "The mask is upper-triangular: each position may see the future and not the past.")
def subsequent_mask(size, device=None):
    return torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)


@mistake("no_diagonal", "The diagonal is masked: a position must be allowed to attend to itself (use tril, not tril(-1)).",
         provides="subsequent_mask")
def without_diagonal(size, device=None):
    return torch.ones(size, size, dtype=torch.bool, device=device).tril(-1).unsqueeze(0)


@mistake("float_mask", "The mask holds 0.0/1.0 floats (what 1 - torch.triu(torch.ones(1, L, L), diagonal=1) "
         "gives before the book's .bool()); masks here are bool (True = may attend), so ~mask and masked_fill "
         "work as expected: add .bool(), or build it from a bool tensor.", provides="subsequent_mask")
def float_mask(size, device=None):
    return torch.ones(size, size, device=device).tril().unsqueeze(0)


@mistake("no_batch_dim", "The mask is (L, L); it needs a leading dimension of 1, (1, L, L), to broadcast over the batch.",
         provides="subsequent_mask")
def no_batch_dim(size, device=None):
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


@mistake("ignores_device", "The mask is always created on the CPU: pass device=device when creating it.",
         provides="subsequent_mask")
def ignores_device(size, device=None):
    return torch.ones(size, size, dtype=torch.bool).tril().unsqueeze(0)


@mistake("sees_next", "Each position may also see the next one: tril(diagonal=1) keeps one diagonal above the main "
         "one. The future starts right after the diagonal, so it is triu(diagonal=1) that marks what to hide, and "
         "plain tril() (diagonal 0) what may be seen.", provides="subsequent_mask")
def sees_next(size, device=None):
    return torch.ones(size, size, dtype=torch.bool, device=device).tril(diagonal=1).unsqueeze(0)
