"""Known mistakes for encoder_decoder. Each class is a whole (wrong) EncoderDecoder.

Shapes in comments: N batch, F features; il = input_len, tl = target_len. The coins are written
so that p = 0 and p = 1 are exact, as the reference's are; with p = 0.5 the suite seeds the
learner's process before each call, so a variant that draws as the learner does gives what it gives.
"""

import torch
from torch import nn

from dl_course.grading.mistakes import mistake


class _Wrapper(nn.Module):
    """What every variant keeps (built as the exercise asks)."""

    def __init__(self, encoder, decoder, input_len, target_len, teacher_forcing_prob=0.5):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.input_len, self.target_len = input_len, target_len
        self.teacher_forcing_prob = teacher_forcing_prob

    def coin(self):
        return self.training and torch.rand(1).item() < self.teacher_forcing_prob


# -- wrong shape or dtype ------------------------------------------------------------------------

@mistake("outputs_include_first_input", "The answer starts with the decoder's first input (the last source point): "
         "return only the target_len predictions, (N, target_len, F).", provides="EncoderDecoder")
class OutputsIncludeFirstInput(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = source[:, -1:]
        outputs = [inputs]
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out
        return torch.cat(outputs, dim=1)


@mistake("output_buffer_float32", "The result is filled into torch.zeros(N, target_len, F, device=...), which is "
         "always float32: a float64 input gives a float32 answer. Use torch.cat of the step outputs, or "
         "X.new_zeros(...), which follows X's dtype.", provides="EncoderDecoder")
class OutputBufferFloat32(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        outputs = torch.zeros(X.shape[0], self.target_len, X.shape[-1], device=X.device)
        inputs = source[:, -1:]
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs[:, i:i + 1] = out
            inputs = target[:, i:i + 1] if self.coin() else out
        return outputs


# -- wrong start ----------------------------------------------------------------------------------

@mistake("first_input_first_target", "The decoder starts from the first target point; its first input is the last "
         "SOURCE point, source[:, -1:] (the target is what it has to predict, and in evaluation mode there is "
         "none).", provides="EncoderDecoder")
class FirstInputFirstTarget(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = target[:, :1]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out
        return torch.cat(outputs, dim=1)


@mistake("first_input_zeros", "The decoder's first input is zeros; it should be the last source point, "
         "source[:, -1:], since the target continues the source.", provides="EncoderDecoder")
class FirstInputZeros(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = torch.zeros_like(source[:, -1:])
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out
        return torch.cat(outputs, dim=1)


# -- wrong memory ---------------------------------------------------------------------------------

@mistake("no_init_hidden", "The decoder never receives the encoder's states (decoder.init_hidden is not called), so "
         "it starts from an empty memory and knows nothing about the source.", provides="EncoderDecoder")
class NoInitHidden(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.encoder(source)
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out
        return torch.cat(outputs, dim=1)


@mistake("init_hidden_every_step", "decoder.init_hidden is called at every step, which resets the decoder's memory "
         "to the encoder's summary each time: call it once, before the loop, and let the decoder carry its "
         "hidden state from step to step.", provides="EncoderDecoder")
class InitHiddenEveryStep(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        states = self.encoder(source)
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            self.decoder.init_hidden(states)
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out
        return torch.cat(outputs, dim=1)


# -- wrong next input -----------------------------------------------------------------------------

@mistake("feedback_without_length_dim", "The prediction is fed back as (N, F) (out[:, -1] or out.squeeze(1)): the "
         "decoder's input must keep its length dimension, (N, 1, F).", provides="EncoderDecoder")
class FeedbackWithoutLengthDim(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out[:, -1]
        return torch.cat(outputs, dim=1)


@mistake("tf_off_by_one", "With teacher forcing the next input is target point i+1; after step i the true point that "
         "replaces the prediction is target point i, target[:, i:i+1].", provides="EncoderDecoder")
class TeacherForcingOffByOne(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i + 1:i + 2] if self.coin() else out
        return torch.cat(outputs, dim=1)


@mistake("tf_inverted", "The coin is read the wrong way round: the target is used when the draw is ABOVE p, so "
         "p = 1 never teacher-forces and p = 0 always does. Use the target when torch.rand(1).item() < p.",
         provides="EncoderDecoder")
class TeacherForcingInverted(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            forced = self.training and torch.rand(1).item() >= self.teacher_forcing_prob
            inputs = target[:, i:i + 1] if forced else out
        return torch.cat(outputs, dim=1)


@mistake("tf_per_sequence", "The teacher-forcing coin is tossed once per sequence (before the loop), so a whole "
         "sequence is either teacher-forced at every step or fed its own predictions at every step. Toss it at "
         "every step, inside the loop: with p = 0.5 most sequences then mix the two.", provides="EncoderDecoder")
class TeacherForcingPerSequence(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        forced = self.coin()  # one draw for the whole batch of sequences
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if forced else out
        return torch.cat(outputs, dim=1)


@mistake("tf_in_eval", "Teacher forcing is also used in evaluation mode; then the target is unknown (X holds the "
         "source only), so the decoder must always be fed its own predictions: flip the coin only when "
         "self.training is True.", provides="EncoderDecoder")
class TeacherForcingInEval(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            forced = torch.rand(1).item() < self.teacher_forcing_prob
            inputs = target[:, i:i + 1] if forced else out
        return torch.cat(outputs, dim=1)


# -- right values, wrong gradients ----------------------------------------------------------------

@mistake("feedback_detached", "The prediction is detached before it is fed back: the values are right, but the "
         "gradient of a later step no longer reaches the step that produced its input.",
         provides="EncoderDecoder")
class FeedbackDetached(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        inputs = source[:, -1:]
        outputs = []
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs.append(out)
            inputs = target[:, i:i + 1] if self.coin() else out.detach()
        return torch.cat(outputs, dim=1)


# -- wrong device ---------------------------------------------------------------------------------

@mistake("output_buffer_cpu", "The result is filled into torch.zeros(N, target_len, F, dtype=X.dtype), created on "
         "the CPU whatever X's device: on a GPU the copy fails. Use torch.cat of the step outputs, or "
         "X.new_zeros(...).", provides="EncoderDecoder")
class OutputBufferCpu(_Wrapper):
    def forward(self, X):
        source, target = X[:, :self.input_len], X[:, self.input_len:]
        self.decoder.init_hidden(self.encoder(source))
        outputs = torch.zeros(X.shape[0], self.target_len, X.shape[-1], dtype=X.dtype)
        inputs = source[:, -1:]
        for i in range(self.target_len):
            out = self.decoder(inputs)
            outputs[:, i:i + 1] = out
            inputs = target[:, i:i + 1] if self.coin() else out
        return outputs
