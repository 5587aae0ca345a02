"""Chapter 10 through the real CLI: `start` scaffolds it, untouched starters score 0, correct code
written the usual ways passes, and a forbidden layer norm fails the exercise.

Each test works in a fresh chapter 10 workspace of the built-in course.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import BUILTIN, Cli, by_id, failed_checks, grade_files, started


@pytest.fixture
def course(tmp_path: Path) -> Cli:
    return started(tmp_path / "work", "chapter10")

def grade(cli: Cli, exercise: str, source: str | None = None) -> dict:
    return grade_files(cli, "chapter10", **{exercise: source})[exercise]


def test_start_scaffolds_chapter10_and_starters_score_0(course):
    folder = course.cwd / "chapter10"
    exercises = BUILTIN / "exercises" / "chapter10"
    for ex in ("layer_norm", "sublayer_wrapper"):
        assert (folder / f"{ex}.py").read_text() == (exercises / ex / "starter.py").read_text()
    assert (folder / "sublayer_support.py").is_file()
    code, report = course.json("check")
    assert code != 0
    results = by_id(report)
    assert {"layer_norm", "sublayer_wrapper"} <= set(results)  # and every other chapter 10 exercise
    for result in results.values():
        assert not result["passed"] and result["score"] == 0


HEAD = '''
import torch
from torch import nn


class LayerNorm(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
'''

FAIR_LAYER_NORMS = {
    # the book's way: var over the last axis, unbiased=False
    "var_unbiased_false": '''
        mean = x.mean(axis=-1).unsqueeze(-1)
        var = x.var(axis=-1, unbiased=False).unsqueeze(-1)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
''',
    "var_mean_rsqrt": '''
        var, mean = torch.var_mean(x, dim=-1, unbiased=False, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias
''',
    "pow_mean_correction_0": '''
        mean = x.mean(-1, keepdim=True)
        var = (x - mean).pow(2).mean(-1, keepdim=True)
        assert torch.allclose(var, x.var(-1, correction=0, keepdim=True))
        return self.weight * ((x - mean) / (var + self.eps).sqrt()) + self.bias
''',
    "second_moment": '''
        mean = x.mean(-1, keepdim=True)
        var = (x * x).mean(-1, keepdim=True) - mean ** 2
        return torch.addcmul(self.bias, (x - mean) / torch.sqrt(var + self.eps),
                             self.weight)
''',
}


@pytest.mark.parametrize("style", sorted(FAIR_LAYER_NORMS))
def test_fair_layer_norm_passes(course, style):
    result = grade(course, "layer_norm", HEAD + FAIR_LAYER_NORMS[style])
    assert result["passed"], failed_checks(result)
    assert result["score"] == result["max_score"]


TORCH_NORMS = {
    "layer_norm": '''
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)
''',
    # group norm with one group over (N·L, D, 1) is a layer norm in disguise
    "native_group_norm": '''
        rows = x.reshape(-1, x.shape[-1], 1)
        y = torch.ops.aten.native_group_norm(rows, None, None, rows.shape[0],
                                             rows.shape[1], 1, 1, self.eps)[0]
        return y.reshape(x.shape) * self.weight + self.bias
''',
}


@pytest.mark.parametrize("route", sorted(TORCH_NORMS))
def test_layer_norm_through_torch_fails_the_api_check(course, route):
    result = grade(course, "layer_norm", HEAD + TORCH_NORMS[route])
    assert not result["passed"] and result["score"] == 0
    api = next(c for c in result["checks"] if c["name"] == "api")
    assert api["status"] == "failed" and route in api["message"], api


# The learner's own LayerNorm (from layer_norm.py beside it), dropout through F.dropout with the
# module's training flag, and the sum written the other way round.
OWN_NORM_WRAPPER = '''
import torch.nn as nn
import torch.nn.functional as F

from layer_norm import LayerNorm


class SubLayerWrapper(nn.Module):
    def __init__(self, d_model, dropout=0.0):
        super().__init__()
        self.norm = LayerNorm(d_model)
        self.drop = nn.Dropout(p=dropout)

    def forward(self, x, sublayer):
        out = sublayer(self.norm(x))
        return F.dropout(out, self.drop.p, self.training) + x
'''


def test_fair_sublayer_wrapper_passes(course):
    (course.cwd / "chapter10" / "layer_norm.py").write_text(HEAD + FAIR_LAYER_NORMS["var_mean_rsqrt"])
    result = grade(course, "sublayer_wrapper", OWN_NORM_WRAPPER)
    assert result["passed"], failed_checks(result)


def test_eps_outside_the_square_root_is_named(course):
    source = HEAD + '''
        mean = x.mean(-1, keepdim=True)
        std = x.std(-1, unbiased=False, keepdim=True)
        return (x - mean) / (std + self.eps) * self.weight + self.bias
'''
    result = grade(course, "layer_norm", source)
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == "eps_outside_sqrt", result.get("diagnosis")
