"""Exponential smoothing of level and seasonality: the "ES" of the ES-RNN hybrid (Smyl 2020).

Per series, on z = log y (multiplicative: the season scales with the level) or z = y (additive):

    l_t = α (z_t − s_{t−m}) + (1 − α) l_{t−1}          level
    s_t = γ (z_t − l_t)     + (1 − γ) s_{t−m}          seasonal index, m = season length
    s_t ← s_t − mean(s_{t−m+1..t})                       pulls the last cycle's mean to 0: no drift

Both are causal: l_t and s_t use z up to t only, so a window normalised with them sees no future.
α and γ are chosen per series from a grid by the one-step error of l_{t−1} + s_{t−m} on the training
data. The network then sees   (z_{t−L+1..t} − s) − l_t  (divided by a per-series scale), and its
output is de-normalised the same way:  ŷ_{t+k} = l_t + s_{t+k−m⌈k/m⌉} + scale · LSTM(...)_k.
"""
from dataclasses import dataclass

import numpy as np

ALPHAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
GAMMAS = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3])


def choose_mode(y, period, requested="auto", name="series"):
    """'multiplicative' when the data allow it and its seasonal swing grows with its level; else 'additive'.

    A series with zeros or negatives cannot be multiplicative (log): asked for anyway, it is refused.
    """
    positive = bool((np.asarray(y) > 0).all())
    if requested == "multiplicative" and not positive:
        k = int(np.argmax(np.asarray(y) <= 0))
        raise ValueError(f"series {name!r}: multiplicative seasonality needs positive values; y is {y[k]:g} at "
                         f"step {k}; use additive seasonality")
    if requested in ("additive", "multiplicative"):
        return requested
    if requested != "auto":
        raise ValueError(f"seasonality must be auto, additive or multiplicative; got {requested!r}")
    if not positive:
        return "additive"
    if period <= 1 or len(y) < 3 * period:
        return "multiplicative"             # a positive level: relative changes, as in the ES-RNN
    cycles = np.asarray(y[: len(y) // period * period]).reshape(-1, period)       # (C, m)
    level, swing = cycles.mean(axis=1), cycles.std(axis=1)
    # the swing grows with the level (correlation) -> multiplicative; a flat swing -> additive
    if level.std() == 0 or swing.std() == 0:
        return "additive"
    return "multiplicative" if np.corrcoef(level, swing)[0, 1] > 0.3 else "additive"


@dataclass
class Smoothing:
    mode: str                   # "additive" or "multiplicative"
    period: int                 # m (1: no seasonality)
    alpha: float
    gamma: float
    scale: float                # mean |Δ| of the deseasonalised series: the network's unit

    def transform(self, y):
        return np.log(y) if self.mode == "multiplicative" else np.asarray(y, dtype=np.float64)

    def inverse(self, z):
        return np.exp(z) if self.mode == "multiplicative" else z

    def run(self, z):
        """Levels l (N,) and seasonal indices s (N,) of z, by the recursions above."""
        return _smooth(z, self.period, np.array([self.alpha]), np.array([self.gamma]))[:2]

    def future_season(self, season, steps):
        """s_{N−1+k−m⌈k/m⌉} for k = 1..steps: the last cycle of indices, repeated. (steps,)"""
        if self.period <= 1:
            return np.zeros(steps)
        last = season[-self.period:]
        return last[np.arange(steps) % self.period]

    def state(self):
        return {"mode": self.mode, "period": self.period, "alpha": self.alpha, "gamma": self.gamma,
                "scale": self.scale}


def _initial_season(z, period):
    """Seasonal indices of the first two cycles around their mean. (m,)"""
    first = z[: 2 * period].reshape(2, period)
    return (first - first.mean(axis=1, keepdims=True)).mean(axis=0)


def _smooth(z, period, alphas, gammas):
    """The recursions for every (α, γ) pair at once: levels, seasons (N,) of the first pair, and the
    one-step squared error of every pair (G,)."""
    z = np.asarray(z, dtype=np.float64)
    n, pairs = len(z), len(alphas)
    seasonal = period > 1
    season = np.zeros((n + period, pairs))                      # season[t + m] is s_t; the first m: initial
    if seasonal:
        season[:period] = _initial_season(z, period)[:, None]
    level = np.full(pairs, z[0] - season[0, 0])
    levels = np.empty((n, pairs))
    error = np.zeros(pairs)
    for t in range(n):
        previous_season = season[t]                             # s_{t−m}
        if t > 0:
            error += (z[t] - level - previous_season) ** 2
        level = alphas * (z[t] - previous_season) + (1 - alphas) * level
        if seasonal:
            season[t + period] = gammas * (z[t] - level) + (1 - gammas) * previous_season
            # pull the last cycle's mean towards 0 (causally: only s_t moves), or a trend leaks into the season
            season[t + period] -= season[t + 1:t + period + 1].mean(axis=0)
        levels[t] = level
    return levels[:, 0], season[period:, 0], error


def fit_smoothing(y, period, mode):
    """Choose α, γ for one series (grid, one-step error) and its scale."""
    z = np.log(y) if mode == "multiplicative" else np.asarray(y, dtype=np.float64)
    period = period if period > 1 and len(z) >= 2 * period else 1
    gammas = GAMMAS if period > 1 else np.array([0.0])
    alphas, grid_gammas = np.meshgrid(ALPHAS, gammas, indexing="ij")
    alphas, grid_gammas = alphas.ravel(), grid_gammas.ravel()
    _, _, error = _smooth(z, period, alphas, grid_gammas)
    best = int(np.argmin(error))
    smoothing = Smoothing(mode, period, float(alphas[best]), float(grid_gammas[best]), 1.0)
    levels, season = smoothing.run(z)
    change = np.abs(np.diff(z - season))
    smoothing.scale = float(change.mean()) if change.mean() > 0 else float(np.abs(z).mean() or 1.0)
    return smoothing
