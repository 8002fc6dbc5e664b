"""The `selected` forecast: per series, whichever of the ES-LSTM, AutoETS, AutoARIMA and AutoTheta
forecast that series' last h points up to the cutoff best.

No model wins everywhere: on the development panel the best statistical peer changes from series to
series, and the ES-LSTM loses to AutoARIMA on series the panel never saw (README, "The development
panel"). So each candidate forecasts the last h points of the training data from the points before
them, and the one with the lowest MAE there makes the series' forecast:

    validation MAE(model) = mean |y_{N−h+k} − ŷ_k|, k = 1..h,   ŷ from the first N − h points only
    selected = argmin over {ES-LSTM, ets, autoarima, theta}   (and autoarima_x, with exogenous columns)

The peers are refitted on the first N − h points (each with the season those allow: on a short series
that can be none, where the forecast after all N points has one). The ES-LSTM is not: early stopping
already held that window out of every member's training (LSTMForecaster.validation_mae), so it costs no
second fit. Its score is optimistic, and the selection leans to it (a tie goes to it as well): each member's checkpoint
was chosen on that window, and the smoothing's parameters were fitted on all N points. Measured where a
fold's validation window is the previous fold's test window, it is 0.86× its out-of-sample MAE there
(geometric mean over 48 cases). Benchmark: benchmarks/forecast_panel/selection.py.
"""
import warnings

import numpy as np

from .api import interval_columns, interval_levels
from .metrics import mae
from .peers import STATISTICAL, WITH_EXOGENOUS, fit_peer, peer_models, statistical
from .seasonality import usable_season

NETWORK = "ES-LSTM"
CANDIDATES = (NETWORK,) + STATISTICAL + (WITH_EXOGENOUS,)


def validation_scores(history, h, season_lengths, network_mae, exogenous=None):
    """{candidate: MAE on the last h points of ``history``}: the peers fitted on the points before them,
    the network's from its own held-out window (``network_mae``; None: not scored). A candidate that cannot
    forecast there (too few points, a failed fit) is left out. ``exogenous`` (N, E), the columns over
    ``history``: autoarima_x is a candidate too, with their actual values over the held-out points."""
    history = np.asarray(history, dtype=np.float64)
    fitted, held_out = history[:-h], history[-h:]
    scores = {NETWORK: network_mae} if network_mae is not None and np.isfinite(network_mae) else {}
    if len(fitted) < 2:
        return scores
    period = usable_season(season_lengths, len(fitted))
    with warnings.catch_warnings():
        # a fit on a flat stretch divides by its zero variance inside statsmodels (Theta's test for a season):
        # numpy's warning would be about a shorter history the user never gave; a forecast that is not
        # finite is left out below
        warnings.simplefilter("ignore", RuntimeWarning)
        forecasts = statistical(fitted, h, period, peer_models(exogenous), season_lengths, exogenous)
    for name, forecast in forecasts.items():
        if name in CANDIDATES and np.isfinite(forecast).all():
            scores[name] = mae(held_out, forecast)
    return scores


def ranking(scores):
    """The scored candidates, lowest validation MAE first (the network first on a tie)."""
    return sorted((name for name in CANDIDATES if name in scores), key=lambda name: (scores[name], name != NETWORK))


def select(scores, forecasts=None):
    """The candidate with the lowest validation MAE whose forecast (``forecasts``: name -> (h,)) is finite —
    a peer that fitted the shorter history may fail on the whole one; the network when none is left."""
    for name in ranking(scores):
        if forecasts is None or np.isfinite(forecasts[name]).all():
            return name
    return NETWORK


def selected_forecast(history, h, season_lengths, network_mae, network_forecast):
    """-> (the candidate selected after ``history``, its forecast of the next h points (h,), the scores):
    the network's own forecast when it is selected, else that peer fitted on the whole history."""
    chosen, columns, scores = _selected_columns(history, h, season_lengths, network_mae,
                                                {"mean": np.asarray(network_forecast, dtype=np.float64)})
    return chosen, columns["mean"], scores


def _selected_columns(history, h, season_lengths, network_mae, network_columns, level=(), exogenous=None):
    """selected_forecast with the chosen model's prediction intervals: (chosen, {"mean", "lo-80", "hi-80", …},
    scores). A peer ranked above the network is refitted on the whole history, best first, until one fits.
    ``exogenous`` (N + h, E): the columns over the history and the forecast steps (autoarima_x competes)."""
    scores = validation_scores(history, h, season_lengths, network_mae,
                               None if exogenous is None else exogenous[:len(history)])
    period = usable_season(season_lengths, len(history))
    for name in ranking(scores):
        if name == NETWORK:
            break
        try:
            columns = fit_peer(name, history, h, period, season_lengths, level, exogenous)
        except Exception:                                   # as statistical(): a peer that cannot fit passes
            continue
        if all(np.isfinite(values).all() for values in columns.values()):
            return name, columns, scores
    return NETWORK, network_columns, scores


def selected_frame(forecaster, forecast=None, level=(80, 90), X_df=None):
    """The selected forecast past the end of a fitted LSTMForecaster's data (model="hybrid"), for every series:
    a DataFrame unique_id, ds, selected, selected-lo-90, selected-lo-80, … (the chosen model's own intervals:
    the ES-LSTM's quantiles, or the peer's prediction intervals), selected_model; the scores it was selected
    by are in its attrs["validation_mae"] ({unique_id: {candidate: MAE}}). ``forecast``: the forecaster's
    predict(level=level, X_df=X_df), if made. X_df: the exogenous columns' future, as predict takes it; with
    it autoarima_x is a candidate too."""
    import pandas as pd
    if forecaster.model != "hybrid":
        raise ValueError(f"the selected forecast picks between the ES-LSTM and the peers; this forecaster is "
                         f"model={forecaster.model!r}")
    level = interval_levels(level)                 # as predict takes it: None, 90, [80.0]
    X_df = None if X_df is None else forecaster._from_user(X_df)                  # fit's id_col, time_col -> ours
    forecast = forecaster._predict(None, X_df, level) if forecast is None else forecaster._from_user(forecast)
    bands = interval_columns(level)                                     # lo-90, lo-80, hi-80, hi-90
    wanted = [f"{forecaster.alias}-{band}" for band in bands]
    lacking = [name for name in wanted if name not in forecast.columns]
    if lacking:
        raise ValueError(f"the forecast passed in lacks {', '.join(lacking)}: make it with predict(level={list(level)}), "
                         "or pass the level it was made with")
    scenario = forecaster._scenario(X_df) if forecaster.exogenous_ else {}            # {uid: (h, E)}
    validation = forecaster.validation_mae()
    parts, scores = [], {}
    for series in forecaster.series_:
        rows = (forecast["unique_id"] == series.unique_id).to_numpy()
        network = {"mean": forecast.loc[rows, forecaster.alias].to_numpy()}                  # (h,) each
        network.update({band: forecast.loc[rows, f"{forecaster.alias}-{band}"].to_numpy() for band in bands})
        exogenous = None
        if scenario:                               # the fitted points' values, then the scenario's: (N + h, E)
            exogenous = np.concatenate([series.exogenous_matrix(forecaster.exogenous_), scenario[series.unique_id]])
        chosen, columns, scores[series.unique_id] = _selected_columns(
            series.y, forecaster.h, list(forecaster.frequency_seasons_), validation[series.unique_id], network, level,
            exogenous)
        part = {"unique_id": [series.unique_id] * forecaster.h, "ds": forecast.loc[rows, "ds"].to_numpy(), "selected": columns["mean"]}
        part.update({f"selected-{band}": columns[band] for band in bands})
        part["selected_model"] = chosen
        parts.append(pd.DataFrame(part))
    out = forecaster._to_user(pd.concat(parts, ignore_index=True))
    out.attrs["validation_mae"] = scores
    return out
