"""`lstmlab forecast`: the arguments (add_forecast_arguments) and the run (run_cli).

Default: the ES-LSTM hybrid and the pure LSTM, each refitted before every cutoff of a rolling-origin
evaluation (--folds, --step), next to naive, seasonal naive, ETS, AutoARIMA and Theta. The older
single-model kinds (next-step, seq2seq, multi-horizon) still run through pipeline.py, with --save/--load.
"""
import json
import math
import re
import sys
import warnings

import numpy as np

from .datasets import DATASETS, Series, load_dataset
from .hints import looks_like_a_year

NEW_MODELS = ("hybrid", "lstm")
LEGACY_MODELS = ("next-step", "seq2seq", "multi-horizon")
# options the older models do not read: refused with them rather than ignored
NEW_MODEL_OPTIONS = {"folds": "--folds", "step": "--step", "ensemble": "--ensemble", "train_steps": "--train-steps",
                     "seasonality": "--seasonality", "no_peers": "--no-peers", "future": "--future"}


def add_forecast_arguments(forecast):
    source = forecast.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=list(DATASETS), help="a dataset shipped with lstmlab")
    source.add_argument("--csv", help="a CSV file: long format (unique_id, ds, y, exogenous …) or one series")
    forecast.add_argument("--column", default=None, help="the column to forecast (default: y)")
    forecast.add_argument("--time-column", default=None, help="the date column (default: ds when there is one)")
    forecast.add_argument("--id-column", default=None,
                          help="a column naming the series, for many series in one file (one global model)")
    exogenous = forecast.add_mutually_exclusive_group()
    exogenous.add_argument("--exogenous", action="append", default=None, metavar="NAME",
                           help="a column to feed the model as an exogenous input (repeatable); default: every "
                                "column besides the id, time and target columns")
    exogenous.add_argument("--no-exogenous", action="store_true", help="use no column besides id, time and target")
    forecast.add_argument("--freq", default=None,
                          help="the step, as a pandas alias (MS, QS, W, D, h, 30min) or a season length in steps; "
                               "needed for a file without dates, read from the dates otherwise")
    forecast.add_argument("--season-length", type=int, action="append", default=None, metavar="N",
                          help="seasonal period in steps (repeatable); default: from the frequency "
                               "(monthly 12, quarterly 4, weekly 52, daily 7, hourly 24 and 168, half-hourly 48 and 336)")
    forecast.add_argument("--horizon", type=int, required=True, help="steps to forecast at once")
    forecast.add_argument("--folds", type=int, default=None,
                          help="hybrid/lstm: rolling-origin folds (default: 1, the last horizon; 0 with --out: "
                               "no evaluation, only the forecast past the end)")
    forecast.add_argument("--step", type=int, default=None,
                          help="hybrid/lstm: steps between fold cutoffs (default: horizon)")
    forecast.add_argument("--holdout", type=int, default=None,
                          help="older models only: steps held out for testing (default: horizon)")
    forecast.add_argument("--model", choices=NEW_MODELS + LEGACY_MODELS, default="hybrid",
                          help="hybrid: ES-LSTM, exponential smoothing + LSTM (default; the pure LSTM is reported "
                               "beside it); lstm: the pure LSTM only; next-step, seq2seq, multi-horizon: the older "
                               "single-series models")
    forecast.add_argument("--seasonality", choices=["auto", "additive", "multiplicative"], default=None,
                          help="hybrid/lstm: how the season combines with the level (default: auto, from the data)")
    forecast.add_argument("--ensemble", type=int, default=None,
                          help="hybrid/lstm: networks in the ensemble, the forecast their median "
                               "(default: 15 for the hybrid, 5 for the pure LSTM)")
    forecast.add_argument("--train-steps", type=int, default=None,
                          help="hybrid/lstm: Adam steps per ensemble member (default: 300)")
    forecast.add_argument("--no-peers", action="store_true", default=None,      # None: not given
                          help="hybrid/lstm: skip the peers (naive, seasonal naive, ETS, AutoARIMA, Theta) and "
                               "the selected forecast, which picks among them and the ES-LSTM")
    forecast.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    forecast.add_argument("--out", help="folder for the forecast past the file's end: forecast.csv, with the selected "
                                        "forecast beside the ES-LSTM's. The older models write instead their "
                                        "holdout test (NAME_forecast.csv: the held-out points' actual values beside "
                                        "the forecasts) and a PNG of it; they forecast no further")
    forecast.add_argument("--future", metavar="CSV",
                          help="hybrid/lstm, with --out and exogenous columns: their values over the next --horizon "
                               "steps, one row per step (and series), with the --csv file's time and id columns "
                               "(a file without dates: rows in order, or a time column counting the steps on)")
    forecast.add_argument("--save", help="older models: save the trained forecaster to this folder")
    forecast.add_argument("--load", help="older models: load a saved forecaster from this folder instead of training")
    forecast.add_argument("--json", action="store_true", help="print one JSON object (undefined metrics are null)")


def json_safe(value):
    """NaN and ±inf become None (JSON null): json.dumps would write NaN/Infinity, which is not JSON."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _frame_from_dataset(name):
    import pandas as pd
    series = load_dataset(name)
    if series.labels:
        labels = pd.Series(series.labels)
        if labels.str.fullmatch(r"\d{4}Q\d").all():       # 1959Q1: quarters, read as such (no format guessing)
            ds = pd.Series(pd.PeriodIndex(labels, freq="Q").to_timestamp())
        else:
            ds = pd.to_datetime(labels, format="%Y-%m")
        freq = None
    else:
        ds, freq = np.arange(len(series)), str(max(series.period, 1))
    frame = pd.DataFrame({"unique_id": name, "ds": ds, "y": series.values,
                          **{column: values for column, values in series.exogenous.items()}})
    return frame, freq


# Column names that are dates — a year, a month, a quarter or a day, written as these — are a sign of a
# wide table (one column per date). Whole patterns only: 1999.99 or 2020_sales are not dates.
DATE_NAMES = (r"\d{4}",                                                # 1960
              r"\d{4}[-/](0?[1-9]|1[0-2])",                           # 2020-01
              r"\d{4}(0[1-9]|1[0-2])",                                # 202001
              r"\d{4}[-/ ]?[QM]\d{1,2}",                              # 2020Q1, 2020M01
              r"\d{4}[-/](0?[1-9]|1[0-2])[-/](0?[1-9]|[12]\d|3[01])")   # 2020-01-31


def _reads_as_date(name):
    """Is a column name a date (1960, 2020-01, 202001, 2020Q1, 2020-01-31)?"""
    text = str(name).strip()
    return (any(re.fullmatch(pattern, text) for pattern in DATE_NAMES)
            and looks_like_a_year(int(text[:4])))


def _read(args):
    from .frame import read_csv
    if args.dataset:
        frame, freq = _frame_from_dataset(args.dataset)
        if args.model in NEW_MODELS:           # the shipped macro columns are history, not a scenario
            frame = frame[["unique_id", "ds", "y"]]
        from .frame import prepare
        return prepare(frame, freq=args.freq or freq, source=args.dataset, command_line=True)
    from .frame import id_column_of, read_table
    columns = list(read_table(args.csv, text_columns=[args.id_column or "unique_id"]).columns)   # ids as written
    args.id_column = id_column_of(columns, args.id_column)       # for this file and for --future's
    time_column = args.time_column
    if time_column is None:
        from .frame import date_parts
        # ds, or a date in two columns (year and quarter or month), which read_csv makes one
        time_column = "ds" if "ds" in columns or date_parts(columns, (args.column or "y", args.id_column)) else None
    if time_column is None:
        if args.freq is None:
            dated = [name for name in columns if _reads_as_date(name)]
            if len(dated) >= 3 and len(dated) >= len(columns) / 2:
                # one column per date (1960, 1961, …): a wide table, one row per series
                raise ValueError(f"the file has no ds column, and {len(dated)} of its {len(columns)} column names "
                                 f"are dates ({dated[0]}, {dated[1]}, …): it looks wide, one column per date; "
                                 "forecasting needs one row per (series, date) — reshape it first, e.g. "
                                 f"df.melt(id_vars=[...], var_name='ds', value_name='y') in pandas")
            raise ValueError("the file has no ds column: pass --time-column NAME, or --freq to say what one step is")
        raw = read_table(args.csv, text_columns=[args.id_column] if args.id_column else [])
        if args.id_column and args.id_column not in raw.columns:
            raise ValueError(f"column {args.id_column!r} not in {args.csv}; columns: {', '.join(raw.columns)}")
        raw.insert(0, "__step", np.arange(len(raw)))
        tmp = raw
        from .frame import prepare
        target = args.column or "y"
        if target not in tmp.columns:
            raise ValueError(f"column {target!r} not in {args.csv}; columns: {', '.join(tmp.columns[1:])}")
        frame = tmp.rename(columns={"__step": "ds", target: "y"})
        if args.id_column:
            frame = frame.rename(columns={args.id_column: "unique_id"})
            frame["ds"] = frame.groupby("unique_id").cumcount()
        else:
            frame.insert(0, "unique_id", __import__("pathlib").Path(args.csv).stem)
        from .frame import data_lines, select_exogenous
        frame.attrs["lines"] = data_lines(args.csv, len(frame))
        frame.attrs["column_names"] = {"ds": "step", "y": target}              # for messages
        return prepare(select_exogenous(frame, _exogenous(args), args.csv, command_line=True), freq=args.freq,
                       source=args.csv, command_line=True)
    return read_csv(args.csv, id_column=args.id_column, time_column=time_column, target_column=args.column or "y",
                    freq=args.freq, exogenous=_exogenous(args), command_line=True)


def _exogenous(args):
    """The exogenous columns chosen on the command line: None (every other column), [] or a list."""
    return [] if args.no_exogenous else args.exogenous


def _refuse_ignored_options(args):
    """Options that only describe a CSV file, given with --dataset: refused rather than ignored."""
    if args.dataset:
        given = [flag for flag, value in (("--column", args.column), ("--time-column", args.time_column),
                                          ("--id-column", args.id_column), ("--exogenous", args.exogenous),
                                          ("--no-exogenous", args.no_exogenous or None))
                 if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} {'describes' if len(given) == 1 else 'describe'} the columns of a "
                             f"--csv file; --dataset {args.dataset} has its own")


def _check_counts(args):
    """Counts named as the user typed them (the API names them by its keywords), refused before any work."""
    counts = [("--horizon", args.horizon)] + [("--season-length", m) for m in args.season_length or ()]
    if args.model in NEW_MODELS:                   # the older models refuse these options outright
        counts += [("--folds", args.folds), ("--step", args.step), ("--ensemble", args.ensemble),
                   ("--train-steps", args.train_steps)]
    for flag, value in counts:
        if flag == "--folds" and value == 0 and args.out:
            continue                               # no evaluation: only the forecast past the end
        if value is not None and value < 1:
            hint = " (--folds 0, with --out, skips the evaluation and only writes the forecast)" \
                if flag == "--folds" and value == 0 else ""
            raise ValueError(f"{flag} must be a positive integer, got {value}{hint}")


def _show_progress(args):
    """Progress bars on a terminal only: in a log file (stderr redirected) each update would be a line."""
    return not args.json and sys.stderr.isatty()


def _check_out(args):
    """--out must be a folder that can be written: found out before training, not after it."""
    if args.out:
        from ..cli import CommandError, writable_folder
        try:
            writable_folder(args.out, "--out")
        except CommandError as error:
            raise ValueError(str(error)) from None


def run_cli(args):
    """Run `lstmlab forecast`; returns the exit code. Bad input raises CommandError (exit code 2), which
    lstmlab.cli's main prints as one line — after the traceback down to the check that refused, with --debug."""
    try:
        _refuse_ignored_options(args)
        _check_counts(args)
        frame = _read(args)
        if args.model in LEGACY_MODELS:
            return _run_legacy(args, frame)
        if args.save or args.load:
            raise ValueError("--save and --load work with the older models (--model multi-horizon, next-step, "
                             "seq2seq); the hybrid is refitted before every fold")
        return _run_new(args, frame)
    except (ValueError, FileNotFoundError, ImportError) as error:
        from ..cli import USAGE, CommandError   # bad input: lstmlab.cli's main prints it as for every command
        raise CommandError(str(error), USAGE) from error


def _run_new(args, frame):
    from .evaluate import evaluate, format_report
    if args.holdout is not None:
        raise ValueError("--holdout is for the older models; the hybrid and the pure LSTM hold out the last "
                         "--horizon steps of each of --folds folds")
    from .frame import exogenous_columns
    exogenous = exogenous_columns(frame)
    if args.future and not (args.out and exogenous):
        raise ValueError("--future gives the exogenous columns' values for --out's forecast; "
                         + ("there is no --out" if not args.out else "the model reads no exogenous column"))
    if args.out and exogenous and not args.future:        # found out only after the whole evaluation otherwise
        raise ValueError(f"--out forecasts past the end of the file, which needs the future values of the "
                         f"exogenous column(s) {', '.join(exogenous)}: give them with --future CSV (one row per "
                         "future step), pass --no-exogenous, or drop --out")
    future = _read_future(args, frame, exogenous) if args.future else None     # refused before any training
    _check_out(args)
    models = ("hybrid", "lstm") if args.model == "hybrid" else ("lstm",)
    folds = 1 if args.folds is None else args.folds             # 0 (with --out): no evaluation
    if folds == 0 and args.step is not None:
        raise ValueError("--step spaces the folds' cutoffs; with --folds 0 there are none")
    if folds == 0:
        report = {"horizon": args.horizon, "folds": 0, "evaluation": None, "rows": []}    # no fold, no row
    else:
        try:
            report = evaluate(frame, args.horizon, folds=folds, step=args.step, models=models, freq=args.freq,
                              season_length=args.season_length, peers=not args.no_peers,
                              progress=_show_progress(args), **_config(args))
        except ValueError as error:
            # a series long enough to forecast may be too short to evaluate: its last h points held out first
            if args.out and "in fold" in str(error) and "too short" in str(error):
                fewer = "fewer --folds evaluate on less of it, or " if folds > 1 else ""
                raise type(error)(f"{error}. The series can still be forecast: {fewer}--folds 0 with --out skips "
                                  "the evaluation") from error
            raise
    if args.out:
        report["files"] = _write_new_outputs(args, frame, report, future)
    if args.json:
        print(json.dumps(json_safe(report), allow_nan=False))
    else:
        from .evaluate import format_report
        print(format_report(report) if folds else f"no evaluation (--folds 0); forecast past the end of "
              f"{args.csv or args.dataset}, {args.horizon} steps")
        files = report.get("files", {})
        if "csv" in files:
            print(f"wrote {files['csv']}")
        if "selected" in files:
            print(f"forecast.csv's selected forecast, picked on each series' last {args.horizon} points: "
                  + ", ".join(f"{uid} {model}" for uid, model in files["selected"].items()))
    return 0


def _config(args):
    """The HybridConfig keywords the command line sets; an option not given keeps HybridConfig's default."""
    given = {"seasonality": args.seasonality, "ensemble": args.ensemble, "steps": args.train_steps, "seed": args.seed}
    return {name: value for name, value in given.items() if value is not None}


def _read_future(args, frame, exogenous):
    """The --future file as X_df: unique_id, ds and the exogenous columns, one row per forecast step (and
    series). Its time and id columns are named as in the --csv file (a date in year and quarter/month columns
    is read as there); in a file of plain steps a time column counts the steps on from the --csv file's (its
    rows are taken in order without one). Checked now, by the API's own checks (api.scenario_values: count,
    stamps, numbers), not after the training."""
    import pandas as pd

    from .frame import _describe_row, data_lines, date_parts, dates_from_parts, read_table, split_series, shown
    name = f"--future {args.future}"
    try:
        raw = read_table(args.future, text_columns=[args.id_column] if args.id_column else [])
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file") from None
    except ValueError as error:
        raise ValueError(f"--future: {error}") from None
    if len(raw) == 0:
        raise ValueError(f"{name} has no data rows: it needs one row per forecast step"
                         + (" and series" if args.id_column else ""))
    raw.attrs["lines"] = data_lines(args.future, len(raw))
    time_name = (frame.attrs.get("column_names") or {}).get("ds", "ds")          # as the --csv file names it
    dated = frame["ds"].dtype.kind == "M"
    time = args.time_column or "ds"
    parts = date_parts(raw.columns, (args.id_column,)) if dated and time not in raw.columns else None
    missing = [column for column in ([args.id_column] if args.id_column else []) + list(exogenous)
               if column not in raw.columns]
    if dated and time not in raw.columns and not parts:
        missing.insert(0, time_name)
    if missing:
        raise ValueError(f"{name} lacks column(s) {', '.join(map(str, missing))}; its columns: "
                         f"{', '.join(map(str, raw.columns))}")
    future = pd.DataFrame({"unique_id": raw[args.id_column] if args.id_column else frame["unique_id"].iloc[0]},
                          index=raw.index)
    if parts:
        future["ds"] = dates_from_parts(raw, *parts, source=args.future)
    elif time in raw.columns:
        future["ds"] = raw[time]
    for column in exogenous:                     # picked by name: a repeated or extra column is left alone
        future[column] = raw[column]
    fitted = split_series(frame)
    known = {series.unique_id for series in fitted}
    stray = [uid for uid in dict.fromkeys(future["unique_id"]) if uid not in known]
    if stray:
        raise ValueError(f"{name} has rows for series {shown(stray[0])}, which the --csv file does not have")
    if "ds" in future.columns:
        text = future["ds"]
        with warnings.catch_warnings():          # pandas' note on the day-first reading: both are tried
            warnings.simplefilter("ignore", UserWarning)
            if dated and not parts and text.dtype.kind in "iuf":
                readings = [text]                # numbers (2000) where the data has dates: scenario_values says so
            elif dated and not parts:
                readings = [pd.to_datetime(text, errors="coerce"), pd.to_datetime(text, errors="coerce", dayfirst=True)]
            else:
                readings = [pd.to_numeric(text, errors="coerce") if not dated else text]
        unread = np.logical_and.reduce([reading.isna().to_numpy() for reading in readings])
        if unread.any():
            k = int(np.argmax(unread))
            raise ValueError(f"{name}: {time_name} is {shown(raw[time].iloc[k])} at "
                             f"{_describe_row(raw, k, args.future)}, not {'a date' if dated else 'a step number'}")
    else:
        readings = [None]

    from .api import scenario_values
    error = None
    for reading in readings:                     # as the --csv file's dates: month first, else day first
        if reading is not None:
            future["ds"] = reading
        try:
            scenario_values(future, fitted, args.horizon, exogenous, frame.attrs.get("freq"))
            return future
        except ValueError as refused:
            error = error or refused
    raise ValueError(str(error).replace("X_df's ds", f"{name}'s {time_name}").replace("X_df", name)) from None


def _write_new_outputs(args, frame, report, future=None):
    """The forecasts past the end of the file, as a CSV (long format): the default model's, fitted on all of
    it, and, with the peers, the `selected` forecast and which candidate made it (selection.py). ``future``:
    the exogenous columns' values over the forecast steps (--future)."""
    from pathlib import Path

    from .api import LSTMForecaster
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    forecaster = LSTMForecaster(args.horizon, args.freq, args.season_length, args.model, **_config(args)).fit(frame)
    forecast = forecaster.predict(X_df=future)            # checked by _read_future before the training
    files = {}
    if args.model == "hybrid" and not args.no_peers:
        # a pick of its own: on each series' last h points, which the report's last cutoff forecast
        from .selection import selected_frame
        selected = selected_frame(forecaster, forecast, X_df=future)
        for column in selected.columns.drop(["unique_id", "ds"]):            # the same series, in the same order
            forecast[column] = selected[column].to_numpy()
        files["selected"] = selected.groupby("unique_id", sort=False)["selected_model"].first().to_dict()
        files["validation_mae"] = selected.attrs["validation_mae"]
    # the id and time columns named as the --csv file names them (as the API names them as its frame does)
    forecast = forecast.rename(columns={"unique_id": args.id_column or "unique_id", "ds": args.time_column or "ds"})
    path = out / "forecast.csv"
    forecast.to_csv(path, index=False)
    return {"csv": str(path), **files}


def _run_legacy(args, frame):
    """The older single-series models, through pipeline.py (holdout, --save/--load)."""
    given = [flag for name, flag in NEW_MODEL_OPTIONS.items() if getattr(args, name) is not None]   # 0 is given too
    if given:
        raise ValueError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for --model hybrid or lstm; "
                         f"--model {args.model} is trained once and scored on the last --holdout steps")
    from .frame import season_lengths, split_series
    from .run import format_metrics, run_forecast
    from .seasonality import usable_season
    panel = split_series(frame)
    if len(panel) > 1:
        raise ValueError(f"--model {args.model} forecasts one series; the file holds {len(panel)} "
                         "(use --model hybrid for a panel)")
    one = panel[0]
    _check_out(args)
    period = usable_season(season_lengths(frame, args.season_length), len(one))
    labels = [str(stamp) for stamp in one.ds]
    name = args.dataset or str(one.unique_id)
    series = Series(name, one.y, period=period, season=np.arange(len(one)) % period if period > 1 else None,
                    labels=labels, exogenous=one.exogenous)
    report = run_forecast(series, args.horizon, args.holdout, args.model, args.seed, out_dir=args.out,
                          save=args.save, load=args.load, progress=_show_progress(args))
    if args.json:
        print(json.dumps(json_safe({key: report[key] for key in ("dataset", "horizon", "metrics")}), allow_nan=False))
    else:
        print(format_metrics(report))
        for path in report.get("files", {}).values():
            print(f"wrote {path}")
        if report.get("files"):
            print(f"(the last {report['holdout']} points held out, not a forecast past the end: --model hybrid "
                  "or lstm writes that)")
    return 0
