"""taylor (4,032 half-hourly points), last 48 held out: one fit + forecast of the default ES-LSTM, timed
(15 members; the smoothing with a daily and a weekly season).

    taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/taylor_time.py
"""
import time
from pathlib import Path

import numpy as np

from lstmlab.forecast.api import LSTMForecaster
from lstmlab.forecast.frame import read_csv

frame = read_csv(Path(__file__).parent / "data" / "taylor.csv", id_column="unique_id")
train, test = frame.iloc[:-48], frame["y"].to_numpy()[-48:]
start = time.perf_counter()
forecaster = LSTMForecaster(h=48).fit(train, progress=True)
forecast = forecaster.predict()
seconds = time.perf_counter() - start
print(f"taylor: fit + forecast {seconds:.1f} s (seasons {forecaster.season_lengths_}, lookbacks "
      f"{forecaster.network.lookbacks}); holdout MAE {np.abs(forecast['ES-LSTM'].to_numpy() - test).mean():.1f}")
