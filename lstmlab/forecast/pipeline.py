"""Forecaster: from a Series to forecasts, the careful way.

1. Transform: log for a positive series (multiplicative seasonality becomes additive), then a
   scaler fit on the training months only.
2. Windows relative to their last value: the model sees shapes, not levels, so a trend that
   leaves the training range does not leave the model's input range.
3. Validation = the last ``horizon`` training months (never the test months): early stopping picks
   the number of epochs; then the model is refit on all training months for that many epochs.
4. An ensemble of a few seeds, averaged: small data makes single networks noisy.
"""
import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch

from .metrics import all_metrics, linear_forecast, naive_forecast, seasonal_naive_forecast
from .hybrid import fixed_work_split, torch_threads as one_thread
from .models import MultiHorizonLSTM, NextStepLSTM, Seq2SeqLSTM, quantile_loss
from .training import fit
from .windows import SCALERS, Scaler

KINDS = ("next-step", "seq2seq", "multi-horizon")
CONFIG_VERSION = 1
# a saved config.json is checked against these before any model is built (a file can claim anything)
LIMITS = {"hidden_size": 4096, "mlp_size": 16384, "horizon": 10_000, "lookback": 100_000, "period": 100_000,
          "ensemble": 100}


@dataclass
class ForecastConfig:
    kind: str = "multi-horizon"
    horizon: int = 12
    lookback: int = 36
    period: int = 12
    exogenous: Tuple[str, ...] = ()     # names of exogenous columns used (seq2seq)
    log: bool = True
    scaler: str = "standard"
    hidden_size: int = 32
    mlp_size: int = 64
    dropout: float = 0.1
    quantiles: Tuple[float, ...] = (0.05, 0.1, 0.5, 0.9, 0.95)   # multi-horizon with loss="quantile"
    loss: str = "quantile"              # multi-horizon: "quantile" (intervals), or a point loss "mse" / "mae"
    ensemble: int = 5
    epochs: int = 500
    patience: int = 80
    lr: float = 5e-3
    lr_decay: float = 0.998
    seed: int = 0
    backend: str = "auto"

    def validate(self):
        if self.kind not in KINDS:
            raise ValueError(f"model kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        for name in ("horizon", "lookback", "period", "hidden_size", "ensemble", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.loss not in ("quantile", "mse", "mae"):
            raise ValueError(f"loss must be 'quantile', 'mse' or 'mae', got {self.loss!r}")
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler must be one of {', '.join(SCALERS)}, got {self.scaler!r}")
        if list(self.quantiles) != sorted(self.quantiles) or not all(0 < q < 1 for q in self.quantiles) \
                or 0.5 not in self.quantiles:
            raise ValueError(f"quantiles must be increasing in (0, 1) and include 0.5, got {self.quantiles}")


@dataclass
class Forecast:
    point: np.ndarray                               # (h,) in the series' units
    intervals: dict = field(default_factory=dict)   # {80: (lower (h,), upper (h,)), 90: ...}


class Forecaster:
    """Fit on a Series' training part; forecast ``horizon`` steps after any history."""

    def __init__(self, config: ForecastConfig):
        config.validate()
        self.config = config
        self.scaler: Optional[Scaler] = None
        self.exogenous_scaler: Optional[Scaler] = None
        self.members = []
        self.history = []

    # --- features --------------------------------------------------------------------------
    def _log(self, values):
        values = np.asarray(values, dtype=np.float64)
        if not self.config.log:
            return values
        if (values <= 0).any():
            raise ValueError("log transform needs a positive series; set log=False")
        return np.log(values)

    def _transform(self, values):
        return self.scaler.transform(self._log(values))

    def _inverse(self, scaled):
        values = self.scaler.inverse_transform(scaled)
        return np.exp(values) if self.config.log else values

    def _calendar(self, season, length):
        """One-hot calendar dummies (N, period); (N, 0) without a season."""
        if season is None or self.config.period <= 1:
            return np.zeros((length, 0))
        return np.eye(self.config.period)[np.asarray(season)]

    def _exogenous(self, series):
        if not self.config.exogenous:
            return np.zeros((len(series), 0))
        columns = np.stack([series.exogenous[name] for name in self.config.exogenous], axis=1)   # (N, E)
        return self.exogenous_scaler.transform(columns)

    def _examples(self, scaled, calendar, exogenous, ends):
        """Model inputs and targets for windows whose inputs end at each index in ``ends`` (exclusive)."""
        c, lookback, horizon = self.config, self.config.lookback, self.config.horizon
        if c.kind == "seq2seq":
            # Row k of the inputs predicts the change into step k + 2, so it carries that step's own
            # exogenous change x_{k+2} − x_{k+1} and calendar: the scenario value of a forecast step
            # drives that step. When forecasting, exogenous and calendar hold one row past the
            # series (the step being predicted); in training that row exists in the data.
            steps = np.diff(scaled)                                        # (N−1,) stationary first differences
            exogenous = exogenous if exogenous.shape[1] else np.zeros((len(calendar), 0))
            ahead = _pad_rows(np.diff(exogenous, axis=0)[1:], len(steps))                       # (N−1, E)
            dummies = _pad_rows(calendar[2:], len(steps))                                      # (N−1, D)
            continuous = np.concatenate([steps[:, None], ahead], axis=1)                       # (N−1, 1 + E)
            rows = [np.arange(end - 1 - lookback, end - 1) for end in ends]            # diff indices
            inputs = (continuous[rows], dummies[rows])                                   # (W, L, ·)
            target = np.stack([steps[r + 1] if r[-1] + 1 < len(steps) else np.full(lookback, np.nan)
                               for r in rows])
            return inputs, target
        exogenous = exogenous[:len(scaled)] if exogenous.shape[1] else np.zeros((len(scaled), 0))
        rows = np.stack([np.arange(end - lookback, end) for end in ends])                # (W, L)
        last = scaled[rows[:, -1]][:, None]                                              # (W, 1) level
        historic = np.concatenate([(scaled[rows] - last)[..., None], calendar[rows], exogenous[rows]], axis=2)
        if c.kind == "next-step":
            target = np.stack([scaled[end] if end < len(scaled) else np.nan for end in ends]) - last[:, 0]
            return (historic,), target[:, None]
        future_rows = rows[:, -1:] + 1 + np.arange(horizon)                              # (W, h)
        future = self._future_calendar(calendar, future_rows)                            # (W, h, period)
        target = np.stack([scaled[r] if r[-1] < len(scaled) else np.full(horizon, np.nan)
                           for r in future_rows]) - last
        return (historic, future), target

    def _future_calendar(self, calendar, future_rows):
        if calendar.shape[1] == 0:
            return np.zeros(future_rows.shape + (0,))
        # calendar positions continue the cycle past the end of the known series
        period = self.config.period
        first_known = np.argmax(calendar[0])
        return np.eye(period)[(first_known + future_rows) % period]

    # --- training ----------------------------------------------------------------------------
    def _new_model(self, example_inputs):
        c = self.config
        if c.kind == "next-step":
            return NextStepLSTM(example_inputs[0].shape[-1], c.hidden_size, backend=c.backend)
        if c.kind == "seq2seq":
            return Seq2SeqLSTM(example_inputs[0].shape[-1], example_inputs[1].shape[-1], c.hidden_size,
                               num_layers=2, dropout=c.dropout, backend=c.backend)
        return MultiHorizonLSTM(example_inputs[0].shape[-1], c.horizon, future_size=example_inputs[1].shape[-1],
                                hidden_size=c.hidden_size, mlp_size=c.mlp_size, quantiles=self._quantiles,
                                dropout=c.dropout, backend=c.backend)

    @property
    def _quantiles(self):
        """The quantiles the multi-horizon model emits; None for a point forecast."""
        return self.config.quantiles if self.config.kind == "multi-horizon" and self.config.loss == "quantile" else None

    def _loss(self, prediction, target):
        if self._quantiles:
            return quantile_loss(prediction, target, self._quantiles)
        if self.config.loss == "mae" and self.config.kind == "multi-horizon":
            return torch.nn.functional.l1_loss(prediction, target)
        return torch.nn.functional.mse_loss(prediction, target)

    def fit(self, series, progress=False):
        """Fit on all of ``series`` (pass only the training part: the caller holds the test out)."""
        c = self.config
        self.scaler = SCALERS[c.scaler]().fit(self._log(series.values))    # training months only
        if c.exogenous:
            columns = np.stack([series.exogenous[name] for name in c.exogenous], axis=1)
            self.exogenous_scaler = SCALERS[c.scaler]().fit(columns)
        scaled, calendar, exogenous = self._transform(series.values), self._calendar(series.season, len(series)), \
            self._exogenous(series)
        reach = c.horizon if c.kind == "multi-horizon" else 1
        first = c.lookback + (1 if c.kind == "seq2seq" else 0)
        ends = np.arange(first, len(scaled) - reach + 1)                    # every window with known targets
        if len(ends) < 2 * c.horizon:
            raise ValueError(f"{len(series)} training steps are too few for lookback {c.lookback} and horizon "
                             f"{c.horizon}: need at least {first + reach + 2 * c.horizon - 1}")
        validation_start = len(scaled) - c.horizon                          # the last horizon training months
        fit_ends = ends[ends + reach <= validation_start]
        val_ends = ends[ends + reach > validation_start]
        all_inputs, all_target = self._tensors(*self._examples(scaled, calendar, exogenous, ends))
        fit_data = self._tensors(*self._examples(scaled, calendar, exogenous, fit_ends))
        val_data = self._tensors(*self._examples(scaled, calendar, exogenous, val_ends))
        self.members, self.history = [], []
        with one_thread(1):
            self._fit_members(all_inputs, all_target, fit_data, val_data, reach, progress)
        return self

    def _fit_members(self, all_inputs, all_target, fit_data, val_data, reach, progress):
        c = self.config
        for member in range(c.ensemble):
            seed = c.seed * 1000 + member
            torch.manual_seed(seed)
            model = self._new_model(all_inputs)
            selection = fit(model, self._loss, fit_data, val_data, lr=c.lr, epochs=c.epochs, patience=c.patience,
                            lr_decay=c.lr_decay, seed=seed, progress=progress)
            epochs = selection.best_epoch or c.epochs
            torch.manual_seed(seed)
            model = self._new_model(all_inputs)                             # refit on every training month
            fit(model, self._loss, (all_inputs, all_target), None, lr=c.lr, epochs=epochs, lr_decay=c.lr_decay,
                seed=seed, progress=False)
            self.members.append(model)
            self.history.append(selection)

    @staticmethod
    def _tensors(inputs, target):
        return tuple(torch.as_tensor(x, dtype=torch.float32) for x in inputs), \
            torch.as_tensor(target, dtype=torch.float32)

    # --- forecasting -------------------------------------------------------------------------
    @torch.no_grad()
    def forecast(self, series, future_exogenous=None):
        """The next ``horizon`` values after ``series`` (any history as long as the lookback).

        future_exogenous: {name: (h,)} scenario path of the exogenous columns (seq2seq with exogenous).
        """
        with fixed_work_split():                                # a forecast must not depend on the load
            return self._forecast(series, future_exogenous)

    def _forecast(self, series, future_exogenous):
        c = self.config
        if not self.members:
            raise RuntimeError("fit or load the forecaster first")
        if len(series) < c.lookback + 1:
            raise ValueError(f"history of {len(series)} steps is shorter than the lookback {c.lookback} + 1")
        scaled = self._transform(series.values)
        calendar = self._calendar(series.season, len(series))
        exogenous = self._exogenous(series)
        if c.kind == "multi-horizon":
            inputs, _ = self._tensors(*self._examples(scaled, calendar, exogenous, [len(scaled)]))
            draws = np.stack([member(*inputs)[0].numpy() for member in self.members])    # (M, h, Q) or (M, h)
            relative = draws.mean(axis=0) + scaled[-1]
            values = self._inverse(relative)
            if not self._quantiles:
                return Forecast(values)
            median = c.quantiles.index(0.5)
            intervals = {}
            for coverage, (low, high) in {80: (0.1, 0.9), 90: (0.05, 0.95)}.items():
                if low in c.quantiles and high in c.quantiles:
                    intervals[coverage] = (values[:, c.quantiles.index(low)], values[:, c.quantiles.index(high)])
            return Forecast(values[:, median], intervals)
        return Forecast(self._inverse(self._recursive(scaled, calendar, exogenous, series, future_exogenous)))

    def _recursive(self, scaled, calendar, exogenous, series, future_exogenous):
        """Feed each prediction back as the last observed value, one step at a time."""
        c = self.config
        values = np.array(scaled)
        season = np.array(series.season) if series.season is not None else None
        for step in range(c.horizon):
            if season is not None:                           # the calendar of the step being predicted
                season = np.append(season, (season[-1] + 1) % max(c.period, 1))
            if c.exogenous:                                  # its exogenous row, from the scenario path
                row = np.array([[future_exogenous[name][step] for name in c.exogenous]])
                exogenous = np.concatenate([exogenous, self.exogenous_scaler.transform(row)])
            calendar = self._calendar(season, len(values) + 1)
            inputs, _ = self._tensors(*self._examples(values, calendar, exogenous, [len(values)]))
            # next-step: (1, 1), the value after the window; seq2seq: (1, L), its last step is the next change
            change = np.mean([member(*inputs)[0, -1].item() for member in self.members])
            values = np.append(values, values[-1] + change)
        return values[-c.horizon:]

    # --- saving and loading ------------------------------------------------------------------
    def save(self, directory):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"version": CONFIG_VERSION, "config": asdict(self.config), "scaler": self.scaler.state(),
                  "exogenous_scaler": self.exogenous_scaler.state() if self.exogenous_scaler else None,
                  "example_shapes": self._example_shapes()}
        (directory / "config.json").write_text(json.dumps(config, indent=2))
        torch.save([member.state_dict() for member in self.members], directory / "weights.pt")

    def _example_shapes(self):
        first = self.members[0]
        if isinstance(first, MultiHorizonLSTM):
            return [first.encoder.input_size, (first.decoder[0].in_features - first.encoder.hidden_size)
                    // self.config.horizon]
        if isinstance(first, Seq2SeqLSTM):
            return [first.norm.num_features, first.lstm.input_size - first.norm.num_features]
        return [first.lstm.input_size]

    @classmethod
    def load(cls, directory):
        directory = Path(directory)
        config_path, weights_path = directory / "config.json", directory / "weights.pt"
        for path in (config_path, weights_path):
            if not path.is_file():
                raise FileNotFoundError(f"checkpoint incomplete: {path} is missing")
        try:
            saved = json.loads(config_path.read_text())
            config = ForecastConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved["config"].items()})
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{config_path} is not a valid lstmlab forecaster config: {error}") from None
        if saved.get("version") != CONFIG_VERSION:
            raise ValueError(f"{config_path} has version {saved.get('version')}, expected {CONFIG_VERSION}")
        try:
            config.validate()
        except ValueError as error:
            raise ValueError(f"{config_path}: {error}") from None
        for name, limit in LIMITS.items():                   # before anything is allocated
            if not isinstance(getattr(config, name), int) or getattr(config, name) > limit:
                raise ValueError(f"{config_path} claims {name} {getattr(config, name)}; at most {limit} is accepted")
        try:
            states = torch.load(weights_path, weights_only=True, map_location="cpu")
        except pickle.UnpicklingError as error:
            if "global" not in str(error).lower():         # torch names the class it would have to import
                raise ValueError(f"{weights_path} could not be read as lstmlab weights: not a torch "
                                 "checkpoint") from None
            raise ValueError(f"{weights_path} is not a plain tensor checkpoint: it holds Python objects that only "
                             "arbitrary code could rebuild, so it was refused; save it again with "
                             "Forecaster.save") from None
        except Exception as error:
            raise ValueError(f"{weights_path} could not be read as lstmlab weights: "
                             f"{str(error).splitlines()[0] if str(error) else type(error).__name__}") from None
        if not isinstance(states, list) or len(states) != config.ensemble \
                or not all(isinstance(state, dict) for state in states):
            raise ValueError(f"{weights_path} holds {len(states) if isinstance(states, list) else 'no'} models, "
                             f"config says {config.ensemble}")
        shapes = saved.get("example_shapes")
        if not isinstance(shapes, list) or not all(isinstance(n, int) and 0 <= n <= 4096 for n in shapes):
            raise ValueError(f"{config_path}: example_shapes must be a list of small integers, got {shapes!r}")
        forecaster = cls(config)
        examples = [torch.zeros(1, 1, size) for size in shapes]
        with torch.device("meta"):                           # shapes only: no memory is allocated
            expected = {name: tuple(t.shape) for name, t in forecaster._new_model(examples).state_dict().items()}
        for index, state in enumerate(states):
            given = {name: tuple(t.shape) for name, t in state.items() if isinstance(t, torch.Tensor)}
            if given.keys() != expected.keys():
                raise ValueError(f"{weights_path} does not match {config_path}: model {index} has parameters "
                                 f"{sorted(given.keys() ^ expected.keys())} that the config does not (or the reverse)")
            for name, shape in expected.items():
                if given[name] != shape:
                    raise ValueError(f"{weights_path} does not match {config_path}: {name} of model {index} has "
                                     f"shape {given[name]}, the config implies {shape}")
        forecaster.scaler = Scaler.from_state(saved["scaler"])
        if saved.get("exogenous_scaler"):
            forecaster.exogenous_scaler = Scaler.from_state(saved["exogenous_scaler"])
        for state in states:
            model = forecaster._new_model(examples)
            model.load_state_dict(state, strict=True)
            model.eval()
            forecaster.members.append(model)
        return forecaster


def _pad_rows(rows, length):
    """``rows`` cut or padded with NaN rows to ``length`` (rows past the data are never read)."""
    rows = rows[:length]
    return np.concatenate([rows, np.full((length - len(rows),) + rows.shape[1:], np.nan)]) if len(rows) < length \
        else rows


def baselines(history, horizon, period, lookback):
    return {"naive": naive_forecast(history, horizon),
            "seasonal_naive": seasonal_naive_forecast(history, horizon, period),
            "linear": linear_forecast(history, horizon, lookback)}
