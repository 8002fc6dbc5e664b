"""Checks for the forecasting notebooks: 04 AirPassengers, 05 multivariate seq2seq. Each compares with the
lstmlab.forecast code the notebook used."""
import math

import numpy as np
import torch

from .checking import _run, _close, _done, _tensor, _pair, _equal, _near, _number


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
        got = _tensor("minmax_scale_train_only", got, "an array of shape (N,)")
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
        got = _number("mase", got)
        expected = metrics.mase(test, forecast, train, period)
        case = f"the {forecast_name} forecast of AirPassengers' last 12 months, period {period}"
        if _near(got, expected):
            continue
        error = metrics.mae(test, forecast)
        known = {"the scale came from one-step (period 1) differences, not the seasonal ones history[t] − "
                 "history[t − period]": metrics.mase(test, forecast, train, 1),
                 "you divided by the seasonal naive forecast's MAE on the test part; MASE's scale is in-sample: "
                 "the seasonal naive one-step errors on the history": error / metrics.mae(
                     test, metrics.seasonal_naive_forecast(train, len(test), period)),
                 "the scale is a mean absolute difference, not a root mean square": error / float(np.sqrt(np.mean(
                     (train[period:] - train[:-period]) ** 2)))}
        hints = [hint for hint, wrong in known.items() if _near(got, wrong)]
        raise AssertionError(f"mase ({case}): you said {got:.8g}, expected {expected:.8g} = MAE {error:.4g} / "
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
    norm = torch.nn.BatchNorm1d(3, dtype=torch.float64)                    # training mode, weight 1, bias 0
    with torch.no_grad():
        expected = norm(continuous.transpose(1, 2)).transpose(1, 2)        # the model's line: (B, C, T) and back
    ok, got = _run("batch_norm_features", batch_norm_features, continuous.clone())
    if not ok:
        return False
    got = _tensor("batch_norm_features", got, "a torch tensor of shape (B, T, C) = (5, 10, 3)", expected.shape)

    def standardised(dims, correction=0, eps=1e-5):
        mean = continuous.mean(dim=dims, keepdim=True)
        return (continuous - mean) / torch.sqrt(continuous.var(dim=dims, correction=correction, keepdim=True) + eps)

    def eps_outside_root():
        std = continuous.std(dim=(0, 1), correction=0, keepdim=True)
        return (continuous - continuous.mean(dim=(0, 1), keepdim=True)) / (std + 1e-5)
    eps_hint = "eps = 1e-5 goes inside the square root, sqrt(var + eps) (it matters for the 0.01-scale feature)"
    known = {"you used the unbiased variance (divided by B·T − 1); BatchNorm normalises with the biased one, "
             "divided by B·T": standardised((0, 1), correction=1),
             "you normalised each sequence over its own time steps; BatchNorm pools a feature's values over the "
             "batch AND time": standardised((1,)),
             "you normalised each time step over the batch only; BatchNorm pools a feature's values over the "
             "batch AND time": standardised((0,)),
             "you normalised each row over its features — dimension 2 of (B, T, C), not the batch and time "
             "of each feature": standardised((2,)),
             eps_hint: standardised((0, 1), eps=0.0),
             eps_hint + ", not added to the standard deviation": eps_outside_root()}
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
        got = _tensor("forecast_from_changes", got, f"an array of shape (h,) = ({len(changes)},)")
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
