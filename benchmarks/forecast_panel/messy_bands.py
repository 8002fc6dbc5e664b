"""The ES-LSTM's intervals on messy series a user hands it (a benchmark, not a test): a short series, a
history flat up to a jump in its last point, level shifts, a short random walk. Default settings; prints
the 90% widths, the 90/80 width ratio, a few steps' intervals and, where the continuation is known, how
many of its points the 90% interval covers (README, "Intervals").

    taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/messy_bands.py   # ~1 min
"""
import numpy as np
import pandas as pd

from lstmlab.forecast.api import LSTMForecaster


def one_series(y, freq="MS"):
    return pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2000-01-01", periods=len(y), freq=freq),
                         "y": np.asarray(y, dtype=np.float64)})


def seasonal(n, seed=0):
    """Monthly: 100 + a season of amplitude 10 + noise of sd 3."""
    rng, t = np.random.default_rng(seed), np.arange(n)
    return 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, n)


def show(name, frame, h=12, truth=None, **config):
    out = LSTMForecaster(h=h, **config).fit(frame).predict()
    lo90, hi90 = out["ES-LSTM-lo-90"].to_numpy(), out["ES-LSTM-hi-90"].to_numpy()
    lo80, hi80 = out["ES-LSTM-lo-80"].to_numpy(), out["ES-LSTM-hi-80"].to_numpy()
    print(f"== {name}: 90% widths {np.round(hi90 - lo90, 1)}, 90/80 width ratio (median) "
          f"{np.median((hi90 - lo90) / (hi80 - lo80)):.2f}")
    for k in sorted({1, h // 2, h - 1}):
        print(f"   step {k + 1}: {out['ES-LSTM'].iloc[k]:.1f}  80% [{lo80[k]:.1f}, {hi80[k]:.1f}]  "
              f"90% [{lo90[k]:.1f}, {hi90[k]:.1f}]")
    if truth is not None:
        print(f"   the 90% interval covers {int(((lo90 <= truth) & (truth <= hi90)).sum())} of {h} points")


def main():
    full = seasonal(48)
    show("36 monthly points", one_series(full[:36]), truth=full[36:])
    flat = np.full(100, 50.0)
    flat[-1] = 80.0
    show("flat at 50, the last point 80", one_series(flat))
    shifted = seasonal(120)
    shifted[-30:] += 200
    show("seasonal at 100, the last 30 points at 300", one_series(shifted))
    rng = np.random.default_rng(1)
    jump = np.r_[10 + rng.normal(0, 1, 40), 100 + rng.normal(0, 3, 20)]
    show("40 points at 10, then 20 at 100", one_series(jump))
    show("the same, additive", one_series(jump), seasonality="additive")
    rng = np.random.default_rng(3)
    walk = np.cumsum(1 + rng.normal(0, 2, 25)) + 50
    show("20 yearly points of a random walk with drift", one_series(walk[:20], freq="YS"), h=5, truth=walk[20:])


if __name__ == "__main__":
    main()
