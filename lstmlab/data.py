"""Data sets made in memory (no pickle files, no downloads)."""
from typing import NamedTuple

import numpy as np
import torch


class SineWaves(NamedTuple):
    """n sine waves of the classic time-sequence-prediction example.

    x: (n, length) int64 positions t + shift;  y: (n, length) float64 values sin(x / period).
    """
    x: torch.Tensor
    y: torch.Tensor
    period: float

    def continuation(self, steps, rows=slice(None)):
        """The exact next ``steps`` values of the chosen waves: (rows, steps) float64."""
        after = self.x[rows, -1:] + torch.arange(1, steps + 1)     # (rows, steps)
        return torch.sin(after.double() / self.period)


def sine_waves(n=100, length=1000, period=20, seed=2):
    """x = t + a random integer shift in [−4·period, 4·period) per row, y = sin(x / period).

    With the defaults it reproduces the data of PyTorch's classic time_sequence_prediction example.
    """
    rng = np.random.RandomState(seed)
    shifts = rng.randint(-4 * period, 4 * period, n).reshape(n, 1)   # (n, 1)
    x = np.arange(length)[None, :] + shifts                          # (n, length)
    y = np.sin(x / period).astype("float64")                         # (n, length)
    return SineWaves(torch.from_numpy(x), torch.from_numpy(y), float(period))
