"""The forecasting toolkit: windows, splits, scalers, data, metrics, baselines, models, training,
recursive vs direct forecasts, saving and loading, and `lstmlab forecast`."""
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from lstmlab.forecast.datasets import airpassengers, load_csv, load_dataset, sine_noise, us_macro
from lstmlab.forecast.metrics import (linear_forecast, mae, mape, mase, naive_forecast, rmse,
                                      seasonal_naive_forecast, smape)
from lstmlab.forecast.models import MultiHorizonLSTM, NextStepLSTM, Seq2SeqLSTM, quantile_loss
from lstmlab.forecast.pipeline import ForecastConfig, Forecaster
from lstmlab.forecast.run import default_config, run_forecast, split
from lstmlab.forecast.training import fit
from lstmlab.forecast.windows import (MinMaxScaler, RobustScaler, Scaler, StandardScaler, chronological_split,
                                      make_windows)


# --- data ---------------------------------------------------------------------------------
def test_windows_target_the_next_values_not_the_inputs():
    values = np.arange(10.0)
    inputs, targets = make_windows(values, lookback=3, horizon=2)
    assert inputs.shape == (6, 3, 1) and targets.shape == (6, 2)
    np.testing.assert_array_equal(inputs[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(targets[0], [3, 4])            # strictly after the window
    np.testing.assert_array_equal(targets[-1], [8, 9])


def test_windows_many_series_and_exogenous():
    values = np.stack([np.arange(8.0), 10 + np.arange(8.0)], axis=1)        # (8, 2)
    exogenous = np.arange(8.0)[:, None] * 100                                # (8, 1)
    inputs, targets = make_windows(values, 4, 1, exogenous)
    assert inputs.shape == (4, 4, 3) and targets.shape == (4, 1, 2)
    np.testing.assert_array_equal(inputs[1, -1], [4, 14, 400])
    np.testing.assert_array_equal(targets[1, 0], [5, 15])
    with pytest.raises(ValueError, match="too short for lookback 6 \\+ horizon 3"):
        make_windows(np.arange(8.0), 6, 3)


def test_chronological_split():
    train, val, test = chronological_split(10, validation=2, test=3)
    assert list(train) == [0, 1, 2, 3, 4] and list(val) == [5, 6] and list(test) == [7, 8, 9]
    with pytest.raises(ValueError):
        chronological_split(4, 2, 2)


@pytest.mark.parametrize("kind", [StandardScaler, RobustScaler, MinMaxScaler])
def test_scalers_fit_on_training_data_only(kind):
    series = np.concatenate([np.linspace(0, 1, 80), np.linspace(5, 9, 20)])  # the test part is far away
    train, test = series[:80], series[80:]
    scaler = kind().fit(train)
    on_all = kind().fit(series)
    assert not np.allclose(scaler.transform(test), on_all.transform(test))  # fitting on everything leaks
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)
    restored = Scaler.from_state(json.loads(json.dumps(scaler.state())))
    np.testing.assert_allclose(restored.transform(test), scaler.transform(test))
    constant = kind().fit(np.ones(5))
    np.testing.assert_allclose(constant.transform(np.ones(3)), 0.0)


def test_shipped_datasets():
    air = airpassengers()
    assert len(air) == 144 and air.values[0] == 112 and air.values[-1] == 432 and air.period == 12
    assert air.labels[0] == "1949-01" and air.labels[-1] == "1960-12"
    macro = us_macro()
    assert len(macro) == 203 and macro.labels[0] == "1959Q1" and macro.labels[-1] == "2009Q3"
    assert {"realcons", "realinv", "unemp", "infl"} <= set(macro.exogenous)
    assert macro.values[0] == pytest.approx(2710.349)
    assert len(sine_noise()) == 800
    assert len(load_dataset("sine")) == 1000
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        load_dataset("nope")


def write(tmp_path, text):
    path = tmp_path / "series.csv"
    path.write_text(text)
    return path


def test_csv_loader_reads_a_series(tmp_path):
    path = write(tmp_path, "ds,y\n2020-01-01,1\n2020-02-01,2.5\n2020-03-01,3\n")
    series = load_csv(path, "y", "ds")
    np.testing.assert_array_equal(series.values, [1, 2.5, 3])
    assert series.labels == ["2020-01-01", "2020-02-01", "2020-03-01"]


@pytest.mark.parametrize("text, column, time_column, message", [
    (None, "y", None, "CSV file not found"),
    ("ds,x\n1,2\n", "y", None, "column 'y' not in .*; columns: ds, x"),
    ("y\n1\nabc\n", "y", None, "line 3: column 'y' holds 'abc', not a number"),
    ("y\n1\n\n3\n", "y", None, None),                     # a blank line is skipped by csv, not an error
    ("y\n1\nNaN\n3\n", "y", None, "line 3: column 'y' is missing a value"),
    ("ds,y\n2020-01-01,1\n2020-02-01,2\n2020-04-01,3\n2020-05-01,4\n", "y", "ds",
     "a gap in 'ds' between 2020-02-01 and 2020-04-01"),
])
def test_csv_loader_errors(tmp_path, text, column, time_column, message):
    path = tmp_path / "missing.csv" if text is None else write(tmp_path, text)
    error = FileNotFoundError if text is None else ValueError
    if message is None:
        assert len(load_csv(path, column, time_column)) == 2
        return
    with pytest.raises(error, match=message):
        load_csv(path, column, time_column)


def test_csv_series_too_short_for_the_forecast(tmp_path):
    path = write(tmp_path, "y\n" + "\n".join(str(v) for v in range(1, 20)) + "\n")
    with pytest.raises(ValueError, match="too short for holdout 12, horizon 12"):
        run_forecast(load_csv(path, "y"), horizon=12)


# --- metrics and baselines ------------------------------------------------------------------
def test_metrics_on_known_values():
    actual, forecast = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    assert mae(actual, forecast) == 15.0
    assert rmse(actual, forecast) == pytest.approx(np.sqrt((100 + 400) / 2))
    assert mape(actual, forecast) == pytest.approx(10.0)
    assert smape(actual, forecast) == pytest.approx(100 * np.mean([2 * 10 / 210, 2 * 20 / 380]))
    assert mase(actual, forecast, history=[0.0, 10.0, 20.0]) == pytest.approx(1.5)
    assert np.isnan(mape([0.0, 1.0], [1.0, 1.0]))


def report_of(mae):
    """A one-series, one-fold report of evaluate() with MAE ``mae`` (RMSE 1.25 · MAE)."""
    from lstmlab.forecast.evaluate import summarize
    scores = {name: {"mae": mae * k, "rmse": 1.25 * mae * k, "smape": 0.5 * k, "mase": 0.75 * k}
              for k, name in enumerate(["ES-LSTM", "LSTM", "seasonal_naive"], start=1)}
    rows = [{"unique_id": "s", "cutoff": "2020-01-01", "period": 12, "peer_seasons": {}, "smoothing_seasons": [12],
             "metrics": scores, "relative_mae": {name: float(k) for k, name in enumerate(scores, start=1)}}]
    return {"horizon": 3, "folds": 1, "step": 3, "freq": "MS", "season_lengths": [12], "rows": rows,
            "summary": summarize(rows), "seconds": {}}


@pytest.mark.parametrize("scale", [1e12, 1e-9, 1.0], ids=["1e12", "1e-9", "1"])
def test_report_tables_keep_their_columns_apart_at_any_scale(scale):
    """MAE and RMSE of 1e12 ran together (1099742625543.1981384721438157.242) and 1e-9 printed as 0.000."""
    from lstmlab.forecast.evaluate import format_report
    from lstmlab.forecast.run import format_metrics
    text = format_report(report_of(3.14159 * scale))
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["ES-LSTM"], ["LSTM"])]
    assert len(rows) == 4                                        # the fold's table and the mean's
    for row in rows:
        assert len(row) == 6, row                                # name, MAE, RMSE, sMAPE, MASE, rel. MAE
        k = 1 if row[0] == "ES-LSTM" else 2
        np.testing.assert_allclose([float(row[1]), float(row[2])], [3.14159 * k * scale, 3.927 * k * scale],
                                   rtol=2e-3)
    older = {"mae": 3.14159 * scale, "rmse": 3.927 * scale, "mape": 1.5, "smape": 1.5, "mase": 0.5}
    lines = format_metrics({"dataset": "d", "model": "next-step", "horizon": 2, "holdout": 2,
                            "metrics": {"lstm": older, "naive": older}}).splitlines()
    assert [len(line.split()) for line in lines[1:]] == [8, 6, 6]        # "MAPE %" and "sMAPE %": two words each
    np.testing.assert_allclose(float(lines[2].split()[1]), 3.14159 * scale, rtol=2e-3)


def test_metric_numbers_are_fixed_point_while_that_reads_well():
    from lstmlab.forecast.metrics import format_number
    assert [format_number(v) for v in (0.0, 0.042, 13.3456, 1234567.891, None, float("nan"))] == \
        ["0.000", "0.042", "13.346", "1234567.891", "—", "—"]
    assert [format_number(v) for v in (1.1e12, -2.5e-9, 0.004, -0.00012)] == \
        ["1.100e+12", "-2.500e-09", "0.0040", "-0.00012"]
    assert [format_number(v, decimals=2) for v in (0.05, 0.059, 0.52, 0.01, 0.0995, -0.001)] == \
        ["0.050", "0.059", "0.52", "0.010", "0.10", "-0.0010"]


def test_baselines_on_airpassengers():
    air = airpassengers().values
    history, actual = air[:132], air[132:]
    assert mae(actual, seasonal_naive_forecast(history, 12, 12)) == pytest.approx(47.833, abs=1e-3)
    np.testing.assert_array_equal(naive_forecast(history, 3), [405.0] * 3)
    linear = linear_forecast(history, 12, 36)
    assert linear.shape == (12,) and mae(actual, linear) < 47.8     # the linear baseline is a real baseline


def test_the_linear_baseline_keeps_two_windows_per_coefficient():
    """Found by a user trial: 72 monthly closes with the monthly lookback of 36 left 34 windows for 37
    coefficients; the least-squares fit interpolated them and forecast 75, 37, 18 for a series near 130."""
    rng = np.random.default_rng(0)
    walk = 130 + np.cumsum(rng.normal(0, 3, 75))                      # a random walk: naive is the right model
    history, actual = walk[:72], walk[72:]
    linear = linear_forecast(history, 3, 36)
    assert mae(actual, linear) < 2 * mae(actual, naive_forecast(history, 3))      # 4.1 against 3.6 (13.6 before)
    air = airpassengers().values
    assert mae(air[132:], linear_forecast(air[:132], 12, 36)) == pytest.approx(14.18, abs=0.01)   # 85 windows: kept
    np.testing.assert_array_equal(linear_forecast(air[:132], 12, 60), linear_forecast(air[:132], 12, 39))


# --- models and training ---------------------------------------------------------------------
def test_model_shapes():
    assert NextStepLSTM(3, 8)(torch.randn(5, 10, 3)).shape == (5, 1)
    seq2seq = Seq2SeqLSTM(continuous_size=3, dummy_size=4, hidden_size=8)
    assert seq2seq.norm.num_features == 3                             # BatchNorm over the continuous features only
    assert seq2seq.lstm.num_layers == 2 and seq2seq.lstm.dropout > 0
    assert seq2seq(torch.randn(5, 10, 3), torch.eye(4)[torch.randint(0, 4, (5, 10))]).shape == (5, 10)
    model = MultiHorizonLSTM(3, horizon=6, future_size=4, static_size=2, hidden_size=8, quantiles=(0.1, 0.5, 0.9))
    assert model(torch.randn(5, 10, 3), torch.randn(5, 6, 4), torch.randn(5, 2)).shape == (5, 6, 3)
    assert MultiHorizonLSTM(3, horizon=6, hidden_size=8)(torch.randn(5, 10, 3)).shape == (5, 6)


def test_seq2seq_normalises_continuous_features_and_passes_dummies_through():
    torch.manual_seed(0)
    model = Seq2SeqLSTM(continuous_size=2, dummy_size=3, hidden_size=4, dropout=0.0).train()
    continuous = torch.randn(8, 5, 2) * torch.tensor([1000.0, 0.01]) + torch.tensor([5e4, -3.0])
    dummies = torch.eye(3)[torch.randint(0, 3, (8, 5))]
    captured = {}
    model.lstm.register_forward_hook(lambda module, args, output: captured.update(x=args[0]))
    model(continuous, dummies)
    normalised, passed = captured["x"][..., :2], captured["x"][..., 2:]
    torch.testing.assert_close(normalised.mean(dim=(0, 1)), torch.zeros(2), atol=1e-4, rtol=0)
    torch.testing.assert_close(normalised.std(dim=(0, 1)), torch.ones(2), atol=0.05, rtol=0)
    torch.testing.assert_close(passed, dummies)


def test_quantile_loss_at_the_median_is_half_the_mae():
    prediction, target = torch.randn(4, 3, 1), torch.randn(4, 3)
    torch.testing.assert_close(quantile_loss(prediction, target, (0.5,)),
                               0.5 * (prediction[..., 0] - target).abs().mean())


def regression_data(seed=0, samples=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 6, 1, generator=g)
    return (x,), x.sum(dim=1)                        # the next value is the window's sum


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_training_learns_and_is_reproducible(optimizer):
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = NextStepLSTM(1, 8)
        adam = optimizer == "adam"
        history = fit(model, torch.nn.functional.mse_loss, regression_data(), regression_data(1), optimizer=optimizer,
                      lr=0.05 if adam else 1.0, epochs=15 if adam else 3, batch_size=16 if adam else None, seed=3,
                      lr_decay=0.98)
        results.append(history)
    assert results[0].train_loss[-1] < 0.5 * results[0].train_loss[0]
    assert results[0].train_loss == results[1].train_loss


def test_early_stopping_restores_the_best_epoch():
    torch.manual_seed(0)
    model = NextStepLSTM(1, 8)
    noise = ((torch.randn(64, 6, 1),), torch.randn(64, 1) * 5)           # validation the model cannot learn
    history = fit(model, torch.nn.functional.mse_loss, regression_data(), noise, lr=0.05, epochs=300, patience=5)
    assert history.stopped_early and len(history.val_loss) < 300
    model.eval()
    with torch.no_grad():
        restored = torch.nn.functional.mse_loss(model(*noise[0]), noise[1]).item()
    assert restored == pytest.approx(min(history.val_loss), rel=1e-5)
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'lbfgs'"):
        fit(model, torch.nn.functional.mse_loss, regression_data(), optimizer="sgd")


# --- forecasters -------------------------------------------------------------------------------
def quick(config, **changes):
    """A small, fast version of a forecaster config."""
    return replace(config, **{"ensemble": 1, "epochs": 60, "patience": 20, "hidden_size": 16, **changes})


def test_recursive_and_direct_forecasts_both_beat_naive_and_differ():
    series = sine_noise()                                    # classic: forecast from step 720
    series.values = series.values[:720 + 20]
    results = {}
    for kind in ("next-step", "multi-horizon"):
        config = quick(default_config(series, horizon=20, kind=kind), lookback=40, lr=1e-2)
        results[kind] = run_forecast(series, horizon=20, config=config)["metrics"]
    for kind, metrics in results.items():
        assert metrics["lstm"]["mae"] < metrics["naive"]["mae"], kind
    assert results["next-step"]["lstm"]["mae"] != results["multi-horizon"]["lstm"]["mae"]


def test_seq2seq_with_exogenous_scenario_on_us_macro():
    series = us_macro()
    config = quick(default_config(series, horizon=4, kind="seq2seq"), epochs=30)
    assert config.exogenous and config.period == 4
    report = run_forecast(series, horizon=4, config=config)
    assert np.isfinite(report["metrics"]["lstm"]["mae"])


def test_a_loaded_forecaster_forecasts_exactly_what_the_saved_one_did(tmp_path):
    series = airpassengers()
    train = split(series, 132)
    forecaster = Forecaster(quick(default_config(series, horizon=12), ensemble=2, epochs=20)).fit(train)
    forecaster.save(tmp_path)
    loaded = Forecaster.load(tmp_path)
    before, after = forecaster.forecast(train), loaded.forecast(train)
    np.testing.assert_array_equal(before.point, after.point)
    np.testing.assert_array_equal(before.intervals[80][0], after.intervals[80][0])
    assert (before.intervals[90][0] <= before.point).all() and (before.point <= before.intervals[90][1]).all()


def test_loading_bad_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint incomplete"):
        Forecaster.load(tmp_path)
    series = airpassengers()
    forecaster = Forecaster(quick(default_config(series, horizon=12), ensemble=1, epochs=2)).fit(split(series, 132))
    forecaster.save(tmp_path)
    (tmp_path / "weights.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not be read as lstmlab weights"):
        Forecaster.load(tmp_path)
    forecaster.save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["config"]["hidden_size"] = 8
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not match"):
        Forecaster.load(tmp_path)
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(ValueError, match="not a valid lstmlab forecaster config"):
        Forecaster.load(tmp_path)


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_multi_horizon_with_a_point_loss(loss):
    series = airpassengers()
    config = quick(default_config(series, horizon=12), loss=loss, epochs=10)
    forecaster = Forecaster(config).fit(split(series, 132))
    forecast = forecaster.forecast(split(series, 132))
    assert forecast.point.shape == (12,) and forecast.intervals == {}
    assert forecaster.members[0].quantiles is None


def test_config_validation():
    with pytest.raises(ValueError, match="loss must be 'quantile', 'mse' or 'mae'"):
        Forecaster(ForecastConfig(loss="huber"))
    with pytest.raises(ValueError, match="model kind must be one of"):
        Forecaster(ForecastConfig(kind="arima"))
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        Forecaster(ForecastConfig(horizon=0))
    with pytest.raises(ValueError, match="include 0.5"):
        Forecaster(ForecastConfig(quantiles=(0.1, 0.9)))


def test_forecast_command_json_and_files(tmp_path):
    # The older multi-horizon model on the README's split (seed 0): it must beat every baseline here.
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", "forecast", "--dataset", "airpassengers",
                             "--model", "multi-horizon", "--horizon", "12", "--holdout", "12", "--json", "--out", str(tmp_path),
                             "--save", str(tmp_path / "model")], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    assert report["dataset"] == "airpassengers" and report["horizon"] == 12
    assert set(report["metrics"]) == {"lstm", "naive", "seasonal_naive", "linear"}
    assert set(report["metrics"]["lstm"]) == {"mae", "rmse", "mape", "smape", "mase"}
    assert report["metrics"]["lstm"]["mae"] < 14 < report["metrics"]["seasonal_naive"]["mae"]
    assert (tmp_path / "airpassengers_forecast.png").stat().st_size > 10_000
    rows = (tmp_path / "airpassengers_forecast.csv").read_text().splitlines()
    assert rows[0].startswith("time,actual,lstm,naive,seasonal_naive,linear,lower80,upper80")
    assert len(rows) == 13
    reloaded = subprocess.run([sys.executable, "-m", "lstmlab.cli", "forecast", "--dataset", "airpassengers",
                               "--model", "multi-horizon", "--horizon", "12", "--json", "--load", str(tmp_path / "model")],
                              capture_output=True, text=True, check=True)
    assert json.loads(reloaded.stdout)["metrics"] == report["metrics"]
    # what --out holds for these models is said where it is written: the holdout, not a forecast past the end
    text = subprocess.run([sys.executable, "-m", "lstmlab.cli", "forecast", "--dataset", "airpassengers", "--model",
                           "multi-horizon", "--horizon", "12", "--load", str(tmp_path / "model"), "--out",
                           str(tmp_path / "again")], capture_output=True, text=True, check=True).stdout
    assert "(the last 12 points held out, not a forecast past the end: --model hybrid or lstm writes that)" in text


def test_forecast_command_errors():
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", "forecast", "--csv", "nope.csv", "--column", "y",
                             "--horizon", "3"], capture_output=True, text=True)
    assert result.returncode == 2 and "CSV file not found: nope.csv" in result.stderr
