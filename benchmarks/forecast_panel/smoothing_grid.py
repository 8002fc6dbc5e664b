"""The smoothing alone (no network) with other grids, on the stored runs and on fresh series — how the
README's choice of grid was measured (a benchmark, not a test; ~2 min, one core).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/smoothing_grid.py

Grids: the default (α ≤ 0.9, φ ≤ 0.98, β ≤ 0.8, chosen per series between its cautious part, β ≤ 0.2, and
the whole by the last h points: smoothing.fit_smoothing); the cautious part alone (the grid until
2026-12-07, here with its forecasts of the first two cycles unscored, as every row is); the whole grid
alone, by the in-sample error; and the default with an undamped trend allowed (φ = 1). Series: the 24 of
selection.py at their three origins, scored against the best peer stored in results/selection/<name>.json
(the default grid reproduces the stored smoothing forecasts, checked below); and, with the peers fitted
here, the first fertility panel of fertility.py (28 countries, horizon 6), statsmodels' Danish money-demand
data (5 quarterly series, 1974–1987, horizon 8) and its German interest and inflation (2 quarterly
series, horizon 8), three origins each. Cells: geometric mean of the smoothing's MAE / the best of ETS,
AutoARIMA and Theta.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import lstmlab.forecast.smoothing as smoothing  # noqa: E402

DEFAULT = (smoothing.ALPHAS.copy(), smoothing.BETAS.copy(), smoothing.PHIS.copy(), smoothing.CAUTIOUS_BETA)
CAUTIOUS = DEFAULT[1][DEFAULT[1] <= DEFAULT[3]]
# (α, β, φ, CAUTIOUS_BETA): β ≤ CAUTIOUS_BETA is the cautious part; np.inf makes the whole grid cautious (one grid)
GRIDS = {"default": DEFAULT,
         "cautious only (β ≤ 0.2)": (DEFAULT[0], CAUTIOUS, DEFAULT[2], np.inf),
         "whole only (β ≤ 0.8)": (DEFAULT[0], DEFAULT[1], DEFAULT[2], np.inf),
         "default, φ = 1 allowed": (DEFAULT[0], DEFAULT[1], np.r_[DEFAULT[2], 1.0], DEFAULT[3])}


def stored_cases():
    """(group, history, actual, seasons, h, best peer MAE) at every stored origin of selection.py's series."""
    import selection
    from lstmlab.forecast.frame import stamp_text
    cases = []
    for name, (group, frame, h) in selection.series().items():
        report = json.loads((selection.OUT / f"{name}.json").read_text())
        y, stamps = frame["y"].to_numpy(np.float64), [stamp_text(s) for s in frame["ds"]]
        for row in report["rows"]:
            end = stamps.index(row["cutoff"]) + 1
            best = min(row["metrics"][p]["mae"] for p in ("ets", "autoarima", "theta") if row["metrics"][p]["mae"])
            cases.append((group, y[:end], np.array(row["actual"]), tuple(row["smoothing_seasons"]), h, best,
                          np.array(row["forecasts"]["smoothing"])))
    return cases


def fresh_cases():
    import statsmodels.api as sm
    import fertility
    from lstmlab.forecast.metrics import mae
    from lstmlab.forecast.peers import statistical
    from lstmlab.forecast.seasonality import usable_season
    series = {}
    for uid, part in fertility.panel(0).groupby("unique_id", sort=False):
        series[f"fertility {uid}"] = (part["y"].to_numpy(np.float64), 6, ())
    danish = sm.datasets.danish_data.load_pandas().data
    for column in danish.columns:
        series[f"danish {column}"] = (danish[column].to_numpy(np.float64), 8, (4,))
    interest = sm.datasets.interest_inflation.load_pandas().data
    for column in ("Dp", "R"):
        series[f"german {column}"] = (interest[column].to_numpy(np.float64), 8, (4,))
    cases = []
    for name, (y, h, seasons) in series.items():
        for fold in range(3):
            end = len(y) - h * (3 - fold)
            history, actual = y[:end], y[end:end + h]
            periods = smoothing.smoothing_periods(history, seasons, h)
            peers = statistical(history, h, usable_season(list(seasons), len(history)), season_lengths=list(seasons))
            best = min(mae(actual, peers[p]) for p in ("ets", "autoarima", "theta") if np.isfinite(peers[p]).all())
            cases.append((name.split()[0], history, actual, periods, h, best, None))
    return cases


def main():
    from lstmlab.forecast.metrics import mae
    warnings.simplefilter("ignore")
    cases = stored_cases() + fresh_cases()
    groups = list(dict.fromkeys(case[0] for case in cases))
    lines = ["| grid | " + " | ".join(groups) + " |", "|---|" + "---:|" * len(groups)]
    for label, grid in GRIDS.items():
        smoothing.ALPHAS, smoothing.BETAS, smoothing.PHIS, smoothing.CAUTIOUS_BETA = grid
        ratios = {group: [] for group in groups}
        for group, history, actual, periods, h, best, stored in cases:
            forecast = smoothing.smoothing_forecast(history, periods, h, fit_horizon=h)
            if label == "default" and stored is not None:
                assert np.allclose(forecast, stored), "the default grid no longer reproduces the stored runs"
            ratios[group].append(mae(actual, forecast) / best)
        lines.append(f"| {label} | " + " | ".join(f"{np.exp(np.mean(np.log(v))):.3f}" for v in ratios.values()) + " |")
        print(lines[-1], flush=True)
    smoothing.ALPHAS, smoothing.BETAS, smoothing.PHIS, smoothing.CAUTIOUS_BETA = DEFAULT
    (HERE / "results" / "smoothing_grid.md").write_text(
        "The smoothing alone, geometric mean of MAE / best of ETS, AutoARIMA and Theta "
        "(`benchmarks/forecast_panel/smoothing_grid.py`).\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
