"""Exponential smoothing of level, damped trend and seasonality: the "ES" of the ES-RNN hybrid (Smyl 2020).

Per series, on z = log y (multiplicative: the season scales with the level) or z = y (additive):

    l_t = α (z_t − s_{t−m}) + (1 − α)(l_{t−1} + φ b_{t−1})      level
    b_t = β (l_t − l_{t−1}) + (1 − β) φ b_{t−1}                  trend, damped by φ < 1
    s_t = γ (z_t − l_t)     + (1 − γ) s_{t−m}                    seasonal index, m = season length
    s_t ← s_t − mean(s_{t−m+1..t})                               pulls the last cycle's mean to 0: no drift

and the smoothing's own forecast k steps after t is   l_t + (φ + φ² + … + φ^k) b_t + s_{t+k−m⌈k/m⌉}.
φ = 0 switches the trend off (l, s only: Smyl's ES). The damped trend is Gardner & McKenzie's (1985):
a trend that is continued for ever overshoots when growth slows; a damped one flattens out.

All are causal: l_t, b_t and s_t use z up to t only, so a window normalised with them sees no future.
α, β, φ, γ are chosen per series from a grid by the squared error, on the training data, of the
smoothing's forecasts 1..H steps ahead from every t (H = 1: the classical one-step error). The hybrid
uses H = its horizon: parameters that forecast h steps well, not only the next one; on the development
panel that alone took the smoothing's geometric-mean relative MAE from 1.39 to 1.05 (holdout).
The network then learns what the smoothing's forecast misses (hybrid.py).
"""
from dataclasses import dataclass

import numpy as np

ALPHAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
GAMMAS = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3])
BETAS = np.array([0.02, 0.05, 0.1, 0.2])
PHIS = np.array([0.0, 0.8, 0.9, 0.95, 0.98])           # 0: no trend; at most 0.98, as R's ets


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
    beta: float = 0.0
    phi: float = 0.0            # 0: no trend

    def transform(self, y):
        return np.log(y) if self.mode == "multiplicative" else np.asarray(y, dtype=np.float64)

    def inverse(self, z):
        return np.exp(z) if self.mode == "multiplicative" else z

    def run(self, z):
        """Levels l (N,), trends b (N,) and seasonal indices s (N,) of z, by the recursions above."""
        return _smooth(z, self.period, *(np.array([v]) for v in (self.alpha, self.beta, self.phi, self.gamma)))[:3]

    def damping(self, steps):
        """φ + φ² + … + φ^k for k = 1..steps: how much of b_t the forecast k steps ahead adds. (steps,)"""
        return np.cumsum(self.phi ** np.arange(1, steps + 1))

    def state(self):
        return {"mode": self.mode, "period": self.period, "alpha": self.alpha, "beta": self.beta, "phi": self.phi,
                "gamma": self.gamma, "scale": self.scale}


def _initial_season(z, period):
    """Seasonal indices of the first two cycles around their mean. (m,)"""
    first = z[: 2 * period].reshape(2, period)
    return (first - first.mean(axis=1, keepdims=True)).mean(axis=0)


def _initial_trend(z, period):
    """The mean step over the first two cycles (or the first ten steps without a season)."""
    if period > 1:
        return (z[period:2 * period].mean() - z[:period].mean()) / period
    k = min(10, len(z) - 1)
    return (z[k] - z[0]) / k if k > 0 else 0.0


def _smooth(z, period, alphas, betas, phis, gammas, horizon=1):
    """The recursions for every (α, β, φ, γ) at once: levels, trends, seasons (N,) of the first one, and
    the squared error of every one (G,), summed over the forecasts 1..horizon steps ahead of every t."""
    z = np.asarray(z, dtype=np.float64)
    n, m = len(z), period
    seasonal = m > 1
    season = np.zeros((n + m, len(alphas)))                    # season[t + m] is s_t; the first m: initial
    if seasonal:
        season[:m] = _initial_season(z, m)[:, None]
    cycle_sum = season[:m].sum(axis=0)                         # Σ s over the last m indices
    level = z[0] - season[0]
    trend = np.where(phis > 0, _initial_trend(z, m), 0.0)
    levels, trends = np.empty((n, len(alphas))), np.empty((n, len(alphas)))
    error = np.zeros(len(alphas))
    damping = np.cumsum(phis[None, :] ** np.arange(1, horizon + 1)[:, None], axis=0)   # (h, G): φ + … + φ^k
    for t in range(n):
        previous_season = season[t]                            # s_{t−m}
        damped = phis * trend                                  # φ b_{t−1}
        if t > 0:
            # forecasts of z_t .. z_{t+k−1} from the state at t − 1, with the seasons known then
            k = min(horizon, n - t)
            ahead = level + damping[:k] * trend + season[t + np.arange(k) % max(m, 1)]      # (k, G)
            error += ((z[t:t + k, None] - ahead) ** 2).sum(axis=0)
        new_level = alphas * (z[t] - previous_season) + (1 - alphas) * (level + damped)
        trend = betas * (new_level - level) + (1 - betas) * damped
        level = new_level
        if seasonal:
            raw = gammas * (z[t] - level) + (1 - gammas) * previous_season
            # pull the last cycle's mean to 0 (causally: only s_t moves), or a trend leaks into the season
            season[t + m] = raw - (cycle_sum - previous_season + raw) / m
            cycle_sum += season[t + m] - previous_season
        levels[t], trends[t] = level, trend
    return levels[:, 0], trends[:, 0], season[m:, 0], error


def fit_smoothing(y, period, mode, trend=True, horizon=1):
    """Choose α, β, φ, γ for one series (grid; the squared error of its forecasts 1..horizon steps ahead)
    and its scale. trend=False: φ = 0."""
    z = np.log(y) if mode == "multiplicative" else np.asarray(y, dtype=np.float64)
    period = period if period > 1 and len(z) >= 2 * period else 1
    grid = np.meshgrid(ALPHAS, BETAS if trend else [0.0], PHIS if trend else [0.0],
                       GAMMAS if period > 1 else [0.0], indexing="ij")
    alphas, betas, phis, gammas = (g.ravel() for g in grid)
    error = _smooth(z, period, alphas, betas, phis, gammas, horizon)[3]
    best = int(np.argmin(error))
    smoothing = Smoothing(mode, period, float(alphas[best]), float(gammas[best]), 1.0, float(betas[best]),
                          float(phis[best]))
    _, _, season = smoothing.run(z)
    change = np.abs(np.diff(z - season))
    smoothing.scale = float(change.mean()) if change.mean() > 0 else float(np.abs(z).mean() or 1.0)
    return smoothing


def smoothing_forecast(y, period, horizon, seasonality="auto", trend=True, fit_horizon=None, name="series"):
    """The smoothing alone, no network, in y's units: l_N + (φ + … + φ^k) b_N + s_{N+k−m⌈k/m⌉}, k = 1..h.
    It is what the ES-LSTM forecasts before training (hybrid.py), reported beside it. (horizon,)"""
    mode = choose_mode(y, period, seasonality, name)
    smoothing = fit_smoothing(y, period, mode, trend=trend, horizon=fit_horizon or horizon)
    levels, trends, seasons = smoothing.run(smoothing.transform(y))
    m = smoothing.period
    season = seasons[len(y) - m + np.arange(horizon) % m] if m > 1 else 0.0
    return smoothing.inverse(levels[-1] + smoothing.damping(horizon) * trends[-1] + season)
