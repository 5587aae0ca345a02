"""Chapter 8, more: `bidirectional_rnn`, `collate_packed` and `conv1d_by_hand`, graded by the real CLI.

In a fresh chapter 8 workspace of the built-in course: the untouched starters score 0, the
references pass, correct code written other ways passes (the book's flip-and-concatenate, a
reversed loop into a preallocated output, the book's as_tensor labels, pad-then-pack, a window
loop and a tap loop for the convolution), a known mistake of each is named, and F.conv1d is
refused. Each test grades one file per exercise in one `dl-course check` run.
"""

from __future__ import annotations

import pytest

from conftest import Cli, failed_checks, grade_files, reference_source, started

EXERCISES = ("bidirectional_rnn", "collate_packed", "conv1d_by_hand")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return started(tmp_path_factory.mktemp("chapter08_more") / "work", "chapter8")

def grade(cli: Cli, **sources: str) -> dict[str, dict]:
    return grade_files(cli, "chapter08", **sources)


def test_untouched_starters_score_zero(course):
    folder = course.cwd / "chapter08"
    starters = {e: (folder / f"{e}.py").read_text() for e in EXERCISES}
    for exercise, text in starters.items():
        assert "raise NotImplementedError" in text, exercise
    results = grade(course, **starters)
    for exercise in EXERCISES:
        assert not results[exercise]["passed"], exercise
        assert results[exercise]["score"] == 0, exercise


def test_references_pass(course):
    results = grade(course, **{e: reference_source(e, "chapter08") for e in EXERCISES})
    for exercise in EXERCISES:
        result = results[exercise]
        assert result["passed"], (exercise, failed_checks(result))


# -- fair code written other ways --------------------------------------------------------------------------

BOOK_STYLE = {
    "bidirectional_rnn": '''
import torch


def run_bidirectional(cell_fwd, cell_bwd, x):
    # The book's way: run each direction, flip the reversed one back, concatenate.
    x_rev = torch.flip(x, dims=[1])
    hidden = torch.zeros(x.shape[0], cell_fwd.hidden_size, device=x.device, dtype=x.dtype)
    hidden_rev = hidden.clone()
    out, out_rev = [], []
    for i in range(x.shape[1]):
        hidden = cell_fwd(x[:, i, :], hidden)
        hidden_rev = cell_bwd(x_rev[:, i, :], hidden_rev)
        out.append(hidden)
        out_rev.append(hidden_rev)
    out = torch.stack(out, dim=1)
    out_rev_back = torch.flip(torch.stack(out_rev, dim=1), dims=[1])
    h_n = torch.cat([hidden.unsqueeze(0), hidden_rev.unsqueeze(0)])
    return torch.cat([out, out_rev_back], dim=2), h_n
''',
    "collate_packed": '''
import torch
from torch.nn.utils import rnn as rnn_utils


def collate_packed(batch):
    # The book's pack_collate.
    X = [item[0] for item in batch]
    y = [item[1] for item in batch]
    X_pack = rnn_utils.pack_sequence(X, enforce_sorted=False)
    return X_pack, torch.as_tensor(y).view(-1, 1)
''',
    "conv1d_by_hand": '''
import torch


def conv1d(x, weight, bias=None, stride=1, dilation=1):
    # One window at a time.
    n, c_in, length = x.shape
    c_out, _, k = weight.shape
    span = dilation * (k - 1) + 1
    outputs = []
    for start in range(0, length - span + 1, stride):
        window = x[:, :, start:start + span:dilation]          # (N, C_in, K)
        outputs.append((window.unsqueeze(1) * weight).sum(dim=(2, 3)))
    out = torch.stack(outputs, dim=2)
    if bias is not None:
        out = out + bias[None, :, None]
    return out
''',
}

OTHER_STYLE = {
    "bidirectional_rnn": '''
import torch


def run_bidirectional(cell_fwd, cell_bwd, x):
    # A reversed loop straight into a preallocated output.
    n, length, _ = x.shape
    h = cell_fwd.hidden_size
    out = x.new_zeros(n, length, 2 * h)
    state = None
    for t in range(length):
        state = cell_fwd(x[:, t], state)
        out[:, t, :h] = state
    state = None
    for t in reversed(range(length)):
        state = cell_bwd(x[:, t], state)
        out[:, t, h:] = state
    # The backward direction finishes at step 0.
    return out, torch.stack([out[:, -1, :h], out[:, 0, h:]])
''',
    "collate_packed": '''
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence


def collate_packed(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    padded = pad_sequence(list(sequences), batch_first=True)
    packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    return packed, torch.stack(labels)
''',
    "conv1d_by_hand": '''
import torch


def conv1d(x, weight, bias=None, stride=1, dilation=1):
    # One tap at a time: tap k sees a strided slice of x, shifted by k * dilation.
    c_out, c_in, k = weight.shape
    l_out = (x.shape[-1] - dilation * (k - 1) - 1) // stride + 1
    out = 0
    for tap in range(k):
        begin = tap * dilation
        taps = x[:, :, begin:begin + (l_out - 1) * stride + 1:stride]    # (N, C_in, L_out)
        out = out + torch.einsum("ncl,oc->nol", taps, weight[:, :, tap])
    if bias is not None:
        out = out + bias.view(-1, 1)
    return out
''',
}


@pytest.mark.parametrize("sources", [BOOK_STYLE, OTHER_STYLE], ids=["book-style", "other-style"])
def test_fair_code_passes(course, sources):
    results = grade(course, **sources)
    for exercise in sources:
        result = results[exercise]
        assert result["passed"], (exercise, failed_checks(result))
        assert result["score"] == result["max_score"]


# -- wrong code is named -----------------------------------------------------------------------------------

H_N_FROM_OUTPUTS = '''
import torch


def run_bidirectional(cell_fwd, cell_bwd, x):
    h_f = h_b = None
    fwd, bwd = [], []
    for t in range(x.size(1)):
        h_f = cell_fwd(x[:, t], h_f)
        fwd.append(h_f)
    for t in range(x.size(1) - 1, -1, -1):
        h_b = cell_bwd(x[:, t], h_b)
        bwd.insert(0, h_b)
    out = torch.cat([torch.stack(fwd, 1), torch.stack(bwd, 1)], dim=-1)
    hidden = out[:, -1]                                   # (N, 2H): the last step of both
    return out, torch.stack(hidden.chunk(2, dim=-1))
'''

SORTED_WITHOUT_LABELS = '''
import torch
from torch.nn.utils import rnn as rnn_utils


def collate_packed(batch):
    seqs = sorted([s for s, _ in batch], key=lambda s: s.shape[0], reverse=True)
    labels = torch.stack([y for _, y in batch])
    return rnn_utils.pack_sequence(seqs), labels
'''

FLIPPED_KERNEL = '''
import torch


def conv1d(x, weight, bias=None, stride=1, dilation=1):
    k = weight.shape[-1]
    span = dilation * (k - 1) + 1
    windows = x.unfold(-1, span, stride)[..., ::dilation]
    out = torch.einsum("nclk,ock->nol", windows, weight.flip(-1))
    return out if bias is None else out + bias[:, None]
'''

F_CONV1D = '''
import torch.nn.functional as F


def conv1d(x, weight, bias=None, stride=1, dilation=1):
    return F.conv1d(x, weight, bias, stride=stride, dilation=dilation)
'''


def test_known_mistakes_are_named(course):
    results = grade(course, bidirectional_rnn=H_N_FROM_OUTPUTS, collate_packed=SORTED_WITHOUT_LABELS,
                    conv1d_by_hand=FLIPPED_KERNEL)
    expected = {"bidirectional_rnn": "h_n_from_last_position", "collate_packed": "sorted_without_labels",
                "conv1d_by_hand": "kernel_flipped"}
    for exercise, mistake in expected.items():
        result = results[exercise]
        assert not result["passed"], exercise
        assert (result.get("diagnosis") or {}).get("id") == mistake, (exercise, failed_checks(result))
    # The bidirectional slip is in h_n only: its outputs are right.
    statuses = {c["name"]: c["status"] for c in results["bidirectional_rnn"]["checks"]}
    assert statuses["outputs"] == "passed" and statuses["h_n"] == "failed", statuses


def test_f_conv1d_is_forbidden(course):
    result = grade(course, conv1d_by_hand=F_CONV1D)["conv1d_by_hand"]
    assert not result["passed"] and result["score"] == 0
    assert any(c["name"] == "api" and c["status"] == "failed" for c in result["checks"])
