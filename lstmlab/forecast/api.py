"""fit / predict / cross_validation on long-format DataFrames (unique_id, ds, y, exogenous columns),
the way statsforecast and neuralforecast take them.

    fc = LSTMForecaster(h=12)                      # freq and season lengths read from the dates
    fc.fit(train_df)
    fc.predict()                                   # unique_id, ds, ES-LSTM, ES-LSTM-lo-90, …, ES-LSTM-hi-90
    fc.cross_validation(df, n_windows=3, step_size=12)   # + cutoff, y: refits before every cutoff
    fc.fit(sales, id_col="store", time_col="date", target_col="units")   # other column names, as statsforecast

The frames that come back are laid out as statsforecast's (tests/test_forecast_contract.py holds them side by side).

One global network learns from every series of the frame; each series keeps its own smoothing. Exogenous
columns (every column besides unique_id, ds and y) need their future values at predict: X_df with unique_id,
ds and the columns, h rows per series. The ES-LSTM takes their linear effect out of each series before its
smoothing and adds it back from X_df (regression.py); the network reads them too.
"""
from dataclasses import replace

import numpy as np

from .frame import (PanelSeries, column_names, exogenous_columns, future_stamps, prepare, season_lengths, shown,
                    split_series, stamp_text)
from .hybrid import ESLSTM, HybridConfig
from .metrics import mae
from .smoothing import refuse_nonpositive, smoothing_periods

MODEL_NAMES = {"es": "ES-LSTM", "last": "LSTM"}
LEVELS = {80: (0.1, 0.9), 90: (0.05, 0.95)}


def _is_count(value):
    """A positive integer, and not True (bool is an int to Python)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def check_horizon(h):
    """h as the constructor and statsforecast's h= take it: a positive integer (12.0 and True are refused)."""
    if not _is_count(h):
        shown = type(h).__name__ if hasattr(h, "shape") else repr(h)          # not a whole frame's text
        raise ValueError(f"h (the horizon) must be a positive integer, got {shown}")


def interval_levels(level):
    """``level`` as statsforecast takes it — None (no intervals), 90, or a list (80.0 is 80: the columns are
    ES-LSTM-lo-80, not -lo-80.0) — as a list of the levels the model's quantiles give, or refused."""
    if level is None:
        return []
    if isinstance(level, (int, np.integer)) and not isinstance(level, bool):
        level = (level,)
    if isinstance(level, str) or not hasattr(level, "__iter__"):
        raise TypeError(f"level must be an int or a list of them (80, 90), got {type(level).__name__}")
    level = [int(lv) if isinstance(lv, (int, np.integer, float, np.floating)) and not isinstance(lv, bool)
             and float(lv).is_integer() else lv for lv in level]
    unknown = [lv for lv in level if lv not in LEVELS]
    if unknown:
        raise ValueError(f"level must be among {sorted(LEVELS)} (the quantiles the model learns), got {unknown}")
    return sorted(set(level))


def interval_columns(levels):
    """The interval bands of ``levels`` in statsforecast's column order — the lower bounds from the widest
    inwards, then the upper ones outwards: lo-90, lo-80, hi-80, hi-90 (a forecast frame's columns are
    ES-LSTM-lo-90, ES-LSTM-lo-80, …, so a frame lines up with statsforecast's column for column)."""
    return [f"lo-{lv}" for lv in sorted(levels, reverse=True)] + [f"hi-{lv}" for lv in sorted(levels)]


def long_format(df, id_col="unique_id", time_col="ds", target_col="y"):
    """``df`` with its id, time and target columns named unique_id, ds and y, as statsforecast's id_col,
    time_col and target_col name them (fit(df, id_col="store", time_col="date", target_col="sales"))."""
    if not hasattr(df, "columns") or not hasattr(df, "attrs"):
        raise TypeError(f"expected a pandas DataFrame in long format (unique_id, ds, y, exogenous columns), "
                        f"got {type(df).__name__}")
    roles = {"unique_id": ("id_col", id_col), "ds": ("time_col", time_col), "y": ("target_col", target_col)}
    named = [given for _, given in roles.values()]
    if len(set(named)) < len(named):
        raise ValueError(f"id_col, time_col and target_col must be three different columns, got {named}")
    for keyword, given in roles.values():        # the names of columns the results add
        if given == "cutoff" or any(str(given) == alias or str(given).startswith(f"{alias}-")
                                    for alias in MODEL_NAMES.values()):
            raise ValueError(f"{keyword}={given!r} is the name of a column the forecasts add (cutoff, "
                             f"{', '.join(MODEL_NAMES.values())} and their intervals): rename it")
    renames = {}
    for role, (keyword, given) in roles.items():
        if given == role:
            continue
        if given not in df.columns:
            raise ValueError(f"{keyword}={given!r} is not a column of the frame (columns: "
                             f"{', '.join(map(str, df.columns))})")
        if role in df.columns and role not in named:       # two columns would both be called y
            raise ValueError(f"the frame has a column {role!r} beside {keyword}={given!r}: rename or drop it "
                             f"(every column besides the id, time and target ones is an exogenous input)")
        renames[given] = role
    if not renames:
        return df
    attrs = dict(df.attrs)
    out = df.rename(columns=renames)
    out.attrs.update(attrs)
    if not attrs.get("column_names"):                                  # messages name the columns as df does
        out.attrs["column_names"] = {"ds": str(time_col), "y": str(target_col)}
    return out


def user_names(frame, names, id_dtype=None):
    """A result frame with unique_id, ds (and y) renamed back to the caller's id_col, time_col, target_col, and
    its ids in the dtype they were given in (a categorical id comes back categorical)."""
    if str(id_dtype) == "category" and len(frame):
        frame = frame.assign(unique_id=frame["unique_id"].astype(id_dtype))
    back = {role: given for role, given in zip(("unique_id", "ds", "y"), names) if given != role}
    return frame.rename(columns=back) if back else frame


def canonical_order(ids):
    """Positions of ``ids`` sorted (by type and repr where they do not compare, as 'a' and 7 do not)."""
    try:
        return sorted(range(len(ids)), key=lambda k: ids[k])
    except TypeError:
        return sorted(range(len(ids)), key=lambda k: (type(ids[k]).__name__, repr(ids[k])))


class SeriesError(ValueError):
    """A series the model cannot learn from (too short, constant): in a rolling-origin fold, about the
    fold's training part."""


def check_series(series: PanelSeries, horizon, period, explicit_season):
    """One-line refusals for series the model cannot learn from."""
    name = series.unique_id
    if np.ptp(series.y) == 0:
        raise SeriesError(f"series {shown(name)} is constant ({series.y[0]:g} at all {len(series)} points): there is "
                         "nothing for a model to learn; forecast it as that constant")
    if explicit_season and len(series) < 2 * period:
        raise SeriesError(f"series {shown(name)} has {len(series)} points, too short for season length {period}: "
                         f"two full seasons ({2 * period} points) are needed")
    needed = horizon + max(horizon, 4) + max(period, 1)
    if len(series) < needed:
        season = f"season length {period}" if period > 1 else "no season"
        raise SeriesError(f"series {shown(name)} has {len(series)} points: too short to learn horizon {horizon} with "
                         f"{season} (needs at least {needed})")


class LSTMForecaster:
    """h: steps to forecast. freq: pandas alias (read from the dates when None). season_length: an int
    or a list (read from freq when None; the longest with two whole cycles in the data is used).
    model: "hybrid" (ES-LSTM, default) or "lstm" (the pure LSTM: no smoothing). Other keywords go to
    HybridConfig (ensemble, steps, hidden_size, seed, seasonality, …)."""

    def __init__(self, h, freq=None, season_length=None, model="hybrid", **config):
        if model not in ("hybrid", "lstm"):
            raise ValueError(f"model must be 'hybrid' or 'lstm', got {model!r}")
        check_horizon(h)
        self.h, self.freq, self.model = int(h), freq, model
        if season_length is not None and not isinstance(season_length, (list, tuple)):
            season_length = [season_length]
        for m in season_length or ():
            if not _is_count(m):
                raise ValueError(f"season_length must be a positive integer or a list of them, got {m!r}")
        self.season_length = season_length
        self._check_config(config)
        self.config = config
        self.network = None

    @staticmethod
    def _check_config(config):
        """A misspelt keyword (ensemle=3) or a bad value is refused here, not at fit."""
        from dataclasses import fields
        settable = sorted(f.name for f in fields(HybridConfig) if f.name not in ("horizon", "period", "season_lengths",
                                                                                  "normalize"))
        unknown = [name for name in config if name not in settable]
        if unknown:
            raise TypeError(f"LSTMForecaster got an unknown keyword {unknown[0]!r}; the model's options are "
                            f"{', '.join(settable)}")
        if config.get("seasonality", "auto") not in ("auto", "additive", "multiplicative"):
            raise ValueError(f"seasonality must be auto, additive or multiplicative; got {config['seasonality']!r}")
        HybridConfig(horizon=1, **config).validate()

    @property
    def alias(self):
        return MODEL_NAMES["es" if self.model == "hybrid" else "last"]

    def _panel(self, df, names=("unique_id", "ds", "y")):
        df = long_format(df, *names)
        return df if df.attrs.get("prepared") else prepare(df, freq=self.freq)

    def fit(self, df, progress=False, id_col="unique_id", time_col="ds", target_col="y"):
        """Fit one network on every series of ``df``. Each series' smoothing models the seasons its own
        length allows (two whole cycles before its last h points): a short new series in a panel does not
        take the season away from the long ones. Of those, the hybrid keeps the seasons a series shows
        (seasonal strength ≥ 0.64, seasonality.seasonal_strength) unless season_length named them: a
        seasonally adjusted series gets none. ``seasons_`` maps each id to them; ``period_`` and
        ``season_lengths_`` are the longest and all of them over the panel. id_col, time_col, target_col: the
        names of df's id, time and target columns, as statsforecast takes them; predict's frames use them too."""
        names = (id_col, time_col, target_col)
        frame = self._panel(df, names)
        self.freq_ = frame.attrs.get("freq")
        lengths = season_lengths(frame, self.season_length)
        self.frequency_seasons_ = tuple(lengths)         # from the frequency or season_length, before any is dropped
        self.series_ = split_series(frame)
        tested = self.model == "hybrid" and not self.season_length      # the seasons the user named are kept
        self.exogenous_ = exogenous_columns(frame)
        columns = {s.unique_id: s.exogenous_matrix(self.exogenous_) for s in self.series_}   # (N, E) or None
        self.seasons_ = {s.unique_id: smoothing_periods(s.y, lengths, self.h, tested, columns[s.unique_id])
                         for s in self.series_}
        for series in self.series_:
            if self.config.get("seasonality") == "multiplicative" and (series.y <= 0).any():
                stamps, (time_name, target_name) = series.ds, column_names(frame)    # as the file names them
                refuse_nonpositive(series.y, series.unique_id, error=SeriesError, target=target_name,
                                   position=lambda k: f"{time_name} {stamp_text(stamps[k])}")
            period = max(self.seasons_[series.unique_id], default=1)
            if self.season_length and period < max(self.season_length):      # a season the user asked for
                check_series(series, self.h, max(self.season_length), explicit_season=True)
            check_series(series, self.h, period, explicit_season=bool(self.season_length))
        self.period_ = max((max(m, default=1) for m in self.seasons_.values()), default=1)
        self.season_lengths_ = tuple(sorted(set().union(*self.seasons_.values())))
        config = HybridConfig(horizon=self.h, period=self.period_, season_lengths=self.season_lengths_,
                              normalize="es" if self.model == "hybrid" else "last", **self.config)
        panel = [(s.unique_id, s.y, columns[s.unique_id], self.seasons_[s.unique_id]) for s in self.series_]
        # one network learns from every series' windows, in the order they are given: sorted by id, the same data
        # in another row or id order trains the same network (as statsforecast sorts by unique_id)
        panel = [panel[k] for k in canonical_order([item[0] for item in panel])]
        self.network = ESLSTM(config).fit(panel, progress=progress)
        # set once the fit has worked: a refused frame leaves the fitted model's names as they were
        self.names_, self.id_dtype_ = names, df[id_col].dtype      # a categorical id comes back categorical
        return self

    def forecast(self, df, h=None, X_df=None, level=(80, 90), progress=False, id_col="unique_id", time_col="ds",
                 target_col="y"):
        """fit(df) then predict(h, X_df, level), as statsforecast's forecast does (h by keyword: statsforecast
        takes it first). h and level are checked before the fit, not after it."""
        if isinstance(df, (int, np.integer)) and hasattr(h, "columns"):
            raise TypeError(f"forecast takes the frame first: forecast(df, h={df}), not statsforecast's "
                            f"order forecast({df}, df)")
        self._check_h(h)
        interval_levels(level)
        return self.fit(df, progress, id_col, time_col, target_col).predict(h, X_df, level)

    def predict(self, h=None, X_df=None, level=(80, 90)):
        """Forecasts after the end of the fitted data: unique_id, ds, ES-LSTM, ES-LSTM-lo-90, ES-LSTM-lo-80,
        ES-LSTM-hi-80, ES-LSTM-hi-90 (statsforecast's layout; the id and time columns named as fit's id_col and
        time_col). X_df: future exogenous values in long format (the id, ds, one column per exogenous name),
        h rows per series."""
        return self._to_user(self._predict(h, None if X_df is None else self._from_user(X_df), level))

    def _from_user(self, frame):
        """A frame in the caller's column names (X_df, a forecast made by predict) -> unique_id, ds."""
        names = getattr(self, "names_", ("unique_id", "ds"))                  # before fit: the canonical ones
        back = {given: role for role, given in zip(("unique_id", "ds"), names[:2]) if given != role}
        if not back or not hasattr(frame, "rename"):
            return frame
        return frame.rename(columns=back)

    def _to_user(self, frame):
        """unique_id, ds -> the caller's names, and the ids in the dtype they were given in."""
        return user_names(frame, self.names_[:2], self.id_dtype_)

    def _check_h(self, h):
        """statsforecast's h, which this forecaster fixed when it was made."""
        if h is None:
            return
        check_horizon(h)
        if h != self.h:
            raise ValueError(f"this forecaster forecasts h={self.h} steps, not h={h}: make one with "
                             f"LSTMForecaster(h={h}, …)")

    def _predict(self, h, X_df, level):
        """predict, in the canonical names unique_id and ds."""
        if self.network is None:
            raise RuntimeError("call fit before predict")
        self._check_h(h)
        import pandas as pd
        level = interval_levels(level)
        scenario = None
        if self.exogenous_:
            scenario = self._scenario(X_df)
        elif X_df is not None:
            raise ValueError("this forecaster was fitted without exogenous columns: X_df would not be used")
        quantiles = self.network.predict(scenario)
        qs = list(self.network.config.quantiles)
        parts = []
        for series in self.series_:
            q = quantiles[series.unique_id]                                                  # (h, Q)
            part = {"unique_id": [series.unique_id] * self.h, "ds": self._future_stamps(series), self.alias: q[:, qs.index(0.5)]}
            for band in interval_columns([lv for lv in level if set(LEVELS[lv]) <= set(qs)]):   # the learnt ones
                side, lv = band.split("-")
                part[f"{self.alias}-{band}"] = q[:, qs.index(LEVELS[int(lv)][side == "hi"])]
            parts.append(pd.DataFrame(part))
        return pd.concat(parts, ignore_index=True)

    def validation_mae(self):
        """{unique_id: MAE of the network's forecast of the series' last h fitted points} (None where a member
        trained on them): the window early stopping held out of training, scored as a forecast."""
        if self.network is None:
            raise RuntimeError("call fit before validation_mae")
        scores = {}
        for series in self.series_:
            forecast = self.network.validation_forecast(series.unique_id)
            scores[series.unique_id] = None if forecast is None else mae(series.y[-self.h:], forecast)
        return scores

    def exogenous_effects(self):
        """The linear effect of each exogenous column that the ES-LSTM took out of each series before its
        smoothing (regression.py): one row per series and column. ``effect`` is β, the change of ``unit`` per
        unit of the column: of y with additive seasonality, of log y with multiplicative (β = 0.2 is
        exp(0.2) − 1 ≈ +22 %). No rows without exogenous columns; the pure LSTM (model="lstm") fits no β."""
        if self.network is None:
            raise RuntimeError("call fit before exogenous_effects")
        import pandas as pd
        rows = []
        if self.model == "hybrid":
            for uid, prepared in self.network.series.items():
                unit = "log y" if prepared.smoothing.mode == "multiplicative" else "y"
                rows += [{"unique_id": uid, "column": column, "effect": float(beta), "unit": unit}
                         for column, beta in zip(self.exogenous_, prepared.effect)]
        return pd.DataFrame(rows, columns=["unique_id", "column", "effect", "unit"])

    def _future_stamps(self, series):
        return series_future_stamps(series, self.h, self.freq_)

    def _scenario(self, X_df):
        return scenario_values(X_df, self.series_, self.h, self.exogenous_, self.freq_)

    def cross_validation(self, df, n_windows=3, step_size=None, progress=False, validation=False, *, h=None,
                         level=(80, 90), refit=True, id_col="unique_id", time_col="ds", target_col="y"):
        """Rolling origin: for each of n_windows cutoffs (the last one h steps before the end, the
        others step_size apart), refit on the data up to the cutoff only and forecast the next h.
        Returns unique_id, ds, cutoff, y and the forecast columns (statsforecast's layout, with its id_col,
        time_col and target_col names); with ``validation``, also ``<model>-validation-mae``: each fold's
        validation_mae, on every row of its series. h, if given, must be the forecaster's; refit=False (one
        fit for every cutoff) is refused: each cutoff needs its own smoothing and network."""
        import pandas as pd
        self._check_h(h)
        if not (refit is True or (isinstance(refit, (int, np.integer, np.bool_)) and refit == 1)):
            # statsforecast's refit=1 (every window) is refit=True
            raise ValueError(f"refit={refit!r} is not supported: every cutoff is fitted anew on the data before it "
                             "(refit=True), since the ES-LSTM's smoothing and network are both fitted to it")
        level = interval_levels(level)
        names = (id_col, time_col, target_col)
        frame = self._panel(df, names)
        step_size = self.h if step_size is None else step_size
        for name, value in (("n_windows", n_windows), ("step_size", step_size)):
            if not _is_count(value):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        groups = frame.groupby("unique_id", sort=False).indices
        results = []
        for window in range(n_windows):
            back = self.h + (n_windows - 1 - window) * step_size                       # steps after the cutoff
            train_rows, test_rows = [], []
            for uid, rows in groups.items():
                if len(rows) - back < 2:
                    folds = "" if n_windows == 1 else f"{n_windows} folds {step_size} steps apart and "
                    raise ValueError(f"series {shown(uid)} has {len(rows)} points: too short for {folds}horizon "
                                     f"{self.h} (the last {back} points are held out, and the model trains on the "
                                     "points before them)")
                train_rows.extend(rows[:len(rows) - back])
                test_rows.extend(rows[len(rows) - back:len(rows) - back + self.h])
            train = frame.iloc[train_rows].copy()
            train.attrs.update(frame.attrs)
            test = frame.iloc[test_rows]
            fold = LSTMForecaster(self.h, frame.attrs["freq"] if self.freq is None else self.freq, self.season_length,
                                  self.model, **self.config)
            try:
                fold.fit(train, progress=progress)
            except SeriesError as error:      # "has 42 points" of a 48-point series: say which part was meant
                raise SeriesError(f"{error} — in fold {window + 1} of {n_windows}, trained on each series up to its "
                                  f"cutoff, {back} steps before its end") from error
            future = test.drop(columns=["y"]) if fold.exogenous_ else None
            forecast = fold.predict(X_df=future, level=level)
            cutoffs = train.groupby("unique_id", sort=False)["ds"].last()
            forecast["cutoff"] = forecast["unique_id"].map(cutoffs)
            if validation:
                # float, NaN where unscored: an all-None column would change the concatenated dtype
                forecast[f"{self.alias}-validation-mae"] = forecast["unique_id"].map(fold.validation_mae()).astype(float)
            forecast["y"] = test["y"].to_numpy()
            results.append(forecast)
        out = pd.concat(results, ignore_index=True)
        # as statsforecast lays it out: unique_id, ds, cutoff, y, the forecasts; each series' folds together
        order = {uid: k for k, uid in enumerate(groups)}
        rank = np.array([order[uid] for uid in out["unique_id"]])          # any hashable id, tuples too
        out = out.iloc[np.lexsort((np.arange(len(out)), rank))].reset_index(drop=True)
        first = ["unique_id", "ds", "cutoff", "y"]
        out = out[first + [name for name in out.columns if name not in first]]
        out["cutoff"] = out["cutoff"].astype(out["ds"].dtype)     # one unit: datetime64[ns] for both, as ds has
        return user_names(out, names, df[id_col].dtype)


def series_future_stamps(series, h, freq):
    """The h stamps after the series' fitted data."""
    last = series.ds.iloc[-1] if hasattr(series.ds, "iloc") else series.ds[-1]
    if isinstance(last, (int, np.integer)):
        return np.arange(int(last) + 1, int(last) + 1 + h)
    return future_stamps(last, h, freq)


def scenario_values(X_df, fitted, h, exogenous, freq):
    """{unique_id: (h, E)}: the future exogenous values of every fitted series from X_df (unique_id, ds, the
    columns), matched on ds and checked (count, stamps, numbers); refused with one line naming the series."""
    if X_df is None:
        raise ValueError(f"the model was fitted with exogenous columns {', '.join(exogenous)}: pass "
                         f"X_df with their values for the next {h} steps of every series")
    import pandas as pd
    if not hasattr(X_df, "columns"):
        raise TypeError(f"X_df must be a pandas DataFrame (unique_id, ds, {', '.join(exogenous)}), "
                        f"got {type(X_df).__name__}")
    if "unique_id" not in X_df.columns:
        if len(fitted) > 1:
            raise ValueError(f"X_df needs a unique_id column: the model was fitted on {len(fitted)} series")
        X_df = X_df.assign(unique_id=fitted[0].unique_id)      # one series: its rows are all X_df's
    if "ds" not in X_df.columns and not isinstance(series_future_stamps(fitted[0], 1, freq)[0], (int, np.integer)):
        # dated series: matched on the stamps, as statsforecast does; rows in order would be a silent guess
        stamps = series_future_stamps(fitted[0], h, freq)
        raise ValueError(f"X_df needs a ds column: its rows are matched to the forecast steps by date (series "
                         f"{shown(fitted[0].unique_id)}: {stamp_text(stamps[0])} .. {stamp_text(stamps[-1])})")
    scenario = {}
    for series in fitted:
        rows = X_df[X_df["unique_id"] == series.unique_id]
        if len(rows) == 0:                        # say which ids X_df has: a typo or a case is seen at once
            ids = list(dict.fromkeys(X_df["unique_id"]))
            same = [i for i in ids if str(i).casefold() == str(series.unique_id).casefold()]
            hint = f" ({shown(same[0])} differs only in case)" if same else ""
            raise ValueError(f"series {shown(series.unique_id)}: X_df has no rows for it; its ids are "
                             f"{', '.join(map(shown, ids[:5]))}{' …' if len(ids) > 5 else ''}{hint}")
        if len(rows) != h:
            raise ValueError(f"series {shown(series.unique_id)}: X_df has {len(rows)} future rows, "
                             f"expected {h}")
        missing = [name for name in exogenous if name not in rows.columns]
        if missing:
            raise ValueError(f"X_df lacks exogenous column(s) {', '.join(missing)}")
        if "ds" in rows.columns:                  # matched on the stamps, not taken in the rows' order
            expected = series_future_stamps(series, h, freq)
            given = rows["ds"].to_numpy()
            if not isinstance(expected[0], (int, np.integer)):
                if rows["ds"].dtype.kind in "iuf":        # pandas would read 2000 as 2000 nanoseconds after 1970
                    raise ValueError(f"series {shown(series.unique_id)}: X_df's ds holds numbers ({shown(rows['ds'].iloc[0])}"
                                     f", …) where the fitted data has dates: give the {h} stamps after it as dates "
                                     f"({stamp_text(expected[0])} .. {stamp_text(expected[-1])})")
                given = pd.to_datetime(rows["ds"], errors="coerce").to_numpy()
            order = np.argsort(given, kind="stable")
            if not np.array_equal(given[order], np.asarray(expected)):
                raise ValueError(f"series {shown(series.unique_id)}: X_df's ds must be the {h} stamps "
                                 f"after the fitted data ({stamp_text(expected[0])} .. {stamp_text(expected[-1])}), "
                                 f"got {stamp_text(pd.Timestamp(given[order][0]) if given.dtype.kind == 'M' else given[order][0])}"
                                 f" .. {stamp_text(pd.Timestamp(given[order][-1]) if given.dtype.kind == 'M' else given[order][-1])}")
            rows = rows.iloc[order]
        values = pd.DataFrame({name: pd.to_numeric(rows[name], errors="coerce") for name in exogenous})
        bad = values.isna().to_numpy() | ~np.isfinite(values.to_numpy(np.float64, na_value=np.nan))
        if bad.any():
            k, column = np.argwhere(bad)[0]
            name = exogenous[column]
            raise ValueError(f"series {shown(series.unique_id)}: X_df's {name!r} is {shown(rows[name].iloc[k])} at "
                             f"future step {k + 1}, not a finite number")
        scenario[series.unique_id] = values.to_numpy(np.float64)                          # (h, E)
    return scenario
