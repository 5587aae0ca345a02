"""Known mistakes for rnn_over_sequence: each function is a whole (wrong) `run_rnn` a learner might write.

They are tried in file order; the first that gives what the learner's code gave on every case of
the failing check names the misconception.
"""

import torch

from dl_course.grading.mistakes import mistake


# -- the cell used on the wrong thing -----------------------------------------------------------------

@mistake("cell_on_whole_batch", "The cell is called once on the whole (N, L, F) batch. A cell reads ONE step: "
         "(N, F) with a state (N, H). Loop over the time steps and feed each new state back in.",
         provides="run_rnn")
def cell_on_whole_batch(cell, x, h0=None):
    out = cell(x, None if h0 is None else h0[0])
    return out, out[:, -1].unsqueeze(0)


@mistake("n_l_one_step_sequences", "The (N, L, F) batch is flattened to (N·L, F) and run through the cell at "
         "once: that is N·L sequences of ONE step each, every one from a zero state, so no step sees the state "
         "of the step before. Loop over t and pass the state along: h = cell(x[:, t], h).", provides="run_rnn")
def n_l_one_step_sequences(cell, x, h0=None):
    n, length, f = x.shape
    out = cell(x.reshape(n * length, f)).reshape(n, length, -1)
    return out, out[:, -1].unsqueeze(0)


@mistake("initial_state_every_step", "Every step starts from the initial state h0 instead of the state the step "
         "before returned, so the cell never remembers anything: h = cell(x[:, t], h), with h updated.",
         provides="run_rnn")
def initial_state_every_step(cell, x, h0=None):
    h = None if h0 is None else h0[0]
    states = [cell(x[:, t], h) for t in range(x.size(1))]
    return torch.stack(states, dim=1), states[-1].unsqueeze(0)


@mistake("h0_not_squeezed", "h0 is handed to the cell as it comes, (1, N, H); a cell wants (N, H): use h0[0] "
         "(or h0.squeeze(0)).", provides="run_rnn")
def h0_not_squeezed(cell, x, h0=None):
    h = h0
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)


# -- shapes ---------------------------------------------------------------------------------------------

@mistake("h_n_batch_first", "h_n is returned batch first, (N, 1, H). Like nn.RNN's, it must be (1, N, H): "
         "hidden states are (layers·directions, N, H) even with batch_first=True.", provides="run_rnn")
def h_n_batch_first(cell, x, h0=None):
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    outputs = torch.stack(states, dim=1)
    return outputs, outputs[:, -1:]


@mistake("h_n_without_layer_dim", "h_n is returned as the cell gives it, (N, H); nn.RNN's h_n has a leading "
         "dimension for its layers and directions: (1, N, H). Add it with h.unsqueeze(0).", provides="run_rnn")
def h_n_without_layer_dim(cell, x, h0=None):
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1), h


@mistake("outputs_time_first", "The outputs are stacked along dim 0, (L, N, H); they must be batch first, "
         "(N, L, H): torch.stack(states, dim=1).", provides="run_rnn")
def outputs_time_first(cell, x, h0=None):
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states), h.unsqueeze(0)


# -- view where permute is needed -----------------------------------------------------------------------

@mistake("view_stacked_outputs", "The states, stacked as (L, N, H), are reshaped with .view(N, L, H): that reads "
         "the same memory in another shape and mixes the sequences. Swap the dimensions with .permute(1, 0, 2) "
         "(or stack with dim=1).", provides="run_rnn")
def view_stacked_outputs(cell, x, h0=None):
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    n, length = x.shape[:2]
    return torch.stack(states).view(n, length, -1), h.unsqueeze(0)


@mistake("view_time_first_input", "x is made time-first with .view(L, N, F), which reads the same memory in another "
         "shape, so each step mixes points of different sequences. Use x.permute(1, 0, 2), or take x[:, t].",
         provides="run_rnn")
def view_time_first_input(cell, x, h0=None):
    n, length, f = x.shape
    steps = x.view(length, n, f)
    h = None if h0 is None else h0[0]
    states = []
    for t in range(length):
        h = cell(steps[t], h)
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)


# -- the default state ------------------------------------------------------------------------------------
# default_state_on_cpu only fails the device check; default_state_float32_cpu already fails on float64.

@mistake("default_state_on_cpu", "The default state is torch.zeros(N, H, dtype=x.dtype), made on the CPU: on a GPU "
         "it clashes with x. Use x.new_zeros(N, H), or pass None and let the cell make it.", provides="run_rnn")
def default_state_on_cpu(cell, x, h0=None):
    h = torch.zeros(x.size(0), cell.hidden_size, dtype=x.dtype) if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)


@mistake("default_state_float32_cpu", "The default state is torch.zeros(N, H): float32 on the CPU whatever x is, so "
         "float64 inputs (or a GPU) clash with it. Use x.new_zeros(N, H), or pass None to the cell.",
         provides="run_rnn")
def default_state_float32_cpu(cell, x, h0=None):
    h = torch.zeros(x.size(0), cell.hidden_size) if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], h)
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)


# -- right values, wrong gradients --------------------------------------------------------------------------

@mistake("state_detached", "The state is detached between steps (.detach() or .data), so no gradient flows back "
         "through time: earlier steps, h0 and the recurrent weights lose what later steps say about them.",
         provides="run_rnn")
def state_detached(cell, x, h0=None):
    h = None if h0 is None else h0[0]
    states = []
    for t in range(x.size(1)):
        h = cell(x[:, t], None if h is None else h.detach())
        states.append(h)
    return torch.stack(states, dim=1), h.unsqueeze(0)
