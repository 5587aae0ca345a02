"""Chapter 10's torch_transformer_model (the book's square model on nn.Transformer) through the
real CLI: the untouched starter scores 0, the reference passes, two known mistakes are named, and
correct code written the way tutorials write it passes.

Each test works in a fresh chapter 10 workspace of the built-in course.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Cli, failed_checks, grade_files, reference_source, started

EX = "torch_transformer_model"


@pytest.fixture
def course(tmp_path: Path) -> Cli:
    return started(tmp_path / "work", "chapter10")


def grade(cli: Cli, source: str | None = None) -> dict:
    return grade_files(cli, "chapter10", **{EX: source})[EX]


def reference_with(old: str, new: str) -> str:
    source = reference_source(EX, "chapter10")
    assert old in source, old
    return source.replace(old, new)


def test_starter_scores_0_and_reference_passes(course):
    assert (course.cwd / "chapter10" / "positional_encoding.py").is_file()
    result = grade(course)
    assert not result["passed"] and result["score"] == 0, failed_checks(result)
    result = grade(course, reference_source(EX, "chapter10"))
    assert result["passed"], failed_checks(result)
    assert result["score"] == result["max_score"]


@pytest.mark.parametrize("old, new, expected", [
    # This course's causal mask (True = may attend) handed to nn.Transformer as it is.
    ("causal = nn.Transformer.generate_square_subsequent_mask(target.shape[1], device=target.device,\n"
     "                                                                dtype=target.dtype)",
     "causal = torch.ones(target.shape[1], target.shape[1], dtype=torch.bool, device=target.device).tril()",
     "course_mask_not_inverted"),
    # The book's own call: the padding mask reaches the encoder only.
    ("src_key_padding_mask=padding, memory_key_padding_mask=padding)", "src_key_padding_mask=padding)",
     "padding_only_in_encoder"),
])
def test_known_mistakes_are_named(course, old, new, expected):
    result = grade(course, reference_with(old, new))
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == expected, (result.get("diagnosis"), failed_checks(result))


# Written as the book and PyTorch's old language-model tutorial write it: the float mask made
# once in __init__ by the tutorial's helper (triu, transpose, masked_fill with -inf and 0.0),
# a plain attribute moved with type_as in forward and cut to size in the prediction loop; the
# padding mask squeezed and negated with logical_not; predictions kept in a list.
TUTORIAL = '''
import torch
import torch.nn as nn

from positional_encoding import PositionalEncoding


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones(sz, sz)) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, float(0.0))
    return mask


class TransformerModel(nn.Module):
    def __init__(self, transformer, input_len, target_len, n_features):
        super().__init__()
        self.transf = transformer
        self.input_len = input_len
        self.target_len = target_len
        self.trg_masks = generate_square_subsequent_mask(self.target_len)
        self.n_features = n_features
        self.proj = nn.Linear(n_features, self.transf.d_model)
        self.linear = nn.Linear(self.transf.d_model, n_features)
        max_len = max(self.input_len, self.target_len)
        self.pe = PositionalEncoding(max_len, self.transf.d_model)
        self.norm = nn.LayerNorm(self.transf.d_model)

    def preprocess(self, seq):
        seq_proj = self.proj(seq)
        seq_enc = self.pe(seq_proj)
        return self.norm(seq_enc)

    def encode_decode(self, source, target, source_mask=None, target_mask=None):
        key_padding = None
        if source_mask is not None:
            key_padding = source_mask.squeeze(1).logical_not()
        out = self.transf(self.preprocess(source), self.preprocess(target),
                          src_key_padding_mask=key_padding, tgt_mask=target_mask,
                          memory_key_padding_mask=key_padding)
        return self.linear(out)

    def predict(self, source_seq, source_mask=None):
        inputs = source_seq[:, -1:]
        predictions = []
        for i in range(self.target_len):
            out = self.encode_decode(source_seq, inputs, source_mask=source_mask,
                                     target_mask=self.trg_masks[:i + 1, :i + 1])
            next_point = out[:, -1:, :].detach()
            predictions.append(next_point)
            inputs = torch.cat([inputs, next_point], dim=1)
        return torch.cat(predictions, dim=1)

    def forward(self, X, source_mask=None):
        self.trg_masks = self.trg_masks.type_as(X)
        source_seq = X[:, :self.input_len, :]
        if self.training:
            shifted_target_seq = X[:, self.input_len - 1:-1, :]
            return self.encode_decode(source_seq, shifted_target_seq, source_mask=source_mask,
                                      target_mask=self.trg_masks)
        return self.predict(source_seq, source_mask)
'''

# A bool causal mask in PyTorch's convention (True = ignore the future), built where it is used.
BOOL_MASK = reference_source(EX, "chapter10").replace(
    "causal = nn.Transformer.generate_square_subsequent_mask(target.shape[1], device=target.device,\n"
    "                                                                dtype=target.dtype)",
    "causal = torch.ones(target.shape[1], target.shape[1], dtype=torch.bool, device=target.device).triu(1)")


@pytest.mark.parametrize("source", [TUTORIAL, BOOL_MASK], ids=["tutorial_float_mask", "bool_mask_true_ignores"])
def test_correct_alternatives_pass(course, source):
    assert source != reference_source(EX, "chapter10")
    result = grade(course, source)
    assert result["passed"], failed_checks(result)
