"""The statistical peers every lstmlab forecast is reported next to: naive, seasonal naive (the true
period), and ETS, AutoARIMA and Theta from statsforecast (the `lstmlab[forecast]` extra).

statsforecast's models choose their own form per series (AutoETS: error/trend/season by AICc;
AutoARIMA: orders by a stepwise search; AutoTheta: the best of four Theta variants). They are called
as a statistician would call them: defaults, only the season length given (the longest each takes).

What that gives is reported as it is. On AirPassengers' first 132 months (statsforecast 2.1) AutoETS
picks ETS(M,N,M), no trend, by AICc: its own fit of ETS(M,A,M) scores 65 AICc worse, where statsmodels'
fit of the same two models prefers M,A,M by 4. Its 12-month forecast misses the trend (MAE 35.6;
statsforecast's M,A,M would give 19.7, statsmodels' additive-trend Holt-Winters 10.3). We do not pick
the form for it.
"""
import warnings

import numpy as np

STATISTICAL = ("ets", "autoarima", "theta")
BASELINES = ("naive", "seasonal_naive")
WITH_EXOGENOUS = "autoarima_x"      # AutoARIMA with the exogenous columns as regressors: the peer given what the LSTM is


def naive(history, horizon):
    """Repeat the last value. (h,)"""
    return np.full(horizon, float(np.asarray(history)[-1]))


def seasonal_naive(history, horizon, period):
    """Repeat the last season; naive when there is no season (or less than one in the history). (h,)"""
    history = np.asarray(history, dtype=np.float64)
    if period <= 1 or len(history) < period:
        return naive(history, horizon)
    return history[-period:][np.arange(horizon) % period]


def statsforecast_available():
    try:
        with warnings.catch_warnings():          # statsforecast imports tqdm.auto: in a notebook without
            warnings.filterwarnings("ignore", message="IProgress not found")    # ipywidgets that warns
            import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


# the longest season each statsforecast model takes: ETS refuses more than 24 (as R's ets); a seasonal
# AutoARIMA past 24 is impractically slow (measured on one core: m=48 on taylor's 3,984 half-hours ran
# past 10 min, m=52 on co2_weekly's 613 weeks past 4 min, unfinished); Theta deseasonalises by classical
# decomposition, any length
LONGEST_SEASON = {"ets": 24, "autoarima": 24, "theta": None}


def peer_season(season_lengths, length, model):
    """The longest of ``season_lengths`` with two whole cycles in ``length`` points that ``model`` takes; 1 if none.

    On half-hourly data (48 and 336) ETS and ARIMA are non-seasonal, Theta gets the weekly 336.
    """
    limit = LONGEST_SEASON[model]
    usable = [m for m in season_lengths if m > 1 and 2 * m <= length and (limit is None or m <= limit)]
    return max(usable) if usable else 1


def peer_models(exogenous=None):
    """The statistical peers to fit: ETS, AutoARIMA, Theta, and autoarima_x when there are exogenous columns."""
    return STATISTICAL + ((WITH_EXOGENOUS,) if exogenous is not None else ())


def statistical(history, horizon, period, models=STATISTICAL, season_lengths=None, exogenous=None):
    """{name: (h,)} forecasts of statsforecast's AutoETS, AutoARIMA and AutoTheta after ``history``
    (and of autoarima_x, given ``exogenous``: see fit_peer).

    Each model gets the longest of ``season_lengths`` (default: [period]) that it takes (peer_season).
    Each chooses its own form (see the module doc).
    """
    out = {}
    for name in models:
        try:
            out[name] = fit_peer(name, history, horizon, period, season_lengths, exogenous=exogenous)["mean"]
        except ImportError:
            raise
        except Exception as error:                       # a peer that cannot fit is reported, not fatal
            out[name] = np.full(horizon, np.nan)
            out.setdefault("_errors", {})[name] = f"{type(error).__name__}: {error}"
    return out


def fit_peer(name, history, horizon, period, season_lengths=None, level=(), exogenous=None):
    """One statsforecast model after ``history``: {"mean": (h,)} and, for each level (80, 90), its prediction
    interval {"lo-80": (h,), "hi-80": (h,), …}. Its season: the longest it takes (peer_season).

    name "autoarima_x": AutoARIMA with ``exogenous`` (N + h, E) as regressors — the fitted points' values
    and the forecast steps' (a regression with ARIMA errors, as R's auto.arima(xreg = …))."""
    if not statsforecast_available():
        raise ImportError("the statistical peers need statsforecast: pip install 'lstmlab[forecast]'")
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta
    history = np.asarray(history, dtype=np.float64)
    regressors = {}
    if name == WITH_EXOGENOUS:
        exogenous = np.asarray(exogenous, dtype=np.float64)
        regressors = {"X": exogenous[:len(history)], "X_future": exogenous[len(history):len(history) + horizon]}
        name = "autoarima"
    season = peer_season(list(season_lengths) if season_lengths else [period], len(history), name)
    model = {"ets": AutoETS, "autoarima": AutoARIMA, "theta": AutoTheta}[name](season_length=season)
    out = model.forecast(y=history, h=horizon, **regressors, **({"level": list(level)} if level else {}))
    return {key: np.asarray(value, dtype=np.float64) for key, value in out.items()}


def all_peers(history, horizon, period, with_statistics=True, season_lengths=None, exogenous=None):
    """naive, seasonal naive and the statistical peers; with ``exogenous`` (N + h, E columns) also
    autoarima_x, the one peer that reads them."""
    peers = {"naive": naive(history, horizon), "seasonal_naive": seasonal_naive(history, horizon, period)}
    if with_statistics:
        peers.update(statistical(history, horizon, period, peer_models(exogenous), season_lengths, exogenous))
    return peers
