"""Lookback windows, chronological splits, and scalers fit on the training part only."""
import numpy as np


def make_windows(values, lookback, horizon, exogenous=None):
    """Slide a window over a series: the past ``lookback`` steps -> the NEXT ``horizon`` values.

    values: (N,) or (N, S) for S series; exogenous: optional (N, E) columns known at each step.
    Returns inputs (W, lookback, S + E) and targets (W, horizon) or (W, horizon, S), where
    W = N − lookback − horizon + 1. Targets start after the window ends: never the inputs themselves.
    """
    values = np.asarray(values, dtype=np.float64)
    series = values[:, None] if values.ndim == 1 else values                    # (N, S)
    features = series if exogenous is None else np.concatenate([series, np.asarray(exogenous)], axis=1)
    count = len(series) - lookback - horizon + 1
    if count < 1:
        raise ValueError(f"a series of {len(series)} steps is too short for lookback {lookback} + horizon {horizon}")
    starts = np.arange(count)
    inputs = features[starts[:, None] + np.arange(lookback)]                     # (W, lookback, F)
    targets = series[starts[:, None] + lookback + np.arange(horizon)]             # (W, horizon, S)
    return inputs, (targets[..., 0] if values.ndim == 1 else targets)


def chronological_split(length, validation, test):
    """Index ranges (train, validation, test) in time order: the last ``test`` steps are the test part,
    the ``validation`` steps before them the validation part, everything earlier is training."""
    if validation < 0 or test < 0 or length - validation - test < 1:
        raise ValueError(f"cannot split {length} steps into validation {validation} and test {test}")
    train_end = length - validation - test
    return range(0, train_end), range(train_end, length - test), range(length - test, length)


class Scaler:
    """Base: ``fit`` on the training part only, then ``transform`` / ``inverse_transform`` anything."""

    def fit(self, values):
        values = np.asarray(values, dtype=np.float64)
        self.center, self.scale = self._statistics(values)
        self.scale = np.where(self.scale > 0, self.scale, 1.0)     # a constant column: leave it unscaled
        return self

    def transform(self, values):
        return (np.asarray(values, dtype=np.float64) - self.center) / self.scale

    def inverse_transform(self, values):
        return np.asarray(values, dtype=np.float64) * self.scale + self.center

    def state(self):
        return {"kind": self.kind, "center": np.asarray(self.center).tolist(), "scale": np.asarray(self.scale).tolist()}

    @staticmethod
    def from_state(state):
        scaler = SCALERS[state["kind"]]()
        scaler.center, scaler.scale = np.asarray(state["center"]), np.asarray(state["scale"])
        return scaler


class StandardScaler(Scaler):
    kind = "standard"

    def _statistics(self, values):
        return values.mean(axis=0), values.std(axis=0)


class RobustScaler(Scaler):
    """Median and interquartile range: one outlier in training does not stretch the scale."""
    kind = "robust"

    def _statistics(self, values):
        q1, median, q3 = np.percentile(values, [25, 50, 75], axis=0)
        return median, q3 - q1


class MinMaxScaler(Scaler):
    kind = "minmax"

    def _statistics(self, values):
        low, high = values.min(axis=0), values.max(axis=0)
        return low, high - low


SCALERS = {cls.kind: cls for cls in (StandardScaler, RobustScaler, MinMaxScaler)}
