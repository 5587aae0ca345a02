"""An encoder-decoder for sequences, with teacher forcing.

Fill in `EncoderDecoder`, then run `dl-course check encoder_decoder`.
The GRU `Encoder` and `Decoder` are provided in seq2seq_support.py, beside this file; you only
wire them together.
"""

import torch
from torch import nn

from seq2seq_support import Decoder, Encoder  # noqa: F401 - handy for trying your model


class EncoderDecoder(nn.Module):
    """Encodes the source, then lets the decoder generate the target one point at a time.

    Args:
        encoder: called as `encoder(source)`, (N, input_len, F) -> (N, input_len, H).
        decoder: has `decoder.init_hidden(states)`, which takes the encoder's (N, L, H) output
            and keeps its last step as the decoder's memory, and `decoder(point)`,
            (N, 1, F) -> (N, 1, F), one step that uses and updates that memory.
        input_len: the number of source points.
        target_len: the number of points to generate.
        teacher_forcing_prob: in training mode, the probability that the next decoder input is
            the true target point rather than the decoder's own prediction.

    Keep `encoder` and `decoder` as attributes with exactly those names, so that their
    parameters are part of this model.
    """

    def __init__(self, encoder, decoder, input_len, target_len, teacher_forcing_prob=0.5):
        super().__init__()
        # TODO: keep the five arguments as attributes.

    def forward(self, X):
        """Predict the target sequence.

        Args:
            X: training mode (`self.training` is True): (N, input_len + target_len, F), the
               source followed by the target.
               Evaluation mode: (N, input_len, F), the source only (if the target is there
               anyway, it must be ignored).

        Returns:
            (N, target_len, F): the decoder's output at each of the target_len steps.

        The decoder's first input is the last source point. After step i, the next input is,
        in training mode, the true target point i with probability teacher_forcing_prob (one
        coin per step, e.g. `torch.rand(1).item() < p`), otherwise the prediction of step i,
        fed back as it is (no .detach()). In evaluation mode it is always the prediction.
        Keep the length dimension everywhere: every decoder input and output is (N, 1, F).
        """
        # TODO:
        #   1. split X into the source and (training mode) the target;
        #   2. encode the source and hand the encoder's states to the decoder, once;
        #   3. loop target_len times: one decoder step, keep its output, choose the next input;
        #   4. join the outputs along the length dimension.
        raise NotImplementedError("EncoderDecoder.forward is not written yet")
