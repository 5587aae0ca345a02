"""Reference: the padding (source) mask, (N, L, F) -> (N, 1, L) bool, True = real data."""

import torch


def padding_mask(seq, pad_value=0.0):
    # A position is real when ANY of its features differs from the pad value: a real point may
    # well have one coordinate equal to it (.all(-1) would take that point for padding).
    real = (seq != pad_value).any(dim=-1)  # (N, L)
    return real.unsqueeze(1)  # (N, 1, L): broadcasts over the queries of (N, Lq, L) scores
