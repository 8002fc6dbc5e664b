"""Rolling-origin evaluation of the LSTM models against the statistical peers, on a long-format frame.

For each cutoff (the last one h steps before the end, the others --step apart, --folds in all) every
model is refitted on the data up to the cutoff only and forecasts the next h steps. Per series and
fold: MAE, RMSE, sMAPE, MASE (scaled by the seasonal-naive MAE of the training part) for every model;
their mean over folds; and for the panel, the geometric mean over series and folds of

    relative MAE = MAE(model) / min(MAE(ETS), MAE(AutoARIMA), MAE(Theta))

so 1.0 means "as good as the best statistical model on every series", below 1.0 better. With the
ES-LSTM and the peers, `selected` is the forecast of whichever of them forecast each series' last h
points up to the cutoff best (selection.py).
"""
import math
import time

import numpy as np

from .api import LSTMForecaster
from .frame import exogenous_columns, prepare, season_lengths, split_series, stamp_text
from .metrics import format_number, format_table, mae, mase, rmse, smape
from .peers import STATISTICAL, all_peers, peer_season, statsforecast_available
from .seasonality import frequency_in_words, frequency_name, usable_season
from .selection import select, validation_scores
from .smoothing import smoothing_forecast, smoothing_periods

MODELS = {"hybrid": "ES-LSTM", "lstm": "LSTM"}
# the report's table: (title, least width, decimals)
COLUMNS = [("model", 16, None), ("MAE", 12, 3), ("RMSE", 12, 3), ("sMAPE %", 10, 2), ("MASE", 8, 3),
           ("rel. MAE", 10, 3)]


def metrics(actual, forecast, history, period):
    """MAE, RMSE, sMAPE, MASE; None where a metric is undefined (MASE of a history without change)."""
    values = {"mae": mae(actual, forecast), "rmse": rmse(actual, forecast), "smape": smape(actual, forecast),
              "mase": mase(actual, forecast, history, period)}
    return {name: (value if value is not None and math.isfinite(value) else None) for name, value in values.items()}


def undefined_reasons(report):
    """Human-readable reasons for every metric reported as None."""
    reasons = set()
    for row in report["rows"]:
        for model, values in row["metrics"].items():
            if values.get("mase") is None:
                reasons.add(f"MASE of series {row['unique_id']!r} is undefined: its training part never changes "
                            "from one season to the next (the scale is 0)")
            if values.get("mae") is None:
                reasons.add(f"{model} gave no forecast for series {row['unique_id']!r}")
    return sorted(reasons)


def evaluate(df, h, folds=1, step=None, models=("hybrid", "lstm"), freq=None, season_length=None, peers=True,
             progress=False, keep_forecasts=False, **config):
    """Forecast the last ``folds`` windows of every series with every model; see the module doc.
    keep_forecasts: each row also has the h values that happened (``actual``) and every model's forecast of
    them (``forecasts``: name -> list), to plot them or score other ways of combining the models."""
    import pandas as pd
    frame = df if df.attrs.get("prepared") else prepare(df, freq=freq)
    lengths = season_lengths(frame, season_length)
    step = h if step is None else step            # 0 is refused by cross_validation, not taken as h
    if peers and not statsforecast_available():
        raise ImportError("the statistical peers need statsforecast: pip install 'lstmlab[forecast]' "
                          "(or pass peers=False / --no-peers)")
    timings = {}
    forecasts = {}
    select_models = peers and "hybrid" in models          # the selected forecast needs the ES-LSTM and the peers
    for model in models:
        start = time.perf_counter()
        cv = LSTMForecaster(h, frame.attrs["freq"], season_length, model, **config).cross_validation(
            frame, n_windows=folds, step_size=step, progress=progress, validation=select_models and model == "hybrid")
        timings[MODELS[model]] = time.perf_counter() - start
        forecasts[MODELS[model]] = cv
    rows = []
    series = {s.unique_id: s for s in split_series(frame)}
    reference = next(iter(forecasts.values()))
    for (uid, cutoff), part in reference.groupby(["unique_id", "cutoff"], sort=False):
        full = series[uid]
        stamps = list(full.ds)
        end = stamps.index(cutoff) + 1
        history, actual = full.y[:end], part["y"].to_numpy()
        period = usable_season(lengths, len(history))
        peer_seasons = {}
        predictions = {name: cv[(cv.unique_id == uid) & (cv.cutoff == cutoff)][name].to_numpy()
                       for name, cv in forecasts.items()}
        # the hybrid's smoothing alone (its forecast before any training): what the LSTM adds is the difference
        columns = exogenous_columns(frame)          # with their actual values over the window, as the LSTM models
        exogenous = full.exogenous_matrix(columns)[:end + h] if columns else None
        # what the ES-LSTM's smoothing models (the seasons the user named, untested)
        smoothing_seasons = smoothing_periods(history, lengths, h, tested=not season_length,
                                              exogenous=None if exogenous is None else exogenous[:end])
        predictions["smoothing"] = smoothing_forecast(
            history, smoothing_seasons, h, config.get("seasonality", "auto"),
            config.get("trend", True), fit_horizon=1 if config.get("smoothing_fit") == "one-step" else h, name=uid,
            exogenous=exogenous)
        if peers:
            start = time.perf_counter()
            for name, values in all_peers(history, h, period, season_lengths=lengths, exogenous=exogenous).items():
                if not name.startswith("_"):
                    predictions[name] = values
            peer_seasons = {name: peer_season(lengths or [period], len(history), name) for name in STATISTICAL}
            timings["statistical peers"] = timings.get("statistical peers", 0.0) + time.perf_counter() - start
        if select_models:
            start = time.perf_counter()
            hybrid = forecasts[MODELS["hybrid"]]
            network_mae = hybrid[(hybrid.unique_id == uid) & (hybrid.cutoff == cutoff)][
                f"{MODELS['hybrid']}-validation-mae"].iloc[0]                                 # NaN: not held out
            validation = validation_scores(history, h, lengths, None if pd.isna(network_mae) else float(network_mae),
                                           exogenous=None if exogenous is None else exogenous[:end])
            chosen = select(validation, predictions)
            predictions["selected"] = predictions[chosen]
            selected = {"model": chosen, "validation_mae": validation}
            timings["selection"] = timings.get("selection", 0.0) + time.perf_counter() - start
        scores = {name: metrics(actual, values, history, period) if np.isfinite(values).all()
                  else {"mae": None, "rmse": None, "smape": None, "mase": None}
                  for name, values in predictions.items()}
        row = {"unique_id": uid.item() if isinstance(uid, np.generic) else uid, "cutoff": stamp_text(cutoff), "period": period, "peer_seasons": peer_seasons,
               "smoothing_seasons": list(smoothing_seasons), "metrics": scores}
        if select_models:
            row["selected"] = selected
        if keep_forecasts:
            row["actual"] = actual.tolist()
            row["forecasts"] = {name: np.asarray(values, dtype=np.float64).tolist() for name, values in predictions.items()}
        statistical = [scores[name]["mae"] for name in STATISTICAL if name in scores and scores[name]["mae"] is not None]
        if statistical:
            best = min(statistical)
            row["relative_mae"] = {name: (s["mae"] / best if s["mae"] is not None and best > 0 else None)
                                   for name, s in scores.items()}
        rows.append(row)
    return {"horizon": int(h), "folds": int(folds), "step": int(step), "freq": frequency_name(frame.attrs["freq"]),
            "season_lengths": lengths, "exogenous": exogenous_columns(frame), "rows": rows,
            "summary": summarize(rows), "seconds": timings}


def summarize(rows):
    """Mean of each metric over folds and series, and the geometric mean of relative MAE."""
    names = list(rows[0]["metrics"]) if rows else []
    summary = {}
    for name in names:
        entry = {}
        for metric in ("mae", "rmse", "smape", "mase"):
            values = [row["metrics"][name][metric] for row in rows if row["metrics"][name][metric] is not None]
            entry[metric] = float(np.mean(values)) if len(values) == len(rows) else None
        relative = [row.get("relative_mae", {}).get(name) for row in rows]
        entry["relative_mae_geomean"] = float(np.exp(np.mean(np.log(relative)))) \
            if relative and all(r is not None and r > 0 for r in relative) else None
        summary[name] = entry
    return summary


def format_report(report):
    words = frequency_in_words(report["freq"])
    folds = "1 fold" if report["folds"] == 1 else f"{report['folds']} folds {report['step']} steps apart"
    lines = [f"horizon {report['horizon']}, {folds}, frequency "
             f"{report['freq']}{f' ({words})' if words else ''}, season lengths "
             f"{report['season_lengths'] or 'none'}"]
    if report.get("exogenous"):
        # said plainly: the LSTM models are scored with these columns' actual values over each forecast window
        regression = any("autoarima_x" in row["metrics"] for row in report["rows"])
        lines.append(f"exogenous inputs: {', '.join(map(str, report['exogenous']))} — the LSTM models read their "
                     "actual values over each forecast window (as a scenario would give them)"
                     + (", and so does autoarima_x (AutoARIMA with them as regressors); the other statistical "
                        "models use none" if regression else "; the statistical models use none")
                     + " (--no-exogenous: the target alone, for all)")
    for uid in dict.fromkeys(row["unique_id"] for row in report["rows"]):
        lines.append(f"\nseries {uid!s}")
        for row in (r for r in report["rows"] if r["unique_id"] == uid):
            seasons = row.get("peer_seasons", {})
            differ = "" if set(seasons.values()) <= {row["period"]} else \
                "; the peers': " + ", ".join(f"{name} {m}" for name, m in seasons.items())
            several = list(row.get("smoothing_seasons", []))
            # the ES-LSTM's smoothing needs two cycles before the last h points: it may model fewer seasons
            smoothing = "" if several == [row["period"]] or (not several and row["period"] == 1) else \
                f"; the smoothing's: {', '.join(map(str, several)) or 'none'}"
            season = f"season length {row['period']}" if row["period"] > 1 else "no season"
            lines.append(f"  cutoff {row['cutoff']} ({season}{smoothing}{differ})")
            table = [(name, m["mae"], m["rmse"], m["smape"], m["mase"], row.get("relative_mae", {}).get(name))
                     for name, m in row["metrics"].items()]
            lines.extend("  " + line for line in format_table(COLUMNS, table))
            if "selected" in row:
                validation = row["selected"]["validation_mae"]
                scored = ", ".join(f"{name} {format_number(value)}" for name, value in validation.items())
                missing = "" if "ES-LSTM" in validation else \
                    ("; the ES-LSTM is not scored: the series is too short for early stopping to hold those points "
                     "out (where no series can, its network is not trained: its forecast is the smoothing's)")
                lines.append(f"  selected: {row['selected']['model']} (MAE on the last {report['horizon']} points "
                             f"up to the cutoff; the peers refitted without them, the ES-LSTM on the window its "
                             f"early stopping held out: {scored or 'none scored'}{missing})")
    panel = len({row["unique_id"] for row in report["rows"]}) > 1
    lines.append("\nmean over series and folds (rel. MAE: geometric mean of MAE / best of ETS, AutoARIMA, Theta"
                 + ("; MAE and RMSE average series in their own units: compare models across series by rel. MAE "
                    "or MASE)" if panel else ")"))
    lines.extend(format_table(COLUMNS, [(name, m["mae"], m["rmse"], m["smape"], m["mase"], m["relative_mae_geomean"])
                                        for name, m in report["summary"].items()]))
    for reason in undefined_reasons(report):
        lines.append(f"— : {reason}")
    lines.append("time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report["seconds"].items()))
    return "\n".join(lines)
