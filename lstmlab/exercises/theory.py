"""Checks for the theory notebooks: 00 the cell, 01 stacking, 02 BPTT by hand, 03 vanishing and exploding
gradients."""
import math

import torch

from .checking import _run, _close, _done, _random_cell


# --- 00 the cell --------------------------------------------------------------------------------

def check_lstm_step(lstm_step):
    """Through lstmlab.testing, the same checks a library's cell gets: against torch.nn.LSTMCell in float64
    on several shapes, outputs and every gradient (x, h, c, each weight); a wrong step raises an
    AssertionError that names where it first goes wrong and, for a known mistake, the likely cause."""
    from lstmlab.testing import Supports, check_step
    generator = torch.Generator().manual_seed(0)
    cell, x, h, c = _random_cell(generator)
    ok, _ = _run("lstm_step", lstm_step, x, (h, c), {name: p.detach() for name, p in cell.named_parameters()})
    if not ok:
        return False
    check_step(lstm_step, supports=Supports.for_step(dtypes=("float64",), devices=("cpu",)))
    return _done("lstm_step")


def check_lstm_cell_parameter_count(count):
    for input_size, hidden_size in [(1, 1), (3, 7), (10, 20)]:
        ok, got = _run("lstm_cell_parameter_count", count, input_size, hidden_size)
        if not ok:
            return False
        expected = sum(p.numel() for p in torch.nn.LSTMCell(input_size, hidden_size).parameters())
        assert got == expected, f"LSTMCell({input_size}, {hidden_size}): you said {got}, torch has {expected}"
    return _done("lstm_cell_parameter_count")


def check_cell_half_life(half_life):
    for bias in [-1.0, 0.0, 2.0, 5.0]:
        ok, got = _run("cell_half_life", half_life, bias)
        if not ok:
            return False
        f = torch.sigmoid(torch.tensor(bias, dtype=torch.float64))
        assert abs(f ** got - 0.5) < 1e-9, f"forget bias {bias}: after {got} steps c keeps {float(f ** got):.4f}, not 0.5"
    return _done("cell_half_life")


# --- 01 stacking, bidirectional, packed ---------------------------------------------------------

_LSTM_OPTIONS = [dict(num_layers=1), dict(num_layers=2, bidirectional=True), dict(num_layers=3, proj_size=2),
                 dict(num_layers=2, bidirectional=True, proj_size=3)]


def check_lstm_output_shapes(shapes):
    for options in _LSTM_OPTIONS:
        ok, got = _run("lstm_output_shapes", shapes, 6, 4, 5, 7, **options)
        if not ok:
            return False
        output, (h_n, c_n) = torch.nn.LSTM(5, 7, **options)(torch.zeros(6, 4, 5))
        expected = (tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape))
        assert tuple(map(tuple, got)) == expected, f"{options}: you said {got}, torch gives {expected}"
    return _done("lstm_output_shapes")


def check_lstm_parameter_count(count):
    for options in _LSTM_OPTIONS:
        ok, got = _run("lstm_parameter_count", count, 5, 7, **options)
        if not ok:
            return False
        expected = sum(p.numel() for p in torch.nn.LSTM(5, 7, **options).parameters())
        assert got == expected, f"LSTM(5, 7, {options}): you said {got}, torch has {expected}"
    return _done("lstm_parameter_count")


def check_reverse_within_lengths(reverse):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(6, 4, 2, generator=generator)
    lengths = [3, 6, 1, 5]
    ok, got = _run("reverse_within_lengths", reverse, x, lengths)
    if not ok:
        return False
    expected = torch.stack([torch.cat([x[:n, b].flip(0), x[n:, b]]) for b, n in enumerate(lengths)], dim=1)
    _close("reverse_within_lengths", got, expected)
    return _done("reverse_within_lengths")


# --- 02 BPTT by hand ----------------------------------------------------------------------------

def check_gate_gradients(gate_gradients):
    generator = torch.Generator().manual_seed(2)
    cell, x, h, c = _random_cell(generator)
    pre = (x @ cell.weight_ih.T.detach() + h @ cell.weight_hh.T.detach()).requires_grad_(True)   # (B, 4H)
    i, f, g, o = pre.chunk(4, dim=1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_next = f * c + i * g
    h_next = o * c_next.tanh()
    dh, dc = torch.randn(h_next.shape, generator=generator, dtype=torch.float64), torch.randn(
        c_next.shape, generator=generator, dtype=torch.float64)
    (h_next * dh + c_next * dc).sum().backward()
    detached = [t.detach() for t in (i, f, g, o, c, c_next)]
    ok, got = _run("gate_gradients", gate_gradients, *detached, dh, dc)
    if not ok:
        return False
    _close("gate_gradients (order d_i, d_f, d_g, d_o)", got, pre.grad)
    return _done("gate_gradients")


def check_weight_hh_gradient(weight_hh_gradient):
    generator = torch.Generator().manual_seed(3)
    grad_gates = torch.randn(5, 3, 8, generator=generator, dtype=torch.float64)
    h_prev = torch.randn(5, 3, 2, generator=generator, dtype=torch.float64)
    ok, got = _run("weight_hh_gradient", weight_hh_gradient, grad_gates, h_prev)
    if not ok:
        return False
    weight = torch.zeros(8, 2, dtype=torch.float64, requires_grad=True)
    (torch.einsum("tbh,gh->tbg", h_prev, weight) * grad_gates).sum().backward()    # gates_t = h_{t−1} W_hhᵀ
    _close("weight_hh_gradient", got, weight.grad)
    return _done("weight_hh_gradient")


# --- 03 vanishing and exploding gradients -------------------------------------------------------

def check_clip_grad_norm(clip):
    generator = torch.Generator().manual_seed(4)
    for scale, max_norm in [(10.0, 1.0), (0.01, 1.0), (3.0, 0.5)]:
        grads = [scale * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in [(3, 4), (5,)]]
        ok, got = _run("clip_grad_norm", clip, [g.clone() for g in grads], max_norm)
        if not ok:
            return False
        parameters = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
        for parameter, g in zip(parameters, grads):
            parameter.grad = g.clone()
        torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        _close(f"clip_grad_norm (scale {scale}, max_norm {max_norm})", list(got), [p.grad for p in parameters])
    return _done("clip_grad_norm")


def check_forget_bias_to_keep(forget_bias_to_keep):
    for fraction, steps in [(0.5, 100), (0.1, 20), (0.9, 50)]:
        ok, bias = _run("forget_bias_to_keep", forget_bias_to_keep, fraction, steps)
        if not ok:
            return False
        kept = (1 / (1 + math.exp(-bias))) ** steps
        assert abs(kept - fraction) < 1e-9, f"keep {fraction} over {steps} steps: bias {bias} keeps {kept:.6f}"
    return _done("forget_bias_to_keep")
