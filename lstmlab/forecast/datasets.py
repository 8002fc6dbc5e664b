"""Data sets shipped inside the package (no downloads) and a loader for a user's own CSV."""
import csv
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..data import sine_waves

# Monthly international airline passengers (thousands), 1949-01 .. 1960-12 (Box & Jenkins, series G).
AIRPASSENGERS = [
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
]


@dataclass
class Series:
    """A univariate target with optional exogenous columns, all of the same length.

    season: the position of each step in its seasonal cycle (month 0–11, quarter 0–3), used for
    calendar dummies; period: the cycle's length (1 when there is none).
    """
    name: str
    values: np.ndarray                      # (N,) float64
    period: int = 1
    season: Optional[np.ndarray] = None     # (N,) int in [0, period)
    labels: Optional[List[str]] = None      # a time label per step, for tables and plots
    exogenous: Dict[str, np.ndarray] = field(default_factory=dict)   # name -> (N,) float64

    def __len__(self):
        return len(self.values)

    def future_season(self, steps):
        """Calendar positions of the next ``steps`` steps after the end of the series."""
        if self.season is None:
            return None
        return (self.season[-1] + 1 + np.arange(steps)) % self.period


def airpassengers():
    months = [f"{1949 + k // 12}-{k % 12 + 1:02d}" for k in range(144)]
    return Series("airpassengers", np.array(AIRPASSENGERS, dtype=np.float64), period=12,
                  season=np.arange(144) % 12, labels=months)


def us_macro():
    """US macroeconomic data, 1959Q1–2009Q3: target real GDP, the other columns exogenous."""
    with open(Path(__file__).with_name("macrodata.csv"), newline="") as file:
        rows = list(csv.DictReader(file))
    columns = {key: np.array([float(row[key]) for row in rows]) for key in rows[0] if key not in ("year", "quarter")}
    quarter = np.array([int(float(row["quarter"])) - 1 for row in rows])
    labels = [f"{int(float(row['year']))}Q{int(float(row['quarter']))}" for row in rows]
    target = columns.pop("realgdp")
    return Series("us_macro", target, period=4, season=quarter, labels=labels, exogenous=columns)


def sine(length=1000, period=20):
    """One wave of the classic sine data (wave 0 of lstmlab.data.sine_waves)."""
    return Series("sine", sine_waves(n=1, length=length, period=period).y[0].numpy().copy())


def sine_noise(n=800, noise=0.1, seed=0):
    """sin(t / 10) + N(0, noise²) for t = 0..799 (forecast from 720 with a window of 4, in the classic tutorial)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    return Series("sine_noise", np.sin(t / 10.0) + noise * rng.standard_normal(n))


DATASETS = {"airpassengers": airpassengers, "us_macro": us_macro, "sine": sine, "sine_noise": sine_noise}


def load_dataset(name):
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return DATASETS[name]()


def load_csv(path, column, time_column=None, min_length=None):
    """A user's series from a CSV file, with clear errors for what usually goes wrong.

    With ``time_column`` (ISO dates, or any sortable labels) the steps must be evenly spaced: a missing
    month is an error, not something to paper over.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        if reader.fieldnames is None:
            raise ValueError(f"{path} is empty")
        for name in [column] + ([time_column] if time_column else []):
            if name not in reader.fieldnames:
                raise ValueError(f"column {name!r} not in {path}; columns: {', '.join(reader.fieldnames)}")
        rows = list(reader)
    values = []
    for line, row in enumerate(rows, start=2):
        text = (row[column] or "").strip()
        if text == "" or text.lower() in ("nan", "na", "null"):
            raise ValueError(f"{path}, line {line}: column {column!r} is missing a value (NaN or empty); "
                             "fill or drop it before forecasting")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{path}, line {line}: column {column!r} holds {text!r}, not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{path}, line {line}: column {column!r} holds {text!r}, not a finite number")
        values.append(value)
    labels = None
    if time_column:
        labels = [row[time_column].strip() for row in rows]
        _check_evenly_spaced(path, time_column, labels)
    if min_length is not None and len(values) < min_length:
        raise ValueError(f"{path} has {len(values)} values in {column!r}; at least {min_length} are needed "
                         "(lookback + horizon + holdout)")
    return Series(path.stem, np.array(values, dtype=np.float64), labels=labels)


def _check_evenly_spaced(path, time_column, labels):
    try:
        days = [date.fromisoformat(label[:10]).toordinal() for label in labels]
    except ValueError:
        return                                              # not dates: order is all we can check
    gaps = np.diff(days)
    if len(gaps) and (gaps <= 0).any():
        k = int(np.argmax(gaps <= 0))
        raise ValueError(f"{path}: column {time_column!r} is not increasing at {labels[k]} -> {labels[k + 1]}")
    if len(gaps) and gaps.max() > 1.5 * np.median(gaps):
        k = int(np.argmax(gaps))
        raise ValueError(f"{path}: a gap in {time_column!r} between {labels[k]} and {labels[k + 1]}; "
                         "the series must be evenly spaced")
