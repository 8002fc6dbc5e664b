"""Checks for the tutorials' exercises: ``check_<name>(your_function)``.

A check prints ✓ and returns True when your function is right; raises AssertionError saying what
differs when it is wrong; prints a reminder and returns False while the function still raises
NotImplementedError (so a notebook runs top to bottom before you have tried). Solutions:
``lstmlab.exercises.solutions`` (same names).
"""
import math

import torch

from . import solutions


def _run(name, function, *args, **kwargs):
    try:
        return True, function(*args, **kwargs)
    except NotImplementedError:
        print(f"· {name}: not tried yet — fill in the function and run this cell again "
              f"(a solution: lstmlab.exercises.solutions.{name})")
        return False, None


def _close(name, got, expected, **tolerances):
    try:
        torch.testing.assert_close(got, expected, **tolerances)
    except AssertionError as error:
        raise AssertionError(f"{name}: not yet right.\n{error}") from None


def _done(name):
    print(f"✓ {name}")
    return True


def _random_cell(generator, batch=3, input_size=4, hidden_size=5):
    cell = torch.nn.LSTMCell(input_size, hidden_size, dtype=torch.float64)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    x = torch.randn(batch, input_size, generator=generator, dtype=torch.float64)
    h = torch.randn(batch, hidden_size, generator=generator, dtype=torch.float64)
    c = torch.randn(batch, hidden_size, generator=generator, dtype=torch.float64)
    return cell, x, h, c


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


# --- 06 sine waves ------------------------------------------------------------------------------

def check_rollout(rollout):
    from ..data import sine_waves
    from ..models import AutoregressiveLSTM
    torch.manual_seed(0)
    model = AutoregressiveLSTM(hidden_size=7, backend="cell").eval()
    observed = sine_waves(n=2, length=20).y
    with torch.no_grad():
        ok, got = _run("rollout", rollout, model, observed, 15)
        if not ok:
            return False
        expected = model(observed, future_preds=14)[:, 19:]        # from the value at T = 20 on
    _close("rollout", got, expected)
    return _done("rollout")


def check_phase_drift_mse(phase_drift_mse):
    for error, time_scale, steps in [(0.01, 20.0, 1000), (0.001, 20.0, 1000), (0.05, 10.0, 200)]:
        ok, got = _run("phase_drift_mse", phase_drift_mse, error, time_scale, steps)
        if not ok:
            return False
        expected = solutions.phase_drift_mse(error, time_scale, steps)
        # 0.1% leaves room for float32 (~1e-4 here) and still tells the exact mean from its phase average
        assert abs(got - expected) <= 1e-3 * expected, (
            f"ε={error}, τ={time_scale}, {steps} steps: you said {got:.6g}, expected {expected:.6g} (within 0.1%): "
            f"the mean over t = 1…{steps} of (sin(t/τ) − sin((1 + ε) t/τ))², not its phase average 1 − cos(ε t/τ)")
    return _done("phase_drift_mse")


# --- 07 character-level language model ----------------------------------------------------------

def check_softmax_with_temperature(softmax_with_temperature):
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0], dtype=torch.float64)
    for temperature in [0.25, 1.0, 4.0]:
        ok, got = _run("softmax_with_temperature", softmax_with_temperature, logits, temperature)
        if not ok:
            return False
        _close(f"softmax_with_temperature (T = {temperature})", got, torch.softmax(logits / temperature, dim=-1))
    return _done("softmax_with_temperature")


def check_perplexity_from_nll(perplexity_from_nll):
    for nll in [0.0, 1.0, math.log(65)]:
        ok, got = _run("perplexity_from_nll", perplexity_from_nll, nll)
        if not ok:
            return False
        assert abs(got - math.exp(nll)) < 1e-9 * math.exp(nll), f"mean NLL {nll}: you said {got}"
    return _done("perplexity_from_nll")


def check_bigram_perplexity(bigram_perplexity):
    from ..text import ngram_perplexity
    generator = torch.Generator().manual_seed(5)
    train, test = torch.randint(0, 6, (500,), generator=generator), torch.randint(0, 6, (100,), generator=generator)
    ok, got = _run("bigram_perplexity", bigram_perplexity, train, test, 6, 1.0)
    if not ok:
        return False
    expected = ngram_perplexity(train, test, 6, order=2, k=1.0)
    assert abs(got - expected) < 1e-9 * expected, f"you said {got}, an add-1 bigram model gives {expected}"
    return _done("bigram_perplexity")


# --- 08 Triton ----------------------------------------------------------------------------------

def check_stable_sigmoid(stable_sigmoid):
    """Values against torch.sigmoid (float64), then a finite gradient at every x. The naive 1/(1 + e⁻ˣ) has
    the right values, but at x = −1e4 e⁻ˣ overflows to inf, and its backward multiplies 0 by inf: NaN."""
    x = torch.tensor([-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4], dtype=torch.float32,
                     requires_grad=True)
    ok, got = _run("stable_sigmoid", stable_sigmoid, x)
    if not ok:
        return False
    assert torch.isfinite(got).all(), f"stable_sigmoid: not finite: {got}"
    _close("stable_sigmoid", got.detach(), torch.sigmoid(x.detach().double()).float())
    assert got.requires_grad, "stable_sigmoid: no gradient reaches x — write it with torch operations"
    grad, = torch.autograd.grad(got.sum(), x)
    bad = ~torch.isfinite(grad)
    assert not bad.any(), (
        f"stable_sigmoid: the values are right, but the gradient is {grad[bad].tolist()} at x = "
        f"{x.detach()[bad].tolist()}. An exp overflowed to inf there, and backward multiplied it by 0: NaN "
        f"(this happens inside a torch.where branch that is not chosen too: both branches are computed)")
    return _done("stable_sigmoid")


def check_persistent_grid(persistent_grid):
    for args in [(128, 64, 32, 16), (51, 37, 16, 16), (512, 1, 64, 16)]:
        ok, got = _run("persistent_grid", persistent_grid, *args)
        if not ok:
            return False
        expected = solutions.persistent_grid(*args)
        assert tuple(got) == expected, f"H, B, S, B_tile = {args}: you said {got}, the grid is {expected}"
    return _done("persistent_grid")


def check_block_offsets_and_mask(block_offsets_and_mask):
    for n, block, pid in [(10, 4, 0), (10, 4, 2), (64, 64, 0)]:
        ok, got = _run("block_offsets_and_mask", block_offsets_and_mask, n, block, pid)
        if not ok:
            return False
        offsets, mask = solutions.block_offsets_and_mask(n, block, pid)
        assert torch.equal(torch.as_tensor(got[0]), offsets) and torch.equal(torch.as_tensor(got[1]), mask), (
            f"n={n}, BLOCK={block}, program {pid}: expected offsets {offsets.tolist()}, mask {mask.tolist()}")
    return _done("block_offsets_and_mask")


# --- 09 benchmarking ----------------------------------------------------------------------------

def check_median_ratio(median_ratio):
    times, torch_times = [2.0, 9.0, 3.0, 4.0], [1.0, 3.0, 1.0, 4.0]     # ratios 2, 3, 3, 1 -> median 2.5
    ok, got = _run("median_ratio", median_ratio, times, torch_times)
    if not ok:
        return False
    assert abs(got - 2.5) < 1e-12, f"you said {got}; per-round ratios are 2, 3, 3, 1"
    return _done("median_ratio")


def check_ratio_from_speedup(ratio_from_speedup):
    for speedup in [2.0, 0.5, 1.25]:
        ok, got = _run("ratio_from_speedup", ratio_from_speedup, speedup)
        if not ok:
            return False
        assert abs(got - 1 / speedup) < 1e-12, f"speedup {speedup}: you said {got}"
    return _done("ratio_from_speedup")


def check_geometric_mean(geometric_mean):
    ok, got = _run("geometric_mean", geometric_mean, [2.0, 0.5])
    if not ok:
        return False
    assert abs(got - 1.0) < 1e-12, f"2× slower and 2× faster average to 1×, you said {got}"
    ok, got = _run("geometric_mean", geometric_mean, [1.0, 4.0, 2.0])
    assert abs(got - 2.0) < 1e-12, f"geometric mean of 1, 4, 2 is 2, you said {got}"
    return _done("geometric_mean")
