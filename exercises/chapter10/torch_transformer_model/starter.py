"""The square-sequence model, built around PyTorch's own nn.Transformer.

nn.Transformer holds both stacks (encoder and decoder, each with its final LayerNorm) and
nothing else. Around it, YOU build what it leaves out:

    preprocessing   proj (features -> d_model), then the positional encoding, then a LayerNorm,
                    the same modules for the source and for the decoder's inputs
    masks           the causal target mask, and the source padding mask, both in PyTorch's
                    convention (see below)
    training        the shifted target, decoded in one pass under the causal mask
    eval            the prediction loop: one new point per round, fed back (detached)
    output          linear (d_model -> features)

Masks. This course's masks are bool with True = "may attend". nn.Transformer reads a bool mask
the other way round (True = IGNORE). It also takes a float tgt_mask, ADDED to the scores:
0.0 = may attend, -inf = may not; nn.Transformer.generate_square_subsequent_mask(L, device=...,
dtype=...) makes the causal one in that form. Either form is fine here.

The transformer you are given is built with batch_first=True: every tensor stays (N, L, D),
no permuting. The positional encoding is PROVIDED in positional_encoding.py.

Run `dl-course check torch_transformer_model`.
"""

import torch
from torch import nn

from positional_encoding import PositionalEncoding


class TransformerModel(nn.Module):
    """Predicts the last `target_len` points of a sequence from its first `input_len` points.

    Args:
        transformer: an nn.Transformer built with batch_first=True (its width is
            transformer.d_model). Keep it as `self.transf`; do not build another.
        input_len: the number of source points (the first points of X).
        target_len: the number of points to predict (the points after them).
        n_features: the features of each point (2 for the corners of a square).

    Sub-modules (exactly these names: the grader loads weights into them):
        transf  the transformer given (parameters transf.encoder..., transf.decoder...)
        proj    nn.Linear(n_features, d_model)
        pe      PositionalEncoding(max(input_len, target_len), d_model)   (buffer pe.pe)
        norm    nn.LayerNorm(d_model)
        linear  nn.Linear(d_model, n_features)
    """

    def __init__(self, transformer, input_len, target_len, n_features):
        super().__init__()
        self.transf = transformer
        self.input_len = input_len
        self.target_len = target_len
        self.n_features = n_features
        # TODO: build proj, pe, norm and linear as the docstring lists them.
        raise NotImplementedError("TransformerModel.__init__ is not written yet")

    def preprocess(self, seq):
        """(N, L, n_features) -> (N, L, d_model): projection, positional encoding, layer norm
        (in this order)."""
        # TODO
        raise NotImplementedError("TransformerModel.preprocess is not written yet")

    def encode_decode(self, source, target, source_mask=None):
        """One pass of the transformer.

        Args:
            source: (N, input_len, n_features).
            target: (N, Lt, n_features), what the decoder reads (Lt <= target_len).
            source_mask: None, or this course's padding mask (N, 1, input_len), bool,
                True on real data.

        Returns:
            (N, Lt, n_features): output t may depend on target[:, :t + 1] only.
        """
        # TODO: preprocess both sequences; build the causal tgt_mask for Lt positions on the
        #       target's device; turn source_mask into PyTorch's key padding mask (N, input_len),
        #       True = ignore, for the encoder (src_key_padding_mask) AND the decoder's
        #       cross-attention (memory_key_padding_mask); run self.transf; then self.linear.
        raise NotImplementedError("TransformerModel.encode_decode is not written yet")

    def predict(self, source, source_mask=None):
        """Eval mode: (N, input_len, n_features) -> (N, target_len, n_features), one point at a
        time, starting from the last source point."""
        # TODO: the decoder's inputs start as the last source point; target_len times, decode
        #       them all and append the prediction at the last position (detached). Return the
        #       predictions only.
        raise NotImplementedError("TransformerModel.predict is not written yet")

    def forward(self, X, source_mask=None):
        """
        Args:
            X: in training mode (N, input_len + target_len, n_features), the whole sequence;
                in eval mode the source alone, (N, input_len, n_features), or the whole
                sequence, of which only the first input_len points may be read.
            source_mask: None, or the padding mask of the source, (N, 1, input_len), bool,
                True on real data.

        Returns:
            (N, target_len, n_features). In training (teacher forcing) the decoder reads the
            shifted target (the last source point, then every target point but the last) in one
            pass, and output t must not depend on target point t or later. In eval mode, the
            predictions of predict().
        """
        # TODO: the source is X's first input_len points; self.training tells the two modes apart.
        raise NotImplementedError("TransformerModel.forward is not written yet")
