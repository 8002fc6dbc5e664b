"""The statistical peers every lstmlab forecast is reported next to: naive, seasonal naive (the true
period), and ETS, AutoARIMA and Theta from statsforecast (the `lstmlab[forecast]` extra).

statsforecast's models choose their own form per series (AutoETS: error/trend/season by AICc;
AutoARIMA: orders by a stepwise search; AutoTheta: the best of four Theta variants).
"""
import numpy as np

STATISTICAL = ("ets", "autoarima", "theta")
BASELINES = ("naive", "seasonal_naive")


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
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


def statistical(history, horizon, period, models=STATISTICAL):
    """{name: (h,)} forecasts of statsforecast's AutoETS, AutoARIMA and AutoTheta after ``history``.

    A season longer than statsforecast's ETS and Theta allow (they need at least two cycles, and ETS
    at most 24 periods) falls back to their non-seasonal forms; the name says so with "(m=1)".
    """
    if not statsforecast_available():
        raise ImportError("the statistical peers need statsforecast: pip install 'lstmlab[forecast]'")
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    history = np.asarray(history, dtype=np.float64)
    out = {}
    seasonal = period if period > 1 and len(history) >= 2 * period else 1
    makers = {"ets": lambda: AutoETS(season_length=seasonal if seasonal <= 24 else 1),
              "autoarima": lambda: AutoARIMA(season_length=seasonal if seasonal <= 52 else 1),
              "theta": lambda: AutoTheta(season_length=seasonal)}
    for name in models:
        try:
            out[name] = np.asarray(makers[name]().forecast(y=history, h=horizon)["mean"], dtype=np.float64)
        except Exception as error:                       # a peer that cannot fit is reported, not fatal
            out[name] = np.full(horizon, np.nan)
            out.setdefault("_errors", {})[name] = f"{type(error).__name__}: {error}"
    return out


def all_peers(history, horizon, period, with_statistics=True):
    peers = {"naive": naive(history, horizon), "seasonal_naive": seasonal_naive(history, horizon, period)}
    if with_statistics:
        peers.update(statistical(history, horizon, period))
    return peers
