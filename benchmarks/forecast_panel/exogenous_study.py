"""Does the ES-LSTM use an exogenous column it is given? (a benchmark, not a test)

For each series, three runs of the same evaluation (lstmlab.forecast.evaluate, default ES-LSTM, seed 0):
the column given (the ES-LSTM takes its linear effect out before the smoothing: regression.py), the column
given with that regression switched off (the network alone reads the column: the design before it), and
no column. Beside them, the peer that reads the column too (autoarima_x: AutoARIMA with it as a regressor)
and AutoARIMA without it. MAE, mean over the origins.

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/exogenous_study.py   # ~15 min

Synthetic series (monthly, 144 points, the last 12 held out, seeds 0-4; what a perfect forecast scores is
the noise's MAE, ~3.2 for σ = 4):
  additive promo        trend + season + 30 units on a random quarter of the months, noise σ 4
  multiplicative promo  a growing seasonal series, +20% on promoted months, 2% noise
  temperature           demand = 500 + 0.5 t − 6 · temperature + noise; temperature is seasonal plus noise
  useless column        a seasonal random walk and a column of noise it does not depend on
Real series (statsmodels' macrodata, quarterly 1959-2009, horizon 8, three origins 8 quarters apart): US
real consumption with real disposable income as the column, real investment with real GDP. The column's
actual values over each forecast window are given (as a perfect scenario would).

Writes results/exogenous.md.
"""
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = range(5)


def synthetic(case, seed, n=144):
    import pandas as pd
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = (rng.random(n) < 0.25).astype(float)
    if case == "additive promo":
        y = 200 + 0.8 * t + 25 * np.sin(2 * np.pi * t / 12) + 30 * x + rng.normal(0, 4, n)
    elif case == "multiplicative promo":
        y = (100 + 2 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * (1 + 0.2 * x) * np.exp(rng.normal(0, 0.02, n))
    elif case == "temperature":
        x = 10 + 8 * np.sin(2 * np.pi * (t - 2) / 12) + rng.normal(0, 3, n)
        y = 500 + 0.5 * t - 6 * x + rng.normal(0, 4, n)
    else:                                                                    # useless column
        y = 200 + 0.8 * t + 25 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.normal(0, 3, n))
        x = rng.normal(0, 1, n)
    return pd.DataFrame({"unique_id": case, "ds": pd.date_range("2000-01-01", periods=n, freq="MS"), "y": y, "x": x})


def macro(target, column):
    import pandas as pd
    import statsmodels.api as sm
    data = sm.datasets.macrodata.load_pandas().data
    return pd.DataFrame({"unique_id": target, "ds": pd.date_range("1959-01-01", periods=len(data), freq="QS-JAN"),
                         "y": data[target].to_numpy(np.float64), "x": data[column].to_numpy(np.float64)})


def mean_mae(report, model):
    return float(np.mean([row["metrics"][model]["mae"] for row in report["rows"]]))


def runs(frame, h, folds):
    """MAE (mean over origins) of the ES-LSTM with the column, without the regression, without the column,
    and of autoarima_x and autoarima."""
    import lstmlab.forecast.regression as regression
    from lstmlab.forecast.evaluate import evaluate
    given = evaluate(frame, h, folds=folds, models=("hybrid",))
    real = regression.exogenous_effect
    # β = 0 everywhere the ES-LSTM uses it (regression.without_effect: its smoothing and the seasonal test)
    regression.exogenous_effect = lambda z, exogenous, period=1: np.zeros(exogenous.shape[1])
    try:
        network_only = evaluate(frame, h, folds=folds, models=("hybrid",), peers=False)
    finally:
        regression.exogenous_effect = real
    none = evaluate(frame.drop(columns="x"), h, folds=folds, models=("hybrid",), peers=False)
    return [mean_mae(given, "ES-LSTM"), mean_mae(network_only, "ES-LSTM"), mean_mae(none, "ES-LSTM"),
            mean_mae(given, "autoarima_x"), mean_mae(given, "autoarima")]


def main():
    header = ("| series | ES-LSTM, column + regression | ES-LSTM, column, no regression | ES-LSTM, no column "
              "| autoarima_x | autoarima |\n|---|---:|---:|---:|---:|---:|")
    lines = [header]
    start = time.time()
    for case in ("additive promo", "multiplicative promo", "temperature", "useless column"):
        scores = np.array([runs(synthetic(case, seed), 12, 1) for seed in SEEDS])          # (seeds, 5)
        lines.append(f"| {case} (seeds 0-4, mean) | " + " | ".join(f"{v:.2f}" for v in scores.mean(axis=0)) + " |")
        print(lines[-1], f"{time.time() - start:.0f} s", flush=True)
    for target, column in (("realcons", "realdpi"), ("realinv", "realgdp")):
        scores = runs(macro(target, column), 8, 3)
        lines.append(f"| {target} given {column} (3 origins) | " + " | ".join(f"{v:.2f}" for v in scores) + " |")
        print(lines[-1], f"{time.time() - start:.0f} s", flush=True)
    out = HERE / "results" / "exogenous.md"
    out.write_text("MAE, mean over seeds (synthetic) or origins (macrodata); `benchmarks/forecast_panel/"
                   "exogenous_study.py`, one core, seed 0 of the ES-LSTM.\n\n" + "\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
