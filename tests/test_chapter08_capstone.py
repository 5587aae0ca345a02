"""Chapter 8's capstone `square_classifier`, graded by the real CLI in a fresh chapter 8 workspace.

The untouched starter scores 0, the reference (a packed LSTM) passes, right models of other
designs pass (a GRU read at lengths - 1 without packing, a packed stacked bidirectional RNN), and
known mistakes are named: the last padded column read as out[:, -1], and a sigmoid before
BCEWithLogitsLoss. Every graded run includes the grader's training, a few seconds each.
"""

from __future__ import annotations

import pytest

from conftest import Cli, failed_checks, grade_files, reference_source, started

EX = "square_classifier"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return started(tmp_path_factory.mktemp("chapter08_capstone") / "work", "chapter8")


def grade(cli: Cli, source: str) -> dict:
    return grade_files(cli, "chapter08", **{EX: source})[EX]


def test_untouched_starter_scores_zero_and_the_reference_passes(course):
    starter = (course.cwd / "chapter08" / f"{EX}.py").read_text()
    assert "raise NotImplementedError" in starter and "# TODO:" in starter
    assert (course.cwd / "chapter08" / "square_sequences.py").is_file()
    result = grade(course, starter)
    assert not result["passed"] and result["score"] == 0
    result = grade(course, reference_source(EX, "chapter08"))
    assert result["passed"], failed_checks(result)
    learns = next(c for c in result["checks"] if c["name"] == "learns")
    assert learns["status"] == "passed", learns


GRU_AT_LENGTHS = '''
import torch
import torch.nn as nn


class SquareClassifier(nn.Module):
    def __init__(self, n_features=2, hidden_dim=8, n_outputs=1):
        super().__init__()
        self.gru = nn.GRU(input_size=n_features, hidden_size=hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, n_outputs)

    def forward(self, x, lengths):
        out, _ = self.gru(x)                                  # (N, L, H), padding read too
        rows = torch.arange(x.shape[0], device=x.device)
        last = out[rows, lengths.to(x.device) - 1]            # each walk's last real step
        return self.head(last)
'''

PACKED_BIDIRECTIONAL_RNN = '''
import torch
from torch import nn
from torch.nn.utils import rnn as rnn_utils


class SquareClassifier(nn.Module):
    def __init__(self, n_features=2, hidden_dim=8, n_outputs=1):
        super().__init__()
        self.rnn = nn.RNN(n_features, hidden_dim, num_layers=2, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * hidden_dim, n_outputs)

    def forward(self, x, lengths):
        packed = rnn_utils.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, hidden = self.rnn(packed)                          # (2 layers * 2 directions, N, H)
        both = torch.cat([hidden[-2], hidden[-1]], dim=1)     # the last layer, both directions
        return self.classifier(both)
'''


@pytest.mark.parametrize("source", [GRU_AT_LENGTHS, PACKED_BIDIRECTIONAL_RNN], ids=["gru_gather", "bi_rnn_packed"])
def test_right_models_of_other_designs_pass(course, source):
    result = grade(course, source)
    assert result["passed"], failed_checks(result)
    assert result["score"] == result["max_score"]


@pytest.mark.parametrize("mistake, edit", [
    ("last_step_is_padding", lambda s: s.replace("last = out[rows, lengths.to(x.device) - 1]", "last = out[:, -1]")),
    ("double_sigmoid", lambda s: s.replace("return self.head(last)", "return torch.sigmoid(self.head(last))")),
])
def test_known_mistakes_are_named(course, mistake, edit):
    source = edit(GRU_AT_LENGTHS)
    assert source != GRU_AT_LENGTHS
    result = grade(course, source)
    assert not result["passed"] and 0 < result["score"] < result["max_score"]
    assert (result.get("diagnosis") or {}).get("id") == mistake, (result.get("diagnosis"), failed_checks(result))
