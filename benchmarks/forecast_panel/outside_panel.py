"""Five series the development panel never saw, scored like the panel (a benchmark, not a test): the
default ES-LSTM and its smoothing against ETS, AutoARIMA and Theta on three rolling origins one horizon
apart. Nothing was chosen on these series; they check whether choices made on the panel carry over.

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/outside_panel.py \
        --only elnino,realgdp &                                            # ~3 min per core
    taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/outside_panel.py \
        --only sunspots,cpi,realinv
    .venv/bin/python benchmarks/forecast_panel/outside_panel.py --summarize   # results/outside_panel.md

The series ship with statsmodels (statsmodels.datasets; no network): El Niño sea-surface temperatures
(monthly, 1950–2010), yearly sunspot activity (1700–2008), and three quarterly US series of macrodata
(1959–2009): real GDP, the consumer price index and real investment. Horizons as the panel's: monthly 12,
quarterly 8, yearly 6. Reports go to results/outside/<series>.json.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run_panel import GEOMEAN_ROWS, PEERS, _relative, geomean, save_table, store_then_summarize  # noqa: E402

SHOWN = ("ES-LSTM", "smoothing") + PEERS


def series():
    """name -> (long-format frame, horizon)."""
    import pandas as pd
    import statsmodels.api as sm
    elnino = sm.datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy().ravel()   # 12 months a row
    sunspots = sm.datasets.sunspots.load_pandas().data
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS-JAN")
    out = {"elnino": (pd.date_range("1950-01-01", periods=len(elnino), freq="MS"), elnino, 12),
           "sunspots": (pd.to_datetime(sunspots["YEAR"].astype(int).astype(str) + "-01-01"),
                        sunspots["SUNACTIVITY"].to_numpy(np.float64), 6)}
    for column in ("realgdp", "cpi", "realinv"):
        out[column] = (quarters, macro[column].to_numpy(np.float64), 8)
    return {name: (pd.DataFrame({"unique_id": name, "ds": ds, "y": y}), h) for name, (ds, y, h) in out.items()}


def store(name, out=HERE / "results" / "outside"):
    """Evaluate one series (three origins, peers included) and save its report."""
    from lstmlab.forecast.evaluate import evaluate
    frame, h = series()[name]
    start = time.perf_counter()
    report = evaluate(frame, h, folds=3, models=("hybrid",))
    report["series"], report["wall_seconds"] = name, time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"{name}: ES-LSTM relative MAE per origin "
          f"{[round(row['relative_mae']['ES-LSTM'], 3) for row in report['rows']]}", flush=True)


def summarize(out=HERE / "results" / "outside"):
    reports = [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]
    lines = ["| series | h | " + " | ".join(SHOWN) + " |", "|---|---:|" + "---:|" * len(SHOWN)]
    for report in reports:
        lines.append(f"| {report['series']} | {report['horizon']} | " + " | ".join(
            " / ".join(f"{row['relative_mae'][name]:.2f}" for row in report["rows"]) for name in SHOWN) + " |")
    for label, fold in GEOMEAN_ROWS:
        lines.append(f"| **{label}** | | " + " | ".join(f"**{geomean(_relative(reports, name, fold)):.2f}**"
                                                     for name in SHOWN) + " |")
    save_table("\n".join(lines) + "\n", out.parent / "outside_panel.md")


def main(argv=None):
    return store_then_summarize(argv, __doc__.splitlines()[0], list(series()), store, summarize)


if __name__ == "__main__":
    sys.exit(main())
