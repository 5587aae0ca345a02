"""Chapter 10's Transformer layers and stacks through the real CLI: `start` scaffolds them with
their provided files, untouched starters score 0, the references and correct code written the
book's way pass, and a known mistake is named.

Each test works in a fresh chapter 10 workspace of the built-in course.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BUILTIN, Cli, failed_checks, grade_files, reference_source, started

OURS = ("transformer_encoder_layer", "transformer_decoder_layer", "transformer_stacks")


@pytest.fixture
def course(tmp_path: Path) -> Cli:
    return started(tmp_path / "work", "chapter10")

def grade(cli: Cli, exercise: str, source: str | None = None) -> dict:
    return grade_files(cli, "chapter10", **{exercise: source})[exercise]


def test_starters_and_provided_files(course):
    folder = course.cwd / "chapter10"
    for name in ("multi_head_attention.py", "positional_encoding.py", "stack_layers.py"):
        assert (folder / name).is_file(), name
    for ex in OURS:
        assert (folder / f"{ex}.py").read_text() == (BUILTIN / "exercises" / "chapter10" / ex / "starter.py").read_text()
        result = grade(course, ex)
        assert not result["passed"] and result["score"] == 0, (ex, failed_checks(result))


@pytest.mark.parametrize("exercise", OURS)
def test_reference_passes(course, exercise):
    result = grade(course, exercise, reference_source(exercise, "chapter10"))
    assert result["passed"], failed_checks(result)
    assert result["score"] == result["max_score"]


# The book's final encoder layer: a ModuleList of the learner's own SubLayerWrapper (from the
# sublayer_wrapper exercise), Dropout inside the feed-forward network, the mask named `mask`
# and passed on positionally, dropout given a default of 0.1.
BOOK_ENCODER = '''
import torch.nn as nn

from multi_head_attention import MultiHeadAttention
from sublayer_wrapper import SubLayerWrapper


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.1):
        super(EncoderLayer, self).__init__()
        self.d_model = d_model
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, ff_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(ff_units, d_model),
        )
        self.sublayers = nn.ModuleList([SubLayerWrapper(d_model, dropout) for _ in range(2)])

    def forward(self, query, mask=None):
        att = self.sublayers[0](query, lambda q: self.self_attn(q, q, q, mask)[0])
        return self.sublayers[1](att, self.ffn)
'''

# The book's first decoder layer: norm1..norm3 and drop1..drop3, a feed-forward network with no
# Dropout inside (ffn.2), and its own names for everything in forward.
BOOK_DECODER = '''
import torch.nn as nn

from multi_head_attention import MultiHeadAttention


class DecoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, ff_units, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.self_attn = MultiHeadAttention(d_model, n_heads)
        self.cross_attn = MultiHeadAttention(d_model, n_heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ff_units), nn.ReLU(), nn.Linear(ff_units, d_model))
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.drop1 = nn.Dropout(dropout)
        self.drop2 = nn.Dropout(dropout)
        self.drop3 = nn.Dropout(dropout)

    def forward(self, query, encoder_states, src_mask=None, tgt_mask=None):
        norm_query = self.norm1(query)
        states, _ = self.self_attn(norm_query, norm_query, norm_query, tgt_mask)
        att1 = query + self.drop1(states)
        norm_att1 = self.norm2(att1)
        states, _ = self.cross_attn(norm_att1, encoder_states, encoder_states, src_mask)
        att2 = att1 + self.drop2(states)
        out = self.ffn(self.norm3(att2))
        return att2 + self.drop3(out)
'''

# The book's stacks: its argument names, super(Class, self), the mask passed positionally.
BOOK_STACKS = '''
import copy

import torch.nn as nn

from positional_encoding import PositionalEncoding


class EncoderTransf(nn.Module):
    def __init__(self, encoder_layer, n_layers=1, max_len=100):
        super(EncoderTransf, self).__init__()
        self.d_model = encoder_layer.d_model
        self.pe = PositionalEncoding(max_len, self.d_model)
        self.norm = nn.LayerNorm(self.d_model)
        self.layers = nn.ModuleList([copy.deepcopy(encoder_layer) for _ in range(n_layers)])

    def forward(self, query, mask=None):
        x = self.pe(query)
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm(x)


class DecoderTransf(nn.Module):
    def __init__(self, decoder_layer, n_layers=1, max_len=100):
        super(DecoderTransf, self).__init__()
        self.d_model = decoder_layer.d_model
        self.pe = PositionalEncoding(max_len, self.d_model)
        self.norm = nn.LayerNorm(self.d_model)
        self.layers = nn.ModuleList([copy.deepcopy(decoder_layer) for _ in range(n_layers)])

    def forward(self, query, states, source_mask=None, target_mask=None):
        x = self.pe(query)
        for layer in self.layers:
            x = layer(x, states, source_mask=source_mask, target_mask=target_mask)
        return self.norm(x)
'''


def test_book_style_encoder_layer_passes(course):
    (course.cwd / "chapter10" / "sublayer_wrapper.py").write_text(reference_source("sublayer_wrapper", "chapter10"))
    result = grade(course, "transformer_encoder_layer", BOOK_ENCODER)
    assert result["passed"], failed_checks(result)


def test_book_style_decoder_layer_passes(course):
    result = grade(course, "transformer_decoder_layer", BOOK_DECODER)
    assert result["passed"], failed_checks(result)


def test_book_style_stacks_pass(course):
    result = grade(course, "transformer_stacks", BOOK_STACKS)
    assert result["passed"], failed_checks(result)


def test_shared_layer_is_named(course):
    source = BOOK_STACKS.replace("[copy.deepcopy(encoder_layer) for _ in range(n_layers)]",
                                 "[encoder_layer] * n_layers")
    result = grade(course, "transformer_stacks", source)
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == "shared_layer", result.get("diagnosis")


def test_norm_last_decoder_layer_is_named(course):
    body = BOOK_DECODER.split("    def forward", 1)[0] + '''    def forward(self, x, states, source_mask=None, target_mask=None):
        h, _ = self.self_attn(x, x, x, target_mask)
        x = self.norm1(x + self.drop1(h))
        h, _ = self.cross_attn(x, states, states, source_mask)
        x = self.norm2(x + self.drop2(h))
        return self.norm3(x + self.drop3(self.ffn(x)))
'''
    result = grade(course, "transformer_decoder_layer", body)
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == "norm_last", result.get("diagnosis")
