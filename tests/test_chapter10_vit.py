"""Chapter 10, nn.Transformer's masks and the vision transformer's pieces, through the real CLI.

Each test grades in a fresh workspace of a small pack made from the built-in one (chapter 10's
lessons and these exercises only), so the tests do not hang on other chapters. One test checks
that the built-in chapter lists the exercises; two check the references themselves against
PyTorch (the masks inside real attention modules, the patches against a Conv2d).
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from conftest import BUILTIN, Cli, by_id, failed_checks, grade_files, started

IDS = ["torch_transformer_masks", "patchify", "cls_token", "vit_classifier"]
CH = "chapter10"


def vit_pack(root: Path) -> Path:
    for part in ("curriculum", "exercises", "solutions", "grader"):
        (root / part / CH).mkdir(parents=True)
    for f in (BUILTIN / "curriculum" / CH).iterdir():
        shutil.copy(f, root / "curriculum" / CH / f.name)
    manifest = root / "curriculum" / CH / "chapter.toml"
    text = re.sub(r"^exercises = .*$", "exercises = [" + ", ".join(f'"{i}"' for i in IDS) + "]",
                  manifest.read_text(), flags=re.M)
    manifest.write_text(text)
    for ex in IDS:
        shutil.copytree(BUILTIN / "exercises" / CH / ex, root / "exercises" / CH / ex)
        shutil.copytree(BUILTIN / "grader" / CH / ex, root / "grader" / CH / ex)
        shutil.copy(BUILTIN / "solutions" / CH / f"{ex}.py", root / "solutions" / CH / f"{ex}.py")
    return root


@pytest.fixture
def course(tmp_path: Path) -> Cli:
    return started(tmp_path / "work", CH, vit_pack(tmp_path / "pack"))

def grade(cli: Cli, exercise: str, source: str) -> dict:
    return grade_files(cli, CH, **{exercise: source})[exercise]


def test_builtin_chapter_lists_the_exercises():
    manifest = tomllib.loads((BUILTIN / "curriculum" / CH / "chapter.toml").read_text())
    listed = manifest["exercises"]
    assert all(ex in listed for ex in IDS), listed
    assert [ex for ex in listed if ex in IDS] == IDS
    for lesson in manifest["lessons"]:
        assert (BUILTIN / "curriculum" / CH / lesson).is_file(), lesson


def test_starters_score_0_and_references_pass(course):
    code, report = course.json("check")
    assert code != 0
    results = by_id(report)
    assert set(results) == set(IDS)
    for result in results.values():
        assert not result["passed"] and result["score"] == 0
    for ex in IDS:
        (course.cwd / CH / f"{ex}.py").write_text((BUILTIN / "solutions" / CH / f"{ex}.py").read_text())
    code, report = course.json("check")
    results = by_id(report)
    assert code == 0, {ex: failed_checks(r) for ex, r in results.items()}
    assert all(r["passed"] and r["score"] == r["max_score"] for r in results.values())


# -- correct code in other styles passes ------------------------------------------------------------

OTHER_MASKS = '''
import torch


def to_key_padding_mask(mask):
    return mask.squeeze(1).logical_not()


def from_key_padding_mask(key_padding_mask):
    return key_padding_mask.eq(False)[:, None, :]


def to_bool_attn_mask(mask):
    return mask.squeeze(0) == 0


def to_float_attn_mask(mask, dtype=torch.float32):
    return torch.where(mask.squeeze(0), 0.0, float("-inf")).to(dtype)


def from_attn_mask(attn_mask):
    if attn_mask.is_floating_point():
        allowed = ~torch.isinf(attn_mask)
    else:
        allowed = attn_mask.logical_not()
    return allowed[None]
'''

# The book's way (Tensor.unfold twice, permute, view), and view + permute + flatten.
BOOK_PATCHIFY = '''
def patchify(images, patch_size):
    n = images.size(0)
    patches = images.unfold(2, patch_size, patch_size)
    patches = patches.unfold(3, patch_size, patch_size)
    patches = patches.permute(0, 2, 3, 1, 4, 5).contiguous()
    patches = patches.view(n, patches.shape[1], patches.shape[2], -1)
    return patches.view(n, -1, patches.size(-1))
'''

VIEW_PATCHIFY = '''
def patchify(images, patch_size):
    N, C, H, W = images.shape
    p = patch_size
    x = images.view(N, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.flatten(3).flatten(1, 2)
'''

REPEAT_CLS = '''
import torch
import torch.nn as nn


class PatchEmbeddingWithCLS(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))

    def forward(self, x):
        return torch.cat((self.cls_token.repeat(len(x), 1, 1), x), 1)
'''


@pytest.mark.parametrize("exercise, source", [("torch_transformer_masks", OTHER_MASKS), ("patchify", BOOK_PATCHIFY),
                                              ("patchify", VIEW_PATCHIFY), ("cls_token", REPEAT_CLS)],
                         ids=["masks_where_isinf", "patchify_book_unfold", "patchify_view_flatten", "cls_repeat"])
def test_fair_styles_pass(course, exercise, source):
    result = grade(course, exercise, source)
    assert result["passed"], failed_checks(result)
    assert result["score"] == result["max_score"]


# -- mistakes are named, built-ins that do the work are refused -------------------------------------

def test_patchify_channels_last_is_named(course):
    # The einops pattern 'b c (h p1) (w p2) -> b (h w) (p1 p2 c)' written with permute.
    source = '''
def patchify(images, patch_size):
    n, c, h, w = images.shape
    p = patch_size
    x = images.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(n, (h // p) * (w // p), p * p * c)
'''
    result = grade(course, "patchify", source)
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == "channels_last_in_patch", result


def test_patchify_with_f_unfold_fails_the_api_check(course):
    source = '''
import torch.nn.functional as F


def patchify(images, patch_size):
    return F.unfold(images, patch_size, stride=patch_size).transpose(1, 2)
'''
    result = grade(course, "patchify", source)
    assert not result["passed"] and result["score"] == 0
    api = next(c for c in result["checks"] if c["name"] == "api")
    assert api["status"] == "failed" and "unfold" in api["message"], api


def test_uninverted_key_padding_mask_is_named(course):
    source = (BUILTIN / "solutions" / CH / "torch_transformer_masks.py").read_text().replace(
        "return ~mask[:, 0]", "return mask[:, 0]")
    result = grade(course, "torch_transformer_masks", source)
    assert not result["passed"] and 0 < result["score"] < result["max_score"]
    assert (result.get("diagnosis") or {}).get("id") == "padding_not_inverted", result


def test_appended_cls_token_is_named(course):
    source = REPEAT_CLS.replace("(self.cls_token.repeat(len(x), 1, 1), x)", "(x, self.cls_token.repeat(len(x), 1, 1))")
    result = grade(course, "cls_token", source)
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == "token_appended", result


# The capstone written another way: the [CLS] state read with select, the sequence built in one
# expression, the encoder layer's arguments by keyword in another order.
OTHER_VIT = '''
import torch
import torch.nn as nn

from cls_token import PatchEmbeddingWithCLS


class ViTClassifier(nn.Module):
    def __init__(self, img_size=12, in_channels=1, patch_size=4, n_classes=3, d_model=16, n_heads=2,
                 ff_units=32, n_layers=1):
        super().__init__()
        self.embed = nn.Conv2d(in_channels, d_model, patch_size, patch_size)
        self.cls = PatchEmbeddingWithCLS(d_model)
        self.pos = nn.Parameter(torch.zeros(1, (img_size // patch_size) ** 2 + 1, d_model))
        layer = nn.TransformerEncoderLayer(norm_first=True, batch_first=True, d_model=d_model, nhead=n_heads,
                                           dim_feedforward=ff_units, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=n_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.mlp = nn.Linear(d_model, n_classes)

    def forward(self, images):
        states = self.encoder(self.pos + self.cls(self.embed(images).flatten(2).permute(0, 2, 1)))
        return self.mlp(states.select(1, 0))
'''


def test_capstone_other_style_passes_and_sequence_first_is_named(course):
    (course.cwd / CH / "cls_token.py").write_text(REPEAT_CLS)
    result = grade(course, "vit_classifier", OTHER_VIT)
    assert result["passed"], failed_checks(result)
    learns = next(c for c in result["checks"] if c["name"] == "learns")
    assert learns["status"] == "passed", learns
    result = grade(course, "vit_classifier", OTHER_VIT.replace("batch_first=True, ", ""))
    assert not result["passed"]
    assert (result.get("diagnosis") or {}).get("id") == "encoder_not_batch_first", result


# -- the references against PyTorch's own conventions -----------------------------------------------

def _load(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_ref_{name}", BUILTIN / "solutions" / CH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_masks_mean_in_pytorch_what_ours_mean():
    torch = pytest.importorskip("torch")
    masks = _load("torch_transformer_masks")
    torch.manual_seed(0)
    n, L, d, heads = 3, 5, 8, 2
    mha = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    x = torch.randn(n, L, d)
    ours_pad = torch.ones(n, 1, L, dtype=torch.bool)
    ours_pad[1, 0, 3:] = False
    ours_pad[2, 0, 1:] = False
    causal = torch.ones(L, L, dtype=torch.bool).tril().unsqueeze(0)

    def by_hand(mask):  # attention in our convention, with the module's own weights
        q, k, v = torch.nn.functional.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        split = lambda t: t.view(n, L, heads, d // heads).transpose(1, 2)  # noqa: E731
        scores = split(q) @ split(k).transpose(-2, -1) / (d // heads) ** 0.5
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        out = (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(n, L, d)
        return mha.out_proj(out)

    with torch.no_grad():
        got = mha(x, x, x, key_padding_mask=masks.to_key_padding_mask(ours_pad), need_weights=False)[0]
        torch.testing.assert_close(got, by_hand(ours_pad))
        for attn in (masks.to_bool_attn_mask(causal), masks.to_float_attn_mask(causal)):
            got = mha(x, x, x, attn_mask=attn, need_weights=False)[0]
            torch.testing.assert_close(got, by_hand(causal))
    torch.testing.assert_close(masks.to_float_attn_mask(causal),
                               torch.nn.Transformer.generate_square_subsequent_mask(L))
    assert torch.equal(masks.from_attn_mask(torch.nn.Transformer.generate_square_subsequent_mask(L)), causal)
    assert torch.equal(masks.from_key_padding_mask(masks.to_key_padding_mask(ours_pad)), ours_pad)
    # In an encoder layer, what sits at padded positions cannot reach the real ones.
    layer = torch.nn.TransformerEncoderLayer(d, heads, 16, dropout=0.0, batch_first=True).eval()
    kpm = masks.to_key_padding_mask(ours_pad)
    noisy = x.masked_fill(kpm.unsqueeze(-1), 0.0) + 5 * torch.randn(n, L, d) * kpm.unsqueeze(-1)
    with torch.no_grad():
        a = layer(x.masked_fill(kpm.unsqueeze(-1), 0.0), src_key_padding_mask=kpm)
        b = layer(noisy, src_key_padding_mask=kpm)
    real = ~kpm
    torch.testing.assert_close(a[real], b[real])


def test_reference_patches_are_a_conv_patch_embedding():
    torch = pytest.importorskip("torch")
    patchify = _load("patchify").patchify
    torch.manual_seed(0)
    for c, h, w, p in ((1, 12, 12, 4), (3, 8, 12, 4), (2, 6, 9, 3)):
        x = torch.randn(2, c, h, w, dtype=torch.float64)
        conv = torch.nn.Conv2d(c, 7, kernel_size=p, stride=p).double()
        want = conv(x).flatten(2).transpose(1, 2)
        torch.testing.assert_close(patchify(x, p) @ conv.weight.flatten(1).T + conv.bias, want)
        # and it is what F.unfold (im2col) lists, transposed
        torch.testing.assert_close(patchify(x, p), torch.nn.functional.unfold(x, p, stride=p).transpose(1, 2))
