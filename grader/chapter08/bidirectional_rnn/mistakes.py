"""Known mistakes for bidirectional_rnn: each function is a whole (wrong) `run_bidirectional`.

Tried in file order; the first that gives what the learner's code gave on every case of the
failing check names the misconception.
"""

import torch

from dl_course.grading.mistakes import mistake


def _run(cell, x, h=None):
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return states


# -- the backward direction ---------------------------------------------------------------------------

@mistake("reverse_not_flipped_back", "The backward states are joined in the order they were computed, last "
         "step first, so outputs[:, t, H:] belongs to step L-1-t. Flip them back along the steps "
         "(torch.flip(out_bwd, dims=[1])) before joining them to the forward states.",
         provides="run_bidirectional")
def reverse_not_flipped_back(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, torch.flip(x, dims=[1]))
    outputs = torch.cat([torch.stack(fwd, dim=1), torch.stack(bwd, dim=1)], dim=2)
    return outputs, torch.stack([fwd[-1], bwd[-1]])


@mistake("backward_not_reversed", "The backward cell reads the sequence in the same order as the forward one "
         "(step 0 first): it is just a second forward RNN. Feed it the steps from last to first, "
         "torch.flip(x, dims=[1]), and flip its states back afterwards (flipping dims=[0] reverses the order of "
         "the sequences in the batch, not of the steps, and comes to the same).", provides="run_bidirectional")
def backward_not_reversed(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, x)
    outputs = torch.cat([torch.stack(fwd, dim=1), torch.stack(bwd, dim=1)], dim=2)
    return outputs, torch.stack([fwd[-1], bwd[-1]])


@mistake("one_cell_both_ways", "The forward cell is used for both directions. The backward direction has its own "
         "weights (the layer's `_l0_reverse` ones): run cell_bwd over the reversed steps.",
         provides="run_bidirectional")
def one_cell_both_ways(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_fwd, torch.flip(x, dims=[1]))
    outputs = torch.cat([torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])], dim=2)
    return outputs, torch.stack([fwd[-1], bwd[-1]])


@mistake("directions_swapped", "The two halves are joined in the wrong order: nn.RNN puts the forward states first, "
         "outputs[..., :H], and the backward ones second, outputs[..., H:]: torch.cat([out_fwd, out_bwd], dim=2).",
         provides="run_bidirectional")
def directions_swapped(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, torch.flip(x, dims=[1]))
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_bwd, out_fwd], dim=2), torch.stack([fwd[-1], bwd[-1]])


# -- the final hidden state ----------------------------------------------------------------------------

@mistake("h_n_from_last_position", "h_n is read from outputs[:, -1]. That is right for the forward direction only: "
         "the backward direction ENDS at step 0, so its final state is outputs[:, 0, H:], while "
         "outputs[:, -1, H:] is its state after reading a single point.", provides="run_bidirectional")
def h_n_from_last_position(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, torch.flip(x, dims=[1]))
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.stack([out_fwd[:, -1], out_bwd[:, -1]])


@mistake("h_n_concatenated_rows", "The two final states, (N, H) each, are joined with torch.cat along dimension 0: "
         "(2N, H). nn.RNN's h_n is (directions, N, H) = (2, N, H): torch.stack([h_fwd, h_bwd]).",
         provides="run_bidirectional")
def h_n_concatenated_rows(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, torch.flip(x, dims=[1]))
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.cat([fwd[-1], bwd[-1]])


@mistake("h_n_batch_first", "h_n is returned batch first, (N, 2, H). Like nn.RNN's, it must be (2, N, H), "
         "directions first, even with batch_first=True: stack along dimension 0.", provides="run_bidirectional")
def h_n_batch_first(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, torch.flip(x, dims=[1]))
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.stack([fwd[-1], bwd[-1]], dim=1)


@mistake("h_n_features_joined", "The two final states are joined side by side, (N, 2H) (or (1, N, 2H)). nn.RNN keeps "
         "one row per direction: h_n is (2, N, H), torch.stack([h_fwd, h_bwd]).", provides="run_bidirectional")
def h_n_features_joined(cell_fwd, cell_bwd, x):
    fwd, bwd = _run(cell_fwd, x), _run(cell_bwd, torch.flip(x, dims=[1]))
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.cat([fwd[-1], bwd[-1]], dim=1)


# -- the default state ----------------------------------------------------------------------------------

@mistake("default_state_on_cpu", "The initial states are torch.zeros(N, H, dtype=x.dtype), made on the CPU: on a "
         "GPU they clash with x. Use x.new_zeros(N, H), or pass None and let each cell make its zeros.",
         provides="run_bidirectional")
def default_state_on_cpu(cell_fwd, cell_bwd, x):
    zeros = torch.zeros(x.size(0), cell_fwd.hidden_size, dtype=x.dtype)
    fwd, bwd = _run(cell_fwd, x, zeros), _run(cell_bwd, torch.flip(x, dims=[1]), zeros)
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.stack([fwd[-1], bwd[-1]])


@mistake("default_state_float32_cpu", "The initial states are torch.zeros(N, H): float32 on the CPU whatever x is, "
         "so float64 inputs (or a GPU) clash with them. Use x.new_zeros(N, H), or pass None to the cells.",
         provides="run_bidirectional")
def default_state_float32_cpu(cell_fwd, cell_bwd, x):
    zeros = torch.zeros(x.size(0), cell_fwd.hidden_size)
    fwd, bwd = _run(cell_fwd, x, zeros), _run(cell_bwd, torch.flip(x, dims=[1]), zeros)
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.stack([fwd[-1], bwd[-1]])


# -- right values, wrong gradients -----------------------------------------------------------------------

@mistake("state_detached", "The state is detached between steps (.detach() or .data), so no gradient flows back "
         "through time: earlier steps and the recurrent weights lose what later steps say about them.",
         provides="run_bidirectional")
def state_detached(cell_fwd, cell_bwd, x):
    def run(cell, seq):
        h, states = None, []
        for t in range(seq.size(1)):
            h = cell(seq[:, t], None if h is None else h.detach())
            states.append(h)
        return states

    fwd, bwd = run(cell_fwd, x), run(cell_bwd, torch.flip(x, dims=[1]))
    out_fwd, out_bwd = torch.stack(fwd, dim=1), torch.flip(torch.stack(bwd, dim=1), dims=[1])
    return torch.cat([out_fwd, out_bwd], dim=2), torch.stack([fwd[-1], bwd[-1]])
