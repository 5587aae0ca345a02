"""Chapter 8, whole sequences: `rnn_over_sequence` and `last_real_output`, graded by the real CLI.

Correct code written the usual ways passes (a loop with torch.stack, a preallocated output filled
step by step, time-first with permute, gather, torch.arange indexing, `lengths - 1` as a long tensor
on the right device), and a few wrong ones fail where they should. Each test grades one file per
exercise in one `dl-course check` run, in a fresh chapter 8 workspace of the built-in course.
"""

from __future__ import annotations


import pytest

from conftest import Cli, failed_checks, grade_files, started

EXERCISES = ("rnn_over_sequence", "last_real_output")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return started(tmp_path_factory.mktemp("chapter08") / "work", "chapter8")

def grade(cli: Cli, **sources: str) -> dict[str, dict]:
    return grade_files(cli, "chapter08", **sources)


def test_start_scaffolds_the_new_exercises(course):
    folder = course.cwd / "chapter08"
    for name in ("rnn_over_sequence.py", "last_real_output.py"):
        assert (folder / name).is_file(), name
    for exercise in EXERCISES:
        text = (folder / f"{exercise}.py").read_text()
        assert "raise NotImplementedError" in text
    proc = course("lesson", "chapter8")
    assert proc.returncode == 0, proc.stderr
    for phrase in ("N·L", "batch_first", "(1, N, H)", "lengths - 1"):
        assert phrase in proc.stdout, phrase


def test_untouched_starters_score_zero(course):
    results = grade(course, **{e: (course.cwd / "chapter08" / f"{e}.py").read_text() for e in EXERCISES})
    for exercise in EXERCISES:
        assert not results[exercise]["passed"]
        assert results[exercise]["score"] == 0


# -- fair code: each pair is one way to write run_rnn and one way to write last_real_output ----------------

LOOP_AND_ARANGE = {
    "rnn_over_sequence": '''
import torch


def run_rnn(cell, x, h0=None):
    # As the book does it: a loop over the steps, feeding the state back in.
    hidden = torch.zeros(x.shape[0], cell.hidden_size, device=x.device, dtype=x.dtype) \\
        if h0 is None else h0.squeeze(0)
    outs = []
    for i in range(x.shape[1]):
        hidden = cell(x[:, i, :], hidden)
        outs.append(hidden)
    return torch.stack(outs, dim=1), hidden.unsqueeze(0)
''',
    "last_real_output": '''
import torch


def last_real_output(padded_out, lengths):
    # The book's fancy indexing (the arange is made on the CPU; indexing moves it).
    seq_idx = torch.arange(lengths.size(0))
    return padded_out[seq_idx, lengths - 1]
''',
}

PREALLOCATED_AND_GATHER = {
    "rnn_over_sequence": '''
def run_rnn(cell, x, h0=None):
    # Preallocate the outputs and fill them one step at a time.
    n, length, _ = x.shape
    out = x.new_zeros(n, length, cell.hidden_size)
    h = None if h0 is None else h0[0]
    for t in range(length):
        h = cell(x[:, t], h)
        out[:, t] = h
    return out, out[:, -1].unsqueeze(0)
''',
    "last_real_output": '''
def last_real_output(padded_out, lengths):
    n, _, h = padded_out.shape
    index = (lengths - 1).view(n, 1, 1).expand(n, 1, h)
    return padded_out.gather(1, index).squeeze(1)
''',
}

TIME_FIRST_AND_LONG_INDEX = {
    "rnn_over_sequence": '''
import torch


def run_rnn(cell, x, h0=None):
    # Time first with permute, as nn.RNN works inside; back to batch first at the end.
    steps = x.permute(1, 0, 2)                     # (L, N, F)
    h = None if h0 is None else h0[-1]             # None: the cell makes zeros
    states = []
    for x_t in steps:
        h = cell(x_t, h)
        states.append(h)
    return torch.stack(states).transpose(0, 1), h[None]
''',
    "last_real_output": '''
import torch


def last_real_output(padded_out, lengths):
    last = (lengths - 1).long().to(padded_out.device)
    rows = torch.arange(len(last), device=padded_out.device)
    return padded_out[rows, last, :]
''',
}

UNBIND_AND_LOOP = {
    "rnn_over_sequence": '''
import torch


def run_rnn(cell, x, h0=None):
    h = h0.squeeze(0) if h0 is not None else x.new_zeros(x.size(0), cell.hidden_size)
    outputs = []
    for x_t in x.unbind(dim=1):
        h = cell(x_t, h)
        outputs.append(h.unsqueeze(1))
    return torch.cat(outputs, dim=1), h.unsqueeze(0)
''',
    "last_real_output": '''
import torch


def last_real_output(padded_out, lengths):
    # One sequence at a time.
    rows = [padded_out[i, int(n) - 1] for i, n in enumerate(lengths)]
    return torch.stack(rows)
''',
}

TAKE_ALONG_DIM = {
    "last_real_output": '''
import torch


def last_real_output(padded_out, lengths):
    index = (lengths - 1).reshape(-1, 1, 1)
    return torch.take_along_dim(padded_out, index, dim=1)[:, 0]
''',
}


@pytest.mark.parametrize("sources", [LOOP_AND_ARANGE, PREALLOCATED_AND_GATHER, TIME_FIRST_AND_LONG_INDEX,
                                     UNBIND_AND_LOOP, TAKE_ALONG_DIM],
                         ids=["loop-stack+arange", "preallocated+gather", "permute+long-index",
                              "unbind-cat+python-loop", "take_along_dim"])
def test_fair_code_passes(course, sources):
    results = grade(course, **sources)
    for exercise in sources:
        result = results[exercise]
        assert result["passed"], (exercise, failed_checks(result))
        assert result["score"] == result["max_score"]


# -- wrong code fails where it should --------------------------------------------------------------------

NN_RNN = '''
from torch import nn


def run_rnn(cell, x, h0=None):
    rnn = nn.RNN(cell.input_size, cell.hidden_size, batch_first=True).to(x.device, x.dtype)
    rnn.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    return rnn(x, h0)
'''

COPIED_CELL = '''
import copy

import torch


def run_rnn(cell, x, h0=None):
    # Right values and input gradients, but on a copy: the cell's own weights get no gradient.
    cell = copy.deepcopy(cell)
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)
'''

BATCH_NOT_PAIRED = '''
def last_real_output(padded_out, lengths):
    return padded_out[:, lengths - 1]
'''


def test_nn_rnn_is_forbidden(course):
    result = grade(course, rnn_over_sequence=NN_RNN, last_real_output=BATCH_NOT_PAIRED)
    rnn = result["rnn_over_sequence"]
    assert not rnn["passed"] and rnn["score"] == 0
    assert any(c["name"] == "api" and c["status"] == "failed" for c in rnn["checks"])
    last = result["last_real_output"]
    assert not last["passed"]
    assert (last.get("diagnosis") or {}).get("id") == "time_index_only"


def test_parameter_gradients_are_compared(course):
    result = grade(course, rnn_over_sequence=COPIED_CELL)["rnn_over_sequence"]
    assert not result["passed"]
    failed = {c["name"]: c.get("message") or "" for c in result["checks"] if c["status"] == "failed"}
    assert list(failed) == ["gradients"], failed
    assert "parameter" in failed["gradients"]
