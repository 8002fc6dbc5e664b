"""AirPassengers, last 12 months held out: the ES-LSTM hybrid's MAE for seeds 0-4 (default settings).

    .venv/bin/python benchmarks/forecast_panel/airpassengers_seeds.py
"""
import time

import numpy as np
import pandas as pd

from lstmlab.forecast.api import LSTMForecaster
from lstmlab.forecast.datasets import AIRPASSENGERS

y = np.array(AIRPASSENGERS, dtype=np.float64)
frame = pd.DataFrame({"unique_id": "air", "ds": pd.date_range("1949-01-01", periods=144, freq="MS"), "y": y})
maes = []
for seed in range(5):
    start = time.perf_counter()
    forecast = LSTMForecaster(h=12, seed=seed).fit(frame.iloc[:132]).predict()
    maes.append(float(np.abs(forecast["ES-LSTM"].to_numpy() - y[132:]).mean()))
    print(f"seed {seed}: MAE {maes[-1]:.2f}  (fit + forecast {time.perf_counter() - start:.1f} s)", flush=True)
print(f"mean {np.mean(maes):.2f} ± {np.std(maes):.2f} over seeds 0-4")
