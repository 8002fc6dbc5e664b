"""The `selected` forecast (lstmlab/forecast/selection.py) on the development panel, the five series
outside it and eight more nobody had looked at (see series()), scored as the panel is: three rolling
origins one horizon apart, each model refitted before every cutoff, MAE relative to the best of ETS,
AutoARIMA and Theta at that origin (a benchmark, not a test).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/selection.py \
        --only airpassengers,ausbeer,austres,co2_weekly,elec_equip,lynx,nile,cpi,realcons,realdpi,realgovt,co2_monthly &
    taskset -c 1 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/selection.py \
        --only taylor,us_unemployment,wineind,woolyrnq,elnino,realgdp,realinv,sunspots,m1,tbilrate,infl,pop
    .venv/bin/python benchmarks/forecast_panel/selection.py --summarize           # results/selection.md

Each series' report (the ES-LSTM, its smoothing, the peers and `selected`, with what was selected and
the validation MAEs it was selected by) goes to results/selection/<name>.json.
"""
import json
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import outside_panel  # noqa: E402
from run_panel import GEOMEAN_ROWS, PEERS, geomean, horizon_for, store_then_summarize  # noqa: E402

SHOWN = ("ES-LSTM", "selected", "smoothing") + PEERS
OUT = HERE / "results" / "selection"


def series():
    """name -> (group, long-format frame, horizon): the panel's eleven, the five outside it, then the eight
    "unseen" ones, taken after the selection rule was fixed and run once (2026-12-06): the other quarterly
    columns of statsmodels' macrodata (1959–2009) and monthly means of its Mauna Loa CO2 before 1990 (the
    panel's co2_weekly starts in 1990; the 5 months of 382 without a reading interpolated linearly)."""
    import pandas as pd
    import statsmodels.api as sm
    from lstmlab.forecast.frame import read_csv
    out = {}
    for path in sorted((HERE / "data").glob("*.csv")):
        frame = read_csv(path, id_column="unique_id")
        out[path.stem] = ("panel", frame, horizon_for(frame.attrs["freq"]))
    for name, (frame, h) in outside_panel.series().items():
        out[name] = ("outside", frame, h)
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS-JAN")
    for column in ("realcons", "realdpi", "realgovt", "m1", "tbilrate", "infl", "pop"):
        out[column] = ("unseen", pd.DataFrame({"unique_id": column, "ds": quarters, "y": macro[column].to_numpy()}), 8)
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    monthly = co2[:"1989-12-31"].resample("MS").mean().interpolate()
    out["co2_monthly"] = ("unseen", pd.DataFrame({"unique_id": "co2_monthly", "ds": monthly.index,
                                                  "y": monthly.to_numpy()}), 12)
    return out


def evaluated(frame, h, path, **labels):
    """Every model at three origins (the ES-LSTM, its smoothing, the peers, `selected`), stored as JSON at
    ``path`` with ``labels`` (series, group) and the wall time; returns the report."""
    from lstmlab.forecast.evaluate import evaluate
    start = time.perf_counter()
    report = evaluate(frame, h, folds=3, models=("hybrid",), keep_forecasts=True)
    report.update(labels, wall_seconds=time.perf_counter() - start)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str))
    return report


def store(name):
    group, frame, h = series()[name]
    report = evaluated(frame, h, OUT / f"{name}.json", series=name, group=group)
    print(f"{name}: selected {[row['selected']['model'] for row in report['rows']]}, relative MAE ES-LSTM "
          f"{[round(row['relative_mae']['ES-LSTM'], 3) for row in report['rows']]}, selected "
          f"{[round(row['relative_mae']['selected'], 3) for row in report['rows']]}", flush=True)


def series_line(report, second):
    """A table row: the series, ``second`` (its group or horizon), each model's relative MAE at the three
    origins, and what was selected at each."""
    cells = [" / ".join(f"{row['relative_mae'][name]:.2f}" for row in report["rows"]) for name in SHOWN]
    picks = ", ".join(row["selected"]["model"] for row in report["rows"])
    return f"| {report['series']} | {second} | " + " | ".join(cells) + f" | {picks} |"


def geomean_lines(reports, second=""):
    """The two bold rows under a table: each model's geometric mean on the holdout and over all origins, and
    how often each model was selected."""
    lines = []
    for label, fold in GEOMEAN_ROWS:
        rows = [row for r in reports for row in (r["rows"] if fold is None else [r["rows"][fold]])]
        values = [geomean([row["relative_mae"][name] for row in rows]) for name in SHOWN]
        lines.append(f"| **{label}** | {second} | " + " | ".join(f"**{v:.3f}**" for v in values) + " | "
                     + ", ".join(f"{k} {n}" for k, n in Counter(row["selected"]["model"] for row in rows).items())
                     + " |")
    return lines


def summarize():
    reports = [json.loads(path.read_text()) for path in sorted(OUT.glob("*.json"))]
    lines = ["Relative MAE (MAE / best of ETS, AutoARIMA, Theta at each origin), geometric means; seed 0, "
             "three origins one horizon apart. `selected`: per series and origin, whichever of ES-LSTM, ETS, "
             "AutoARIMA and Theta forecast the last h points up to the cutoff best.", "",
             "| series | group | " + " | ".join(SHOWN) + " | selected at each origin |",
             "|---|---|" + "---:|" * len(SHOWN) + "---|"]
    order = {"panel": 0, "outside": 1, "unseen": 2}
    for report in sorted(reports, key=lambda r: (order[r["group"]], r["series"])):
        lines.append(series_line(report, report["group"]))
    for group in ("panel", "outside", "unseen"):
        chosen = [r for r in reports if r["group"] == group]
        if chosen:
            lines += geomean_lines(chosen, group)
    table = "\n".join(lines) + "\n"
    (HERE / "results" / "selection.md").write_text(table)
    print(table)

if __name__ == "__main__":
    sys.exit(store_then_summarize(sys.argv[1:], __doc__.splitlines()[0], list(series()), store, summarize))
