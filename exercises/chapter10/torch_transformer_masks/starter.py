"""Our masks, nn.Transformer's masks, and the way between them.

In this course a mask is `torch.bool` and True means "may attend":
    padding mask    (N, 1, L)    (chapter 9's padding_mask): True on real data
    attention mask  (1, Lq, Lk)  (chapter 9's subsequent_mask): True where query q may see key k

PyTorch's nn.Transformer (and nn.TransformerEncoderLayer, nn.MultiheadAttention) wants:
    src_key_padding_mask  (N, L)    bool, True = IGNORE this key (it is padding)
    tgt_mask / src_mask   (Lq, Lk)  either bool, True = IGNORE (may not attend),
                                    or float, ADDED to the scores: 0.0 = may attend, -inf = may not
                                    (nn.Transformer.generate_square_subsequent_mask(L) gives this form)

Fill in the five functions, then run `dl-course check torch_transformer_masks`.
Follow the input mask's device; build nothing on a fixed device.
"""

import torch


def to_key_padding_mask(mask):
    """Our padding mask → nn.Transformer's `src_key_padding_mask`.

    Args:
        mask: bool (N, 1, L), True where the position holds real data.

    Returns:
        bool (N, L), True where the position is padding (to be ignored).
    """
    # TODO: drop the query dimension and flip the meaning.
    raise NotImplementedError("to_key_padding_mask is not written yet")


def from_key_padding_mask(key_padding_mask):
    """nn.Transformer's key padding mask → our padding mask.

    Args:
        key_padding_mask: bool (N, L), True on padding.

    Returns:
        bool (N, 1, L), True on real data.
    """
    # TODO: flip the meaning and put the query dimension back.
    raise NotImplementedError("from_key_padding_mask is not written yet")


def to_bool_attn_mask(mask):
    """Our attention mask → a bool `tgt_mask` (or `src_mask`) for nn.Transformer.

    Args:
        mask: bool (1, Lq, Lk), True where query q may attend to key k.

    Returns:
        bool (Lq, Lk), True where query q may NOT attend to key k.
    """
    # TODO: drop the leading dimension (only that one) and flip the meaning.
    raise NotImplementedError("to_bool_attn_mask is not written yet")


def to_float_attn_mask(mask, dtype=torch.float32):
    """Our attention mask → a float `tgt_mask`, as generate_square_subsequent_mask makes.

    Args:
        mask: bool (1, Lq, Lk), True where query q may attend to key k.
        dtype: the floating dtype of the result.

    Returns:
        (Lq, Lk) of `dtype` on the mask's device: 0.0 where query q may attend to key k,
        float('-inf') where it may not. For subsequent_mask(L) this equals
        nn.Transformer.generate_square_subsequent_mask(L).
    """
    # TODO: start from zeros of the right shape, dtype and device; put -inf where mask is False.
    raise NotImplementedError("to_float_attn_mask is not written yet")


def from_attn_mask(attn_mask):
    """An nn.Transformer attention mask, bool or float → our attention mask.

    Args:
        attn_mask: (Lq, Lk), either bool (True = may NOT attend) or float (0.0 = may attend,
            -inf = may not).

    Returns:
        bool (1, Lq, Lk), True where query q may attend to key k.
    """
    # TODO: tell the two forms apart by attn_mask.dtype; for the float form, a place is allowed
    #       when it is not -inf. Then add the leading dimension.
    raise NotImplementedError("from_attn_mask is not written yet")
