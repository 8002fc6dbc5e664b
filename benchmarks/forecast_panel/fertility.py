"""Fifty-five more real series nobody tuned on: total fertility rates of 55 countries, yearly 1960–2011
(statsmodels' fertility dataset, World Bank data shipped with statsmodels: no network), as two panels —
every 7th of the 192 countries with no gap (28), and every 7th from the 4th (27) — each forecast as one
panel (one global ES-LSTM), horizon 6, three rolling origins 6 years apart (a benchmark, not a test).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/fertility.py   # ~2 min

They are smooth (interpolated estimates) and their slopes change slowly: the kind of series where
AutoARIMA's second differences do well and a damped trend falls behind. Writes results/fertility.md.
"""
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))

SHOWN = ("ES-LSTM", "selected", "smoothing", "ets", "autoarima", "theta", "naive")


def panel(start):
    """Every 7th country from ``start`` with no missing year (at most 28), in long format."""
    import pandas as pd
    import statsmodels.api as sm
    data = sm.datasets.fertility.load_pandas().data
    years = [c for c in data.columns if c.isdigit()][:-2]               # 2012 and 2013 are empty
    chosen = data.dropna(subset=years).iloc[start::7].head(28)
    return pd.concat([pd.DataFrame({"unique_id": row["Country Code"], "ds": pd.to_datetime([f"{y}-01-01" for y in years]),
                                    "y": row[years].to_numpy(np.float64)}) for _, row in chosen.iterrows()],
                     ignore_index=True)


def main():
    from lstmlab.forecast.evaluate import evaluate
    warnings.simplefilter("ignore")              # statsforecast on short yearly series: convergence chatter
    lines = ["Geometric mean over series and origins of MAE / best of ETS, AutoARIMA and Theta at that origin "
             "(`benchmarks/forecast_panel/fertility.py`, seed 0, one core).", "",
             "| panel | " + " | ".join(SHOWN) + " | selected: ES-LSTM / peer | seconds |",
             "|---|" + "---:|" * (len(SHOWN) + 2)]
    for name, start in (("28 countries (every 7th)", 0), ("27 others (every 7th from the 4th)", 3)):
        began = time.perf_counter()
        report = evaluate(panel(start), 6, folds=3, models=("hybrid",))
        seconds = time.perf_counter() - began
        picks = Counter(row["selected"]["model"] for row in report["rows"])
        cells = [f"{report['summary'][model]['relative_mae_geomean']:.3f}" for model in SHOWN]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {picks['ES-LSTM']} / {sum(picks.values()) - picks['ES-LSTM']} "
                     f"| {seconds:.0f} |")
        print(lines[-1], flush=True)
    out = HERE / "results" / "fertility.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
