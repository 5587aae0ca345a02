"""Figures (small pictures of one output, reference beside learner) and structured training progress.

The first two tests drive the real CLI on `subsequent_mask`, whose suite asks for a figure of the
mask; the rest drive the harness directly with trusted local targets (no learner process).
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from conftest import by_id, reference_source
from dl_course.course.loader import DEFAULT_TOLERANCE
from dl_course.grading.harness import CheckFailed, Grade, figure_of
from dl_course.grading.result import ExerciseResult
from dl_course.grading.targets import LocalTarget
from dl_course.grading.wire import TensorData

UPPER = ("import torch\n\ndef subsequent_mask(size, device=None):\n"
         "    return torch.ones(size, size, dtype=torch.bool, device=device).triu().unsqueeze(0)\n")


def _values_figure(result: dict) -> dict:
    figures = [f for f in result["figures"] if f["check"] == "values"]
    assert len(figures) == 1, result["figures"]
    return figures[0]


def test_a_wrong_mask_comes_back_as_a_figure_of_the_largest_failing_case(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(UPPER)
    code, report = cli.json("check", "subsequent_mask", "--seed", "11")
    result = by_id(report)["subsequent_mask"]
    assert code == 1 and result["diagnosis"]["id"] == "upper_triangular"
    figure = _values_figure(result)
    # The message names the smallest failing case (size=2: a 1×1 mask is the same either way); the
    # picture shows the largest one, where the pattern is plain to see.
    assert "smallest failing case: size=2," in next(c for c in result["checks"] if c["name"] == "values")["message"]
    # One seed only, the run's: no case or figure shows a seed of its own that --seed would not take.
    assert figure["case"] == "size=12, on cpu" and result["seed"] == 11
    assert "seed" not in next(c for c in result["checks"] if c["name"] == "values")["message"]
    assert figure["kind"] == "bool" and figure["shape"] == [1, 12, 12] and figure["truncated"] is False
    assert figure["expected"] == [[1.0 if j <= i else 0.0 for j in range(12)] for i in range(12)]
    assert figure["got"] == [[1.0 if j >= i else 0.0 for j in range(12)] for i in range(12)]
    assert figure["title"]
    # Plain JSON, and it survives the result model (what the TUI reads).
    assert ExerciseResult.from_dict(result).figures == result["figures"]


def test_the_reference_comes_back_with_both_sides_equal_on_the_largest_case(cli):
    cli("start", "chapter9")
    (cli.cwd / "chapter09" / "subsequent_mask.py").write_text(reference_source())
    code, report = cli.json("check", "subsequent_mask")
    assert code == 0
    figure = _values_figure(by_id(report)["subsequent_mask"])
    assert figure["case"].startswith("size=12,")
    expected = [[1.0 if j <= i else 0.0 for j in range(12)] for i in range(12)]
    assert figure["expected"] == expected and figure["got"] == expected
    # Checks that asked for no figure leave none.
    assert {f["check"] for f in by_id(report)["subsequent_mask"]["figures"]} == {"values"}
    assert cli("progress").returncode == 0  # the store still takes the result


# -- the harness, with local targets ----------------------------------------------------------------
def weights(q, k):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    return q @ k.transpose(-2, -1), scores.softmax(-1)


def grade_for(fn):
    return Grade(LocalTarget({"weights": fn}, "learner"), LocalTarget({"weights": weights}, "the reference"), [],
                 dict(DEFAULT_TOLERANCE), seed=5)


def probe(t, c):
    return t.call("weights", c.randn(c.n, c.h, c.lq, 4), c.randn(c.n, c.h, c.lk, 4))


GRID = [dict(n=2, h=3, lq=5, lk=6), dict(n=1, h=2, lq=2, lk=3)]


def test_compare_keeps_one_figure_of_the_chosen_output_reduced_to_its_first_plane():
    grade = grade_for(weights)
    grade.compare(probe, GRID, figure=1, figure_title="weights")
    [figure] = grade.take_figures()
    assert grade.take_figures() == []
    # All passed: the largest float32 case on the CPU, at batch 0, head 0.
    assert figure["case"].startswith("n=2, h=3, lq=5, lk=6, float32 on cpu")
    assert figure["shape"] == [2, 3, 5, 6] and len(figure["expected"]) == 5 and len(figure["expected"][0]) == 6
    assert figure["got"] == figure["expected"] and figure["kind"] == "float"
    assert all(isinstance(x, float) and round(x, 4) == x for row in figure["expected"] for x in row)
    assert abs(sum(figure["expected"][0]) - 1) < 1e-3  # a row of softmax weights


def test_a_failing_compare_pictures_its_largest_failing_case_and_other_levels_none():
    def flipped(q, k):
        scores, w = weights(q, k)
        return scores, w.flip(-1)

    grade = grade_for(flipped)
    with pytest.raises(CheckFailed):
        grade.compare(probe, GRID, figure=1)
    [figure] = grade.take_figures()
    assert figure["case"].startswith("n=2, h=3, lq=5, lk=6, float32 on cpu")
    assert figure["got"] == [row[::-1] for row in figure["expected"]] != figure["expected"]
    assert figure["title"] == "output[1] at [0, 0]"
    grade.compare(probe, GRID, level="shape", figure=1)
    assert grade.take_figures() == []


def test_figures_are_capped_and_plain_and_a_differently_shaped_answer_has_no_got_side():
    big = torch.full((50, 70), float("nan"), dtype=torch.float64)
    big[0, 0] = 1 / 3
    e = TensorData(big, (50, 70), "torch.float64", "cpu")
    g = TensorData(torch.zeros(3, 3), (3, 3), "torch.float32", "cpu")
    figure = figure_of(e, g, True, "t", "case")
    assert figure["truncated"] is True and len(figure["expected"]) == 40 and len(figure["expected"][0]) == 64
    assert figure["expected"][0][:2] == [0.3333, None] and figure["got"] is None
    json.dumps(figure, allow_nan=False)
    mask = TensorData(torch.tensor([True, False]), (2,), "torch.bool", "cpu")
    assert figure_of(mask, mask, True, None, "c")["expected"] == [[1.0, 0.0]]  # one row, 0/1
    assert figure_of((mask,), None, 0, None, "c")["got"] is None  # the learner's side failed


# -- training progress ----------------------------------------------------------------------------
def line_batch(batch, generator):
    """y = 2x - 1 (trusted data for the training test)."""
    x = torch.rand(batch, 1, generator=generator)
    return {"train_args": (x,), "eval_args": (x,), "target": 2 * x - 1}


def test_learns_reports_each_chunk_as_a_dict_with_its_losses():
    learner = LocalTarget({"Line": lambda: nn.Linear(1, 1)}, "learner")
    events = []
    grade = Grade(learner, LocalTarget({}, "the reference"), [], dict(DEFAULT_TOLERANCE), seed=1,
                  progress=events.append)
    grade.learns(lambda t: t.new("Line"), "test_figures:line_batch", threshold=0.05, steps=250, batch=16, lr=0.05,
                 chunk=100, eval_size=64, what="the line")
    chunks, rest = events[:-1], events[-1]
    assert [e["step"] for e in chunks] == [100, 200, 250] and {e["steps"] for e in chunks} == {250}
    assert [len(e["losses"]) for e in chunks] == [100, 100, 50]
    for e in chunks:
        assert e["loss"] == e["losses"][-1]
        assert e["text"] == f"training the line: step {e['step']}/250, loss {e['loss']:.4f}"
        json.dumps(e, allow_nan=False)
    assert chunks[-1]["loss"] < chunks[0]["losses"][0]
    assert isinstance(rest, str) and rest.startswith("the line learned")


def test_learns_budgets_steps_not_seconds(monkeypatch):
    """A slow machine (here: a clock that jumps ten minutes per reading) still trains every step."""
    import time

    clock = iter(range(0, 10**6, 600))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)))
    learner = LocalTarget({"Line": lambda: nn.Linear(1, 1)}, "learner")
    events = []
    grade = Grade(learner, LocalTarget({}, "the reference"), [], dict(DEFAULT_TOLERANCE), seed=1,
                  progress=events.append)
    grade.learns(lambda t: t.new("Line"), "test_figures:line_batch", threshold=0.05, steps=250, batch=16, lr=0.05,
                 chunk=50, eval_size=64, what="the line")
    assert [e["step"] for e in events[:-1]] == [50, 100, 150, 200, 250]
