"""Known mistakes for transformer_encoder_layer: each class is a whole (wrong) norm-first encoder layer.

All build the documented sub-modules (self_attn, ffn with its Dropout, norm1, norm2, drop1, drop2);
only forward differs, or, for the last one, how dropout is applied. x is (N, L, D).

Order matters once: with dropout = 1 in training mode, dropout_on_residual and no_residual both give 0,
so the one that passes the dropout-0 checks (dropout_on_residual) comes first.
"""

import torch.nn.functional as F
from torch import nn

from dl_course.grading.mistakes import mistake
from multi_head_attention import MultiHeadAttention


class _Parts(nn.Module):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(ff_units, d_model))
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def attend(self, y, mask):
        return self.self_attn(y, y, y, mask=mask)[0]


@mistake("norm_last", "This is the norm-last layer of \"Attention Is All You Need\": norm(x + drop(sublayer(x))) "
         "around each sub-layer. The exercise (like nn.TransformerEncoderLayer(norm_first=True)) is norm-first: "
         "x + drop(sublayer(norm(x))), the norm on each sub-layer's input and the residual path left alone.",
         provides="EncoderLayer")
class NormLast(_Parts):
    def forward(self, x, source_mask=None):
        h = self.norm1(x + self.drop1(self.attend(x, source_mask)))
        return self.norm2(h + self.drop2(self.ffn(h)))


@mistake("mask_inverted", "The source mask is inverted: this course's masks say True = may attend, so the "
         "layer must pass source_mask as it is (~source_mask is PyTorch's convention for its own modules, "
         "where True means ignore). Inverted, every position attends only to the padding.",
         provides="EncoderLayer")
class MaskInverted(_Parts):
    def forward(self, x, source_mask=None):
        mask = None if source_mask is None else ~source_mask
        h = x + self.drop1(self.attend(self.norm1(x), mask))
        return h + self.drop2(self.ffn(self.norm2(h)))


@mistake("mask_ignored", "The source mask is never passed to the self-attention, so every position also "
         "attends to the padding of shorter sequences: self_attn(y, y, y, mask=source_mask).",
         provides="EncoderLayer")
class MaskIgnored(_Parts):
    def forward(self, x, source_mask=None):
        h = x + self.drop1(self.attend(self.norm1(x), None))
        return h + self.drop2(self.ffn(self.norm2(h)))


@mistake("dropout_on_residual", "Dropout is applied after the addition, drop(x + sublayer(norm(x))), so it also "
         "drops parts of the residual path: only each sub-layer's branch is dropped out, "
         "x + drop(sublayer(norm(x))).", provides="EncoderLayer")
class DropoutOnResidual(_Parts):
    def forward(self, x, source_mask=None):
        h = self.drop1(x + self.attend(self.norm1(x), source_mask))
        return self.drop2(h + self.ffn(self.norm2(h)))


@mistake("no_residual", "The residual connections are missing: each sub-layer's output replaces its input "
         "instead of being added to it. Norm-first is x + drop(sublayer(norm(x))).", provides="EncoderLayer")
class NoResidual(_Parts):
    def forward(self, x, source_mask=None):
        h = self.drop1(self.attend(self.norm1(x), source_mask))
        return self.drop2(self.ffn(self.norm2(h)))


@mistake("residual_from_normalised", "The residual adds the normalised input, norm(x) + drop(sublayer(norm(x))): "
         "what is added back is the sub-layer's input as it came in, x, so the inputs flow up the stack "
         "unchanged.", provides="EncoderLayer")
class ResidualFromNormalised(_Parts):
    def forward(self, x, source_mask=None):
        y = self.norm1(x)
        h = y + self.drop1(self.attend(y, source_mask))
        z = self.norm2(h)
        return z + self.drop2(self.ffn(z))


@mistake("ffn_reads_x", "The feed-forward sub-layer reads the layer's input x instead of the output of the "
         "self-attention sub-layer, h = x + drop1(attention): the second sub-layer is h + drop2(ffn(norm2(h))).",
         provides="EncoderLayer")
class FFNReadsX(_Parts):
    def forward(self, x, source_mask=None):
        h = x + self.drop1(self.attend(self.norm1(x), source_mask))
        return h + self.drop2(self.ffn(self.norm2(x)))


@mistake("one_norm_for_both", "norm1 serves both sub-layers and norm2 is never used: each sub-layer has its own "
         "layer normalization, with its own weight and bias (norm1 before the attention, norm2 before the "
         "feed-forward network).", provides="EncoderLayer")
class OneNormForBoth(_Parts):
    def forward(self, x, source_mask=None):
        h = x + self.drop1(self.attend(self.norm1(x), source_mask))
        return h + self.drop2(self.ffn(self.norm1(h)))


@mistake("dropout_always_on", "Dropout stays on in evaluation mode: F.dropout(y, p) has training=True by "
         "default. Use the modules drop1 and drop2 (they follow .train() and .eval()), or pass "
         "training=self.training.", provides="EncoderLayer")
class DropoutAlwaysOn(_Parts):
    def forward(self, x, source_mask=None):
        p = self.drop1.p
        h = x + F.dropout(self.attend(self.norm1(x), source_mask), p)
        return h + F.dropout(self.ffn(self.norm2(h)), p)


@mistake("dropout_not_applied", "drop1 and drop2 are built but never used: with dropout > 0 the sub-layers' "
         "outputs must be dropped out in training, x + drop1(attention), h + drop2(ffn).",
         provides="EncoderLayer")
class DropoutNotApplied(_Parts):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.0):
        super().__init__(d_model, n_heads, ff_units, dropout)
        self.ffn[2] = nn.Dropout(0.0)  # the dropout argument reaches no module at all

    def forward(self, x, source_mask=None):
        h = x + self.attend(self.norm1(x), source_mask)
        return h + self.ffn(self.norm2(h))
