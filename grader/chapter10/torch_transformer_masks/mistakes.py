"""Known mistakes for torch_transformer_masks.

The learner writes five functions; each variant below gets one of them wrong and takes the other
four from the correct versions at the top of this file (names a learner defines, not mistakes).
Our masks: bool, True = may attend; padding (N, 1, L), attention (1, Lq, Lk).
PyTorch's: key padding (N, L) bool, True = ignore; attention (Lq, Lk), bool True = ignore or
float 0 / -inf.
"""

import torch

from dl_course.grading.mistakes import mistake


def to_key_padding_mask(mask):
    return ~mask[:, 0]


def from_key_padding_mask(key_padding_mask):
    return (~key_padding_mask).unsqueeze(1)


def to_bool_attn_mask(mask):
    return ~mask[0]


def to_float_attn_mask(mask, dtype=torch.float32):
    allowed = mask[0]
    return torch.zeros(allowed.shape, dtype=dtype, device=mask.device).masked_fill(~allowed, float("-inf"))


def from_attn_mask(attn_mask):
    allowed = ~attn_mask if attn_mask.dtype == torch.bool else attn_mask != float("-inf")
    return allowed.unsqueeze(0)


# -- to_key_padding_mask -------------------------------------------------------------------------

@mistake("padding_not_inverted", "The key padding mask is not inverted: nn.Transformer's bool masks mean "
         "True = IGNORE this key, the opposite of ours (True = may attend). Real data must be False and "
         "padding True: ~mask.", provides="to_key_padding_mask")
def padding_not_inverted(mask):
    return mask[:, 0]


@mistake("padding_keeps_query_dim", "The key padding mask keeps our middle dimension, (N, 1, L): "
         "src_key_padding_mask is (N, L), one flag per key of each sequence, with no query dimension. "
         "Drop dimension 1 (mask[:, 0] or mask.squeeze(1)).", provides="to_key_padding_mask")
def padding_keeps_query_dim(mask):
    return ~mask


@mistake("padding_squeezes_every_dim", "mask.squeeze() drops EVERY dimension of size 1, so a batch of one "
         "sequence (N = 1) or sequences of length 1 lose a dimension too: squeeze only dimension 1, "
         "mask.squeeze(1) (or mask[:, 0]).", provides="to_key_padding_mask")
def padding_squeezes_every_dim(mask):
    return (~mask).squeeze()


@mistake("padding_as_float", "The key padding mask holds 0.0/1.0 floats: a float key padding mask is ADDED to "
         "the scores, so 1.0 on padding barely changes anything. Return a bool (True = ignore).",
         provides="to_key_padding_mask")
def padding_as_float(mask):
    return (~mask[:, 0]).float()


# -- to_bool_attn_mask ---------------------------------------------------------------------------

@mistake("bool_attn_not_inverted", "The bool attention mask is not inverted: for nn.Transformer a True means "
         "the query may NOT attend to that key, the opposite of ours. Return ~mask[0].",
         provides="to_bool_attn_mask")
def bool_attn_not_inverted(mask):
    return mask[0]


@mistake("attn_squeezes_every_dim", "mask.squeeze() drops every dimension of size 1, so with one query "
         "(Lq = 1, as when predicting the first step) the (1, Lk) mask becomes (Lk,): squeeze only the "
         "leading dimension, mask.squeeze(0) or mask[0].", provides="to_bool_attn_mask")
def attn_squeezes_every_dim(mask):
    return (~mask).squeeze()


# -- to_float_attn_mask --------------------------------------------------------------------------

@mistake("one_zero_float", "The float mask holds 1.0 where attending is forbidden and 0.0 elsewhere "
         "((~mask).float()): a float attention mask is ADDED to the scores, so 1.0 hides nothing. Blocked "
         "places need -inf (and allowed ones 0.0), as in nn.Transformer.generate_square_subsequent_mask.",
         provides="to_float_attn_mask")
def one_zero_float(mask, dtype=torch.float32):
    return (~mask[0]).to(dtype)


@mistake("keep_mask_as_float", "The float mask is our mask cast to float (1.0 = may attend, 0.0 = not): a float "
         "attention mask is ADDED to the scores, so it must be 0.0 where attending is allowed and -inf where it "
         "is not.", provides="to_float_attn_mask")
def keep_mask_as_float(mask, dtype=torch.float32):
    return mask[0].to(dtype)


@mistake("float_inverted", "The float mask puts -inf where attending IS allowed and 0.0 where it is not: -inf "
         "goes where our mask is False (fill ~mask, not mask).", provides="to_float_attn_mask")
def float_inverted(mask, dtype=torch.float32):
    allowed = mask[0]
    return torch.zeros(allowed.shape, dtype=dtype, device=mask.device).masked_fill(allowed, float("-inf"))


@mistake("large_negative_not_inf", "Blocked places hold a large negative number instead of -inf: attention "
         "comes out (nearly) the same, but the mask is not what nn.Transformer.generate_square_subsequent_mask "
         "gives, 0.0 and float('-inf').", provides="to_float_attn_mask")
def large_negative_not_inf(mask, dtype=torch.float32):
    allowed = mask[0]
    return torch.zeros(allowed.shape, dtype=dtype, device=mask.device).masked_fill(~allowed, -1e9)


@mistake("float_keeps_batch_dim", "The float mask keeps our leading dimension, (1, Lq, Lk): nn.Transformer "
         "takes an (Lq, Lk) attention mask (a 3-D one must be (N * n_heads, Lq, Lk)). Drop dimension 0.",
         provides="to_float_attn_mask")
def float_keeps_batch_dim(mask, dtype=torch.float32):
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, float("-inf"))


@mistake("float_ignores_dtype", "The float mask is always float32: the dtype argument is ignored, so a float64 "
         "model gets a float32 mask. Create it with dtype=dtype.", provides="to_float_attn_mask")
def float_ignores_dtype(mask, dtype=torch.float32):
    allowed = mask[0]
    return torch.zeros(allowed.shape, device=mask.device).masked_fill(~allowed, float("-inf"))


@mistake("float_ignores_device", "The float mask is created without device=, so on the CPU: on a GPU it would "
         "not sit with the mask (and the model). Create it with device=mask.device (or torch.zeros_like, "
         "torch.where).", provides="to_float_attn_mask")
def float_ignores_device(mask, dtype=torch.float32):
    allowed = mask[0]
    return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, float("-inf"))


# -- from_key_padding_mask -----------------------------------------------------------------------

@mistake("from_padding_no_query_dim", "Back in our convention the padding mask needs its middle dimension, "
         "(N, 1, L), to broadcast over the queries: unsqueeze(1).", provides="from_key_padding_mask")
def from_padding_no_query_dim(key_padding_mask):
    return ~key_padding_mask


@mistake("from_padding_not_inverted", "The key padding mask is turned back without inverting it: PyTorch's True "
         "(ignore) must become our False. Return (~key_padding_mask).unsqueeze(1).",
         provides="from_key_padding_mask")
def from_padding_not_inverted(key_padding_mask):
    return key_padding_mask.unsqueeze(1)


# -- from_attn_mask ------------------------------------------------------------------------------

@mistake("float_cast_to_bool", "A float mask is turned to bool with .bool(): -inf (blocked) becomes True and 0.0 "
         "(allowed) False, the opposite of our convention. Allowed places are those not equal to -inf "
         "(attn_mask != float('-inf')).", provides="from_attn_mask")
def float_cast_to_bool(attn_mask):
    allowed = ~attn_mask if attn_mask.dtype == torch.bool else attn_mask.bool()
    return allowed.unsqueeze(0)


@mistake("float_input_unhandled", "A float mask is inverted with ~, which only works on bool (and integer) "
         "tensors: handle both forms, bool (True = ignore) and float (0.0 / -inf).", provides="from_attn_mask")
def float_input_unhandled(attn_mask):
    return (~attn_mask).unsqueeze(0)


@mistake("from_attn_no_batch_dim", "Back in our convention an attention mask has a leading dimension of 1, "
         "(1, Lq, Lk), as subsequent_mask gives: unsqueeze(0).", provides="from_attn_mask")
def from_attn_no_batch_dim(attn_mask):
    return ~attn_mask if attn_mask.dtype == torch.bool else attn_mask != float("-inf")
