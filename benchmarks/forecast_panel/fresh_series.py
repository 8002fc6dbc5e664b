"""Nine public series nobody tuned on (data_fresh/, SOURCES.md), taken on 2026-12-08 after every model choice of
the ES-LSTM and the selection rule was fixed, and run once: scored as selection.py scores the panel (three
rolling origins one horizon apart, each model refitted before every cutoff, MAE relative to the best of ETS,
AutoARIMA and Theta at that origin; a benchmark, not a test).

    taskset -c 0 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/forecast_panel/fresh_series.py   # ~7 min
    .venv/bin/python benchmarks/forecast_panel/fresh_series.py --summarize        # results/fresh.md

Each series' report goes to results/fresh/<name>.json.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run_panel import geomean, store_then_summarize  # noqa: E402
from selection import SHOWN, evaluated, geomean_lines, series_line  # noqa: E402

DATA, OUT = HERE / "data_fresh", HERE / "results" / "fresh"
# name -> (horizon, freq): the horizon the panel gives each frequency (6 for shampoo's 36 months: three folds
# of 12 would leave nothing to train on); heartrate has no dates: one step is one step (no season)
SERIES = {"heartrate": (10, "1"), "ksi": (12, None), "pbs": (12, None), "shampoo": (6, None),
          "sunspots_monthly": (12, None), "uschange_consumption": (8, None), "uschange_income": (8, None),
          "uschange_production": (8, None), "uschange_unemployment": (8, None)}


def frame_of(name):
    from lstmlab.forecast.frame import read_csv
    return read_csv(DATA / f"{name}.csv", id_column="unique_id", freq=SERIES[name][1])


def store(name):
    report = evaluated(frame_of(name), SERIES[name][0], OUT / f"{name}.json", series=name)
    print(f"{name}: relative MAE ES-LSTM {[round(row['relative_mae']['ES-LSTM'], 3) for row in report['rows']]}, "
          f"smoothing {[round(row['relative_mae']['smoothing'], 3) for row in report['rows']]}", flush=True)


def summarize():
    reports = [json.loads((OUT / f"{name}.json").read_text()) for name in SERIES]
    lines = ["Relative MAE (MAE / best of ETS, AutoARIMA, Theta at each origin), seed 0, three origins one horizon "
             "apart, earliest first; nine series nobody tuned on (data_fresh/).", "",
             "| series | h | " + " | ".join(SHOWN) + " | selected at each origin |", "|---|---:|" + "---:|" * len(SHOWN) + "---|"]
    lines += [series_line(report, report["horizon"]) for report in reports] + geomean_lines(reports)
    # beside selection.py's three groups (results/selection/): what the network adds to its own smoothing
    stored = [json.loads(path.read_text()) for path in sorted((HERE / "results" / "selection").glob("*.json"))]
    groups = [(group, [r for r in stored if r["group"] == group]) for group in ("panel", "outside", "unseen")]
    groups += [("fresh", reports), ("all 33", stored + reports)]
    lines += ["", "With selection.py's groups (results/selection/), holdout / all rolling origins:", "",
              "| group | series | " + " | ".join(SHOWN) + " |", "|---|---:|" + "---:|" * len(SHOWN)]
    for group, members in groups:
        cells = [f"{geomean([r['rows'][-1]['relative_mae'][name] for r in members]):.3f} / "
                 f"{geomean([row['relative_mae'][name] for r in members for row in r['rows']]):.3f}" for name in SHOWN]
        lines.append(f"| {group} | {len(members)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    return store_then_summarize(argv, __doc__.splitlines()[0], list(SERIES), store,
                                lambda: (HERE / "results" / "fresh.md").write_text(summarize()))


if __name__ == "__main__":
    sys.exit(main())
