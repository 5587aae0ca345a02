"""Known mistakes for padding_mask. Each function is a whole (wrong) implementation."""

import torch

from dl_course.grading.mistakes import mistake


@mistake("all_features", "A position counts as real only when ALL its features differ from the pad value "
         "(.all(-1)): a real point with a single coordinate equal to it is taken for padding. "
         "It is real when ANY feature differs (.any(-1)).")
def padding_mask(seq, pad_value=0.0):
    return (seq != pad_value).all(dim=-1).unsqueeze(1)


@mistake("no_unsqueeze", "The mask is (N, L); it needs a middle dimension of size 1, (N, 1, L), to broadcast "
         "over the queries of (N, Lq, L) scores.", provides="padding_mask")
def no_unsqueeze(seq, pad_value=0.0):
    return (seq != pad_value).any(dim=-1)


@mistake("inverted", "The mask is inverted: it is True on padding. Here True means \"may attend\", "
         "so real data is True and padding is False.", provides="padding_mask")
def inverted(seq, pad_value=0.0):
    return (seq == pad_value).all(dim=-1).unsqueeze(1)


@mistake("first_feature", "Only the first feature is compared with the pad value: a real point whose first "
         "coordinate equals it is taken for padding. Compare every feature.", provides="padding_mask")
def first_feature(seq, pad_value=0.0):
    return (seq[..., 0] != pad_value).unsqueeze(1)


@mistake("float_mask", "The mask holds 0.0/1.0 floats; masks here are bool (True = may attend), so that "
         "~mask and masked_fill work as expected.", provides="padding_mask")
def float_mask(seq, pad_value=0.0):
    return (seq != pad_value).any(dim=-1).unsqueeze(1).float()


@mistake("uint8_mask", "The mask holds uint8 0/1 (old-style byte masks); masks here are torch.bool.",
         provides="padding_mask")
def uint8_mask(seq, pad_value=0.0):
    return (seq != pad_value).any(dim=-1).unsqueeze(1).byte()


@mistake("ignores_pad_value", "The features are compared with 0, not with pad_value: when the padding is "
         "another number, padded positions are taken for real data.", provides="padding_mask")
def ignores_pad_value(seq, pad_value=0.0):
    return (seq != 0).any(dim=-1).unsqueeze(1)


@mistake("ignores_device", "A tensor of pad values is created without device= (so on the CPU): compare seq "
         "with the number pad_value directly, or create it with device=seq.device.", provides="padding_mask")
def ignores_device(seq, pad_value=0.0):
    pad = torch.full((seq.shape[-1],), pad_value, dtype=seq.dtype)
    return (seq != pad).any(dim=-1).unsqueeze(1)
