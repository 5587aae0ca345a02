"""Hidden suite: collate_packed(batch) -> (PackedSequence, labels (N, 1)), batch a list of (seq (L_i, F), label (1,)).

What comes back from the learner's process is the PackedSequence as its four plain tensors (data,
batch_sizes, sorted_indices, unsorted_indices). The judge checks it is a well-formed packed batch,
then reads it the two ways a model would: unpacked with pad_packed_sequence (the padded sequences
and their lengths, in the order the batch gave them) and fed to a real nn.GRU, whose final hidden
state for each sequence must be the one the reference's packed batch gives. Comparing the unpacked
batch, not the raw packed data, keeps the verdict fair to any correct way of packing (ties between
equal lengths may be broken either way).

No gradient check: a collate function runs in a data loader, on data that needs no gradient.
"""

import torch
from torch.nn.utils import rnn as rnn_utils

from dl_course.grading.harness import CheckFailed
from dl_course.grading.wire import TensorData

WHAT = "collate_packed(batch)"
HIDDEN = 3

# The lengths of the sequences, in the order the batch gives them (never sorted when N > 1, so
# packing that insists on sorted input fails; equal lengths included); f features.
GRID = [
    dict(n=1, lengths=(3,), f=2),
    dict(n=2, lengths=(2, 4), f=2),
    dict(n=3, lengths=(1, 3, 2), f=1),
    dict(n=4, lengths=(4, 4, 2, 5), f=3),
    dict(n=5, lengths=(2, 6, 1, 3, 6), f=2),
    dict(n=7, lengths=(3, 5, 2, 7, 4, 1, 4), f=2),
]


def inputs(c):
    sequences = [c.randn(length, c.f) for length in c.lengths]
    # The labels stay on the CPU even when the sequences do not (on `meta` for the device check):
    # the book's torch.as_tensor(labels) reads their values, and only the points are judged there.
    labels = torch.randint(0, 2, (c.n,), generator=c.generator).to(torch.float32)
    return [(seq, labels[i:i + 1]) for i, seq in enumerate(sequences)]


def _tensor(td, name):
    if not isinstance(td, TensorData):
        raise CheckFailed(f"{WHAT}: the packed batch's {name} should be a tensor, got {type(td).__name__}")
    return td


def _packed(output):
    """The learner's PackedSequence, rebuilt here from its four tensors; CheckFailed if it is none."""
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        raise CheckFailed(f"{WHAT} should return a pair (packed, labels); got "
                          f"{type(output).__name__ if not isinstance(output, (tuple, list)) else f'{len(output)} items'}")
    packed = output[0]
    if isinstance(packed, TensorData) or not isinstance(packed, (tuple, list)) or len(packed) != 4:
        raise CheckFailed(f"{WHAT}: the first item should be a PackedSequence (from pack_sequence or "
                          f"pack_padded_sequence), got {packed!r}"[:300])
    data, sizes = _tensor(packed[0], "data"), _tensor(packed[1], "batch_sizes")
    order = [None if p is None else _tensor(p, name) for p, name in zip(packed[2:], ("sorted_indices",
                                                                                      "unsorted_indices"))]
    return data, sizes, order


def _well_formed(data, sizes, order):
    """A problem with the packed batch's layout, or None (on values that came back)."""
    if len(data.shape) < 1 or sizes.values.dim() != 1 or sizes.values.dtype != torch.int64 or sizes.shape[0] == 0:
        return "a malformed PackedSequence: batch_sizes not 1-D int64"
    b = sizes.values
    if bool((b <= 0).any()) or bool((b[1:] > b[:-1]).any()) or int(b.sum()) != data.shape[0]:
        return "a malformed PackedSequence: batch_sizes do not match data"
    for p in order:
        if p is not None and (p.values is None or p.values.dtype != torch.int64 or tuple(p.shape) != (int(b[0]),)
                              or sorted(p.values.tolist()) != list(range(int(b[0])))):
            return "a malformed PackedSequence: sorted_indices not a permutation"
    if (order[0] is None) != (order[1] is None):
        return "a malformed PackedSequence: only one of the indices set"
    return None


def _gru(features, dtype):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(8)
        return torch.nn.GRU(features, HIDDEN, batch_first=True).to(dtype)


def canonical(t, c):
    """The learner's answer as a model reads it: unpacked, its labels, and a real GRU's final states."""
    output = t.call("collate_packed", inputs(c))["output"]
    data, sizes, order = _packed(output)
    if data.values is None or sizes.values is None or any(p is not None and p.values is None for p in order):
        raise CheckFailed(f"{WHAT}: the packed batch came back without its values (a tensor on 'meta'?)")
    problem = _well_formed(data, sizes, order)
    if problem:
        # Said where the unpacked batch was expected; the same text for the same slip, so a known
        # mistake that packs as badly (pack_padded_sequence does not always refuse) is still named.
        return {"padded": problem, "lengths": problem, "labels": output[1], "gru_h_n": problem}
    sorted_i, unsorted_i = (None if p is None else p.values for p in order)
    packed = rnn_utils.PackedSequence(data.values, sizes.values, sorted_i, unsorted_i)
    padded, lengths = rnn_utils.pad_packed_sequence(packed, batch_first=True)
    h0 = torch.randn(1, int(sizes.values[0]), HIDDEN, generator=torch.Generator().manual_seed(c.seed),
                     dtype=torch.float64)
    as_double = rnn_utils.PackedSequence(data.values.double(), sizes.values, sorted_i, unsorted_i)
    with torch.no_grad():
        _, h_n = _gru(padded.size(-1), torch.float64)(as_double, h0)
    return {"padded": TensorData(padded, tuple(padded.shape), data.dtype, data.device),
            "lengths": TensorData(lengths, tuple(lengths.shape), str(lengths.dtype), "cpu"),
            "labels": output[1],
            "gru_h_n": TensorData(h_n[0], tuple(h_n[0].shape), "torch.float64", data.device)}


def probe_unpacked(t, c):
    return canonical(t, c)


def probe_gru(t, c):
    return canonical(t, c)["gru_h_n"]


def probe_points(t, c):
    """The packed points alone (PackedSequence.data), for the device check."""
    output = t.call("collate_packed", inputs(c))["output"]
    return _packed(output)[0]


def test_shape(grade):
    """Returns (PackedSequence, labels (N, 1))"""
    grade.compare(probe_unpacked, GRID, level="shape", dtypes=("float32",), what=WHAT)


def test_dtype(grade):
    """The packed points keep their dtype (float32 and float64)"""
    grade.compare(probe_unpacked, GRID, level="dtype", what=WHAT)


def test_unpacks(grade):
    """Unpacked, it gives every sequence in the order given, its length, and its own label"""
    grade.compare(probe_unpacked, GRID, level="values", what=WHAT + ", unpacked", figure="padded",
                  figure_title="unpacked batch (sequence 0: steps × features)")


def test_rnn_reads_it(grade):
    """A real nn.GRU reading the packed batch ends each sequence where the reference's does"""
    grade.compare(probe_gru, GRID, level="values", what="nn.GRU's final states on " + WHAT)


def test_device(grade):
    """The packed points stay on the sequences' device"""
    # Not grade.portable: its stand-in GPU refuses a CPU tensor meeting the inputs in any op, but
    # packing takes its lengths on the CPU by design (as it does on a real GPU), so the stand-in
    # would fail pack_sequence itself. The `meta` device tells the same story here: whatever is made
    # without a device lands on the CPU, while packing keeps the points where the sequences are.
    # With CUDA, the real thing is checked too.
    devices = ("meta", "cuda") if "cuda" in grade.devices else ("meta",)
    grade.compare(probe_points, GRID, level="device", dtypes=("float32",), devices=devices,
                  what="the packed points of " + WHAT)
