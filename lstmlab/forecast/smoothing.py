"""Exponential smoothing of level, damped trend and one or more seasonalities: the "ES" of the ES-RNN
hybrid (Smyl 2020).

Per series, on z = log y (multiplicative: the season scales with the level) or z = y (additive), with
season lengths m_1 < … < m_J (none, one, or several: half-hourly data have a day, 48, and a week, 336)
and S_t = Σ_j s^j_t the sum of the seasonal indices:

    l_t = α (z_t − S_{t−m}) + (1 − α)(l_{t−1} + φ b_{t−1})             level;  S_{t−m} = Σ_j s^j_{t−m_j}
    b_t = β (l_t − l_{t−1}) + (1 − β) φ b_{t−1}                         trend, damped by φ < 1
    s^j_t = γ_j (z_t − l_t − Σ_{i≠j} s^i_{t−m_i}) + (1 − γ_j) s^j_{t−m_j}   each season, from what the others leave
    s^j_t ← s^j_t − mean(s^j_{t−m_j+1..t})                              pulls the last cycle's mean toward 0: no drift

and the smoothing's own forecast k steps after t is   l_t + (φ + φ² + … + φ^k) b_t + Σ_j s^j_{t+k−m_j⌈k/m_j⌉}.
φ = 0 switches the trend off (l, s only: Smyl's ES). The damped trend is Gardner & McKenzie's (1985):
a trend that is continued for ever overshoots when growth slows; a damped one flattens out. With two
seasons this is Taylor's (2003) double-seasonal Holt-Winters, made for half-hourly electricity demand:
the day's shape is relearnt every day, the week's (weekday against weekend) every week.

All are causal: l_t, b_t and s^j_t use z up to t only, so a window normalised with them sees no future.
α, β, φ, γ_j are chosen per series from a grid by the squared error, on the training data, of the
smoothing's forecasts 1..H steps ahead from every t (H = 1: the classical one-step error; long series:
from ORIGINS evenly spaced t). The hybrid uses H = its horizon: parameters that forecast h steps well,
not only the next one; on the nine-series panel of the time that alone took the ES-LSTM's geometric-mean
relative MAE from 1.28 / 1.23 to 1.12 / 1.15 (holdout / rolling; docs/forecasting-experiments.md). The
network then learns what the smoothing's forecast misses (hybrid.py).

Two refinements of that choice (benchmarks/forecast_panel/smoothing_grid.py measures both):
- Forecasts of the first two cycles of the longest season are not scored (of at most the first half of
  the series): the initial seasonal indices were read from those very points, so their errors flatter
  whatever leans on the initial state.
- Two grids, chosen per series on its last H points: a cautious one (β ≤ CAUTIOUS_BETA, a trend that
  moves slowly: noisy series) and the whole grid (β up to 0.8: a trend that follows the data, as on
  smooth series whose slope drifts — AutoARIMA's second differences). Each grid's best member is fitted
  without the last H points and forecasts them; the one whose absolute error there is smaller is chosen,
  then refitted on everything. The in-sample error alone prefers the fast trend too often: it is scored
  on the same points it fits.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .regression import without_effect
from .seasonality import SEASONAL_STRENGTH, seasonal_strength

ALPHAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
GAMMAS = np.array([0.0, 0.02, 0.05, 0.1, 0.2, 0.3])
BETAS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
CAUTIOUS_BETA = 0.2     # the cautious grid: β ≤ this (see _cautious_or_whole)
PHIS = np.array([0.0, 0.8, 0.9, 0.95, 0.98])           # 0: no trend; at most 0.98, as R's ets
ORIGINS = 1000      # the grid's error is summed over at most this many forecast origins (evenly spaced)


def usable_periods(lengths, length, cycles=2):
    """The season lengths (> 1) with at least ``cycles`` whole cycles in ``length`` steps, shortest first."""
    return tuple(sorted({int(m) for m in lengths if m > 1 and cycles * m <= length}))


def smoothing_periods(y, lengths, horizon, tested=True, exogenous=None):
    """The seasons the ES-LSTM's smoothing models for a series y (its training data): those of ``lengths``
    with two whole cycles before its last ``horizon`` points (held out for early stopping) and — unless the
    user named them (tested=False) — a seasonal strength in y of at least SEASONAL_STRENGTH.

    exogenous (N, E): the test reads y without the columns' linear effect (regression.py, with the longest
    season), as the smoothing will: a promotion on a random third of the months is noise to STL, enough to
    hide a season of a third of its size (strength 0.34 with it, 0.96 without)."""
    periods = usable_periods(lengths, len(y) - horizon)
    if not tested:
        return periods
    if exogenous is not None and np.asarray(exogenous).shape[1] and periods:
        y = without_effect(y, exogenous, max(periods))[0]
    return tuple(m for m in periods if seasonal_strength(y, m) >= SEASONAL_STRENGTH)


def refuse_nonpositive(y, name, position=lambda k: f"step {k}", error=ValueError, target="y"):
    """The one refusal of zeros or negatives under multiplicative seasonality (log y): named by series, by
    ``target`` (the column's name in the user's file) and by ``position`` of the first one (a step index
    here; the API gives the stamp)."""
    k = int(np.argmax(np.asarray(y) <= 0))
    shown = repr(name) if isinstance(name, str) else str(name)
    raise error(f"series {shown}: multiplicative seasonality needs positive values; {target} is {y[k]:g} at "
                f"{position(k)}; use additive seasonality (or auto)")


def choose_mode(y, period, requested="auto", name="series"):
    """'multiplicative' when the data allow it and its seasonal swing grows with its level; else 'additive'.
    period: the longest season length (1: none).

    A series with zeros or negatives cannot be multiplicative (log): asked for anyway, it is refused.
    """
    positive = bool((np.asarray(y) > 0).all())
    if requested == "multiplicative" and not positive:
        refuse_nonpositive(y, name)
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


def _as_tuple(value, kind):
    if isinstance(value, (int, np.integer)):
        return (int(value),) if value > 1 else ()
    if isinstance(value, (float, np.floating)):
        return (float(value),)
    return tuple(kind(v) for v in value)


@dataclass
class Smoothing:
    mode: str                   # "additive" or "multiplicative"
    periods: Tuple[int, ...]    # season lengths m_1 < … < m_J (an int m: (m,), or () when m ≤ 1)
    alpha: float
    gammas: Tuple[float, ...]   # γ_j, one per season (a float: the same for one season)
    scale: float                # mean |Δ| of the deseasonalised series: the network's unit
    beta: float = 0.0
    phi: float = 0.0            # 0: no trend

    def __post_init__(self):
        self.periods = _as_tuple(self.periods, int)
        self.gammas = _as_tuple(self.gammas, float)
        if not self.periods:
            self.gammas = ()
        if len(self.gammas) != len(self.periods):
            raise ValueError(f"one γ per season length: periods {self.periods}, gammas {self.gammas}")

    @property
    def period(self):
        """The longest season length (1: none)."""
        return max(self.periods, default=1)

    def transform(self, y):
        return np.log(y) if self.mode == "multiplicative" else np.asarray(y, dtype=np.float64)

    def inverse(self, z):
        return np.exp(z) if self.mode == "multiplicative" else z

    def run(self, z):
        """Levels l (N,), trends b (N,) and seasonal indices s (J, N) of z, by the recursions above."""
        one = (np.array([v]) for v in (self.alpha, self.beta, self.phi))
        return _smooth(z, self.periods, *one, np.array(self.gammas).reshape(-1, 1))[:3]

    def damping(self, steps):
        """φ + φ² + … + φ^k for k = 1..steps: how much of b_t the forecast k steps ahead adds. (steps,)"""
        return np.cumsum(self.phi ** np.arange(1, steps + 1))

    def season_ahead(self, seasons, t, steps):
        """Σ_j s^j_{t+k−m_j⌈k/m_j⌉} for k = 1..steps: the seasons' forecast from the indices known at t. (steps,)"""
        ahead = np.zeros(steps)
        for season, m in zip(seasons, self.periods):
            ahead += season[t - m + 1 + np.arange(steps) % m]
        return ahead

    def forecast(self, levels, trends, seasons, t, steps):
        """The smoothing's own forecast of z after t: l_t + (φ + … + φ^k) b_t + Σ_j s^j_{…}, k = 1..steps."""
        return levels[t] + self.damping(steps) * trends[t] + self.season_ahead(seasons, t, steps)

    def state(self):
        return {"mode": self.mode, "periods": list(self.periods), "alpha": self.alpha, "beta": self.beta,
                "phi": self.phi, "gammas": list(self.gammas), "scale": self.scale}


def _initial_seasons(z, periods):
    """Indices of each season (shortest first) around their mean, from its first two cycles of what the
    shorter seasons leave. [(m_j,)]"""
    seasons, rest = [], np.asarray(z, dtype=np.float64)
    for m in periods:
        first = rest[: 2 * m].reshape(2, m)
        season = (first - first.mean(axis=1, keepdims=True)).mean(axis=0)
        seasons.append(season)
        rest = rest - season[np.arange(len(rest)) % m]
    return seasons


def _initial_trend(z, period):
    """The mean step over the first two cycles of the longest season (or the first ten steps without one)."""
    if period > 1:
        return (z[period:2 * period].mean() - z[:period].mean()) / period
    k = min(10, len(z) - 1)
    return (z[k] - z[0]) / k if k > 0 else 0.0


def scored_from(n, periods):
    """The first point whose forecasts the grid scores: after the two cycles of the longest season that the
    initial indices were read from (none without a season), and never later than half the series."""
    return min(2 * max(periods, default=0), n // 2)


def _smooth(z, periods, alphas, betas, phis, gammas, horizon=1):
    """The recursions for every (α, β, φ, γ_1..γ_J) at once (gammas: (J, G)): levels, trends (N,) and
    seasons (J, N) of the first one, and the squared error of every one (G,), summed over the forecasts of
    z_t .. z_{t+horizon−1} from the state at t − 1, for every t ≥ scored_from (every ⌈N / ORIGINS⌉-th t in a
    long series)."""
    z = np.asarray(z, dtype=np.float64)
    n, count = len(z), len(alphas)
    # ring[j][t % m_j] holds s^j_{t−m_j} until step t overwrites it with s^j_t
    rings = [np.repeat(initial[:, None], count, axis=1) for initial in _initial_seasons(z, periods)]
    cycle_sums = [ring.sum(axis=0) for ring in rings]              # Σ s^j over its last m_j indices
    level = z[0] - sum(ring[0] for ring in rings)
    trend = np.where(phis > 0, _initial_trend(z, max(periods, default=1)), 0.0)
    levels, trends, seasons = np.empty(n), np.empty(n), np.empty((len(periods), n))
    error = np.zeros(count)
    damping = np.cumsum(phis[None, :] ** np.arange(1, horizon + 1)[:, None], axis=0)   # (h, G): φ + … + φ^k
    stride, first = -(-n // ORIGINS), max(scored_from(n, periods), 1)   # at least 1: no state before t = 0
    for t in range(n):
        previous = [ring[t % m] for ring, m in zip(rings, periods)]                   # s^j_{t−m_j} (G,)
        damped = phis * trend                                                          # φ b_{t−1}
        if t >= first and t % stride == 0:
            # forecasts of z_t .. z_{t+k−1} from the state at t − 1, with the seasons known then
            k = min(horizon, n - t)
            ahead = level + damping[:k] * trend                                        # (k, G)
            for ring, m in zip(rings, periods):
                ahead = ahead + ring[(t + np.arange(k)) % m]
            error += ((z[t:t + k, None] - ahead) ** 2).sum(axis=0)
        all_seasons = sum(previous) if periods else 0.0                                # S_{t−m}
        new_level = alphas * (z[t] - all_seasons) + (1 - alphas) * (level + damped)
        trend = betas * (new_level - level) + (1 - betas) * damped
        level = new_level
        for j, (ring, m) in enumerate(zip(rings, periods)):
            others = all_seasons - previous[j]                                         # Σ_{i≠j} s^i_{t−m_i}
            raw = gammas[j] * (z[t] - level - others) + (1 - gammas[j]) * previous[j]
            # pull the last cycle's mean toward 0, or a trend leaks into the season. Causally only s_t moves:
            # it gives up that cycle's mean (raw included), which leaves the cycle's sum ×(1 − 1/m), not 0
            new = raw - (cycle_sums[j] - previous[j] + raw) / m
            cycle_sums[j] += new - previous[j]
            ring[t % m] = new
            seasons[j, t] = new[0]
        levels[t], trends[t] = level[0], trend[0]
    return levels, trends, seasons, error


def _grid(periods, trend):
    """Every (α, β, φ, γ_1..γ_J) of the grid, flattened: alphas, betas, phis (G,) and gammas (J, G)."""
    grid = np.meshgrid(ALPHAS, BETAS if trend else [0.0], PHIS if trend else [0.0], *(GAMMAS for _ in periods),
                       indexing="ij")
    alphas, betas, phis, *gammas = (g.ravel() for g in grid)
    return alphas, betas, phis, np.array(gammas).reshape(len(periods), len(alphas))


def _member(mode, periods, grid, index):
    """The smoothing of the grid's member ``index`` (its scale left at 1: fit_smoothing sets it)."""
    alphas, betas, phis, gammas = grid
    return Smoothing(mode, periods, float(alphas[index]), tuple(float(g) for g in gammas[:, index]), 1.0,
                     float(betas[index]), float(phis[index]))


def _best(error, allowed):
    """The index of the grid member with the lowest error among the ``allowed`` ones (a (G,) mask)."""
    return int(np.flatnonzero(allowed)[np.argmin(error[allowed])])


def _cautious_or_whole(z, periods, mode, grid, horizon):
    """Which grid forecasts z's last ``horizon`` points better, each fitted without them (by the in-sample
    squared error, as always) and scored there by its absolute error: a mask over the grid, the cautious
    members (β ≤ CAUTIOUS_BETA) or all. (G,) bool"""
    _, betas, phis, _ = grid
    cautious = (betas <= CAUTIOUS_BETA) | (phis == 0)     # φ = 0: no trend, so β does nothing there
    everything = np.ones_like(cautious)
    train, held_out = z[:-horizon], z[-horizon:]
    # one grid; or too short to hold the last points out and fit on the rest (a level and a trend need a few
    # points), or to keep every season there
    if cautious.all() or len(train) < 4 or usable_periods(periods, len(train)) != periods:
        return cautious
    error = _smooth(train, periods, *grid, horizon)[3]
    picks = [_best(error, cautious), _best(error, everything)]
    if picks[0] == picks[1]:
        return cautious
    missed = []
    for index in picks:
        smoothing = _member(mode, periods, grid, index)
        forecast = smoothing.forecast(*smoothing.run(train), len(train) - 1, horizon)
        missed.append(np.abs(held_out - forecast).sum())
    return everything if missed[1] < missed[0] else cautious


def fit_smoothing(y, periods, mode, trend=True, horizon=1):
    """Choose α, β, φ, γ_j for one series (grid; the squared error of its forecasts 1..horizon steps ahead,
    within the grid chosen on its last horizon points) and its scale. periods: a season length or several;
    those without two whole cycles in y are dropped. trend=False: φ = 0."""
    z = np.log(y) if mode == "multiplicative" else np.asarray(y, dtype=np.float64)
    periods = usable_periods(_as_tuple(periods, int), len(z))
    grid = _grid(periods, trend)
    allowed = _cautious_or_whole(z, periods, mode, grid, horizon)
    error = _smooth(z, periods, *grid, horizon)[3]
    smoothing = _member(mode, periods, grid, _best(error, allowed))
    _, _, seasons = smoothing.run(z)
    change = np.abs(np.diff(z - seasons.sum(axis=0)))
    smoothing.scale = float(change.mean()) if change.mean() > 0 else float(np.abs(z).mean() or 1.0)
    return smoothing


def smoothing_forecast(y, periods, horizon, seasonality="auto", trend=True, fit_horizon=None, name="series",
                       exogenous=None):
    """The smoothing alone, no network, in y's units: l_N + (φ + … + φ^k) b_N + Σ_j s^j_{N+k−m_j⌈k/m_j⌉},
    k = 1..h. It is what the ES-LSTM forecasts before training (hybrid.py), reported beside it. (horizon,)

    exogenous: (N + horizon, E), the columns over y's points and the forecast's steps: as in the ES-LSTM,
    their linear effect is taken out of z before the smoothing and added to its forecast (regression.py)."""
    periods = usable_periods(_as_tuple(periods, int), len(y))
    mode = choose_mode(y, max(periods, default=1), seasonality, name)
    ahead = np.zeros(horizon)                       # the columns' effect over the forecast steps
    if exogenous is not None and np.asarray(exogenous).shape[1]:
        exogenous = np.asarray(exogenous, dtype=np.float64)
        y, beta, center = without_effect(y, exogenous[:len(y)], max(periods, default=1), mode == "multiplicative")
        ahead = (exogenous[len(y):] - center) @ beta
    smoothing = fit_smoothing(y, periods, mode, trend=trend, horizon=fit_horizon or horizon)
    levels, trends, seasons = smoothing.run(smoothing.transform(y))
    return smoothing.inverse(smoothing.forecast(levels, trends, seasons, len(y) - 1, horizon) + ahead)
