"""Combinations of the stored forecasts against the `selected` one (a benchmark, not a test).

selection.py stores, per series and origin, every model's forecast and what happened (evaluate(...,
keep_forecasts=True)); this scores other ways of combining the ES-LSTM and the three statistical peers on
them, as the panel is scored (MAE / best of ETS, AutoARIMA and Theta at each origin, geometric means):

    median4 / mean4      the median / mean of the ES-LSTM, ETS, AutoARIMA and Theta (M4's "Comb" idea)
    mean3peers           the mean of the three peers
    median5+smoothing    the median of those four and the ES-LSTM's smoothing alone
    top2 / top3          the mean of the 2 / 3 candidates with the lowest validation MAE (selection.py's)
    top2-weighted        the top 2, weighted by 1 / validation MAE
    ES-LSTM+selected     half the ES-LSTM, half the selected forecast
    ES-LSTM+median3      half the ES-LSTM, half the median of the peers

    .venv/bin/python benchmarks/forecast_panel/combinations.py    # after selection.py; prints the table
"""
import json
import math
import sys
from pathlib import Path

import numpy as np

from lstmlab.forecast.selection import CANDIDATES, ranking

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run_panel import PEERS, geomean  # noqa: E402

GROUPS = ("panel", "outside", "unseen")


def combinations(row):
    """name -> (h,) forecast, for one series and origin."""
    forecasts = {name: np.asarray(values) for name, values in row["forecasts"].items()}
    usable = [name for name in CANDIDATES if name in forecasts and np.isfinite(forecasts[name]).all()]
    peers = [name for name in PEERS if name in usable]
    validation = row["selected"]["validation_mae"]
    scored = {name: score for name, score in validation.items() if score is not None and math.isfinite(score)}
    ranked = [name for name in ranking(scored) if name in usable]
    top = lambda k: np.mean([forecasts[name] for name in ranked[:k]], axis=0)        # noqa: E731
    weights = np.array([1 / max(validation[name], 1e-12) for name in ranked[:2]])
    return {
        "ES-LSTM": forecasts["ES-LSTM"],
        "selected": forecasts["selected"],
        "median4": np.median([forecasts[name] for name in usable], axis=0),
        "mean4": np.mean([forecasts[name] for name in usable], axis=0),
        "mean3peers": np.mean([forecasts[name] for name in peers], axis=0),
        "median5+smoothing": np.median([forecasts[name] for name in usable] + [forecasts["smoothing"]], axis=0),
        "top2": top(2) if len(ranked) >= 2 else forecasts["ES-LSTM"],
        "top3": top(3),                           # (top 2 or 1 where fewer are ranked)
        "top2-weighted": (sum(w * forecasts[name] for w, name in zip(weights / weights.sum(), ranked[:2]))
                          if len(ranked) >= 2 else forecasts["ES-LSTM"]),
        "ES-LSTM+selected": (forecasts["ES-LSTM"] + forecasts["selected"]) / 2,
        "ES-LSTM+median3": (forecasts["ES-LSTM"] + np.median([forecasts[name] for name in peers], axis=0)) / 2,
    }


def main():
    scores = {}                                   # (group, rule) -> {"holdout": [...], "all": [...]}
    for path in sorted((HERE / "results" / "selection").glob("*.json")):
        report = json.loads(path.read_text())
        for fold, row in enumerate(report["rows"]):
            actual = np.asarray(row["actual"])
            best = min(row["metrics"][name]["mae"] for name in PEERS if row["metrics"][name]["mae"] is not None)
            if best <= 0:                         # a peer forecast the window exactly: no ratio (none in the data)
                continue
            for rule, forecast in combinations(row).items():
                cell = scores.setdefault((report["group"], rule), {"holdout": [], "all": []})
                relative = float(np.abs(forecast - actual).mean() / best)
                cell["all"].append(relative)
                if fold == len(report["rows"]) - 1:
                    cell["holdout"].append(relative)
    rules = list(dict.fromkeys(rule for _, rule in scores))
    print("Geometric mean of MAE / best of ETS, AutoARIMA and Theta: last-horizon holdout / all rolling origins\n")
    print("| rule | " + " | ".join(GROUPS) + " | all |")
    print("|---|" + "---:|" * (len(GROUPS) + 1))
    for rule in rules:
        cells = [scores[(group, rule)] for group in GROUPS]
        every = {kind: [v for cell in cells for v in cell[kind]] for kind in ("holdout", "all")}
        print(f"| {rule} | " + " | ".join(f"{geomean(c['holdout']):.3f} / {geomean(c['all']):.3f}" for c in cells)
              + f" | {geomean(every['holdout']):.3f} / {geomean(every['all']):.3f} |")


if __name__ == "__main__":
    main()
