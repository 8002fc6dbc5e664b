"""ES-LSTM: the ES-RNN-style hybrid (Smyl 2020), one global LSTM over a panel of series.

0. With exogenous columns, their linear effect x_t · β is taken out of z first (regression.py) and
   added back to every forecast from the scenario's x: the smoothing sees the series without it.
1. Per series, exponential smoothing (smoothing.py) gives a level l_t, a damped trend b_t and seasonal
   indices s_t (the sum over its seasons: half-hourly data have a daily and a weekly one); its
   parameters are chosen by the error of its own forecasts 1..h steps ahead.
2. Each training window is normalised by them: deseasonalised, minus the level at its end, divided
   by the series' scale. The LSTM sees shapes in the series' own unit, never its level or season.
3. The target is what the smoothing's own forecast misses:
       target_k = (z_{t+k} − [l_t + (φ + … + φ^k) b_t + s_{t+k−m⌈k/m⌉}]) / scale,   k = 1..h
   One network for all series and windows (a "global" model) reads the window and emits, for each of
   the h steps, the quantiles (0.05, 0.1, 0.5, 0.9, 0.95) of that correction, trained with the pinball
   loss   ρ_q(e) = max(q·e, (q − 1)·e),  e = target − prediction.
4. Forecasts are de-normalised:  ŷ_{t+k} = inverse(smoothing forecast_k + x_{t+k} · β + scale · output_k),
   inverse = exp for multiplicative seasonality. The median is the point forecast.
5. Guards against learning what one series' history cannot teach (each measured on the development
   panel, benchmarks/forecast_panel): the network starts at zero, i.e. at the smoothing's forecast;
   each window is turned upside down with probability ½ (−window -> −correction), so a constant bias that the
   window does not show is not learnt; training stops at the checkpoint that best forecasts each
   series' last window, which is held out of training.
6. After training, each quantile's distance from the member's median is widened to what the windows it
   trained on say (spread_factors): after the few dozen steps early stopping often keeps, that distance
   says how many steps Adam took, not how large the errors are.
7. The members of the ensemble (15 by default) differ in seed and in lookback (h, 2h, 3h: N-BEATS'
   ensembling); the forecast takes the median of their quantiles.

With normalize="last" the same network gets no smoothing (α = 1, no trend or season: windows and
targets are relative to the last value) and no regression on the exogenous columns (it reads them as
inputs only): that is the pure LSTM, kept for comparison.
"""
import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import nn
from tqdm import tqdm          # plain text bars: no widget (and no IProgress warning) in notebooks

from .models import MultiHorizonLSTM, quantile_loss
from .regression import without_effect
from .smoothing import Smoothing, choose_mode, fit_smoothing

QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)
BAND_MARGIN = 0.1          # how much better the smoothing's band must forecast to replace a member's own spread
POWERS = np.linspace(0.0, 1.0, 11)    # spread_factors: how a member's refitted spread may grow with k, as k^p


@dataclass
class HybridConfig:
    horizon: int
    period: int = 1                           # the longest season length (1: none)
    season_lengths: Optional[Tuple[int, ...]] = None   # every season the smoothing models (None: (period,))
    normalize: str = "es"                     # "es": the hybrid; "last": the pure LSTM
    seasonality: str = "auto"                 # "auto", "additive" or "multiplicative"
    lookback: Optional[int] = None            # one lookback for every member (default: default_lookbacks)
    lookbacks: Optional[Tuple[int, ...]] = None   # or one per member, in turn
    lookback_factors: Tuple[float, ...] = (1.0, 2.0, 3.0)  # the default lookbacks: these multiples of h
    hidden_size: Optional[int] = None         # LSTM units; None: see sizes
    mlp_size: Optional[int] = None            # the decoder's hidden layer; None: see sizes
    quantiles: Tuple[float, ...] = QUANTILES
    ensemble: Optional[int] = None            # networks in the ensemble; None: see members
    seed: int = 0
    steps: int = 300                          # Adam steps per member
    batch_size: int = 128
    lr: float = 3e-3
    backend: str = "auto"
    highway: bool = True                      # a linear map from the window to the outputs, beside the LSTM
    trend: bool = True                        # a damped trend in the smoothing (False: level and season only)
    smoothing_fit: str = "horizon"            # α, β, φ, γ by the error 1..h steps ahead, or 1 step ("one-step")
    zero_init: bool = True                    # start from the smoothing's forecast (HybridNet.start_at_zero)
    early_stopping: bool = True               # keep the step count that forecasts each series' last window best
    validation_windows: Optional[int] = 1     # how many of each series' last windows early stopping scores (None: h)
    mirror: bool = True                       # train on upside-down windows too (see _train_member)
    refit_spread: bool = True                 # each quantile's distance from the median refitted (spread_factors)
    threads: int = 1                          # torch threads while training (see _one_thread)

    @property
    def members(self):
        """How many networks the ensemble has: ``ensemble``, else 15 for the hybrid and 5 for the pure LSTM. The
        hybrid's members are cheap (windows of h..3h steps) and more of them forecast better on the development
        panel: 5 -> 10 members 1.052 / 1.112 -> 1.039 / 1.105 (holdout / rolling); 10 -> 15 (16 / 32 units)
        1.020 / 1.088 -> 1.013 / 1.079 with seed 0 and 1.040 / 1.081 -> 1.016 / 1.075 with seed 1. The pure
        LSTM reads two whole seasons per window (on taylor, 10 members would take over an hour)."""
        if self.ensemble is not None:
            return self.ensemble
        return 15 if self.normalize == "es" else 5

    @property
    def sizes(self):
        """(hidden_size, mlp_size): as given, else (16, 32) for the hybrid and (32, 64) for the pure LSTM. The
        hybrid's network learns a small correction from one series' few hundred windows: on the development
        panel (10 members), 16 / 32 (3.9 k weights at h = 12) against 32 / 64 (10.6 k) gave rolling-origin
        1.088 and 1.081 against 1.100 and 1.111 (seeds 0 and 1; holdout 1.020 and 1.040 against 1.033 and
        1.027), in three quarters of the time."""
        hybrid = self.normalize == "es"
        return (self.hidden_size or (16 if hybrid else 32), self.mlp_size or (32 if hybrid else 64))

    def validate(self):
        for name in ("horizon", "period", "hidden_size", "mlp_size", "ensemble", "steps", "batch_size"):
            value = getattr(self, name)
            if name in ("ensemble", "hidden_size", "mlp_size") and value is None:
                continue
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.normalize not in ("es", "last"):
            raise ValueError(f"normalize must be 'es' (hybrid) or 'last' (pure LSTM), got {self.normalize!r}")
        if 0.5 not in self.quantiles or list(self.quantiles) != sorted(self.quantiles):
            raise ValueError(f"quantiles must be increasing and include 0.5, got {self.quantiles}")


def default_lookbacks(horizon, period, normalize, factors=(1.0, 2.0, 3.0)):
    """factor × horizon of deseasonalised history for each factor (at least 8 steps); the pure LSTM must
    also see two whole seasons."""
    lookbacks = [max(int(round(f * horizon)), 8) for f in factors]
    if normalize == "last" and period > 1:
        lookbacks = [max(L, 2 * period) for L in lookbacks]
    return tuple(dict.fromkeys(lookbacks))


@dataclass
class _Prepared:
    """One series, smoothed: z (after the exogenous effect is taken out), levels, trends (N,), seasons (J, N),
    exogenous standardised (N, E), and the exogenous effect on z: β (E,) and x_t · β for every t (N,)."""
    smoothing: Smoothing
    z: np.ndarray
    levels: np.ndarray
    trends: np.ndarray
    seasons: np.ndarray
    exogenous: np.ndarray
    exogenous_center: np.ndarray
    exogenous_scale: np.ndarray
    effect: np.ndarray
    offsets: np.ndarray


class HybridNet(nn.Module):
    """MultiHorizonLSTM (LSTM encoder, MLP decoder to (h, Q)) plus a linear "highway" from the
    normalised window straight to the h outputs (as in LSTNet): a trend that a straight line
    continues is learnt at once by the linear part; the LSTM learns what the line misses.

        output_{k,q} = MLP([h_L, future])_{k,q} + Σ_j W_{k,j} · window_j + b_{k,q}
    """

    def __init__(self, lookback, historic_size, horizon, future_size, hidden_size, mlp_size, quantiles,
                 highway=True, backend="auto"):
        super().__init__()
        self.spread = np.ones((1, horizon, len(quantiles)))   # (S, h, Q): ESLSTM sets it (spread_factors)
        self.untrained_band = None                            # (h, Q): or the smoothing's band (ESLSTM)
        self.lstm_part = MultiHorizonLSTM(historic_size, horizon, future_size=future_size, hidden_size=hidden_size,
                                          mlp_size=mlp_size, quantiles=quantiles, backend=backend)
        self.highway = nn.Linear(lookback, horizon) if highway else None

    def start_at_zero(self):
        """Zero the last layers: the untrained network outputs 0, i.e. the hybrid starts as the smoothing's
        own forecast and training moves it only as far as the data ask."""
        for layer in (self.lstm_part.decoder[-1], self.highway):
            if layer is not None:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
        return self

    def forward(self, historic, future=None):
        """historic (B, L, F), future (B, h, E) or None -> (B, h, Q)."""
        out = self.lstm_part(historic, future)                                # (B, h, Q)
        if self.highway is not None:
            out = out + self.highway(historic[..., 0]).unsqueeze(-1)           # (B, h, 1) to every quantile
        return out


def error_spread(targets, quantiles):
    """(h, Q): a band about the median (its median column is 0) for what the smoothing's forecast k steps
    ahead misses, in the series' scale: z_q · σ_k, with σ_k² = a + b·k fitted (a, b ≥ 0, least squares) to the
    mean square of the training targets at each k — the errors of a local-level model grow so, from a noise
    floor a by b per step.

    A member that early stopping keeps at step 0 has learnt nothing: every quantile it outputs is 0, an
    interval of width 0. It forecasts the smoothing, so it gets this band instead (ESLSTM.member_draws);
    the point forecast does not change. The empirical quantiles of the targets used before (with their
    mirror images) broke where data are few or odd, found by a user's trial of messy series: on 36 monthly
    points each member had 1 to 5 windows, and a 90% interval 1.1 wide beside one 8.3 wide two steps on
    (noise sd 3; 3 of 12 points covered); a history flat before a last jump gave width 0; and a level
    shift entered the 90% interval alone, once it was in 5% of the windows — [103, 861] around 298, next to
    an 80% one of [275, 323]. Fitting two numbers over all h·W errors is steady with one window, never
    narrows with k, and keeps the 90% / 80% width at 1.645 / 1.282, as for Gaussian errors."""
    k = torch.arange(1, targets.shape[1] + 1, dtype=torch.float64)                          # (h,)
    square = targets.double().pow(2).mean(dim=0)                                            # (h,): E e_k²
    # least squares of square ≈ a + b·k, in closed form: b = Σ (k − k̄)(s − s̄) / Σ (k − k̄)², a = s̄ − b·k̄
    centred = k - k.mean()
    b = (centred @ (square - square.mean()) / (centred @ centred)).item() if len(k) > 1 else 0.0   # h = 1: flat
    a = square.mean().item() - b * k.mean().item()
    if b < 0:                                  # errors that shrink with k: a constant band, their mean square
        a, b = square.mean().item(), 0.0
    elif a < 0:                                # no floor: growth alone, least squares through 0
        a, b = 0.0, (k @ square / (k @ k)).item()
    sigma = torch.sqrt(a + b * k)                                                           # (h,)
    z = torch.special.ndtri(torch.tensor(quantiles, dtype=torch.float64))                   # (Q,): 0 at 0.5
    return (sigma.unsqueeze(1) * z).to(targets.dtype)                                       # (h, Q)


def spread_factors(prediction, targets, quantiles):
    """(h, Q): for each step k and quantile q a factor c ≥ 1 on a member's distance from its median,
    q̂ = median + c (q̂ − median), fitted on one series' windows the member trained on: prediction (W, h, Q),
    targets (W, h). 1 at the median, which — and so every point forecast — never moves.

    Why: Adam moves every output by about the same step whatever its gradient's size, so after the few
    dozen steps early stopping often keeps, the quantiles' distances from the median say how many steps were
    taken rather than how large the errors are — on AirPassengers' first panel origin all 15 members stopped
    at step 30 with their 5% quantile 1.004–1.012× as far from the median as their 10% one (1.28× for a
    Gaussian). Nor need the distances have grown with k as the errors do.

    How: c_k = max(c · k^p, 1), with p from POWERS (how the errors grow with k, as σ_k grows like √k for a
    random walk). A quantile and its mirror (q and 1 − q) share c and p, so that one event in the history —
    a level shift inside a few windows' targets — cannot stretch one tail alone. For each p, c minimises
    the pair's summed pinball loss before the clamp at 1, and the p whose clamped factors have the lowest
    loss is kept (the clamp changes the best c a little where it binds; not searched for). Only widened
    (c_k ≥ 1): errors on the windows a member trained on are, if anything, smaller than on those it
    forecasts. With ρ_τ(e) = max(τ e, (τ − 1) e) the pinball loss of the quantile at level τ, the loss
    Σ ρ_τ(r − c·o) (r = target − median, o = distance · k^p) is Σ |o| ρ_τ'(r/o − c), τ' = τ where o > 0 and
    1 − τ where o < 0 (below the median): c is a weighted quantile of r/o."""
    prediction, targets = np.asarray(prediction, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    quantiles = np.asarray(quantiles, dtype=np.float64)
    middle = int(np.flatnonzero(quantiles == 0.5)[0])
    residual = targets - prediction[..., middle]                                        # (W, h)
    distance = prediction - prediction[..., [middle]]                                   # (W, h, Q)
    flat, finite = residual.ravel(), np.isfinite(residual.ravel())                      # (W·h,)
    steps = np.arange(1, targets.shape[1] + 1, dtype=np.float64)                        # (h,): k
    factors = np.ones(distance.shape[1:])                                               # (h, Q)
    for j, q in enumerate(quantiles):
        if q >= 0.5 and np.isclose(1 - q, quantiles).any():
            continue                                            # fitted with its mirror below the median
        pair = [j] + [int(i) for i in np.flatnonzero(np.isclose(1 - q, quantiles)) if i != j]
        best = (np.inf, None)
        for power in POWERS:
            growth = steps ** power                                                     # (h,)
            ratio, weight, level = [], [], []
            for i in pair:
                o = (distance[..., i] * growth).ravel()
                used = (np.abs(o) > 1e-9) & finite
                ratio.append(flat[used] / o[used])
                weight.append(np.abs(o[used]))
                level.append(np.where(o[used] > 0, quantiles[i], 1 - quantiles[i]))
            if not np.concatenate(weight).size:
                break                                           # every distance 0: nothing to scale
            scale = _weighted_pinball_minimum(*(np.concatenate(v) for v in (ratio, weight, level)))
            factor = np.maximum(scale * growth, 1.0)                                    # (h,)
            error = residual[..., None] - factor[:, None] * distance[..., pair]         # (W, h, len(pair))
            loss = np.nansum(np.maximum(quantiles[pair] * error, (quantiles[pair] - 1) * error))
            if loss < best[0]:
                best = (loss, factor)
        if best[1] is not None:
            factors[:, pair] = best[1][:, None]
    return factors


def widened(draw, spread, middle):
    """q̂ = median + c (q̂ − median): a member's quantiles (…, h, Q) with its distances from the median (column
    ``middle``) scaled by the factors ``spread`` (h, Q) of spread_factors — numpy or torch alike."""
    median = draw[..., middle:middle + 1]
    return median + spread * (draw - median)


def ordered(quantiles, levels):
    """(h, Q) quantiles sorted at each step, the median column kept where it is: a lower quantile that
    crossed above the median (or an upper one below it) is put at the median, so that widening the
    members' spreads (spread_factors) can never move a point forecast."""
    middle = list(levels).index(0.5)
    median = quantiles[:, [middle]]                                                      # (h, 1)
    others = np.sort(np.delete(quantiles, middle, axis=1), axis=1)                       # (h, Q − 1)
    return np.concatenate([np.minimum(others[:, :middle], median), median,
                           np.maximum(others[:, middle:], median)], axis=1)


def _weighted_pinball_minimum(ratio, weight, level):
    """The c that minimises Σ_i w_i ρ_{τ_i}(u_i − c) (u: ratio, w: weight, τ: level): the loss's slope just
    above u_k is Σ_{u_i ≤ u_k} w_i (1 − τ_i) − Σ_{u_i > u_k} w_i τ_i; the first u_k where it turns ≥ 0."""
    order = np.argsort(ratio)
    ratio, weight, level = ratio[order], weight[order], level[order]
    slope = np.cumsum(weight * (1 - level)) - ((weight * level).sum() - np.cumsum(weight * level))
    return ratio[int(np.argmax(slope >= 0))]


@contextmanager
def torch_threads(count):
    """Small networks train faster on one thread: measured on this project's 2-core machine shared
    with other jobs, one Adam step (B=128, L=24, H=32) took 7.5 ms on 1 thread and 219 ms on 2 (a one-off
    scratch timing of an earlier session, while another job held the second core). Inside,
    the C++ loops split their work by the fixed rule (fixed_work_split)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with fixed_work_split():
            yield
    finally:
        torch.set_num_threads(before)


def fixed_work_split():
    """The C++ loops of backend "bptt" split their work by the fixed rule, not by a plan timed on this run
    (lstmlab/kernels/lstm_cpu_plan.py): the split can change a result's last bits, training carries them
    on, and a forecast must not depend on how busy the machine was."""
    from lstmlab.kernels.lstm_cpu import use_partition
    return use_partition("auto")


class ESLSTM:
    """fit(list of (name, y (N,), exogenous (N, E))) then predict(future exogenous) -> quantiles."""

    def __init__(self, config: HybridConfig):
        config.validate()
        self.config = config
        self.series: Dict[object, _Prepared] = {}
        self.members: List[Tuple[int, HybridNet]] = []              # (lookback, network)
        self.lookbacks = None

    # --- normalisation ---------------------------------------------------------------------
    def _prepare(self, name, y, exogenous, seasons=None):
        """seasons: this series' season lengths (None: the config's, as for every series)."""
        c = self.config
        seasons = (c.season_lengths or (c.period,)) if seasons is None else tuple(seasons)
        mode = choose_mode(y, max(seasons, default=1), c.seasonality, name)
        exogenous = np.zeros((len(y), 0)) if exogenous is None else np.asarray(exogenous, dtype=np.float64)
        effect = np.zeros(exogenous.shape[1])
        if c.normalize == "es" and exogenous.shape[1]:
            # the exogenous columns' linear effect comes out of z before the smoothing (regression.py)
            y, effect, _ = without_effect(y, exogenous, max(seasons, default=1), mode == "multiplicative")
        if c.normalize == "es":
            smoothing = fit_smoothing(y, seasons or 1, mode, trend=c.trend,
                                      horizon=c.horizon if c.smoothing_fit == "horizon" else 1)
        else:
            smoothing = Smoothing(mode, (), 1.0, (), 1.0)          # α = 1: the level is the last value
            z = smoothing.transform(y)
            change = np.abs(np.diff(z)).mean()
            smoothing.scale = float(change) if change > 0 else 1.0
        z = smoothing.transform(y)
        levels, trends, seasons = smoothing.run(z)
        center, scale = exogenous.mean(axis=0), exogenous.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        return _Prepared(smoothing, z, levels, trends, seasons, (exogenous - center) / scale, center, scale,
                         effect, (exogenous - center) @ effect)

    def _smoothing_forecast(self, prepared, t):
        """The smoothing's own forecast after t: l_t + (φ + … + φ^k) b_t + Σ_j s^j_{t+k−m_j⌈k/m_j⌉}, k = 1..h. (h,)"""
        p = prepared
        return p.smoothing.forecast(p.levels, p.trends, p.seasons, t, self.config.horizon)

    def _window(self, prepared, t, future_exogenous=None, lookback=None):
        """Inputs for a window ending at t (inclusive): history (L, 1 + E), future exogenous (h, E)."""
        L, h = lookback or self.lookbacks[0], self.config.horizon
        p, scale = prepared, prepared.smoothing.scale
        rows = np.arange(t - L + 1, t + 1)
        history = ((p.z[rows] - p.seasons[:, rows].sum(axis=0)) - p.levels[t]) / scale    # (L,)
        inputs = np.concatenate([history[:, None], p.exogenous[rows]], axis=1)           # (L, 1 + E)
        if future_exogenous is None:
            future_exogenous = p.exogenous[t + 1:t + 1 + h]                              # (h, E)
        return inputs, future_exogenous

    def _target(self, prepared, t):
        h = self.config.horizon
        future = prepared.z[t + 1:t + 1 + h]                                             # (h,)
        return (future - self._smoothing_forecast(prepared, t)) / prepared.smoothing.scale

    # --- training ------------------------------------------------------------------------------
    def _windows(self, lookback):
        """Every training window of every series: inputs (W, L, 1 + E), futures (W, h, E), targets (W, h),
        and two masks (W,): each series' last window, and the windows whose targets overlap the last one's."""
        c = self.config
        inputs, futures, targets, last, overlaps = [], [], [], [], []
        for name, p in self.series.items():
            ends = self._window_ends(name, p, lookback)
            for t in ends:
                window, future = self._window(p, t, lookback=lookback)
                inputs.append(window)
                futures.append(future)
                targets.append(self._target(p, t))
            # the last windows (their ends: the last validation_windows of the series) are the validation set
            first_held = ends[-1] - (c.validation_windows or c.horizon) + 1
            last.append(ends >= first_held)
            overlaps.append(ends > first_held - c.horizon)              # targets t+1..t+h reach the held-out ones
        return (torch.as_tensor(np.stack(inputs), dtype=torch.float32),                # (W, L, 1 + E)
                torch.as_tensor(np.stack(futures), dtype=torch.float32),               # (W, h, E)
                torch.as_tensor(np.stack(targets), dtype=torch.float32),               # (W, h)
                torch.as_tensor(np.concatenate(last)), torch.as_tensor(np.concatenate(overlaps)))

    def _window_ends(self, name, p, lookback):
        """The last point t of each of one series' training windows."""
        h = self.config.horizon
        start = max(lookback - 1, p.smoothing.period - 1)                         # its season indices known
        ends = np.arange(start, len(p.z) - h)
        if len(ends) < 1:
            raise ValueError(f"series {name!r} has {len(p.z)} points: too few for horizon {h} and season length "
                             f"{p.smoothing.period} (needs at least {start + h + 1})")
        return ends

    def _owners(self, lookback):
        """(W,): the series (its position in self.series) of each of _windows' windows."""
        return np.concatenate([np.full(len(self._window_ends(name, p, lookback)), position)
                               for position, (name, p) in enumerate(self.series.items())])

    def fit(self, panel, progress=False):
        """panel: list of (name, y (N,), exogenous (N, E) or None[, season lengths]), the training data only."""
        c = self.config
        self.series = {item[0]: self._prepare(*item) for item in panel}
        shortest = min(len(p.z) for p in self.series.values())
        wanted = c.lookbacks or ((c.lookback,) if c.lookback else
                                 default_lookbacks(c.horizon, c.period, c.normalize, c.lookback_factors))
        # keep at least a few windows per series: shorten a lookback before refusing
        self.lookbacks = sorted({max(1, min(L, shortest - c.horizon - 4)) for L in wanted})
        datasets = {L: self._windows(L) for L in self.lookbacks}
        owners = {L: self._owners(L) for L in self.lookbacks}                      # each window's series
        self.members = []
        trained = "ES-LSTM" if c.normalize == "es" else "LSTM"      # the pure LSTM is this class too
        bar = tqdm(total=c.members * c.steps, desc=f"training {trained}", disable=not progress, leave=False)
        with torch_threads(c.threads):
            for member in range(c.members):
                # N-BEATS' ensembling: the members differ in seed and in how far back they look
                lookback = self.lookbacks[member % len(self.lookbacks)]
                model = self._train_member(lookback, *datasets[lookback], c.seed * 1000 + member, bar,
                                           owners=owners[lookback])
                self.members.append((lookback, model))
        bar.close()
        return self

    def _new_model(self, lookback, exogenous_size):
        c = self.config
        return HybridNet(lookback, 1 + exogenous_size, c.horizon, exogenous_size, *c.sizes,
                         c.quantiles, highway=c.highway, backend=c.backend)

    def _train_member(self, lookback, inputs, futures, targets, last, overlaps, seed, bar, owners=None):
        """Adam on the pinball loss. With early stopping, the windows whose targets reach into the last
        window's (``overlaps``; ``last``: one window per series) are left out, and the network is kept as it
        was at the checkpoint that forecast the last windows best (step 0 included)."""
        c = self.config
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = self._new_model(lookback, futures.shape[-1])
        if c.zero_init:
            model.start_at_zero()
        use_future = futures.shape[-1] > 0
        mirror = c.mirror and not use_future               # a mirrored series has no mirrored exogenous inputs
        train = torch.arange(len(targets))
        if c.early_stopping and (~overlaps).any():
            train = torch.nonzero(~overlaps).flatten()

        def validation_loss():
            with torch.no_grad():
                prediction = model(inputs[last], futures[last] if use_future else None)
                return quantile_loss(prediction, targets[last], c.quantiles).item()

        optimizer = torch.optim.Adam(model.parameters(), lr=c.lr)
        # the learning rate falls to a tenth over the run: big steps first, fine ones last
        schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.1 ** (1 / c.steps))
        check = max(1, c.steps // 10)
        best = (validation_loss(), 0, copy.deepcopy(model.state_dict())) if c.early_stopping else None
        # Early stopping with nothing held out — every window's targets reach the last ones, as on a series
        # of a few dozen points — would judge each step on windows it trained on, and keep the most
        # overfitted. No step can be judged, so none is taken: the network stays at zero, the forecast is
        # the smoothing's (world copper consumption, 19 points, h = 6: 1.54× the best peer's MAE trained so,
        # 0.99× for the smoothing alone).
        nothing_held_out = c.early_stopping and c.zero_init and not bool((~overlaps).any())
        steps = 0 if nothing_held_out else c.steps
        bar.update(c.steps - steps)
        model.train()
        for step in range(1, steps + 1):
            index = train[torch.randint(len(train), (min(c.batch_size, len(train)),), generator=generator)]
            window, target = inputs[index], targets[index]                                 # (B, L, 1 + E), (B, h)
            if mirror:
                # each window upside down with probability ½ (−window -> −target): a correction the network cannot
                # tie to the window's shape, a constant bias, is wrong on one half and is not learnt
                sign = torch.randint(2, (len(index), 1), generator=generator) * 2.0 - 1.0    # (B, 1): ±1
                window, target = window * sign.unsqueeze(-1), target * sign
            prediction = model(window, futures[index] if use_future else None)             # (B, h, Q)
            loss = quantile_loss(prediction, target, c.quantiles)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            bar.update(1)
            if c.early_stopping and step % check == 0:
                loss = validation_loss()
                if loss < best[0]:
                    best = (loss, step, copy.deepcopy(model.state_dict()))
        model.stopped_at = best[1] if c.early_stopping else c.steps       # 0: the network was left at zero
        model.validation_loss = best[0] if c.early_stopping else None     # its pinball loss on the last windows
        if c.early_stopping:
            model.load_state_dict(best[2])
        model.eval()
        # (S, h, Q): each series' factors on the member's distances from its median (spread_factors) — one
        # series' history (a level shift, a crisis) says nothing about another's errors
        owners = np.zeros(len(targets), dtype=int) if owners is None else np.asarray(owners)
        model.spread = np.ones((owners.max() + 1, c.horizon, len(c.quantiles)))
        if c.refit_spread:                  # (a member left at zero has distances 0: its factors stay 1)
            with torch.no_grad():
                fitted = model(inputs[train], futures[train] if use_future else None).numpy()   # (W, h, Q)
            trained_on, seen = targets[train].numpy(), owners[train.numpy()]
            present = np.unique(seen)
            # a series with no window left to fit on (all its windows reach its held-out last one) takes
            # the factors of every series' windows together
            if len(present) < len(model.spread):
                model.spread[:] = spread_factors(fitted, trained_on, c.quantiles)
            for series in present:
                model.spread[series] = spread_factors(fitted[seen == series], trained_on[seen == series], c.quantiles)
        # (h, Q) or None: the smoothing's band, which member_draws puts around this member's median instead of
        # its own quantiles — for a member left at zero, and one whose quantiles have not spread out yet
        band = error_spread(targets[train], c.quantiles)                # judged on the windows held out of it
        held_out = c.early_stopping and bool((~overlaps).any())         # else the last windows were trained on
        # the band it then forecasts with is fitted on every window: with a history flat up to a jump in its
        # last points, the training windows alone saw no error at all (an interval of width 0)
        model.untrained_band = error_spread(targets, c.quantiles).numpy() if self._band_not_learnt(
            model, band, inputs[last], futures[last], targets[last], use_future, held_out,
            model.spread[owners[last.numpy()]]) else None
        model.held_out = held_out                   # the last window was not trained on: validation_forecast
        return model

    def _band_not_learnt(self, model, band, inputs, futures, targets, use_future, held_out, spread):
        """Does the member's own spread forecast the held-out last windows clearly worse (by more than
        BAND_MARGIN, pinball loss) than its median plus the smoothing's band? Always so for a member left at
        zero (a band of width 0). Found with few training steps: with 3 members of 30 Adam steps,
        AirPassengers' 80% and 90% intervals were 2.5 wide and covered 0 of 12 months (the members had
        stopped at step 3, their quantiles still next to their median; pinball loss 1.11 against 0.47 with
        the band). At the defaults (15 members, 300 steps), over the development panel's 33 fits it gives the
        band to 5 members in 2 fits (lynx's middle origin 4, us_unemployment's middle one 1), besides the 15
        members left at zero on austres' holdout. Judged on the spreads as trained, before spread_factors
        widened them, it gave it to 6 members in 2 fits (lynx's middle origin 5, wineind's first 1;
        interval_study.py prints the counts). A member's median, and so every point forecast, is unchanged."""
        c = self.config
        if c.zero_init and model.stopped_at == 0:
            return True
        if not held_out:                         # the last windows were trained on: nothing held out to judge by
            return False
        with torch.no_grad():
            own = model(inputs, futures if use_future else None)                          # (W, h, Q)
        middle = list(c.quantiles).index(0.5)
        median = own[..., middle:middle + 1]                                              # (W, h, 1)
        own = widened(own, torch.as_tensor(spread, dtype=own.dtype), middle)      # refitted, as member_draws has it
        with_band = median + band                                                         # band's median is 0
        return quantile_loss(with_band, targets, c.quantiles).item() < \
            (1 - BAND_MARGIN) * quantile_loss(own, targets, c.quantiles).item()

    # --- forecasting ---------------------------------------------------------------------------
    def _scenario(self, name, p, future_exogenous):
        """The standardised future exogenous values (h, E) of one series, or None without exogenous columns."""
        if not p.exogenous.shape[1]:
            return None
        if future_exogenous is None or name not in future_exogenous:
            raise ValueError(f"series {name!r} was fitted with exogenous columns: give their future "
                             f"values for the {self.config.horizon} forecast steps")
        return (np.asarray(future_exogenous[name], dtype=np.float64) - p.exogenous_center) / p.exogenous_scale

    def _future_offsets(self, name, future_exogenous=None, end=None):
        """(h,): the exogenous effect x_{t+k} · β on z at the h steps after ``end`` — from the scenario's
        values after the last fitted point, from the actual ones after an earlier end."""
        p, h = self.series[name], self.config.horizon
        if end is not None:
            return p.offsets[end + 1:end + 1 + h]
        if not p.exogenous.shape[1]:
            return np.zeros(h)
        self._scenario(name, p, future_exogenous)                   # the same checks as the network's inputs
        return (np.asarray(future_exogenous[name], dtype=np.float64) - p.exogenous_center) @ p.effect

    @torch.no_grad()
    def member_draws(self, name, future_exogenous=None, end=None):
        """(M, h, Q): each member's quantiles of the correction after the window ending at ``end`` (default:
        the last fitted point; an earlier end, with its actual exogenous values, scores a past window), in
        the normalised units the network learns in (de-normalised by ``to_series_units``)."""
        if not self.members:
            raise RuntimeError("fit the model first")
        p = self.series[name]
        t = len(p.z) - 1 if end is None else end
        scenario = self._scenario(name, p, future_exogenous) if end is None else None
        position = list(self.series).index(name)
        with fixed_work_split():
            return np.stack([self._member_draw(p, t, scenario, lookback, member, position)
                             for lookback, member in self.members])                     # (M, h, Q)

    def _member_draw(self, p, t, scenario, lookback, member, position):
        """(h, Q): one member's quantiles of the correction after the window ending at t."""
        window, future = self._window(p, t, scenario, lookback=lookback)
        inputs = torch.as_tensor(window[None], dtype=torch.float32)                        # (1, L, 1 + E)
        future = torch.as_tensor(future[None], dtype=torch.float32) if p.exogenous.shape[1] else None
        draw = member(inputs, future)[0].numpy()                                           # (h, Q)
        middle = self.config.quantiles.index(0.5)
        if member.untrained_band is not None:                   # the smoothing's band about its median
            return draw[:, middle:middle + 1] + member.untrained_band
        return widened(draw, member.spread[position].astype(draw.dtype), middle)     # this series' refitted factors

    def to_series_units(self, name, normalised, end=None, future_exogenous=None):
        """Normalised corrections (h, Q) after ``end`` (default: the last fitted point) -> forecasts in the
        series' units: inverse(smoothing forecast + exogenous effect + scale · correction)."""
        p = self.series[name]
        t = len(p.z) - 1 if end is None else end
        offsets = self._future_offsets(name, future_exogenous, end)                      # (h,)
        z = (self._smoothing_forecast(p, t) + offsets)[:, None] + p.smoothing.scale * normalised
        return p.smoothing.inverse(z)

    def ensemble_quantiles(self, name, future_exogenous=None, end=None):
        """(h, Q) in the series' units after the window ending at ``end`` (default: the last fitted point):
        the members' median, as N-BEATS takes it — one member that learnt a wrong correction moves it less
        than a mean (development panel: 1.039 / 1.105 with the mean, 1.033 / 1.100 with the median)."""
        draws = self.member_draws(name, future_exogenous, end=end)                           # (M, h, Q)
        return self.to_series_units(name, ordered(np.median(draws, axis=0), self.config.quantiles), end=end,
                                    future_exogenous=future_exogenous)

    def validation_forecast(self, name):
        """(h,): the median forecast of the series' last h fitted points from the window before them, or None
        when a member trained on them. Early stopping holds that window out of every member's training; it
        chooses each member's checkpoint on it, and the smoothing was fitted on every point, so an error
        measured on this forecast is optimistic (selection.py says by how much)."""
        if not all(member.held_out for _, member in self.members):
            return None
        end = len(self.series[name].z) - 1 - self.config.horizon                           # the window's last point
        return self.ensemble_quantiles(name, end=end)[:, self.config.quantiles.index(0.5)]

    def predict(self, future_exogenous=None):
        """{name: quantiles (h, Q)} in the series' units, for the h steps after the training data.

        future_exogenous: {name: (h, E)} scenario values of the exogenous columns, step k describing
        the k-th forecast step.
        """
        return {name: self.ensemble_quantiles(name, future_exogenous) for name in self.series}
