"""The ES-LSTM's 80% and 90% intervals against the prediction intervals of statsforecast's AutoETS,
AutoARIMA and AutoTheta at the same origins (a benchmark, not a test; ~3 min, one core).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/interval_peers.py

The ES-LSTM's intervals are the ones interval_study.py and interval_study_off_panel.py stored (method 0: the
default, spreads refitted); each peer is fitted on the same history, as the reports fit it (peers.fit_peer:
library defaults, only the season length given), with level=[80, 90]. Scored as interval_study.py scores:
coverage of each interval averaged over the forecasts, and the interval score (u − l) + (2/α)·(how far
outside), 80% and 90% added, here as each model's geometric mean relative to the ES-LSTM's (below 1: better
than the ES-LSTM). Writes results/interval_peers.md.
"""
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
import selection  # noqa: E402
from interval_study import FOLDS, scores  # noqa: E402
from run_panel import geomean, save_table  # noqa: E402

PEERS = ("ets", "autoarima", "theta")
GROUPS = {"development panel": HERE / "results" / "interval_draws",
          "off the panel": HERE / "results" / "interval_draws_off_panel"}


def main():
    from lstmlab.forecast.frame import prepare, season_lengths
    from lstmlab.forecast.peers import fit_peer
    from lstmlab.forecast.seasonality import usable_season
    warnings.simplefilter("ignore")
    everything = selection.series()
    lines = ["| group | model | covers 80% / 90% | interval score / ES-LSTM's (geometric mean) | better than the ES-LSTM |",
             "|---|---|---:|---:|---:|"]
    for group, folder in GROUPS.items():
        covers = {name: [] for name in ("ES-LSTM",) + PEERS}
        score = {name: [] for name in covers}
        for path in sorted(folder.glob("*.npz")):
            stored = np.load(path)
            _, frame, h = everything[path.stem]
            lengths = season_lengths(prepare(frame[["unique_id", "ds", "y"]]), None)
            y = frame["y"].to_numpy(np.float64)
            for fold in range(FOLDS):
                history = y[:len(y) - h * (FOLDS - fold)]
                actual = stored[f"fold{fold}_actual"]
                assert np.allclose(actual, y[len(history):len(history) + h]), "not the stored origins"
                quantiles = {"ES-LSTM": stored[f"fold{fold}_method0"]}
                for name in PEERS:
                    out = fit_peer(name, history, h, usable_season(lengths, len(history)), lengths, level=(80, 90))
                    quantiles[name] = np.stack([out["lo-90"], out["lo-80"], out["mean"], out["hi-80"],
                                                out["hi-90"]], axis=1)                   # (h, 5): as the ES-LSTM's
                for name, q in quantiles.items():
                    c, s = scores(q, actual)
                    covers[name].append(c)
                    score[name].append(s)
            print(f"{group}: {path.stem} done", flush=True)
        own = np.array(score["ES-LSTM"])
        for name in covers:
            ratio = np.array(score[name]) / own
            c = 100 * np.mean(covers[name], axis=0)
            better = "" if name == "ES-LSTM" else f"{int(np.sum(ratio < 1 - 1e-9))} of {len(ratio)}"
            lines.append(f"| {group} ({len(own)} forecasts) | {name} | {c[0]:.1f}% / {c[1]:.1f}% | "
                         f"{geomean(ratio):.3f} | {better} |")
    save_table("\n".join(lines) + "\n", HERE / "results" / "interval_peers.md")


if __name__ == "__main__":
    main()
