"""Run one Case on a subject and on torch: the same weights, inputs and loss; outputs, states, every gradient.

Every run returns a Result: ``values`` (outputs and states) and ``grads`` (input, h_0, c_0 and every
parameter, under torch's parameter names), all as float64 CPU tensors for comparison.

Weights reach a module through ``torch.func.functional_call``: the torch-named weights are leaves, a
layout hook maps them (differentiably) to the module's own names, so every parameter gradient lands on
the torch-named leaf and is compared with torch's by name — whatever layout the module keeps.
"""
import math
from typing import NamedTuple, Optional

import torch
from torch.func import functional_call
from torch.nn.utils.rnn import PackedSequence, pack_sequence

from .cases import SATURATING

CELL_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class Inputs(NamedTuple):
    """One case's data in float64, already rounded to the case's dtype (so every side sees the same numbers)."""
    params: dict          # torch's names -> tensor
    x: list               # per sequence (T_b, I)  (lstm) or (T, B, I) / (T, I) sequence (cell, step)
    h0: Optional[torch.Tensor]
    c0: Optional[torch.Tensor]
    loss_seed: int


class Result(NamedTuple):
    values: dict          # name -> float64 CPU tensor
    grads: dict           # name -> float64 CPU tensor, or None where no gradient arrived
    dtypes: dict = {}     # name -> the dtype each value came back in


def torch_names_and_shapes(case):
    """torch's parameter names and shapes for this case (from a module on the meta device: no memory, no RNG)."""
    if case.kind == "lstm":
        module = torch.nn.LSTM(case.input_size, case.hidden_size, device="meta", **case.constructor_options())
    else:
        module = torch.nn.LSTMCell(case.input_size, case.hidden_size, bias=case.bias, device="meta")
    return {name: tuple(p.shape) for name, p in module.named_parameters()}


def _rounded(tensor, dtype):
    return tensor.to(dtype).to(torch.float64)


def make_inputs(case):
    """Weights ~ U(−1/√H, 1/√H) as torch draws them, inputs and states ~ N(0, 1), from the case's seed."""
    g = torch.Generator().manual_seed(case.seed)
    dtype = case.torch_dtype
    bound = 1.0 / math.sqrt(case.hidden_size)
    params = {name: _rounded(torch.rand(shape, generator=g, dtype=torch.float64) * 2 * bound - bound, dtype)
              for name, shape in torch_names_and_shapes(case).items()}
    batch = [] if case.form == "unbatched" else [case.batch]
    scale = SATURATING if case.saturated else 1.0
    if case.kind == "lstm" and case.form == "packed":
        x = [_rounded(scale * torch.randn(n, case.input_size, generator=g, dtype=torch.float64), dtype)
             for n in case.lengths]
    else:
        x = _rounded(scale * torch.randn(case.steps, *batch, case.input_size, generator=g, dtype=torch.float64), dtype)
    h0 = c0 = None
    if not case.zero_state:
        layers = [case.num_layers * case.num_directions] if case.kind == "lstm" else []
        h0 = _rounded(torch.randn(*layers, *batch, case.real_hidden_size, generator=g, dtype=torch.float64), dtype)
        c0 = _rounded(torch.randn(*layers, *batch, case.hidden_size, generator=g, dtype=torch.float64), dtype)
    return Inputs(params, x, h0, c0, case.seed + 1)


def _leaf(tensor, dtype, device):
    return tensor.to(device=device, dtype=dtype).detach().requires_grad_(True)


def map_weights(layout, params, module=None):
    """Apply a layout hook; check it gives exactly the module's parameter names."""
    mapped = layout(params) if layout is not None else params
    if not isinstance(mapped, dict):
        raise TypeError(f"layout hook: expected it to return a dict of the module's parameter names -> tensors, "
                        f"got {type(mapped).__name__}")
    if module is not None:
        expected = {name for name, _ in module.named_parameters()}
        if set(mapped) != expected:
            hint = "" if layout is not None else (
                " — the module's names are not torch's: pass layout=fn(torch_weights) -> {your name: tensor}")
            raise ValueError(f"weights for {type(module).__name__}: expected its parameters {sorted(expected)}, "
                             f"got {sorted(mapped)}{hint}")
    return mapped


def _loss(values, seed, dtype, device):
    """A fixed random weighting of every value (drawn in float64, then cast): the same for every side."""
    g = torch.Generator().manual_seed(seed)
    total = 0
    for value in values:
        weight = torch.randn(value.shape, generator=g, dtype=torch.float64).to(device=device, dtype=dtype)
        total = total + (value * weight).sum()
    return total


def _collect(values, leaves, loss_seed, dtype, device):
    tensors = [v for v in values.values()]
    for tensor, name in zip(tensors, values):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(tensor).__name__}")
    loss = _loss(tensors, loss_seed, dtype, device)
    if loss.requires_grad:
        loss.backward()
    grads = {name: (leaf.grad.detach().to("cpu", torch.float64) if leaf.grad is not None else None)
             for name, leaf in leaves.items()}
    dtypes = {name: v.dtype for name, v in values.items()}
    values = {name: v.detach().to("cpu", torch.float64) for name, v in values.items()}
    return Result(values, grads, dtypes)


def run_stepper(stepper, case, inputs, dtype, device):
    """A step function over the case's sequence: stepper(x_t, state or None, weights) -> (h, c)."""
    params = {name: _leaf(t, dtype, device) for name, t in inputs.params.items()}
    x = _leaf(inputs.x, dtype, device)
    leaves = {"input": x}
    state = None
    if inputs.h0 is not None:
        state = (_leaf(inputs.h0, dtype, device), _leaf(inputs.c0, dtype, device))
        leaves.update(h_0=state[0], c_0=state[1])
    hs, cs = [], []
    for x_t in x.unbind(0):
        out = stepper(x_t, state, params)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"step: expected it to return (h, c), got {type(out).__name__}"
                            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
        state = tuple(out)
        hs.append(state[0])
        cs.append(state[1])
    leaves.update(params)
    return _collect({"h": torch.stack(hs), "c": torch.stack(cs)}, leaves, inputs.loss_seed, dtype, device)


def module_stepper(module, layout):
    """A cell module as a stepper (its weights set through the layout hook)."""
    def stepper(x_t, state, params):
        args = (x_t,) if state is None else (x_t, state)
        return functional_call(module, map_weights(layout, params, module), args)
    return stepper


def function_stepper(step):
    """A user's step(x, (h, c), weights) as a stepper; with no initial state it is given zeros."""
    def stepper(x_t, state, params):
        if state is None:
            hidden = params["weight_hh"].shape[1]
            zeros = x_t.new_zeros(*x_t.shape[:-1], hidden)
            state = (zeros, zeros)
        return step(x_t, state, {name: t for name, t in params.items() if t is not None})
    return stepper


def lstm_input(case, inputs, dtype, device):
    """The case's input in its form, and the leaf its gradient lands on."""
    if case.form == "packed":
        sequences = [t.to(device=device, dtype=dtype) for t in inputs.x]
        packed = pack_sequence(sequences, enforce_sorted=False)
        leaf = packed.data.detach().requires_grad_(True)
        return packed._replace(data=leaf), leaf
    x = _leaf(inputs.x, dtype, device)                                    # (T, B, I) or (T, I)
    if case.batch_first and case.form == "batched":
        return x.transpose(0, 1), x                                        # (B, T, I)
    return x, x


def run_lstm(module, layout, case, inputs, dtype, device, x_transform=None):
    """An LSTM-like module on the case's input: values output, h_n, c_n and every gradient."""
    module.train(case.dropout_arg)                # dropout_eval: eval mode, where dropout=0.5 must not act
    params = {name: _leaf(t, dtype, device) for name, t in inputs.params.items()}
    x, x_leaf = lstm_input(case, inputs, dtype, device)
    if x_transform is not None:
        x = x_transform(x)
    leaves = {"input": x_leaf}
    args = (x,)
    if inputs.h0 is not None:
        hx = (_leaf(inputs.h0, dtype, device), _leaf(inputs.c0, dtype, device))
        leaves.update(h_0=hx[0], c_0=hx[1])
        args = (x, hx)
    out = functional_call(module, map_weights(layout, params, module), args)
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], (tuple, list))
            and len(out[1]) == 2):
        raise TypeError(f"{type(module).__name__}: expected forward to return output, (h_n, c_n), "
                        f"got {type(out).__name__}")
    output, (h_n, c_n) = out
    if isinstance(output, PackedSequence):
        output = output.data
    leaves.update(params)
    return _collect({"output": output, "h_n": h_n, "c_n": c_n}, leaves, inputs.loss_seed, dtype, device)
