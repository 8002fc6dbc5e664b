"""The forecasting development panel: every series in data/, the ES-LSTM hybrid and the pure LSTM
against naive, seasonal naive, ETS, AutoARIMA and Theta, on rolling origins (a benchmark, not a test).
Each series' report is saved to results/series/<name>.json as soon as it is done.

    .venv/bin/python benchmarks/forecast_panel/run_panel.py            # ~55 min on one core (taylor: ~40)
    .venv/bin/python benchmarks/forecast_panel/run_panel.py --only airpassengers,nile   # a subset
    .venv/bin/python benchmarks/forecast_panel/run_panel.py --summarize                 # table + figure
    .venv/bin/python benchmarks/forecast_panel/run_panel.py --refresh hybrid            # ~5 min, see below

For each series: horizon by frequency (monthly 12, quarterly 8, weekly 13, yearly 6, half-hourly 48),
--folds cutoffs one horizon apart; the last fold is the last-horizon holdout. Every model is refitted
on the data before each cutoff only. Writes results/panel.json, results/panel.md and results/panel.png.

--refresh hybrid re-measures only the ES-LSTM and its smoothing (after a change to them) and keeps the
other columns of each results/series/<name>.json: the pure LSTM and the peers do not depend on that code
and are deterministic, and the pure LSTM alone takes ~40 of the full run's minutes (taylor). The report
records which columns were refreshed, and when.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
HORIZON = {"M": 12, "Q": 8, "W": 13, "Y": 6, "A": 6, "30min": 48}
COMPARED = ("ES-LSTM", "LSTM", "smoothing", "naive", "seasonal_naive", "ets", "autoarima", "theta")
PEERS = ("ets", "autoarima", "theta")           # the statistical peers the target is measured against
# the summary rows: (label, fold) — the last fold is the last-horizon holdout, None takes every origin
GEOMEAN_ROWS = (("geometric mean, last-horizon holdout", -1), ("geometric mean, all rolling origins", None))


def horizon_for(freq):
    return HORIZON.get(freq) or HORIZON[freq[0]]


def geomean(values):
    return float(np.exp(np.mean(np.log(values))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--only", default=None, help="comma-separated series names")
    parser.add_argument("--ensemble", type=int, default=None, help="default: the models' own (hybrid 15, LSTM 5)")
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--summarize", action="store_true", help="only rebuild the table and figure from results/")
    parser.add_argument("--refresh", choices=["hybrid"], default=None,
                        help="re-measure only the ES-LSTM and smoothing columns, keep the others from results/series/")
    args = parser.parse_args(argv)
    out = Path(args.out)
    (out / "series").mkdir(parents=True, exist_ok=True)
    if args.summarize:
        return write_summary(out)

    from lstmlab.forecast.evaluate import evaluate
    from lstmlab.forecast.frame import read_csv
    paths = sorted((HERE / "data").glob("*.csv"))
    if args.only:
        paths = [p for p in paths if p.stem in args.only.split(",")]
    results = []
    for path in paths:
        frame = read_csv(path, id_column="unique_id")
        h = horizon_for(frame.attrs["freq"])
        start = time.perf_counter()
        if args.refresh:
            report = refresh(out / "series" / f"{path.stem}.json", frame, h, args)
        else:
            report = evaluate(frame, h, folds=args.folds, ensemble=args.ensemble, steps=args.train_steps)
        report["series"] = path.stem
        report["wall_seconds"] = time.perf_counter() - start
        results.append(report)
        (out / "series" / f"{path.stem}.json").write_text(json.dumps(report, indent=1, default=str))
        last = report["rows"][-1]["relative_mae"]
        print(f"{path.stem:<16} h={h:<3} m={report['rows'][-1]['period']:<4} holdout rel. MAE: "
              + " ".join(f"{k} {last[k]:.3f}" for k in COMPARED if last.get(k) is not None)
              + f"  ({report['wall_seconds']:.0f} s)", flush=True)
    if not args.only:
        write_summary(out)


def refresh(stored_path, frame, h, args):
    """The stored report of one series with its ES-LSTM and smoothing columns measured again."""
    from lstmlab.forecast.peers import STATISTICAL
    from lstmlab.forecast.evaluate import evaluate, summarize
    stored = json.loads(stored_path.read_text())
    fresh = evaluate(frame, h, folds=args.folds, models=("hybrid",), peers=False, ensemble=args.ensemble,
                     steps=args.train_steps)
    if [row["cutoff"] for row in fresh["rows"]] != [row["cutoff"] for row in stored["rows"]]:
        raise SystemExit(f"{stored_path.name}: the stored cutoffs differ from these folds; run without --refresh")
    for old, new in zip(stored["rows"], fresh["rows"]):
        for name in ("ES-LSTM", "smoothing"):
            old["metrics"][name] = new["metrics"][name]
        best = min(old["metrics"][name]["mae"] for name in STATISTICAL if old["metrics"][name]["mae"] is not None)
        old["relative_mae"] = {name: m["mae"] / best if m["mae"] is not None and best > 0 else None
                               for name, m in old["metrics"].items()}
    stored["summary"] = summarize(stored["rows"])
    stored["seconds"]["ES-LSTM"] = fresh["seconds"]["ES-LSTM"]
    stored["refreshed"] = {"columns": ["ES-LSTM", "smoothing"], "on": time.strftime("%Y-%m-%d")}
    return stored


def write_summary(out):
    """Table and figure from every results/series/*.json (series may be run in separate processes)."""
    results = [json.loads(path.read_text()) for path in sorted((out / "series").glob("*.json"))]
    save_table(summary_table(results), out / "panel.md")
    figure(results, out / "panel.png")


def save_table(table, path):
    path.write_text(table)
    print(table)


def store_then_summarize(argv, description, names, store, summarize):
    """The entry of the panel's side studies (interval_study.py, outside_panel.py): ``store(name)`` for each
    series (--only NAMES: a share, one process per core), then ``summarize()`` over everything stored;
    --summarize only rebuilds the table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", default=None, help="comma-separated series names (default: all)")
    parser.add_argument("--summarize", action="store_true", help="only rebuild the table from what is stored")
    args = parser.parse_args(argv)
    if not args.summarize:
        for name in (args.only.split(",") if args.only else names):
            store(name)
        if args.only:
            return 0
    summarize()
    return 0


def _relative(results, model, fold=None):
    values = []
    for report in results:
        rows = report["rows"] if fold is None else [report["rows"][fold]]
        values += [row["relative_mae"][model] for row in rows]
    return values


def _relative_per_series(results, model):
    """Per series: the model's MAE averaged over the rolling origins / the lowest such average of ETS,
    AutoARIMA and Theta — one peer per series, as a user would pick it, not the best one at each origin."""
    def mean_mae(report, name):
        return float(np.mean([row["metrics"][name]["mae"] for row in report["rows"]]))
    return [mean_mae(report, model) / min(mean_mae(report, peer) for peer in PEERS) for report in results]


def summary_table(results):
    lines = ["| series | freq | h | m | " + " | ".join(COMPARED) + " |",
             "|---|---|---:|---:|" + "---:|" * len(COMPARED)]
    for report in results:
        holdout = report["rows"][-1]["relative_mae"]
        lines.append(f"| {report['series']} | {report['freq']} | {report['horizon']} | {report['rows'][-1]['period']} | "
                     + " | ".join(f"{holdout[k]:.2f}" for k in COMPARED) + " |")
    for label, fold in GEOMEAN_ROWS:
        lines.append(f"| **{label}** | | | | " + " | ".join(f"**{geomean(_relative(results, k, fold)):.2f}**"
                                                             for k in COMPARED) + " |")
    lines.append("| geometric mean over series, MAE averaged over the rolling origins, against one peer per series | | | | "
                 + " | ".join(f"{geomean(_relative_per_series(results, k)):.2f}" for k in COMPARED) + " |")
    return "\n".join(lines) + "\n"


def figure(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r["series"] for r in results]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(COMPARED)
    for k, model in enumerate(COMPARED):
        values = [geomean(_relative([r], model)) for r in results]
        ax.bar(np.arange(len(names)) + k * width, values, width, label=model)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(np.arange(len(names)) + 0.4, names, rotation=30, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("MAE / best of ETS, AutoARIMA, Theta")
    ax.set_title("Development panel: geometric mean over rolling origins (lower is better)")
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
