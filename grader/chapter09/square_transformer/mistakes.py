"""Known mistakes for square_transformer: each a whole model, wrong in one way.

They share a correct skeleton (`_Model`, not itself a mistake) and override one step.
"""

import torch
import torch.nn as nn

from decoder_cross_attention import DecoderLayer
from dl_course.grading.mistakes import mistake
from encoder_self_attention import EncoderLayer
from positional_encoding import PositionalEncoding
from subsequent_mask import subsequent_mask


class _Model(nn.Module):
    def __init__(self, n_features=2, d_model=32, n_heads=4, ff_units=64, max_len=8, target_len=2):
        super().__init__()
        self.target_len = target_len
        self.proj_in = nn.Linear(n_features, d_model)
        self.pe = PositionalEncoding(max_len, d_model)
        self.encoder = EncoderLayer(d_model, n_heads, ff_units)
        self.decoder = DecoderLayer(d_model, n_heads, ff_units)
        self.proj_out = nn.Linear(d_model, n_features)

    def embed(self, x):
        return self.pe(self.proj_in(x))

    def mask(self, inputs):
        return subsequent_mask(inputs.shape[1], device=inputs.device)

    def decode(self, inputs, states):
        return self.proj_out(self.decoder(self.embed(inputs), states, None, self.mask(inputs)))

    def shift(self, source, target):
        return torch.cat([source[:, -1:], target[:, :-1]], dim=1)

    def predict(self, source, states):
        inputs = source[:, -1:]
        for _ in range(self.target_len):
            step = self.decode(inputs, states)[:, -1:]
            inputs = torch.cat([inputs, step.detach()], dim=1)
        return inputs[:, 1:]

    def forward(self, source, target=None):
        states = self.encoder(self.embed(source))
        if target is not None:
            return self.decode(self.shift(source, target), states)
        return self.predict(source, states)


@mistake("no_target_mask", "The decoder runs without a target mask in training, so each output can read the "
         "target points it must predict.", provides="SquareTransformer")
class NoTargetMask(_Model):
    def mask(self, inputs):
        return None


@mistake("unshifted_target", "The decoder reads the target itself instead of the target shifted right by one "
         "(last source point first), so output t is given the answer t.", provides="SquareTransformer")
class UnshiftedTarget(_Model):
    def shift(self, source, target):
        return target


@mistake("upper_mask", "The target mask is upper-triangular: each decoder position sees the future, not the past.",
         provides="SquareTransformer")
class UpperMask(_Model):
    def mask(self, inputs):
        return subsequent_mask(inputs.shape[1], device=inputs.device).transpose(1, 2)


@mistake("no_positional_encoding", "The positional encoding is never applied: without it, attention cannot tell "
         "the first point from the second.", provides="SquareTransformer")
class NoPositionalEncoding(_Model):
    def embed(self, x):
        return self.proj_in(x)


@mistake("prediction_keeps_first_input", "In eval mode the returned sequence still starts with the last source "
         "point: return only the target_len predictions.", provides="SquareTransformer")
class KeepsFirstInput(_Model):
    def predict(self, source, states):
        inputs = source[:, -1:]
        for _ in range(self.target_len):
            step = self.decode(inputs, states)[:, -1:]
            inputs = torch.cat([inputs, step.detach()], dim=1)
        return inputs


@mistake("predicts_all_at_once", "In eval mode the decoder runs once on the last source point and its output is "
         "repeated: each prediction must be fed back before predicting the next.", provides="SquareTransformer")
class PredictsAllAtOnce(_Model):
    def predict(self, source, states):
        step = self.decode(source[:, -1:], states)
        return step.repeat(1, self.target_len, 1)
