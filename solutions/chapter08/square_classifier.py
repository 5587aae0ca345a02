"""Reference: an LSTM that reads packed square walks and classifies their direction."""

from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class SquareClassifier(nn.Module):
    def __init__(self, n_features=2, hidden_dim=8, n_outputs=1):
        super().__init__()
        self.rnn = nn.LSTM(n_features, hidden_dim, batch_first=True)
        self.classifier = nn.Linear(hidden_dim, n_outputs)

    def forward(self, x, lengths):
        # Packing makes the layer stop at each sequence's own last corner: the padding is never read.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.rnn(packed)     # h_n (1, N, H), back in the batch's own order
        return self.classifier(h_n[-1])   # (N, n_outputs): logits, no sigmoid
