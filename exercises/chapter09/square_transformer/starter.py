"""Capstone: a small Transformer that completes square sequences.

The model reads the first two corners of a square (the source) and predicts the next two (the
target). It is built from YOUR earlier exercises, imported from the files beside this one, so
pass multi_head_attention, subsequent_mask, positional_encoding, encoder_self_attention and
decoder_cross_attention first. `square_data.py` (provided) makes batches to experiment with.

The grader checks the shapes, that the decoder cannot see the future, the values against a
reference with the same weights, and then TRAINS your model (Adam, mean squared error, a fixed
seed) and requires a low error on fresh squares. Run `dl-course check square_transformer`.
"""

import torch
import torch.nn as nn

from decoder_cross_attention import DecoderLayer
from encoder_self_attention import EncoderLayer
from positional_encoding import PositionalEncoding
from subsequent_mask import subsequent_mask


class SquareTransformer(nn.Module):
    """Encoder-decoder Transformer for square sequences (batch-first).

    Sub-modules (exactly these names, so the grader can load a reference's weights):
        proj_in:  nn.Linear(n_features, d_model)       points → model space
        pe:       PositionalEncoding(max_len, d_model)  applied to encoder and decoder inputs
        encoder:  EncoderLayer(d_model, n_heads, ff_units)
        decoder:  DecoderLayer(d_model, n_heads, ff_units)
        proj_out: nn.Linear(d_model, n_features)        model space → points
    """

    def __init__(self, n_features=2, d_model=32, n_heads=4, ff_units=64, max_len=8, target_len=2):
        super().__init__()
        self.target_len = target_len
        # TODO: create proj_in, pe, encoder, decoder and proj_out.
        raise NotImplementedError("SquareTransformer.__init__ is not written yet")

    def forward(self, source, target=None):
        """Predict the target corners.

        Args:
            source: (N, L_source, n_features), the first corners.
            target: (N, target_len, n_features) in training (teacher forcing), None to predict.

        Returns:
            (N, target_len, n_features).

        With a target: the decoder reads the shifted target (the last source point, then every
        target point but the last) under a subsequent mask, all positions at once.
        Without: it predicts one point at a time, feeding each (detached) prediction back.
        """
        # TODO: encode the source (proj_in → pe → encoder) into states.
        # TODO: with a target, decode the shifted target in one pass under a subsequent mask.
        # TODO: without one, decode step by step, target_len times.
        raise NotImplementedError("SquareTransformer.forward is not written yet")
