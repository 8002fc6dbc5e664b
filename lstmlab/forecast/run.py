"""`lstmlab forecast`: train on all but the held-out end of a series, forecast the holdout, and report
the model next to the naive, seasonal-naive and linear baselines."""
import csv
from pathlib import Path

import numpy as np

from .datasets import Series
from .metrics import all_metrics, format_table
from .pipeline import ForecastConfig, Forecaster, baselines


def default_config(series, horizon, kind="multi-horizon", seed=0):
    """Sizes that suit the series: three seasons of lookback, log for positive data."""
    period = series.period if series.period > 1 else 1
    lookback = 3 * period if period > 1 else max(2 * horizon, 12)
    exogenous = tuple(series.exogenous) if kind == "seq2seq" else ()
    return ForecastConfig(kind=kind, horizon=horizon, lookback=lookback, period=period, seed=seed,
                          log=bool((series.values > 0).all()), exogenous=exogenous)


def split(series, end):
    """The first ``end`` steps of a series (values, calendar, labels and exogenous alike)."""
    return Series(series.name, series.values[:end], series.period,
                  series.season[:end] if series.season is not None else None,
                  series.labels[:end] if series.labels else None,
                  {name: column[:end] for name, column in series.exogenous.items()})


def run_forecast(series, horizon, holdout=None, kind="multi-horizon", seed=0, out_dir=None, save=None, load=None,
                 config=None, progress=False):
    """Forecast the last ``holdout`` steps (default: ``horizon``) of ``series`` from what precedes them.

    A holdout longer than the horizon is forecast from rolling origins (every ``horizon`` steps, the
    model sees the actual values up to the origin; it is not retrained).
    """
    holdout = holdout or horizon
    if holdout < 1 or horizon < 1:
        raise ValueError(f"horizon and holdout must be positive, got {horizon} and {holdout}")
    train_end = len(series) - holdout
    train = split(series, train_end)
    if load is not None:
        forecaster = Forecaster.load(load)
        if forecaster.config.horizon != horizon:
            raise ValueError(f"the model in {load} forecasts {forecaster.config.horizon} steps, not {horizon}")
    else:
        config = config or default_config(series, horizon, kind, seed)
        needed = config.lookback + 3 * horizon + 1
        if train_end < needed:
            raise ValueError(f"series {series.name!r} has {len(series)} steps: too short for holdout {holdout}, "
                             f"horizon {horizon} and lookback {config.lookback} (needs {needed + holdout})")
        forecaster = Forecaster(config).fit(train, progress=progress)
    if save is not None:
        forecaster.save(save)

    period = forecaster.config.period
    forecasts = {"lstm": [], "naive": [], "seasonal_naive": [], "linear": []}
    intervals = {80: ([], []), 90: ([], [])}
    for origin in range(train_end, len(series), horizon):
        steps = min(horizon, len(series) - origin)
        history = split(series, origin)
        scenario = {name: column[origin:origin + horizon] for name, column in series.exogenous.items()}
        if forecaster.config.exogenous and steps < horizon:
            scenario = {name: np.pad(path, (0, horizon - steps), mode="edge") for name, path in scenario.items()}
        result = forecaster.forecast(history, scenario)
        forecasts["lstm"].append(result.point[:steps])
        for coverage, (low, high) in intervals.items():
            if coverage in result.intervals:
                low.append(result.intervals[coverage][0][:steps])
                high.append(result.intervals[coverage][1][:steps])
        for name, values in baselines(history.values, horizon, period, forecaster.config.lookback).items():
            forecasts[name].append(values[:steps])
    forecasts = {name: np.concatenate(parts) for name, parts in forecasts.items()}
    intervals = {cov: (np.concatenate(lo), np.concatenate(hi)) for cov, (lo, hi) in intervals.items() if lo}
    actual = series.values[train_end:]
    metrics = {name: all_metrics(actual, values, train.values, period) for name, values in forecasts.items()}
    report = {"dataset": series.name, "horizon": horizon, "holdout": holdout, "model": forecaster.config.kind,
              "seed": forecaster.config.seed, "metrics": metrics}
    if out_dir is not None:
        report["files"] = write_outputs(series, train_end, actual, forecasts, intervals, out_dir)
    return report


def write_outputs(series, train_end, actual, forecasts, intervals, out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = series.labels or [str(k) for k in range(len(series))]
    csv_path = out_dir / f"{series.name}_forecast.csv"
    columns = ["time", "actual", *forecasts] + [f"{side}{cov}" for cov in intervals for side in ("lower", "upper")]
    with open(csv_path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for k in range(len(actual)):
            row = [labels[train_end + k], actual[k], *(forecasts[name][k] for name in forecasts)]
            for cov in intervals:
                row += [intervals[cov][0][k], intervals[cov][1][k]]
            writer.writerow(row)
    png_path = out_dir / f"{series.name}_forecast.png"
    plot_forecast(series, train_end, forecasts["lstm"], intervals, png_path)
    return {"csv": str(csv_path), "png": str(png_path)}


def plot_forecast(series, train_end, forecast, intervals, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.5))
    steps = np.arange(len(series))
    ax.plot(steps[:train_end], series.values[:train_end], color="black", label="history")
    ax.plot(steps[train_end:], series.values[train_end:], color="black", linestyle="--", label="truth")
    future = steps[train_end:]
    for coverage, alpha in ((90, 0.15), (80, 0.3)):
        if coverage in intervals:
            ax.fill_between(future, *intervals[coverage], color="tab:blue", alpha=alpha,
                            label=f"{coverage}% interval")
    ax.plot(future, forecast, color="tab:blue", marker=".", label="LSTM forecast")
    if series.labels:
        ticks = steps[:: max(1, len(steps) // 10)]
        ax.set_xticks(ticks, [series.labels[t] for t in ticks], rotation=30, fontsize=8)
    ax.set_title(f"{series.name}: forecast of the last {len(forecast)} steps")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def format_metrics(report):
    columns = [("model", 16, None), ("MAE", 10, 3), ("RMSE", 10, 3), ("MAPE %", 10, 2), ("sMAPE %", 10, 2),
               ("MASE", 8, 3)]
    lines = [f"{report['dataset']}: {report['model']} LSTM, horizon {report['horizon']}, holdout {report['holdout']}"]
    lines += format_table(columns, [(name, m["mae"], m["rmse"], m["mape"], m["smape"], m["mase"])
                                    for name, m in report["metrics"].items()])
    first = next(iter(report["metrics"].values()))
    if not np.isfinite(first["mape"]):
        lines.append("— MAPE is undefined: the held-out values include 0 (a percentage of 0 does not exist)")
    if not np.isfinite(first["mase"]):
        lines.append("— MASE is undefined: the training part never changes from one season to the next (scale 0)")
    return "\n".join(lines)
