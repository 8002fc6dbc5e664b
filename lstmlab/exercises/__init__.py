"""Checks for the tutorials' exercises: ``check_<name>(your_function)``.

A check prints ✓ and returns True when your function is right; raises AssertionError saying what
differs when it is wrong; prints a reminder and returns False while the function still raises
NotImplementedError (so a notebook runs top to bottom before you have tried). Solutions:
``lstmlab.exercises.solutions`` (same names).
"""
import math

import numpy as np
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


def _float64(name, value):
    """A returned array (numpy, torch or nested lists) as a float64 tensor, to compare with torch.testing."""
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{name}: expected an array of numbers, got {type(value).__name__}: {error}") from None


def _pair(name, got, what):
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"{name}: return a pair {what}, not {type(got).__name__}"
    return _float64(name, got[0]), _float64(name, got[1])


def _equal(got, other):
    """Same shape and the same values (float64 tolerance): to name a known mistake before the full comparison."""
    other = torch.as_tensor(np.asarray(other, dtype=np.float64))
    return got.shape == other.shape and torch.allclose(got, other, rtol=1e-9, atol=1e-12, equal_nan=True)


# --- 04 forecasting AirPassengers ---------------------------------------------------------------

def check_lookback_windows(lookback_windows):
    """Against lstmlab.forecast.windows.make_windows, on a counting series (readable) and AirPassengers."""
    from ..forecast.datasets import airpassengers
    from ..forecast.windows import make_windows
    for values, lookback, horizon in [(np.arange(10.0), 3, 1), (np.arange(10.0), 4, 3),
                                      (airpassengers().values[:132], 12, 12)]:
        ok, got = _run("lookback_windows", lookback_windows, values.copy(), lookback, horizon)
        if not ok:
            return False
        inputs, targets = _pair("lookback_windows", got, "(inputs, targets)")
        expected_inputs, expected_targets = make_windows(values, lookback, horizon)
        case = f"{len(values)} values, lookback {lookback}, horizon {horizon}"
        count = len(values) - lookback - horizon + 1
        assert (tuple(inputs.shape), tuple(targets.shape)) == (expected_inputs.shape, expected_targets.shape), (
            f"lookback_windows ({case}): shapes {tuple(inputs.shape)} and {tuple(targets.shape)}, expected "
            f"inputs (W, lookback, 1) = {expected_inputs.shape} and targets (W, horizon) = {expected_targets.shape}: "
            f"W = N − lookback − horizon + 1 = {count}, the windows whose targets all exist")
        starts = np.arange(count)[:, None]
        overlapping = values[starts + lookback - 1 + np.arange(horizon)]           # starting at the last input
        assert not _equal(targets, overlapping), (
            f"lookback_windows ({case}): your targets start at the window's last input value, so the model "
            f"would be asked to predict what it was given. The targets are the values AFTER the window: "
            f"values[w + lookback : w + lookback + horizon]")
        _close(f"lookback_windows ({case}) inputs", inputs, torch.as_tensor(expected_inputs))
        _close(f"lookback_windows ({case}) targets", targets, torch.as_tensor(expected_targets))
    return _done("lookback_windows")


def check_minmax_scale_train_only(minmax_scale_train_only):
    """Against lstmlab.forecast.windows.MinMaxScaler fit on the training part: on AirPassengers (the test
    months rise above the training maximum) and on a falling series (they fall below its minimum)."""
    from ..forecast.datasets import airpassengers
    from ..forecast.windows import MinMaxScaler
    falling = 10.0 - 0.2 * np.arange(40) + np.sin(np.arange(40))
    for values, train_length in [(airpassengers().values, 132), (falling, 30)]:
        ok, got = _run("minmax_scale_train_only", minmax_scale_train_only, values.copy(), train_length)
        if not ok:
            return False
        got = _float64("minmax_scale_train_only", got)
        case = f"{len(values)} values, the first {train_length} for training"
        assert tuple(got.shape) == values.shape, (
            f"minmax_scale_train_only ({case}): shape {tuple(got.shape)}, expected {values.shape}: scale every "
            f"value, the test part too, with the training part's min and max")
        leaky = MinMaxScaler().fit(values).transform(values)
        assert not _equal(got, leaky), (
            f"minmax_scale_train_only ({case}): you took min and max over all {len(values)} values — the test part's "
            f"range leaked into the training inputs. Take them over values[:{train_length}] only")
        expected = MinMaxScaler().fit(values[:train_length]).transform(values)
        _close(f"minmax_scale_train_only ({case})", got, torch.as_tensor(expected))
    return _done("minmax_scale_train_only")


def check_mase(mase):
    """Against lstmlab.forecast.metrics.mase on the notebook's split: a linear forecast with the yearly
    period, the naive forecast with period 12 and with period 1."""
    from ..forecast import metrics
    from ..forecast.datasets import airpassengers
    values = airpassengers().values
    train, test = values[:132], values[132:]
    for forecast_name, forecast, period in [("linear", metrics.linear_forecast(train, 12, 36), 12),
                                            ("naive", metrics.naive_forecast(train, 12), 12),
                                            ("naive", metrics.naive_forecast(train, 12), 1)]:
        ok, got = _run("mase", mase, test.copy(), forecast.copy(), train.copy(), period)
        if not ok:
            return False
        got = float(got)
        expected = metrics.mase(test, forecast, train, period)
        case = f"the {forecast_name} forecast of AirPassengers' last 12 months, period {period}"
        if abs(got - expected) <= 1e-9 * abs(expected):
            continue
        error = metrics.mae(test, forecast)
        known = {"the scale came from one-step (period 1) differences, not the seasonal ones history[t] − "
                 "history[t − period]": metrics.mase(test, forecast, train, 1),
                 "you divided by the seasonal naive forecast's MAE on the test part; MASE's scale is in-sample: "
                 "the seasonal naive one-step errors on the history": error / metrics.mae(
                     test, metrics.seasonal_naive_forecast(train, len(test), period)),
                 "the scale is a mean absolute difference, not a root mean square": error / float(np.sqrt(np.mean(
                     (train[period:] - train[:-period]) ** 2)))}
        hints = [hint for hint, wrong in known.items() if abs(got - wrong) <= 1e-9 * abs(wrong)]
        raise AssertionError(f"mase ({case}): you said {got:.6g}, expected {expected:.6g} = MAE {error:.4g} / "
                             f"{error / expected:.4g}, the mean of |history[t] − history[t − {period}]|"
                             + (f": {hints[0]}" if hints else ""))
    return _done("mase")


# --- 05 multivariate seq2seq --------------------------------------------------------------------

def check_seq2seq_rows(seq2seq_rows):
    """Against the rows lstmlab.forecast.pipeline.Forecaster builds for its seq2seq model (all N − 2 of them)."""
    from ..forecast.pipeline import ForecastConfig, Forecaster
    generator = np.random.default_rng(7)
    for length, columns in [(9, 2), (12, 1)]:
        y, x = generator.normal(size=length), generator.normal(size=(length, columns))
        ok, got = _run("seq2seq_rows", seq2seq_rows, y.copy(), x.copy())
        if not ok:
            return False
        inputs, targets = _pair("seq2seq_rows", got, "(inputs, targets)")
        forecaster = Forecaster(ForecastConfig(kind="seq2seq", lookback=length - 2, period=1,
                                               exogenous=tuple(f"x{e}" for e in range(columns))))
        (expected_inputs, _), expected_targets = forecaster._examples(y, np.zeros((length, 0)), x, [length - 1])
        expected_inputs, expected_targets = expected_inputs[0], expected_targets[0]       # one window of all rows
        case = f"N = {length}, E = {columns}"
        assert (tuple(inputs.shape), tuple(targets.shape)) == (expected_inputs.shape, expected_targets.shape), (
            f"seq2seq_rows ({case}): shapes {tuple(inputs.shape)} and {tuple(targets.shape)}, expected inputs "
            f"(N − 2, 1 + E) = {expected_inputs.shape} and targets (N − 2,) = {expected_targets.shape}")
        k = np.arange(length - 2)
        assert not _equal(inputs[:, 1:], x[k + 1] - x[k]), (
            f"seq2seq_rows ({case}): row k carries x[k+1] − x[k], the exogenous change of the step it has already "
            f"seen: a scenario value would drive the step AFTER the one it describes. Row k predicts the change "
            f"into step k + 2, so it carries that step's own change x[k+2] − x[k+1]")
        assert not _equal(targets, y[k + 1] - y[k]), (
            f"seq2seq_rows ({case}): your targets are the rows' own input changes y[k+1] − y[k]; row k predicts "
            f"the NEXT change, y[k+2] − y[k+1]")
        _close(f"seq2seq_rows ({case}) inputs", inputs, torch.as_tensor(expected_inputs))
        _close(f"seq2seq_rows ({case}) targets", targets, torch.as_tensor(expected_targets))
    return _done("seq2seq_rows")


def check_batch_norm_features(batch_norm_features):
    """Against Seq2SeqLSTM's own normalisation: BatchNorm1d in training mode on the permuted input."""
    generator = torch.Generator().manual_seed(6)
    scales = torch.tensor([1e4, 1.0, 0.01], dtype=torch.float64)           # wildly different, as in the notebook
    continuous = torch.randn(5, 10, 3, generator=generator, dtype=torch.float64) * scales + 3 * scales
    ok, got = _run("batch_norm_features", batch_norm_features, continuous.clone())
    if not ok:
        return False
    got = _float64("batch_norm_features", got)
    norm = torch.nn.BatchNorm1d(3, dtype=torch.float64)                    # training mode, weight 1, bias 0
    with torch.no_grad():
        expected = norm(continuous.transpose(1, 2)).transpose(1, 2)        # the model's line: (B, C, T) and back
    assert got.shape == expected.shape, f"batch_norm_features: shape {tuple(got.shape)}, expected (B, T, C) = (5, 10, 3)"

    def standardised(dims, correction=0, eps=1e-5):
        mean = continuous.mean(dim=dims, keepdim=True)
        return (continuous - mean) / torch.sqrt(continuous.var(dim=dims, correction=correction, keepdim=True) + eps)
    known = {"you used the unbiased variance (divided by B·T − 1); BatchNorm normalises with the biased one, "
             "divided by B·T": standardised((0, 1), correction=1),
             "you normalised each sequence over its own time steps; BatchNorm pools a feature's values over the "
             "batch AND time": standardised((1,)),
             "you normalised each time step over the batch only; BatchNorm pools a feature's values over the "
             "batch AND time": standardised((0,)),
             "you normalised each row over its features — dimension 2 of (B, T, C), not the batch and time "
             "of each feature": standardised((2,)),
             "eps = 1e-5 goes inside the square root, sqrt(var + eps) (it matters for the 0.01-scale feature)":
                 standardised((0, 1), eps=0.0)}
    for hint, wrong in known.items():
        assert not _equal(got, wrong), f"batch_norm_features: {hint}"
    _close("batch_norm_features", got, expected)
    return _done("batch_norm_features")


def check_forecast_from_changes(forecast_from_changes):
    """Against the Forecaster's own transform and inverse (log, then a standard scaler), the path its
    recursive forecast takes: each predicted change added to the value before it."""
    from ..forecast.pipeline import ForecastConfig, Forecaster
    from ..forecast.windows import Scaler
    for last_value, changes, center, scale in [(12000.0, [0.1, -0.05, 0.2, 0.0, -0.3], 8.9, 0.45),
                                               (1.5, [0.5, 0.5, 0.5], 0.2, 2.0)]:
        changes = np.array(changes)
        ok, got = _run("forecast_from_changes", forecast_from_changes, last_value, changes.copy(), center, scale)
        if not ok:
            return False
        got = _float64("forecast_from_changes", got)
        forecaster = Forecaster(ForecastConfig(kind="seq2seq", log=True))
        forecaster.scaler = Scaler.from_state({"kind": "standard", "center": center, "scale": scale})
        values = forecaster._transform([last_value])                      # z_N
        for change in changes:
            values = np.append(values, values[-1] + change)                 # as Forecaster._recursive
        expected = torch.as_tensor(forecaster._inverse(values[1:]))
        case = f"y_N = {last_value}, center {center}, scale {scale}"
        assert got.shape == expected.shape, (
            f"forecast_from_changes ({case}): shape {tuple(got.shape)}, expected (h,) = {tuple(expected.shape)}")
        z_last = (math.log(last_value) - center) / scale
        known = {"the path must start from the last observed value z_N = (log y_N − center) / scale; yours "
                 "starts from 0": np.exp(center + scale * np.cumsum(changes)),
                 "each change is one quarter's: z_{N+k} is z_N plus the running sum Δz_1 + … + Δz_k, "
                 "not z_N + Δz_k":
                     np.exp(center + scale * (z_last + changes)),
                 "the first forecast already has its change: z_{N+1} = z_N + Δz_1 (your sum starts one step late)":
                     np.exp(center + scale * (z_last + np.cumsum(np.concatenate([[0.0], changes[:-1]])))),
                 "undo the scaling before the log: y = exp(center + scale · z)": np.exp(z_last + np.cumsum(changes))}
        for hint, wrong in known.items():
            assert not _equal(got, wrong), f"forecast_from_changes ({case}): {hint}"
        _close(f"forecast_from_changes ({case})", got, expected)
    return _done("forecast_from_changes")


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
