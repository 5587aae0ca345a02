"""Known mistakes for transformer_decoder_layer: each class is a whole (wrong) norm-first decoder layer.

All build the documented sub-modules (self_attn, cross_attn, ffn with its Dropout, norm1..norm3,
drop1..drop3); only forward differs. x is (N, Lt, D), states (N, Ls, D).

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
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(ff_units, d_model))
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.drop1, self.drop2, self.drop3 = (nn.Dropout(dropout) for _ in range(3))

    def look_back(self, y, target_mask):
        return self.self_attn(y, y, y, mask=target_mask)[0]

    def look_up(self, q, states, source_mask):
        return self.cross_attn(q, states, states, mask=source_mask)[0]


@mistake("norm_last", "This is the norm-last layer of \"Attention Is All You Need\": norm(x + drop(sublayer(x))) "
         "around each sub-layer. The exercise (like nn.TransformerDecoderLayer(norm_first=True)) is norm-first: "
         "x + drop(sublayer(norm(x))), the norm on each sub-layer's input and the residual path left alone.",
         provides="DecoderLayer")
class NormLast(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = self.norm1(x + self.drop1(self.look_back(x, target_mask)))
        h2 = self.norm2(h1 + self.drop2(self.look_up(h1, states, source_mask)))
        return self.norm3(h2 + self.drop3(self.ffn(h2)))


@mistake("cross_keys_from_target", "The cross-attention takes its keys and values from the decoder's own "
         "sequence instead of the encoder's states, so the decoder never reads the source: "
         "cross_attn(norm2(h1), states, states, mask=source_mask).", provides="DecoderLayer")
class CrossKeysFromTarget(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = x + self.drop1(self.look_back(self.norm1(x), target_mask))
        y = self.norm2(h1)
        h2 = h1 + self.drop2(self.cross_attn(y, y, y, mask=target_mask)[0])
        return h2 + self.drop3(self.ffn(self.norm3(h2)))


@mistake("states_normalised", "The encoder's states go through norm2 before the cross-attention: only the "
         "query, norm2(h1), is normalised inside the layer; the keys and values are the states as they come "
         "(the encoder's final norm has normalised them already, with its own weights).", provides="DecoderLayer")
class StatesNormalised(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = x + self.drop1(self.look_back(self.norm1(x), target_mask))
        s = self.norm2(states)
        h2 = h1 + self.drop2(self.look_up(self.norm2(h1), s, source_mask))
        return h2 + self.drop3(self.ffn(self.norm3(h2)))


@mistake("cross_query_from_input", "The cross-attention's query is built from the layer's input x instead of h1, "
         "the output of the self-attention sub-layer: the sub-layers form a chain, each starting from the "
         "previous one's output.", provides="DecoderLayer")
class CrossQueryFromInput(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = x + self.drop1(self.look_back(self.norm1(x), target_mask))
        h2 = h1 + self.drop2(self.look_up(self.norm2(x), states, source_mask))
        return h2 + self.drop3(self.ffn(self.norm3(h2)))


@mistake("target_mask_ignored", "The target mask never reaches the self-attention, so every target position "
         "also sees the positions after it, the answers it should predict: "
         "self_attn(y, y, y, mask=target_mask).", provides="DecoderLayer")
class TargetMaskIgnored(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = x + self.drop1(self.look_back(self.norm1(x), None))
        h2 = h1 + self.drop2(self.look_up(self.norm2(h1), states, source_mask))
        return h2 + self.drop3(self.ffn(self.norm3(h2)))


@mistake("masks_swapped", "The two masks are swapped: the target (subsequent) mask belongs to the "
         "self-attention over the target, the source (padding) mask to the cross-attention over the states.",
         provides="DecoderLayer")
class MasksSwapped(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = x + self.drop1(self.look_back(self.norm1(x), source_mask))
        h2 = h1 + self.drop2(self.look_up(self.norm2(h1), states, target_mask))
        return h2 + self.drop3(self.ffn(self.norm3(h2)))


@mistake("dropout_on_residual", "Dropout is applied after the addition, drop(x + sublayer(norm(x))), so it also "
         "drops parts of the residual path: only each sub-layer's branch is dropped out, "
         "x + drop(sublayer(norm(x))).", provides="DecoderLayer")
class DropoutOnResidual(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = self.drop1(x + self.look_back(self.norm1(x), target_mask))
        h2 = self.drop2(h1 + self.look_up(self.norm2(h1), states, source_mask))
        return self.drop3(h2 + self.ffn(self.norm3(h2)))


@mistake("no_residual", "The residual connections are missing: each sub-layer's output replaces its input "
         "instead of being added to it. Norm-first is x + drop(sublayer(norm(x))).", provides="DecoderLayer")
class NoResidual(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        h1 = self.drop1(self.look_back(self.norm1(x), target_mask))
        h2 = self.drop2(self.look_up(self.norm2(h1), states, source_mask))
        return self.drop3(self.ffn(self.norm3(h2)))


@mistake("dropout_always_on", "Dropout stays on in evaluation mode: F.dropout(y, p) has training=True by "
         "default. Use the modules drop1, drop2 and drop3 (they follow .train() and .eval()), or pass "
         "training=self.training.", provides="DecoderLayer")
class DropoutAlwaysOn(_Parts):
    def forward(self, x, states, source_mask=None, target_mask=None):
        p = self.drop1.p
        h1 = x + F.dropout(self.look_back(self.norm1(x), target_mask), p)
        h2 = h1 + F.dropout(self.look_up(self.norm2(h1), states, source_mask), p)
        return h2 + F.dropout(self.ffn(self.norm3(h2)), p)
