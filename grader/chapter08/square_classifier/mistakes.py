"""Known mistakes for square_classifier: each a whole model, wrong in one way.

The learner picks the recurrent layer, so the suite judges what any right model shares (the
logits' shape, each sequence's logit unchanged by padding and by the rest of the batch, logits
rather than probabilities); each mistake below breaks one of these.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from dl_course.grading.mistakes import mistake


class _Packed(nn.Module):
    bidirectional = False

    def __init__(self, n_features=2, hidden_dim=8, n_outputs=1):
        super().__init__()
        self.rnn = nn.LSTM(n_features, hidden_dim, batch_first=True, bidirectional=self.bidirectional)
        self.classifier = nn.Linear(hidden_dim * (2 if self.bidirectional else 1), n_outputs)

    def final_states(self, x, lengths):
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.rnn(packed)
        return h_n

    def forward(self, x, lengths):
        return self.classifier(self.final_states(x, lengths)[-1])


@mistake("last_step_is_padding", "The model reads the output at the last position of the padded batch, out[:, -1]: "
         "for a sequence shorter than the batch's longest that position is padding, so its logit depends on how far "
         "the batch was padded. Pack the batch (pack_padded_sequence) and use h_n, or read out at lengths - 1.",
         provides="SquareClassifier")
class LastStepIsPadding(_Packed):
    def forward(self, x, lengths):
        out, _ = self.rnn(x)
        return self.classifier(out[:, -1])


@mistake("classifier_on_h_n", "The classifier is applied to the whole final hidden state h_n, which is "
         "(num_layers * num_directions, N, H) even with batch_first=True, so the logits are (1, N, 1). "
         "Take h_n[-1], (N, H), first.", provides="SquareClassifier")
class ClassifierOnHN(_Packed):
    def forward(self, x, lengths):
        return self.classifier(self.final_states(x, lengths))


@mistake("double_sigmoid", "The model returns probabilities (a sigmoid at the end), but the grader trains with "
         "BCEWithLogitsLoss, which applies the sigmoid itself: return the raw logits.", provides="SquareClassifier")
class DoubleSigmoid(_Packed):
    def forward(self, x, lengths):
        return torch.sigmoid(super().forward(x, lengths))


@mistake("not_batch_first", "The recurrent layer is built without batch_first=True, so it reads the padded batch "
         "(N, L, 2) as L sequences of N steps each, and the logits come out (L, 1).", provides="SquareClassifier")
class NotBatchFirst(_Packed):
    def __init__(self, n_features=2, hidden_dim=8, n_outputs=1):
        super().__init__(n_features, hidden_dim, n_outputs)
        self.rnn = nn.LSTM(n_features, hidden_dim)

    def forward(self, x, lengths):
        _, (h_n, _) = self.rnn(x)
        return self.classifier(h_n[-1])


@mistake("h_n_view_mixes_batch", "The final states of a bidirectional layer, h_n (2, N, H), are reshaped with "
         "h_n.view(N, 2 * H): that lays the rows out direction by direction, so each sequence gets states of other "
         "sequences. Use torch.cat([h_n[-2], h_n[-1]], dim=1) (or h_n.permute(1, 0, 2).reshape(N, -1)).",
         provides="SquareClassifier")
class HNViewMixesBatch(_Packed):
    bidirectional = True

    def forward(self, x, lengths):
        h_n = self.final_states(x, lengths)
        return self.classifier(h_n.view(x.shape[0], -1))
