"""How well the ES-LSTM's 80% and 90% intervals cover, and six ways of building them from the same
members (a benchmark, not a test). The point forecasts are the default's in every row.

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/interval_study.py \
        --only taylor,airpassengers,ausbeer,lynx,nile &                    # ~16 min per core
    taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/interval_study.py \
        --only co2_weekly,austres,elec_equip,us_unemployment,wineind,woolyrnq
    .venv/bin/python benchmarks/forecast_panel/interval_study.py --summarize   # results/intervals.md

For each series and each of run_panel's three origins the default ES-LSTM is fitted on the data before
the cutoff (and again with refit_spread=False for the as-trained row: the same members, whose training
does not depend on it), and what each method makes of its 15 members' quantiles is stored with the actual
values (results/interval_draws/<series>.npz). Every method works on the same members, and is scored by
coverage of the 80% and 90% intervals (the share of actual values inside, averaged over the forecasts),
and the interval score of both, (u − l) + (2/α)·(how far outside), a proper score: lower is better.
"""
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run_panel import geomean, horizon_for, save_table, store_then_summarize  # noqa: E402
sys.path.insert(0, str(HERE.parents[1]))
from lstmlab.forecast.hybrid import QUANTILES, ordered  # noqa: E402

INTERVALS = ((1, 3, 0.2), (0, 4, 0.1))        # (lower, upper) quantile columns and α: 80%, 90%
FOLDS = 3
OUT = HERE / "results" / "interval_draws"
METHODS = ("median of their quantiles (now)",
           "the same, each member's spread as trained (until 2026-12-08: no refit_spread)",
           "mixture of their distributions (linear pool)",
           "widened by the held-out last window's errors (conformal)", "at least the smoothing's error band",
           "3/4 the network's band + 1/4 the smoothing's")


def store_forecasts(stem, out=OUT, frame=None, h=None):
    """Fit the default ES-LSTM before each origin of one series (the panel's ``stem``, or a long-format
    ``frame`` with its horizon ``h``); save every method's quantiles and the actuals."""
    from lstmlab.forecast.api import LSTMForecaster
    from lstmlab.forecast.frame import read_csv
    from lstmlab.forecast.hybrid import error_spread
    if frame is None:
        frame = read_csv(HERE / "data" / f"{stem}.csv", id_column="unique_id")
        h = horizon_for(frame.attrs["freq"])
    freq = frame.attrs.get("freq")                             # None: read from the dates
    arrays = {}
    for fold in range(FOLDS):
        # run_panel's folds, as cross_validation cuts them (which keeps its fitted networks to itself)
        back = h * (FOLDS - fold)                                  # steps after the cutoff
        train = frame.iloc[:len(frame) - back].copy()
        train.attrs.update(frame.attrs)
        network = LSTMForecaster(h, freq).fit(train).network
        # the same members (training does not depend on it) with each quantile's distance as trained
        as_trained = LSTMForecaster(h, freq, refit_spread=False).fit(train).network
        name = next(iter(network.series))
        end = len(train) - 1
        _, _, targets, _, overlaps = network._windows(network.lookbacks[0])
        inputs = {"draws": network.member_draws(name),                                    # (M, h, Q)
                  "as_trained": as_trained.member_draws(name),
                  # the last training window: held out of training, but early stopping chose its checkpoint on it
                  "held_out": network.member_draws(name, end=end - h),
                  "held_out_target": network._target(network.series[name], end - h),     # (h,) what it missed
                  "band": error_spread(targets[~overlaps], network.config.quantiles).numpy()}
        for k, method in enumerate(METHODS):
            arrays[f"fold{fold}_method{k}"] = network.to_series_units(name, combine(method, **inputs))
        arrays[f"fold{fold}_actual"] = frame["y"].to_numpy()[len(frame) - back:][:h]
        banded = [sum(m.untrained_band is not None for _, m in n.members) for n in (network, as_trained)]
        # the members' median factor (spread_factors) of the 5%/95% and the 10%/90% pair, at k = 1 and k = h
        factors = np.array([m.spread[0][[0, -1]][:, :2] for _, m in network.members if m.untrained_band is None])
        print(f"{stem} origin {fold}: members with the smoothing's band {banded[0]} (as trained: {banded[1]}); "
              f"spread factors (5%, 10%) at k = 1 and k = h: " + (str(np.round(np.median(factors, axis=0), 2).tolist())
                                                                  if len(factors) else "-"), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / f"{stem}.npz", **arrays)
    print(f"{stem} stored", flush=True)


def combine(method, draws, as_trained, band, held_out, held_out_target):
    """(h, Q) normalised quantiles from the members' draws (M, h, Q), by one method."""
    now = ordered(np.median(draws, axis=0), QUANTILES)
    median = now[:, [2]]
    if method == "median of their quantiles (now)":
        return now
    if method.startswith("the same, each member's spread as trained"):
        return ordered(np.median(as_trained, axis=0), QUANTILES)
    if method == "at least the smoothing's error band":
        offsets = now - median
        offsets[:, :2] = np.minimum(offsets[:, :2], band[:, :2])                # lower quantiles: at least as low
        offsets[:, 3:] = np.maximum(offsets[:, 3:], band[:, 3:])                # upper: at least as high
        return median + offsets
    if method == "3/4 the network's band + 1/4 the smoothing's":
        return median + 0.75 * (now - median) + 0.25 * band
    if method == "widened by the held-out last window's errors (conformal)":
        seen = ordered(np.median(held_out, axis=0), QUANTILES)
        out = now.copy()
        for low, high, alpha in INTERVALS:
            scores = np.sort(np.maximum(seen[:, low] - held_out_target, held_out_target - seen[:, high]))
            rank = min(int(np.ceil((1 - alpha) * (len(scores) + 1))), len(scores))
            widen = max(scores[rank - 1], 0.0)
            out[:, low], out[:, high] = now[:, low] - widen, now[:, high] + widen
        return out
    if method == "mixture of their distributions (linear pool)":
        return linear_pool(draws)
    raise ValueError(method)


def linear_pool(draws, levels=(0.05, 0.1, 0.5, 0.9, 0.95)):
    """Quantiles of the equal mixture of the members' distributions, each piecewise linear through its
    quantiles (tails: 0 and 1 one outer spacing beyond the outer quantiles)."""
    members, h, _ = draws.shape
    out = np.zeros((h, len(levels)))
    cdf_levels = np.concatenate([[0.0], levels, [1.0]])
    for k in range(h):
        grid = np.linspace(draws[:, k].min() - 1, draws[:, k].max() + 1, 4001)
        mixture = np.zeros_like(grid)
        for m in range(members):
            q = np.sort(draws[m, k])
            knots = np.concatenate([[q[0] - (q[1] - q[0]) - 1e-9], q, [q[-1] + (q[-1] - q[-2]) + 1e-9]])
            mixture += np.interp(grid, knots, cdf_levels) / members
        out[k] = np.interp(levels, mixture, grid)
    return out



def scores(quantiles, actual):
    """([coverage of the 80% interval, of the 90% one], the two interval scores added) of one forecast:
    quantiles (h, 5) in the order of QUANTILES, actual (h,)."""
    covers, score = [], 0.0
    for low, high, alpha in INTERVALS:
        lo, hi = quantiles[:, low], quantiles[:, high]
        covers.append(np.mean((actual >= lo) & (actual <= hi)))
        score += np.mean(hi - lo + 2 / alpha * (np.maximum(lo - actual, 0) + np.maximum(actual - hi, 0)))
    return covers, score


def summarize(out=OUT, table=OUT.parent / "intervals.md"):
    rows = {method: {"covers": [], "score": []} for method in METHODS}
    for path in sorted(out.glob("*.npz")):
        stored = np.load(path)
        for fold in range(FOLDS):
            actual = stored[f"fold{fold}_actual"]
            for k, method in enumerate(METHODS):
                covers, score = scores(stored[f"fold{fold}_method{k}"], actual)
                rows[method]["covers"].append(covers)
                rows[method]["score"].append(score)
    now = np.array(rows[METHODS[0]]["score"])
    lines = [f"| intervals from the 15 members ({len(now)} forecasts) | covers 80% / 90% | interval score / now "
             "(geometric mean) | worse than now |", "|---|---:|---:|---:|"]
    for method, row in rows.items():
        covers, score = np.mean(row["covers"], axis=0), np.array(row["score"])
        lines.append(f"| {method} | {100 * covers[0]:.1f}% / {100 * covers[1]:.1f}% | {geomean(score / now):.3f} | "
                     f"{int(np.sum(score > now * (1 + 1e-9)))} |")
    save_table("\n".join(lines) + "\n", table)


def main(argv=None):
    stems = [path.stem for path in sorted((HERE / "data").glob("*.csv"))]
    return store_then_summarize(argv, __doc__.splitlines()[0], stems, store_forecasts, summarize)


if __name__ == "__main__":
    sys.exit(main())
