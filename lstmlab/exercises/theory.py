"""Checks for the theory notebooks: 00 the cell, 01 stacking, 02 BPTT by hand, 03 vanishing and exploding
gradients."""
import math

import torch

from .checking import _run, _close, _done, _random_cell, _described, _near, _number, _tensor, _tolerances


# --- 00 the cell --------------------------------------------------------------------------------

def check_lstm_step(lstm_step):
    """Through lstmlab.testing, the same checks a library's cell gets: against torch.nn.LSTMCell in float64
    on several shapes, outputs and every gradient (x, h, c, each weight); a wrong step raises an
    AssertionError that names where it first goes wrong and, for a known mistake, the likely cause."""
    from lstmlab.testing import Supports, check_step
    generator = torch.Generator().manual_seed(0)
    cell, x, h, c = _random_cell(generator)
    weights = {name: p.detach().clone() for name, p in cell.named_parameters()}
    ok, _ = _run("lstm_step", lstm_step, x.clone(), (h.clone(), c.clone()), weights)
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
        got, f = _number("cell_half_life", got), 1 / (1 + math.exp(-bias))
        expected = math.log(0.5) / math.log(f)                                # f^k = 1/2
        assert _near(got, expected), (f"forget bias {bias}: you said {got:.8g} steps, expected {expected:.8g}: "
                                      f"the k with f^k = 1/2, f = σ({bias}) = {f:.6f}")
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
    expected = torch.stack([torch.cat([x[:n, b].flip(0), x[n:, b]]) for b, n in enumerate(lengths)], dim=1)
    ok, got = _run("reverse_within_lengths", reverse, x.clone(), list(lengths))
    if not ok:
        return False
    _close("reverse_within_lengths", got, expected, "a torch tensor of x's shape (T, B, F) = (6, 4, 2)")
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
    copies = [t.detach().clone() for t in (i, f, g, o, c, c_next, dh, dc)]       # c_prev = c_{t−1}, c = c_t
    ok, got = _run("gate_gradients", gate_gradients, *copies)
    if not ok:
        return False
    shape = f"(B, 4H) = {tuple(pre.shape)}"
    assert not (isinstance(got, (tuple, list)) and len(got) == 4), (                 # the four blocks apart
        f"gate_gradients: return one tensor {shape}, the blocks d_i, d_f, d_g, d_o side by side "
        f"(torch.cat(blocks, dim=1)), not {_described(got)}")
    got = _tensor("gate_gradients", got, f"a torch tensor of shape {shape}", pre.shape)
    try:
        _close("gate_gradients (order d_i, d_f, d_g, d_o)", got, pre.grad)
    except AssertionError as error:
        raise AssertionError(f"gate_gradients: {_first_wrong_block(got, pre.grad)}\n{error}") from None
    return _done("gate_gradients")


_THROUGH_C = ", with dc_t = dc + dh ⊙ o ⊙ (1 − tanh² c_t)"
_GATE_GRADIENTS = {"i": "d_i = dc_t ⊙ g ⊙ i(1 − i)" + _THROUGH_C,
                   "f": "d_f = dc_t ⊙ c_{t−1} ⊙ f(1 − f), c_{t−1} being c_prev" + _THROUGH_C,
                   "g": "d_g = dc_t ⊙ i ⊙ (1 − g²)" + _THROUGH_C,
                   "o": "d_o = dh ⊙ tanh c_t ⊙ o(1 − o), c_t being c"}


def _first_wrong_block(got, expected):
    """Which block of H columns, i, f, g or o, first differs: torch's message gives only an index."""
    hidden_size = expected.shape[1] // 4
    wrong = (~torch.isclose(got.double(), expected, **_tolerances(got, expected))).any(dim=0).nonzero()
    block = int(wrong[0]) // hidden_size if len(wrong) else 0
    gate = "ifgo"[block]
    return (f"block d_{gate} (columns {block * hidden_size}…{(block + 1) * hidden_size - 1}) is the first that "
            f"differs: {_GATE_GRADIENTS[gate]}")


def check_weight_hh_gradient(weight_hh_gradient):
    generator = torch.Generator().manual_seed(3)
    grad_gates = torch.randn(5, 3, 8, generator=generator, dtype=torch.float64)
    h_prev = torch.randn(5, 3, 2, generator=generator, dtype=torch.float64)
    weight = torch.zeros(8, 2, dtype=torch.float64, requires_grad=True)
    (torch.einsum("tbh,gh->tbg", h_prev, weight) * grad_gates).sum().backward()    # gates_t = h_{t−1} W_hhᵀ
    ok, got = _run("weight_hh_gradient", weight_hh_gradient, grad_gates.clone(), h_prev.clone())
    if not ok:
        return False
    _close("weight_hh_gradient", got, weight.grad, "a torch tensor of shape (4H, H) = (8, 2)")
    return _done("weight_hh_gradient")


# --- 03 vanishing and exploding gradients -------------------------------------------------------

def check_clip_grad_norm(clip):
    generator = torch.Generator().manual_seed(4)
    for scale, max_norm in [(10.0, 1.0), (0.01, 1.0), (3.0, 0.5)]:
        grads = [scale * torch.randn(shape, generator=generator, dtype=torch.float64) for shape in [(3, 4), (5,)]]
        parameters = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
        for parameter, g in zip(parameters, grads):
            parameter.grad = g.clone()
        torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        ok, got = _run("clip_grad_norm", clip, [g.clone() for g in grads], max_norm)
        if not ok:
            return False
        case = f"clip_grad_norm (scale {scale}, max_norm {max_norm})"
        assert isinstance(got, (tuple, list)) and len(got) == len(grads), (
            f"{case}: return the list of {len(grads)} clipped gradients, one per input, not {_described(got)}")
        for k, (gradient, parameter) in enumerate(zip(got, parameters)):
            _close(f"{case}, gradient {k}", gradient, parameter.grad,
                   f"a torch tensor of shape {tuple(parameter.shape)}")
    return _done("clip_grad_norm")


def check_forget_bias_to_keep(forget_bias_to_keep):
    for fraction, steps in [(0.5, 100), (0.1, 20), (0.9, 50)]:
        ok, bias = _run("forget_bias_to_keep", forget_bias_to_keep, fraction, steps)
        if not ok:
            return False
        bias, f = _number("forget_bias_to_keep", bias), fraction ** (1 / steps)
        expected = math.log(f / (1 - f))                                          # σ(b) = f
        kept = float(torch.sigmoid(torch.tensor(bias, dtype=torch.float64)) ** steps)      # no overflow at any bias
        assert _near(bias, expected), (f"keep {fraction} over {steps} steps: you said bias {bias:.8g} (it keeps "
                                       f"{kept:.6f}), expected {expected:.8g}")
    return _done("forget_bias_to_keep")
