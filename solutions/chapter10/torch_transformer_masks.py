"""Reference: our bool masks (True = may attend) to nn.Transformer's arguments and back.

PyTorch's bool masks mean the opposite (True = ignore), its key padding mask has no query
dimension, and its float masks are added to the scores (0 keeps, -inf blocks).
"""

import torch


def to_key_padding_mask(mask):
    # (N, 1, L) True = real data -> (N, L) True = padding (to be ignored).
    return ~mask[:, 0]


def from_key_padding_mask(key_padding_mask):
    # (N, L) True = ignore -> (N, 1, L) True = may attend.
    return (~key_padding_mask).unsqueeze(1)


def to_bool_attn_mask(mask):
    # (1, Lq, Lk) True = may attend -> (Lq, Lk) True = not allowed to attend.
    return ~mask[0]


def to_float_attn_mask(mask, dtype=torch.float32):
    # (1, Lq, Lk) -> (Lq, Lk) of 0.0 where attending is allowed and -inf where it is not, the
    # values generate_square_subsequent_mask uses; born on the mask's device.
    allowed = mask[0]
    zeros = torch.zeros(allowed.shape, dtype=dtype, device=mask.device)
    return zeros.masked_fill(~allowed, float("-inf"))


def from_attn_mask(attn_mask):
    # (Lq, Lk), bool (True = ignore) or float (0 / -inf) -> (1, Lq, Lk) True = may attend.
    if attn_mask.dtype == torch.bool:
        allowed = ~attn_mask
    else:
        allowed = attn_mask != float("-inf")
    return allowed.unsqueeze(0)
