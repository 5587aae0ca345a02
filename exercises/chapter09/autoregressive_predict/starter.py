"""Autoregressive prediction with a Transformer-style decoder.

Fill in `autoregressive_predict`, then run `dl-course check autoregressive_predict`.
autoregressive_support.py, beside this file, has a small `ToyDecoder` to try it with.

The target mask: build it inline, a (1, t, t) torch.bool tensor with True on and below the
diagonal, created on the input's device. Or, if your subsequent_mask exercise passes, import it:
`from subsequent_mask import subsequent_mask` and call `subsequent_mask(t, device=...)`.
"""

import torch

from autoregressive_support import ToyDecoder  # noqa: F401 - handy for trying your function


def autoregressive_predict(decoder, states, first_input, steps, source_mask=None):
    """Generate `steps` points, one at a time, each from everything generated before it.

    Args:
        decoder: called as `decoder(inputs, states, source_mask, target_mask)`; maps inputs
            (N, t, F) to outputs (N, t, F), where output i is the prediction that follows input i.
        states: the encoder's states, (N, Ls, D); passed to the decoder as they are.
        first_input: (N, 1, F), the point to start from (e.g. the last source point).
        steps: how many points to predict.
        source_mask: None, or a bool (N, 1, Ls) mask of the source; passed on as it is.

    Returns:
        (N, steps, F): the predictions, in order (first_input is not part of them), detached.

    At step k (k = 1 .. steps) the decoder's inputs are first_input followed by the k - 1
    predictions so far, (N, k, F), with target_mask = the (1, k, k) lower-triangular bool mask
    (on the inputs' device). The new prediction is the LAST position of the decoder's output,
    (N, 1, F). Append it to the inputs, detached: a prediction is plain data from then on, and
    no gradient flows through the loop. At the end, the inputs without their first point are
    the answer.
    """
    # TODO: loop `steps` times: mask for the current length, call the decoder, append the last
    #       output position (detached) to the inputs; then drop the first point.
    raise NotImplementedError("autoregressive_predict is not written yet")
