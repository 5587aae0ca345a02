"""Known mistakes for torch_transformer_model: each a whole model, wrong in one way.

They share a correct skeleton (`_Model`, not itself a mistake, laid out as the reference) and
override one step of it.
"""

import torch
from torch import nn

from dl_course.grading.mistakes import mistake
from positional_encoding import PositionalEncoding


class _Model(nn.Module):
    def __init__(self, transformer, input_len, target_len, n_features):
        super().__init__()
        self.transf = transformer
        self.input_len, self.target_len, self.n_features = input_len, target_len, n_features
        d_model = transformer.d_model
        self.proj = nn.Linear(n_features, d_model)
        self.pe = PositionalEncoding(max(input_len, target_len), d_model)
        self.norm = nn.LayerNorm(d_model)
        self.linear = nn.Linear(d_model, n_features)

    def preprocess(self, seq):
        return self.norm(self.pe(self.proj(seq)))

    def target_mask(self, target):
        return nn.Transformer.generate_square_subsequent_mask(target.shape[1], device=target.device,
                                                              dtype=target.dtype)

    def padding(self, source_mask):
        return None if source_mask is None else ~source_mask[:, 0]

    def run(self, src, tgt, tgt_mask, padding):
        return self.transf(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=padding,
                           memory_key_padding_mask=padding)

    def encode_decode(self, source, target, source_mask=None, tgt_mask=None):
        tgt_mask = self.target_mask(target) if tgt_mask is None else tgt_mask
        out = self.run(self.preprocess(source), self.preprocess(target), tgt_mask, self.padding(source_mask))
        return self.linear(out)

    def first_input(self, source):
        return source[:, -1:]

    def predict(self, source, source_mask=None):
        inputs = self.first_input(source)
        for _ in range(self.target_len):
            out = self.encode_decode(source, inputs, source_mask)
            inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
        return inputs[:, 1:]

    def shift(self, X):
        return X[:, self.input_len - 1:-1]

    def source(self, X):
        return X[:, :self.input_len]

    def forward(self, X, source_mask=None):
        source = self.source(X)
        if self.training:
            return self.encode_decode(source, self.shift(X), source_mask)
        return self.predict(source, source_mask)


# -- the target mask ----------------------------------------------------------------------------

@mistake("course_mask_not_inverted", "The target mask is this course's causal mask (a bool lower triangle, True = "
         "may attend) passed to nn.Transformer as it is: there a True in a bool mask means IGNORE, so each "
         "position sees only the later ones and the last sees nothing at all (NaN). Invert it (~mask), or use "
         "the float mask of nn.Transformer.generate_square_subsequent_mask.", provides="TransformerModel")
class CourseMaskNotInverted(_Model):
    def target_mask(self, target):
        size = target.shape[1]
        return torch.ones(size, size, dtype=torch.bool, device=target.device).tril()


@mistake("no_mask_in_predict", "The prediction loop calls the transformer without the causal mask: with more "
         "than one decoder layer, the earlier positions then read the later ones, and the last position's "
         "prediction changes. The model was trained with the mask; predict with it too, sized to the decoder's "
         "inputs at each round.", provides="TransformerModel")
class NoMaskInPredict(_Model):
    def predict(self, source, source_mask=None):
        inputs = source[:, -1:]
        for _ in range(self.target_len):
            out = self.linear(self.run(self.preprocess(source), self.preprocess(inputs), None,
                                       self.padding(source_mask)))
            inputs = torch.cat([inputs, out[:, -1:].detach()], dim=1)
        return inputs[:, 1:]


@mistake("no_target_mask", "The decoder runs without a target mask (tgt_mask): in training it reads the whole "
         "shifted target at once, so output t can read the target point t it must predict. Pass "
         "tgt_mask=nn.Transformer.generate_square_subsequent_mask(L, device=...), L the decoder input's "
         "length.", provides="TransformerModel")
class NoTargetMask(_Model):
    def run(self, src, tgt, tgt_mask, padding):
        return self.transf(src, tgt, src_key_padding_mask=padding, memory_key_padding_mask=padding)


# -- the source padding mask ---------------------------------------------------------------------

@mistake("padding_not_inverted", "The source padding mask is passed to nn.Transformer without inverting it: "
         "PyTorch's key padding mask is True on the keys to IGNORE, ours True on real data. So the model "
         "attends to the padding and ignores the real points (and a sequence without padding ignores "
         "everything: NaN). Use ~source_mask[:, 0].", provides="TransformerModel")
class PaddingNotInverted(_Model):
    def padding(self, source_mask):
        return None if source_mask is None else source_mask[:, 0]


@mistake("padding_only_in_encoder", "The padding mask goes to the encoder (src_key_padding_mask) but not to the "
         "decoder's cross-attention, which still reads the encoder's states at the padded positions. Pass the "
         "same mask as memory_key_padding_mask.", provides="TransformerModel")
class PaddingOnlyInEncoder(_Model):
    def run(self, src, tgt, tgt_mask, padding):
        return self.transf(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=padding)


# -- preprocessing -------------------------------------------------------------------------------

@mistake("no_layer_norm", "The inputs are projected and position-encoded but not normalised: nn.Transformer "
         "does not normalise what it is given (its norm-last layers normalise only after each sub-layer), so the "
         "model's own LayerNorm comes last in preprocessing: norm(pe(proj(x))).", provides="TransformerModel")
class NoLayerNorm(_Model):
    def preprocess(self, seq):
        return self.pe(self.proj(seq))


@mistake("norm_before_positions", "The layer norm comes before the positional encoding: the positions are then "
         "added to normalised values (and scaled by sqrt(d_model) in pe), so the transformer's inputs are not "
         "normalised. The order is proj, then pe, then norm.", provides="TransformerModel")
class NormBeforePositions(_Model):
    def preprocess(self, seq):
        return self.pe(self.norm(self.proj(seq)))


@mistake("no_positional_encoding", "The positional encoding is never applied: attention alone cannot tell the "
         "first point from the second. preprocess is proj, then pe, then norm.", provides="TransformerModel")
class NoPositionalEncoding(_Model):
    def preprocess(self, seq):
        return self.norm(self.proj(seq))


@mistake("permutes_to_sequence_first", "The inputs are permuted to sequence-first (L, N, D), as the book does for "
         "an older nn.Transformer, but the transformer given is batch_first=True: it then reads positions as "
         "sequences and attends across the batch. Keep every tensor (N, L, D), no permute.",
         provides="TransformerModel")
class PermutesToSequenceFirst(_Model):
    def run(self, src, tgt, tgt_mask, padding):
        out = self.transf(src.permute(1, 0, 2), tgt.permute(1, 0, 2), tgt_mask=tgt_mask,
                          src_key_padding_mask=padding, memory_key_padding_mask=padding)
        return out.permute(1, 0, 2)


# -- the shifted target and the prediction loop --------------------------------------------------

@mistake("unshifted_target", "In training the decoder reads the target itself, X[:, input_len:], instead of the "
         "target shifted right by one (the last source point first, the last target point dropped), so output t "
         "is given the very point it must predict. Read X[:, input_len - 1:-1].", provides="TransformerModel")
class UnshiftedTarget(_Model):
    def shift(self, X):
        return X[:, self.input_len:]


@mistake("predict_starts_from_first_point", "The prediction loop starts from the FIRST source point: the decoder "
         "was trained to read the LAST source point first (the shifted target starts with it), source[:, -1:].",
         provides="TransformerModel")
class StartsFromFirstPoint(_Model):
    def first_input(self, source):
        return source[:, :1]


@mistake("predicts_all_at_once", "In eval mode the decoder runs once on the last source point and that one "
         "prediction is repeated: each prediction must be appended to the decoder's inputs and the decoder run "
         "again, target_len rounds in all.", provides="TransformerModel")
class PredictsAllAtOnce(_Model):
    def predict(self, source, source_mask=None):
        step = self.encode_decode(source, source[:, -1:], source_mask)
        return step.repeat(1, self.target_len, 1)


@mistake("prediction_keeps_first_input", "In eval mode the returned sequence still starts with the last source "
         "point, so it has target_len + 1 points: return only the predictions, inputs[:, 1:].",
         provides="TransformerModel")
class KeepsFirstInput(_Model):
    def predict(self, source, source_mask=None):
        return torch.cat([source[:, -1:], super().predict(source, source_mask)], dim=1)


@mistake("eval_reads_whole_x", "In eval mode the model uses all of X as its source: when X holds the whole "
         "sequence it reads the target it must predict. The source is X[:, :input_len] in both modes.",
         provides="TransformerModel")
class EvalReadsWholeX(_Model):
    def forward(self, X, source_mask=None):
        if self.training:
            return self.encode_decode(X[:, :self.input_len], self.shift(X), source_mask)
        return self.predict(X, source_mask)
