"""Forecast errors and the baselines every forecast is reported next to."""
import numpy as np


def mae(actual, forecast):
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))


def rmse(actual, forecast):
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def mape(actual, forecast):
    """Mean absolute percentage error, in percent (undefined when an actual value is 0)."""
    actual, forecast = np.asarray(actual, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    if (actual == 0).any():
        return float("nan")
    return float(100 * np.mean(np.abs((actual - forecast) / actual)))


def smape(actual, forecast):
    """Symmetric MAPE in percent: 200 · |a − f| / (|a| + |f|), 0 where both are 0."""
    actual, forecast = np.asarray(actual, dtype=np.float64), np.asarray(forecast, dtype=np.float64)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(actual - forecast), denominator, out=np.zeros_like(denominator),
                      where=denominator > 0)
    return float(100 * np.mean(ratio))


def mase(actual, forecast, history, period=1):
    """MAE scaled by the in-sample MAE of the (seasonal) naive forecast on the training history."""
    history = np.asarray(history, dtype=np.float64)
    period = period if len(history) > period else 1
    scale = np.mean(np.abs(history[period:] - history[:-period]))
    return float(mae(actual, forecast) / scale) if scale > 0 else float("nan")


def all_metrics(actual, forecast, history, period=1):
    return {"mae": mae(actual, forecast), "rmse": rmse(actual, forecast), "mape": mape(actual, forecast),
            "smape": smape(actual, forecast), "mase": mase(actual, forecast, history, period)}


def format_number(value, decimals=3):
    """A metric as the reports print it: fixed point where that keeps two significant digits and stays
    short (0.042, 1234.567) — with more decimals for a small value down to 1e-4 (0.0040 at 3 decimals, an
    sMAPE of 0.059 at 2: a column of sMAPEs reads 0.52 beside 0.059, not beside 5.90e-02) — scientific
    otherwise (1.100e+12, and 1.100e-09 rather than 0.000); — when undefined."""
    if value is None or not np.isfinite(value):
        return "—"
    if value == 0 or 10.0 ** (1 - decimals) <= abs(value) < 1e7:
        return f"{value:.{decimals}f}"
    if 1e-4 <= abs(value) < 1:                   # two significant digits: 0.0040, 0.059 (0.0995 -> 0.10)
        digits = 1 - int(np.floor(np.log10(abs(value))))
        if round(abs(value), digits) >= 10.0 ** (2 - digits):
            digits -= 1                              # rounds up into the next decade
        return f"{value:.{max(digits, decimals)}f}"
    return f"{value:.{decimals}e}"


def format_table(columns, rows):
    """The lines of a table. columns: (title, width, decimals) each, the first for the row names; rows:
    (name, value, …) each. A column widens to keep two spaces before its longest cell: none run together."""
    cells = [[str(row[0])] + [format_number(value, decimals) for value, (_, _, decimals) in zip(row[1:], columns[1:])]
             for row in rows]
    titles = [title for title, _, _ in columns]
    widths = [max([width, len(titles[k]) + 2] + [len(texts[k]) + 2 for texts in cells])
              for k, (_, width, _) in enumerate(columns)]

    def line(texts):
        return texts[0].ljust(widths[0]) + "".join(text.rjust(width) for text, width in zip(texts[1:], widths[1:]))
    return [line(titles)] + [line(texts) for texts in cells]


def naive_forecast(history, horizon):
    """Repeat the last observed value."""
    return np.full(horizon, float(np.asarray(history)[-1]))


def seasonal_naive_forecast(history, horizon, period):
    """Repeat the last observed season."""
    history = np.asarray(history, dtype=np.float64)
    if period <= 1 or len(history) < period:
        return naive_forecast(history, horizon)
    last_season = history[-period:]
    return last_season[np.arange(horizon) % period]


def linear_forecast(history, horizon, lookback):
    """Least squares from the same lookback window straight to the next ``horizon`` values (direct),
    on values relative to the window's last value, so a trend carries over.

    With fewer windows than coefficients the fit interpolates its training windows and extrapolates wildly
    (72 monthly stock closes, lookback 36: MAE 93 against the naive forecast's 8), so the lookback is
    shortened until there are at least two windows per coefficient:
        W = N − L − h + 1 ≥ 2 (L + 1)   ⇔   L ≤ (N − h − 1) / 3"""
    from .windows import make_windows
    history = np.asarray(history, dtype=np.float64)
    lookback = max(1, min(lookback, (len(history) - horizon - 1) // 3))
    inputs, targets = make_windows(history, lookback, horizon)                   # (W, L, 1), (W, h)
    last = inputs[:, -1, :1]                                                     # (W, 1)
    design = np.concatenate([inputs[..., 0] - last, np.ones((len(inputs), 1))], axis=1)   # (W, L + 1)
    coefficients, *_ = np.linalg.lstsq(design, targets - last, rcond=None)       # (L + 1, h)
    window = history[-lookback:]
    features = np.concatenate([window - window[-1], [1.0]])
    return window[-1] + features @ coefficients
