"""One step of a subject on its own: torch's input and previous state at that step, the subject's cell.

Returns (step, x_t, h, c, weights, case): ``step(x, (h, c), weights) -> (h', c')`` runs the subject's cell
once, on weights under torch.nn.LSTMCell's names (+ weight_hr), so the diagnosis can plant bugs in torch's
cell and read gates out of the subject's on the very same numbers.
"""
from dataclasses import replace

import torch

from . import runner


def cell_step_view(subject, case, inputs, reference, t):
    """(stepper, x_t, h, c, weights, dtype, device) for step t of a step/cell subject (float64 values)."""
    if t is None:
        return None
    x = inputs.x[t]
    if t == 0:
        if inputs.h0 is None:
            zeros = x.new_zeros(*x.shape[:-1], case.hidden_size)
            h, c = zeros, zeros
        else:
            h, c = inputs.h0, inputs.c0
    else:
        h, c = reference.values["h"][t - 1], reference.values["c"][t - 1]
    weights = dict(inputs.params)
    if x.dim() == 1:
        x, h, c = x[None], h[None], c[None]
    stepper = subject.stepper(case)

    def step(x, state, weights):
        if case.form == "unbatched":
            out = stepper(x[0], (state[0][0], state[1][0]), weights)
            return out[0][None], out[1][None]
        return stepper(x, state, weights)

    return step, x, h, c, weights, case


def lstm_step_view(subject, case, inputs, t, layer, direction):
    """The same for an LSTM: torch's layer input and previous state, and a one-layer instance as the cell."""
    from ..inspection import inspect

    if subject.instance is not None and (case.num_layers > 1 or case.bidirectional):
        return None
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    weights = {name[: -len(suffix)]: value for name, value in inputs.params.items() if name.endswith(suffix)}
    options = {k: v for k, v in case.constructor_options().items() if k in ("bias", "proj_size")}
    ref = torch.nn.LSTM(case.input_size, case.hidden_size, num_layers=case.num_layers,
                        bidirectional=case.bidirectional, dtype=torch.float64, **options)
    ref.load_state_dict(inputs.params, strict=True)
    x = inputs.x if case.form != "unbatched" else inputs.x[:, None]                  # (T, B, I)
    hx = None if inputs.h0 is None else tuple(s if case.form != "unbatched" else s[:, None]
                                              for s in (inputs.h0, inputs.c0))
    traces = inspect(ref, x, hx)
    steps = case.steps
    if layer == 0:
        x_t = x[t]
    else:
        below = traces[layer - 1]
        parts = [below[0].h[t]] + ([below[1].h[steps - 1 - t]] if case.bidirectional else [])
        x_t = torch.cat(parts, dim=-1)                                                # (B, D·P)
    s = t if direction == 0 else steps - 1 - t
    k = layer * case.num_directions + direction
    trace = traces[layer][direction]
    if s > 0:
        h, c = trace.h[s - 1], trace.c[s - 1]
    elif hx is not None:
        h, c = hx[0][k], hx[1][k]
    else:
        h, c = x_t.new_zeros(x_t.shape[0], case.real_hidden_size), x_t.new_zeros(x_t.shape[0], case.hidden_size)
    # One layer with the case's directions, so a bug tied to one direction (its weights' layout) shows.
    cell_case = replace(case, num_layers=1, batch_first=False, form="batched", dropout_arg=False,
                        zero_state=False, input_size=x_t.shape[-1], steps=1, batch=x_t.shape[0])
    module = subject.build(cell_case)
    other_suffix = f"_l{layer}" + ("" if direction else "_reverse")
    other = {name[: -len(other_suffix)]: value for name, value in inputs.params.items()
             if name.endswith(other_suffix)} if case.bidirectional else {}
    slot = "_l0_reverse" if direction else "_l0"
    other_slot = "_l0" if direction else "_l0_reverse"

    def step(x_step, state, w):
        params = {name + slot: value for name, value in w.items()}
        params.update({name + other_slot: value.to(x_step) for name, value in other.items()})
        states = tuple(s[None].expand(case.num_directions, *s.shape).contiguous() for s in state)
        out, (h_n, c_n) = torch.func.functional_call(module, runner.map_weights(subject.layout, params, module),
                                                     (x_step[None], states))
        return h_n[direction], c_n[direction]

    return step, x_t, h, c, weights, cell_case
