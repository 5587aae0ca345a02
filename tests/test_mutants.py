"""Mutation testing of hidden suites: the operators make the slips tensor code is prone to, and
`author mutants` / `author validate --mutants` grade them like learner files, name what caught
each one, and fail on a survivor that is not declared equivalent with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Cli
from dl_course.mutation.operators import mutants



def changed(source: str, **only) -> dict[str, str]:
    """Mutant id → its one changed line (the mutated file's line where it differs)."""
    out = {}
    for m in mutants(source, **only):
        old, new = source.splitlines(), m.source.splitlines()
        diff = [b for a, b in zip(old, new) if a != b]
        out[m.id] = diff[0].strip() if diff else ""
    return out


ATTENTION = '''import math
import torch


def attend(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    alphas = torch.softmax(scores, dim=-1)
    return alphas @ v, alphas
'''


def test_attention_mutants_are_the_classic_slips():
    lines = set(changed(ATTENTION).values())
    expected = {
        "scores = q @ k.transpose(-2, -1)",                                   # scale dropped
        "scores = q @ k.transpose(-2, -1) * math.sqrt(q.shape[-1])",          # scale inverted
        "scores = q @ k.transpose(-3, -1) / math.sqrt(q.shape[-1])",          # transpose dim moved
        "scores = scores.masked_fill(mask, float(\"-inf\"))",                 # mask sense inverted
        "scores = scores.masked_fill(~mask, 0.0)",                            # -inf -> 0
        "alphas = torch.softmax(scores, dim=-2)",                             # softmax over the wrong dim
        "alphas = ((scores).exp() / (scores).exp().sum(dim=-1, keepdim=True))",  # overflow-prone softmax
        "return v @ alphas, alphas",                                          # operands of @ swapped
        "return (alphas @ v).detach(), alphas",                               # output detached
        "return alphas @ v, alphas.detach()",
        "if mask is None:",                                                   # comparison flipped
    }
    assert expected <= lines, sorted(expected - lines)


def test_more_operators_cover_masks_norms_and_recurrences():
    source = '''import torch


def f(x, h, eps=1e-5):
    m = torch.ones(4, 4).tril(diagonal=0)
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)
    y = (x - mean) / torch.sqrt(var + 1e-5)
    h = torch.tanh(y + h)
    z = h.view(2, 8).unsqueeze(0)
    return x + z[:, -1], h[1:]
'''
    lines = set(changed(source).values())
    for line in ("m = torch.ones(4, 4).triu(diagonal=0)", "m = torch.ones(4, 4).tril(diagonal=1)",
                 "mean = x.mean(dim=-1, keepdim=False)", "y = (x - mean) / torch.sqrt(var + 0.0001)",
                 "h = torch.sigmoid(y + h)", "h = y + h", "z = h.view(8, 2).unsqueeze(0)",
                 "z = h.view(2, 8).unsqueeze(1)", "return z[:, -1], h[1:]", "return x + z[:, -2], h[1:]",
                 "return x + z[:, -1], h[2:]", "y = (mean - x) / torch.sqrt(var + 1e-5)"):
        assert line in lines, line
    # Parameters' defaults (the exercise's API) and imports are left alone.
    assert not any("def f" in line or "import" in line for line in lines)


def test_mutant_ids_are_stable_and_each_code_is_made_once():
    first, second = mutants(ATTENTION), mutants(ATTENTION)
    assert [m.id for m in first] == [m.id for m in second]
    assert len({m.source for m in first}) == len(first)
    assert all(m.id.split("@")[0] == m.operator for m in first)
    assert len({m.id for m in first}) == len(first)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def declare(pack: Path, entries: list[tuple[str, str]]) -> None:
    """Replace the exercise's equivalence declarations (the built-in one declares detach@9)."""
    manifest = pack / "exercises" / "chapter09" / "subsequent_mask" / "exercise.toml"
    text = manifest.read_text()
    kept = text[:text.index("[[equivalent_mutants]]")] if "[[equivalent_mutants]]" in text else text
    manifest.write_text(kept + "".join(f'\n[[equivalent_mutants]]\nid = "{i}"\nreason = "{r}"\n' for i, r in entries))


def test_a_survivor_fails_until_declared_equivalent_then_passes_from_the_cache(small_pack, tmp_path, cache):
    declare(small_pack, [])
    cli = Cli(tmp_path, small_pack)
    code, report = cli.json("author", "mutants", "subsequent_mask", timeout=600)
    assert code == 1
    [ex] = report["exercises"]
    by_id = {m["mutant"]["id"]: m for m in ex["mutants"]}
    # Caught, and by what: tril -> triu and tril(diagonal=1) are named as the known mistakes they are.
    assert by_id["triangle@8"]["status"] == "caught"
    assert by_id["triangle@8"]["diagnosis"] == "upper_triangular"
    assert by_id["triangle@8#2"]["diagnosis"] == "sees_next"
    assert by_id["dim@9"]["check"] == "shape"
    # A bool mask has no gradient to lose: .detach() on it is the same function.
    assert by_id["detach@9"]["status"] == "survived"
    assert any("detach@9 survives" in p for p in ex["problems"])

    declare(small_pack, [("detach@9", "a bool mask carries no gradient")])
    proc = cli("author", "mutants", "subsequent_mask", "--markdown", str(tmp_path / "report.md"), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(5 from the cache" in proc.stdout  # a declaration does not re-grade anything
    assert "equivalent" in proc.stdout and "a bool mask carries no gradient" in proc.stdout
    markdown = (tmp_path / "report.md").read_text()
    assert "| subsequent_mask | 5 | 4 |" in markdown and "+    return allowed.unsqueeze(0).detach()" in markdown


def test_validate_with_mutants_reports_caught_declarations_and_stale_ones(small_pack, tmp_path, cache):
    declare(small_pack, [("detach@9", "a bool mask carries no gradient"),
                         ("triangle@8", "wrongly declared"), ("dim@40", "no such line")])
    cli = Cli(tmp_path, small_pack)
    proc = cli("author", "validate", "subsequent_mask", "--mutants", timeout=900)
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 1, out
    assert "triangle@8 is declared equivalent but is caught" in out
    assert "dim@40 is declared equivalent but no such mutant exists" in out


def test_a_weak_suite_lets_a_mutant_through(small_pack, tmp_path, cache):
    suite = small_pack / "grader" / "chapter09" / "subsequent_mask" / "test_subsequent_mask.py"
    text = suite.read_text()
    suite.write_text(text[:text.index("def test_values")])  # shape, dtype, then nothing on values
    declare(small_pack, [])
    cli = Cli(tmp_path, small_pack)
    code, report = cli.json("author", "mutants", "subsequent_mask", timeout=600)
    assert code == 1
    survivors = {m["mutant"]["id"] for m in report["exercises"][0]["mutants"] if m["status"] == "survived"}
    assert {"triangle@8", "triangle@8#2", "triangle@8#3"} <= survivors


@pytest.mark.parametrize("entry, says", [
    ('id = "dim 9"\nreason = "x"', "'id' must look like 'operator@line'"),
    ('id = "dim@9"\nreason = ""', "'reason' is missing or empty"),
    ('id = "dim@9"', "each entry is a table with 'id'"),
])
def test_a_bad_declaration_names_the_file_and_the_entry(small_pack, tmp_path, entry, says):
    declare(small_pack, [])
    manifest = small_pack / "exercises" / "chapter09" / "subsequent_mask" / "exercise.toml"
    manifest.write_text(manifest.read_text() + f"\n[[equivalent_mutants]]\n{entry}\n")
    proc = Cli(tmp_path, small_pack)("author", "mutants", "subsequent_mask")
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "exercise.toml" in message and "equivalent_mutants[0]" in message and says in message, message


TWO_SLIPS = '''
import torch


def dot_product_attention(query, key, value, mask=None):
    scores = query @ key.transpose(-2, -1)              # slip 1: no scale
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))  # slip 2: the mask the wrong way round
    alphas = scores.softmax(-1)
    return alphas @ value, alphas
'''


def test_two_slips_together_are_named_when_no_known_mistake_is(tmp_path):
    cli = Cli(tmp_path, None)
    assert cli("start", "chapter9").returncode == 0
    target = tmp_path / "chapter09" / "dot_product_attention.py"
    target.write_text(TWO_SLIPS)
    _, report = cli.json("check", "dot_product_attention", "--device", "cpu")
    [result] = report["results"]
    assert not result["passed"]
    diagnosis = result["diagnosis"]
    assert diagnosis["id"] == "slip:scale@11+mask@14", diagnosis
    assert "two slips together" in diagnosis["message"] and "math.sqrt(d_k)" in diagnosis["message"]

    # One slip that a known mistake describes is named as that mistake, not as a variant.
    target.write_text(TWO_SLIPS.replace("query @ key.transpose(-2, -1)", "query @ key.transpose(-2, -1) / query.shape[-1] ** 0.5"))
    _, report = cli.json("check", "dot_product_attention", "--device", "cpu")
    assert report["results"][0]["diagnosis"]["id"] == "mask_inverted"


def test_variants_come_from_the_text_the_judge_read_before_learner_code(tmp_path):
    """Learner code that rewrites a reference on disk (where no OS boundary stops it) must not
    get into the judge through the variants: they are made from the text read at the start."""
    from dl_course.grading.variants import variant_targets

    marker = tmp_path / "ran-in-the-judge"
    on_disk = tmp_path / "reference.py"
    on_disk.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n")
    read_first = "import torch\n\n\ndef f(x):\n    return torch.softmax(x * 2.0, dim=-1)\n"
    made = list(variant_targets(read_first, str(on_disk)))
    assert len(made) >= 4 and not marker.exists()
    assert {m.id for m, _ in made} >= {"slip:dim@5", "slip:float@5", "slip:softmax@5"}
