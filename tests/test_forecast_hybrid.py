"""The ES-LSTM hybrid, its smoothing, the DataFrame API, the statistical peers, the panel metrics, and
the seq2seq model's alignment of scenario steps."""
from pathlib import Path

import numpy as np
import pytest
import torch

pd = pytest.importorskip("pandas")

from lstmlab.forecast.api import LSTMForecaster  # noqa: E402
from lstmlab.forecast.datasets import AIRPASSENGERS, Series  # noqa: E402
from lstmlab.forecast.evaluate import summarize  # noqa: E402
from lstmlab.forecast.hybrid import ESLSTM, QUANTILES, HybridConfig, error_spread  # noqa: E402
from lstmlab.forecast.pipeline import ForecastConfig, Forecaster  # noqa: E402
from lstmlab.forecast.smoothing import Smoothing, choose_mode, fit_smoothing, smoothing_forecast  # noqa: E402

TINY = {"ensemble": 1, "steps": 20, "hidden_size": 8, "mlp_size": 16}


def air_frame(n=144):
    return pd.DataFrame({"unique_id": "air", "ds": pd.date_range("1949-01-01", periods=n, freq="MS"),
                         "y": np.array(AIRPASSENGERS[:n], dtype=np.float64)})


# --- smoothing ---------------------------------------------------------------------------------
def test_smoothing_is_causal_and_centred():
    y = np.array(AIRPASSENGERS, dtype=np.float64)
    # the recursions at fixed parameters: what fit_smoothing chose here while it scored the first two cycles
    # too. The centring leaves a cycle's mean at a fraction of the indices' spread that grows with γ and falls
    # with α: 0.5% here, 1.4% at today's fit (α 0.2, γ 0.3), which this test is not about
    smoothing = Smoothing("multiplicative", 12, alpha=0.5, gammas=0.3, scale=1.0, beta=0.02, phi=0.98)
    z = smoothing.transform(y)
    levels, trends, seasons = smoothing.run(z)
    short_levels, short_trends, short_seasons = smoothing.run(z[:100])   # the first 100 steps see nothing later
    np.testing.assert_allclose(levels[:100], short_levels)
    np.testing.assert_allclose(trends[:100], short_trends)
    np.testing.assert_allclose(seasons[:, :100], short_seasons)
    assert seasons.shape == (1, 144)
    assert abs(seasons[0, -12:].mean()) < 0.01 * seasons[0, -12:].std()   # the season does not drift with the trend
    fitted = fit_smoothing(y, 12, "multiplicative")
    assert 0 < fitted.alpha <= 1 and fitted.scale > 0


def test_additive_or_multiplicative_from_the_data():
    t = np.arange(120)
    growing = (100 + 5 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))          # swing grows with the level
    steady = 100 + 5 * t + 20 * np.sin(2 * np.pi * t / 12)                    # same swing throughout
    assert choose_mode(growing, 12) == "multiplicative"
    assert choose_mode(steady, 12) == "additive"
    assert choose_mode(steady - 1000, 12) == "additive"                       # negatives: never log
    with pytest.raises(ValueError, match=r"series 'shop': multiplicative seasonality needs positive values; y is 0"):
        choose_mode(np.r_[np.ones(5), 0.0, np.ones(30)], 12, "multiplicative", name="shop")


def smoothing_by_the_equations(z, period, alpha, beta, phi, gamma):
    """The recursions of smoothing.py for one parameter set, one step and one index at a time (the twin)."""
    m = period
    first = z[:2 * m].reshape(2, m)
    season = list((first - first.mean(axis=1, keepdims=True)).mean(axis=0))       # s_{-m} .. s_{-1}
    level = z[0] - season[0]
    trend = (z[m:2 * m].mean() - z[:m].mean()) / m if phi > 0 else 0.0
    levels, trends = [], []
    for t in range(len(z)):
        s_old = season[t]                                                          # s_{t−m}
        new_level = alpha * (z[t] - s_old) + (1 - alpha) * (level + phi * trend)
        trend = beta * (new_level - level) + (1 - beta) * phi * trend
        level = new_level
        s_new = gamma * (z[t] - level) + (1 - gamma) * s_old
        s_new -= (sum(season[t + 1:t + m]) + s_new) / m                         # the last cycle's mean -> 0
        season.append(s_new)
        levels.append(level)
        trends.append(trend)
    return np.array(levels), np.array(trends), np.array(season[m:])


@pytest.mark.parametrize("phi", [0.0, 0.9], ids=["no-trend", "damped"])
def test_vectorised_smoothing_matches_the_equations(phi):
    z = np.log(np.array(AIRPASSENGERS, dtype=np.float64))
    smoothing = Smoothing("multiplicative", 12, alpha=0.3, gammas=0.1, scale=1.0, beta=0.1, phi=phi)
    levels, trends, seasons = smoothing.run(z)
    for ours, twin in zip((levels, trends, seasons[0]), smoothing_by_the_equations(z, 12, 0.3, 0.1, phi, 0.1)):
        np.testing.assert_allclose(ours, twin, rtol=1e-12, atol=1e-12)


def test_error_over_the_horizon_matches_the_forecasts_made_from_each_state():
    """The grid's criterion, horizon h: Σ_t Σ_k (z_{t+k} − forecast from the state at t, k steps ahead)², from
    the origin t = 2m − 1 on: the initial indices were read from z_0 .. z_{2m−1}, whose forecasts are not scored."""
    from lstmlab.forecast.smoothing import _smooth
    z = np.log(np.array(AIRPASSENGERS, dtype=np.float64))
    alpha, beta, phi, gamma, h, m = 0.3, 0.1, 0.9, 0.1, 5, 12
    levels, trends, seasons = smoothing_by_the_equations(z, m, alpha, beta, phi, gamma)
    first = z[:2 * m].reshape(2, m)
    seasons = np.r_[(first - first.mean(axis=1, keepdims=True)).mean(axis=0), seasons]     # s_{-m} .. s_{N−1}
    expected = 0.0
    for t in range(2 * m - 1, len(z) - 1):                                     # origin t, forecasts of z_{t+k}
        for k in range(1, min(h, len(z) - 1 - t) + 1):
            forecast = levels[t] + sum(phi ** j for j in range(1, k + 1)) * trends[t] + seasons[t + k - m + m]
            expected += (z[t + k] - forecast) ** 2
    error = _smooth(z, (m,), *(np.array([v]) for v in (alpha, beta, phi)), np.array([[gamma]]), horizon=h)[3]
    np.testing.assert_allclose(error, [expected], rtol=1e-9)


def double_seasonal_by_the_equations(z, periods, alpha, gammas):
    """Taylor's double-seasonal recursions (no trend), one step and one index at a time (the twin)."""
    rest, seasons = z.copy(), []
    for m in periods:                                                  # initial indices, shortest season first
        first = rest[:2 * m].reshape(2, m)
        initial = list((first - first.mean(axis=1, keepdims=True)).mean(axis=0))
        seasons.append(initial)
        rest = rest - np.array([initial[t % m] for t in range(len(rest))])
    level = z[0] - sum(s[0] for s in seasons)
    levels = []
    for t in range(len(z)):
        old = [s[t] for s in seasons]                                  # s^j_{t−m_j}
        level = alpha * (z[t] - sum(old)) + (1 - alpha) * level
        for j, (s, m, g) in enumerate(zip(seasons, periods, gammas)):
            new = g * (z[t] - level - (sum(old) - old[j])) + (1 - g) * old[j]
            new -= (sum(s[t + 1:t + m]) + new) / m                     # each last cycle's mean -> 0
            s.append(new)
        levels.append(level)
    return np.array(levels), np.array([s[m:] for s, m in zip(seasons, periods)])


def test_two_seasons_match_the_equations_and_beat_one():
    """A day (6 steps) and a week (42) on top of each other: the double-seasonal smoothing is the twin of
    the equations, and it forecasts the next day better than the week's season alone."""
    rng = np.random.default_rng(0)
    t = np.arange(42 * 8)
    day_shape = np.sin(2 * np.pi * t / 6) * (1 + 0.5 * t / len(t))              # the day's shape slowly grows
    weekend = np.where(t % 42 >= 30, -1.0, 0.2)
    z = 10 + day_shape + weekend + 0.1 * rng.standard_normal(len(t))
    smoothing = Smoothing("additive", (6, 42), alpha=0.2, gammas=(0.3, 0.1), scale=1.0)
    levels, trends, seasons = smoothing.run(z)
    twin_levels, twin_seasons = double_seasonal_by_the_equations(z, (6, 42), 0.2, (0.3, 0.1))
    np.testing.assert_allclose(levels, twin_levels, rtol=1e-12)
    np.testing.assert_allclose(seasons, twin_seasons, rtol=1e-12, atol=1e-12)
    assert not trends.any()
    train, test = z[:-6], z[-6:]
    both = np.abs(smoothing_forecast(train, (6, 42), 6, "additive") - test).mean()
    week_only = np.abs(smoothing_forecast(train, 42, 6, "additive") - test).mean()
    assert both < 0.8 * week_only, (both, week_only)
    assert fit_smoothing(train, (6, 42, 400), "additive").periods == (6, 42)   # 400: not two cycles, dropped


def test_long_series_score_the_grid_on_evenly_spaced_origins(monkeypatch):
    """Above ORIGINS points the grid's error is summed over every ⌈N / ORIGINS⌉-th origin only."""
    from lstmlab.forecast import smoothing as module
    z = np.log(np.array(AIRPASSENGERS, dtype=np.float64))
    one = [np.array([v]) for v in (0.3, 0.1, 0.9)] + [np.array([[0.1]])]
    every = module._smooth(z, (12,), *one, horizon=3)[3]
    monkeypatch.setattr(module, "ORIGINS", 48)                               # 144 points: every 3rd origin
    sparse = module._smooth(z, (12,), *one, horizon=3)[3]
    assert 0.2 * every < sparse < 0.5 * every


def test_damped_trend_flattens_out():
    smoothing = Smoothing("additive", 1, alpha=0.5, gammas=0.0, scale=1.0, beta=0.1, phi=0.5)
    np.testing.assert_allclose(smoothing.damping(4), [0.5, 0.75, 0.875, 0.9375])    # φ + … + φ^k -> φ/(1−φ) = 1
    assert not Smoothing("additive", 1, 0.5, 0.0, 1.0).damping(3).any()              # φ = 0: no trend at all


def plain_fit(y, mode, periods, h, betas, monkeypatch):
    """fit_smoothing over one grid only (β in ``betas``): no held-out choice between grids."""
    from lstmlab.forecast import smoothing as module
    with monkeypatch.context() as patch:
        patch.setattr(module, "BETAS", np.asarray(betas))
        patch.setattr(module, "CAUTIOUS_BETA", np.inf)             # every member cautious: one grid
        return fit_smoothing(y, periods, mode, horizon=h)


def test_the_grid_is_chosen_on_the_last_horizon_points(monkeypatch):
    """The twin of fit_smoothing's choice: fit the cautious grid (β ≤ CAUTIOUS_BETA) and the whole one without
    the last h points, forecast them with each, and refit the one that missed them by less (absolute error of
    z) on everything."""
    from lstmlab.forecast import smoothing as module
    rng = np.random.default_rng(1)
    cases = [(100 + np.cumsum(rng.normal(0.2, 1, 60)) + rng.normal(0, 2, 60), "additive", 1, 6) for _ in range(12)]
    cases.append((np.array(AIRPASSENGERS[:108], dtype=np.float64), "multiplicative", 12, 12))   # log y, a season
    drifting = 2 + 3 / (1 + np.exp((np.arange(50) - 30) / 6)) + rng.normal(0, 0.005, 50)       # a slope that drifts
    cases.append((drifting, "additive", 1, 6))
    cautious_betas = module.BETAS[module.BETAS <= module.CAUTIOUS_BETA]
    chosen = []
    for y, mode, period, h in cases:
        missed, fits = [], []
        for betas in (cautious_betas, module.BETAS):
            fits.append(plain_fit(y[:-h], mode, period, h, betas, monkeypatch))
            z = fits[-1].transform(y)
            forecast = fits[-1].forecast(*fits[-1].run(z[:-h]), len(y) - h - 1, h)
            missed.append(np.abs(z[-h:] - forecast).sum())
        betas = module.BETAS if missed[1] < missed[0] else cautious_betas
        expected, ours = plain_fit(y, mode, period, h, betas, monkeypatch), fit_smoothing(y, period, mode, horizon=h)
        assert ours.state() == expected.state()
        # "overruled": the whole grid's best in-sample member has a fast trend, and the held-out points refuse it
        chosen.append("whole" if missed[1] < missed[0] else
                      "overruled" if fits[1].beta > module.CAUTIOUS_BETA else "cautious")
    assert chosen[-1] == "whole" and ours.beta > module.CAUTIOUS_BETA
    assert "overruled" in chosen[:-1]         # both outcomes occur: the choice is not one-sided here


def test_the_grid_is_not_chosen_where_the_last_points_cannot_be_held_out(monkeypatch):
    """Too short to fit without the last h points, or a season that needs them for its two cycles: the
    cautious grid, and no fit on the shortened series at all (the fallback of _cautious_or_whole)."""
    from lstmlab.forecast import smoothing as module
    lengths, smooth = [], module._smooth

    def recording(z, periods, alphas, *rest, **kw):               # the length of every series a grid is fitted on
        if len(alphas) > 1:
            lengths.append(len(z))
        return smooth(z, periods, alphas, *rest, **kw)
    monkeypatch.setattr(module, "_smooth", recording)
    y = np.array(AIRPASSENGERS[:29], dtype=np.float64)      # 12: two cycles in 29 points, not in the first 23
    assert fit_smoothing(y, 12, "multiplicative", horizon=6).beta <= module.CAUTIOUS_BETA
    assert fit_smoothing(y[:6], 1, "additive", horizon=3).beta <= module.CAUTIOUS_BETA      # 3 points left: too few
    assert lengths == [29, 6]                                   # only the grids on every point ran
    fit_smoothing(y[:24], 1, "additive", horizon=6)
    assert lengths[2:] == [18, 24]                              # long enough: the held-out fit, then the whole


def test_scoring_starts_after_the_initial_cycles_and_by_half_the_series():
    from lstmlab.forecast.smoothing import scored_from
    assert scored_from(100, (12,)) == 24 and scored_from(100, (4, 12)) == 24    # the longest season's two cycles
    assert scored_from(30, (12,)) == 15                                         # at most half the series
    assert scored_from(100, ()) == 0                                            # no season: every origin


def test_a_slowing_trend_is_damped():
    """Growth that slows down: the chosen smoothing damps its trend (φ < 1) and does not keep the old slope."""
    t = np.arange(80)
    y = 100 + 40 * (1 - np.exp(-t / 25))
    smoothing = fit_smoothing(y, 1, "additive")
    assert 0 < smoothing.phi < 1
    assert fit_smoothing(y, 1, "additive", trend=False).phi == 0.0


# --- the hybrid ---------------------------------------------------------------------------------
def test_windows_see_only_the_past():
    """Changing values after a window's end changes neither its inputs nor its normalisation."""
    y = np.array(AIRPASSENGERS, dtype=np.float64)
    model = ESLSTM(HybridConfig(horizon=12, period=12, **TINY))
    model.lookbacks = [24]
    a, b = model._prepare("a", y, None), model._prepare("b", np.r_[y[:100], 2 * y[100:]], None)
    b.smoothing = a.smoothing                                                     # same α, γ
    b.z = b.smoothing.transform(np.r_[y[:100], 2 * y[100:]])
    b.levels, b.trends, b.seasons = b.smoothing.run(b.z)
    assert b.seasons.shape == (1, 144)
    np.testing.assert_allclose(model._window(a, 99)[0], model._window(b, 99)[0])


def test_hybrid_learns_a_seasonal_series_better_than_seasonal_naive():
    y = np.array(AIRPASSENGERS, dtype=np.float64)
    model = ESLSTM(HybridConfig(horizon=12, period=12, ensemble=1, steps=100)).fit([("air", y[:-12], None)])
    quantiles = model.predict()["air"]                                            # (12, 5)
    assert quantiles.shape == (12, 5) and (np.diff(quantiles, axis=1) >= 0).all()
    seasonal_naive = y[-24:-12]
    assert np.abs(quantiles[:, 2] - y[-12:]).mean() < np.abs(seasonal_naive - y[-12:]).mean()


def test_a_network_that_outputs_zero_forecasts_what_the_smoothing_forecasts():
    """start_at_zero: the hybrid's starting point is the smoothing's own forecast, computed here from smoothing.py."""
    y = np.array(AIRPASSENGERS, dtype=np.float64)[:-12]
    model = ESLSTM(HybridConfig(horizon=12, period=12, **TINY)).fit([("air", y, None)])
    for _, network in model.members:
        network.start_at_zero()
        network.untrained_band = None         # the smoothing's band about the median: the next test
    quantiles = model.predict()["air"]                                                   # (12, 5)
    smoothing = fit_smoothing(y, 12, choose_mode(y, 12), horizon=12)
    levels, trends, seasons = smoothing.run(smoothing.transform(y))
    expected = np.exp(levels[-1] + smoothing.damping(12) * trends[-1] + seasons[0, -12:])
    for q in range(quantiles.shape[1]):
        np.testing.assert_allclose(quantiles[:, q], expected, rtol=1e-5)
    np.testing.assert_allclose(smoothing_forecast(y, 12, 12), expected)          # the panel's "smoothing" column


def test_an_untrained_member_forecasts_the_smoothing_with_its_error_band():
    """error_spread: a member early stopping keeps at step 0 (here: learning rate 0) outputs 0 for every
    quantile; it forecasts the smoothing with a Gaussian band whose variance grows linearly with the step,
    a + b·k fitted to the mean square of what the smoothing missed k steps ahead on every window — computed
    again here with numpy and the standard library's NormalDist."""
    from statistics import NormalDist
    y = np.array(AIRPASSENGERS, dtype=np.float64)[:-12]
    model = ESLSTM(HybridConfig(horizon=12, period=12, lr=0.0, **TINY)).fit([("air", y, None)])
    lookback, network = model.members[0]
    assert network.stopped_at == 0
    _, _, targets, _, _ = model._windows(lookback)
    square = (targets.numpy().astype(np.float64) ** 2).mean(axis=0)                       # (h,)
    k = np.arange(1, 13)
    a, b = np.linalg.lstsq(np.stack([np.ones(12), k], axis=1), square, rcond=None)[0]
    a, b = (square.mean(), 0.0) if b < 0 else (0.0, k @ square / (k @ k)) if a < 0 else (a, b)
    z = np.array([NormalDist().inv_cdf(q) for q in QUANTILES])
    expected = np.sqrt(a + b * k)[:, None] * z                                           # (h, Q)
    quantiles = model.predict()["air"]                                                   # (12, 5)
    smoothing = model.series["air"].smoothing
    np.testing.assert_allclose(quantiles[:, 2], smoothing_forecast(y, 12, 12), rtol=1e-6)   # the point forecast
    band = np.log(quantiles) - np.log(quantiles[:, [2]])                                 # multiplicative: log scale
    np.testing.assert_allclose(band, smoothing.scale * expected, rtol=1e-4, atol=1e-6)
    assert (band[:, 0] < 0).all() and (band[:, 4] > 0).all()                             # a band, not a point


@pytest.mark.parametrize("square, expected", [
    ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]),          # a random walk's: σ_k² = k, a = 0 exactly
    ([4.0, 3.0, 2.0, 1.0], [2.5, 2.5, 2.5, 2.5]),          # shrinking with k (b < 0): constant, the mean square
    ([0.1, 0.1, 3.0, 3.0], [0.71, 1.42, 2.13, 2.84]),      # least squares' a < 0: through 0, b = Σ k·s / Σ k²
    ([9.0], [9.0]),                                        # h = 1: the one mean square
])
def test_error_spread_fits_the_variance_line_and_its_limits(square, expected):
    """σ_k² = a + b·k by least squares on the mean squares at each k, a and b kept ≥ 0 — each branch of
    error_spread, on targets ±√(square_k) (mean square exactly square_k)."""
    from statistics import NormalDist
    square = np.array(square)
    targets = torch.tensor(np.stack([np.sqrt(square), -np.sqrt(square)]))                 # (2, h)
    band = error_spread(targets, QUANTILES).numpy()                                        # (h, Q)
    z = np.array([NormalDist().inv_cdf(q) for q in QUANTILES])
    np.testing.assert_allclose(band, np.sqrt(np.asarray(expected, dtype=np.float64))[:, None] * z, atol=1e-12)


def one_series(y, freq="MS"):
    return pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2000-01-01", periods=len(y), freq=freq),
                         "y": np.asarray(y, dtype=np.float64)})


def test_the_smoothings_band_holds_up_on_messy_series():
    """Found by a user's trial of messy series, every member left at step 0 (learning rate 0 here, as early
    stopping left them there): the empirical quantiles of the training errors gave a 90% interval [103, 861]
    around 298 beside an 80% one of [275, 323] after a level shift (the shift sat in more than 5% of the
    windows), width 0 for a history flat up to its last point, and widths that jumped about from step to
    step on 36 points (1 to 5 windows a member)."""
    untrained = dict(lr=0.0, ensemble=2, hidden_size=8, mlp_size=16)
    t = np.arange(120)
    rng = np.random.default_rng(0)
    season = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 120)
    shifted = season + np.where(t >= 90, 200.0, 0.0)
    flat = np.full(100, 50.0)
    flat[-1] = 80.0
    for y in (shifted, flat, season[:36]):
        forecaster = LSTMForecaster(h=12, **untrained).fit(one_series(y))
        out = forecaster.predict()
        # the band's units: log y with multiplicative seasonality (a width in y follows the season's level)
        unit = np.log if forecaster.network.series["s"].smoothing.mode == "multiplicative" else (lambda v: v)
        w80, w90 = (unit(out[f"ES-LSTM-hi-{lv}"]) - unit(out[f"ES-LSTM-lo-{lv}"]) for lv in (80, 90))
        assert (w80 > 0).all() and (np.diff(w90) >= -1e-9 * w90[1:]).all()       # never 0, never narrower later
        np.testing.assert_allclose(w90 / w80, 1.6449 / 1.2816, rtol=1e-3)        # Gaussian: 1.645 / 1.282
    out = LSTMForecaster(h=12, **untrained).fit(one_series(shifted)).predict()
    assert out["ES-LSTM-hi-90"].max() < 2 * out["ES-LSTM"].max()        # was 861 around 298


def test_with_nothing_to_hold_out_the_network_is_not_trained():
    """A series so short that every window's targets reach its last window's: early stopping would judge
    each step on windows it trained on and keep the most overfitted one (world copper consumption, 19 points,
    h = 6: 1.54× the best peer against 0.99× for the smoothing). Now no step is taken: the smoothing's forecast."""
    y = 3000 + 250 * np.arange(19) + 100 * np.sin(np.arange(19))                 # 19 points, no season
    model = ESLSTM(HybridConfig(horizon=6, period=1, **TINY)).fit([("short", y, None)])
    assert all(not network.held_out and network.stopped_at == 0 for _, network in model.members)
    np.testing.assert_allclose(model.predict()["short"][:, 2], smoothing_forecast(y, (), 6), rtol=1e-6)
    longer = np.r_[y, y[-1] + 250 * np.arange(1, 41)]                            # 59 points: windows to spare
    assert all(network.held_out for _, network in ESLSTM(HybridConfig(horizon=6, period=1, **TINY)).fit(
        [("longer", longer, None)]).members)


def test_early_stopping_keeps_the_last_window_out_of_training():
    y = np.array(AIRPASSENGERS, dtype=np.float64)
    model = ESLSTM(HybridConfig(horizon=12, period=12, **TINY))
    model.series = {"air": model._prepare("air", y, None), "half": model._prepare("half", y[:80], None)}
    inputs, futures, targets, last, overlaps = model._windows(24)
    ends = np.r_[np.arange(23, 144 - 12), np.arange(23, 80 - 12)]                     # t of every window
    assert len(targets) == len(ends) and last.sum() == 2                              # one last window per series
    np.testing.assert_array_equal(np.flatnonzero(last.numpy()), [144 - 12 - 24, len(ends) - 1])
    # left out of training: the windows whose targets t+1..t+12 reach the last window's (t > t_last − 12)
    assert overlaps.sum() == 2 * 12
    assert not overlaps[:144 - 12 - 24 - 11].any() and overlaps[144 - 12 - 24 - 11:144 - 12 - 23].all()


@pytest.mark.parametrize("mirror", [False, True], ids=["plain", "mirrored"])
def test_mirrored_training_learns_no_bias_the_window_does_not_show(mirror):
    """Flat windows, every target +1: a plain network learns "+1 whatever the window"; trained on upside-down
    windows too (−window -> −target) it cannot, since a flat window looks the same either way up."""
    model = ESLSTM(HybridConfig(horizon=3, mirror=mirror, early_stopping=False, lr=1e-2, **{**TINY, "steps": 150}))
    inputs, targets = torch.zeros(64, 6, 1), torch.ones(64, 3)                   # (W, L, 1), (W, h)
    none = torch.zeros(64, dtype=torch.bool)
    network = model._train_member(6, inputs, torch.zeros(64, 3, 0), targets, none, none, seed=0, bar=Bar())
    with torch.no_grad():
        quantiles = network(inputs[:1])[0]                                        # (h, Q): 0.05 … 0.95
    if mirror:                                                                    # targets ±1: the 10% and 90%
        assert (quantiles[:, 1] < -0.5).all() and (quantiles[:, 3] > 0.5).all(), quantiles   # quantiles near ∓1
    else:
        assert (quantiles[:, 2] - 1).abs().max() < 0.2, quantiles                  # the median learnt +1


class Bar:
    def update(self, n):
        pass


def test_ensemble_size_by_default_and_given():
    assert HybridConfig(horizon=3).members == 15                       # the hybrid: cheap members, measured better
    assert HybridConfig(horizon=3, normalize="last").members == 5      # the pure LSTM reads two seasons per window
    assert HybridConfig(horizon=3, ensemble=3).members == 3
    with pytest.raises(ValueError, match="ensemble must be a positive integer, got 0"):
        HybridConfig(horizon=3, ensemble=0).validate()


def test_network_size_by_default_and_given():
    hybrid = ESLSTM(HybridConfig(horizon=3))._new_model(lookback=4, exogenous_size=0)
    assert hybrid.lstm_part.encoder.hidden_size == 16 and hybrid.lstm_part.decoder[0].out_features == 32
    pure = ESLSTM(HybridConfig(horizon=3, normalize="last"))._new_model(lookback=4, exogenous_size=0)
    assert pure.lstm_part.encoder.hidden_size == 32 and pure.lstm_part.decoder[0].out_features == 64
    given = ESLSTM(HybridConfig(horizon=3, hidden_size=8, mlp_size=24))._new_model(lookback=4, exogenous_size=0)
    assert given.lstm_part.encoder.hidden_size == 8 and given.lstm_part.decoder[0].out_features == 24
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        HybridConfig(horizon=3, hidden_size=0).validate()


@pytest.mark.parametrize("normalize, name", [("es", "ES-LSTM"), ("last", "LSTM")], ids=["hybrid", "pure"])
def test_the_progress_bar_names_the_model_it_trains(normalize, name, capsys):
    """The pure LSTM's bar read "training ES-LSTM"."""
    y = np.array(AIRPASSENGERS, dtype=np.float64)[:60]
    ESLSTM(HybridConfig(horizon=3, normalize=normalize, **{**TINY, "steps": 2})).fit([("air", y, None)], progress=True)
    assert f"training {name}:" in capsys.readouterr().err


def test_members_can_look_back_different_lengths():
    y = np.array(AIRPASSENGERS, dtype=np.float64)[:-12]
    model = ESLSTM(HybridConfig(horizon=12, period=12, lookback_factors=(1, 2), **{**TINY, "ensemble": 2}))
    model.fit([("air", y, None)])
    assert [lookback for lookback, _ in model.members] == [12, 24]
    assert model.predict()["air"].shape == (12, 5)


# --- the DataFrame API --------------------------------------------------------------------------
def test_half_hourly_data_get_a_daily_and_a_weekly_season():
    stamps = pd.date_range("2000-06-05", periods=48 * 7 * 2 + 60, freq="30min")
    t = np.arange(len(stamps))
    y = 100 + 10 * np.sin(2 * np.pi * t / 48) + 5 * (t % 336 >= 240)
    forecaster = LSTMForecaster(h=4, **TINY).fit(pd.DataFrame({"unique_id": "load", "ds": stamps, "y": y}))
    assert forecaster.period_ == 336 and forecaster.season_lengths_ == (48, 336)
    smoothing = forecaster.network.series["load"].smoothing
    assert smoothing.periods == (48, 336) and len(smoothing.gammas) == 2


def test_fit_predict_in_long_format():
    frame = pd.concat([air_frame(), air_frame().assign(unique_id="air2", y=lambda d: d.y * 2)])
    forecaster = LSTMForecaster(h=6, **TINY).fit(frame)
    out = forecaster.predict()
    assert list(out.columns) == ["unique_id", "ds", "ES-LSTM", "ES-LSTM-lo-90", "ES-LSTM-lo-80",
                                 "ES-LSTM-hi-80", "ES-LSTM-hi-90"]              # statsforecast's order
    assert list(out.unique_id.unique()) == ["air", "air2"] and len(out) == 12
    assert out.ds.iloc[0] == pd.Timestamp("1961-01-01") and out.ds.iloc[5] == pd.Timestamp("1961-06-01")
    assert forecaster.period_ == 12
    assert forecaster.season_lengths_ == (12,)
    assert (out["ES-LSTM-lo-90"] <= out["ES-LSTM"]).all() and (out["ES-LSTM"] <= out["ES-LSTM-hi-90"]).all()


def test_quantile_heads_that_have_not_spread_out_take_the_smoothings_band():
    """3 members of 30 Adam steps stop after a few steps, their quantiles still next to their median: the
    80% and 90% intervals were 2.5 wide and covered none of the 12 held-out months. With the spreads as
    trained, each such member takes the smoothing's band about its median (the point forecast is the same);
    refitted (the default, spread_factors), the one that stopped at step 30 keeps its own, and the
    intervals are as wide and cover as much."""
    actual = np.array(AIRPASSENGERS[132:], dtype=np.float64)
    for refit in (False, True):
        forecaster = LSTMForecaster(h=12, ensemble=3, steps=30, refit_spread=refit).fit(air_frame(132))
        took_band = [member.untrained_band is not None for _, member in forecaster.network.members]
        assert all(took_band) if not refit else 1 <= sum(took_band) < 3
        out = forecaster.predict()
        width80 = (out["ES-LSTM-hi-80"] - out["ES-LSTM-lo-80"]).to_numpy()
        width90 = (out["ES-LSTM-hi-90"] - out["ES-LSTM-lo-90"]).to_numpy()
        assert (width90 > 1.2 * width80).all() and width80.mean() > 40
        assert ((out["ES-LSTM-lo-90"] <= actual) & (actual <= out["ES-LSTM-hi-90"])).mean() >= 0.75


def test_spread_factors_minimise_the_pinball_loss_of_each_quantile_and_its_mirror():
    """The factors c_k = max(c · k^p, 1) on a member's distances from its median, c and p shared by a quantile
    and its mirror — computed again by trying every c on a fine grid for every p of POWERS, on errors that
    grow like a random walk's (√k) and distances too narrow everywhere (no factor at the clamp). The 10%
    quantile sits above the median in a few windows (a crossing)."""
    from lstmlab.forecast.hybrid import POWERS, spread_factors
    rng = np.random.default_rng(0)
    windows, h = 60, 4
    k = np.arange(1, h + 1)
    targets = rng.standard_t(4, size=(windows, h)) * np.sqrt(k)                        # heavy tails, growing
    median = 0.3 * rng.normal(size=(windows, h))
    distance = np.array([-0.2, -0.1, 0.0, 0.1, 0.2]) * np.exp(rng.normal(0, 0.3, size=(windows, h, 1)))
    distance[:5, :, 1] *= -1
    factors = spread_factors(median[..., None] + distance, targets, QUANTILES)         # (h, Q)
    residual = targets - median

    def loss(candidates, pair):                       # candidates (n, h): the pair's pinball loss of each
        q = np.array(QUANTILES)[pair]
        error = residual[None, ..., None] - candidates[:, None, :, None] * distance[None][..., pair]
        return np.maximum(q * error, (q - 1) * error).sum(axis=(1, 2, 3))

    scales = np.arange(1.0, 30.0, 0.01)
    for pair in ([0, 4], [1, 3]):
        best = min((loss(candidates, pair).min(), candidates[np.argmin(loss(candidates, pair))])
                   for candidates in (np.maximum(scales[:, None] * k ** power, 1.0) for power in POWERS))
        assert loss(factors[None, :, pair[0]], pair)[0] <= best[0] + 1e-9
        np.testing.assert_allclose(factors[:, pair[0]], best[1], rtol=0.01)
        assert (factors[:, pair[0]] == factors[:, pair[1]]).all()                     # shared with its mirror
        assert (np.diff(factors[:, pair[0]]) > 0).all() and factors[0, pair[0]] > 3   # wider, and more so later
    assert (factors[:, 2] == 1).all()                                                  # the median never moves


def test_spread_factors_keep_what_is_wide_enough_and_skip_what_is_missing():
    """Distances already too wide are kept (c ≥ 1: errors on the windows a member trained on are, if anything,
    smaller than on those it forecasts); errors that do not grow with k get a flat factor; a missing target
    is left out, not spread to every factor as NaN."""
    from lstmlab.forecast.hybrid import spread_factors
    rng = np.random.default_rng(1)
    targets = rng.normal(size=(400, 6))                                                # white noise, sd 1
    wide = np.array([-5.0, -4.0, 0.0, 4.0, 5.0]) * np.ones((400, 6, 1))
    np.testing.assert_array_equal(spread_factors(wide, targets, QUANTILES), np.ones((6, 5)))
    narrow = wide / 20                                                                 # 0.2–0.25: too narrow
    flat = spread_factors(narrow, targets, QUANTILES)
    assert flat[-1, 0] / flat[0, 0] < 1.3 and 5 < flat[0, 1] < 8                       # 1.28 / 0.2 = 6.4
    targets[3, 2] = np.nan
    assert np.isfinite(spread_factors(narrow, targets, QUANTILES)).all()


def refitted_draw(network, name, lookback, member, position):
    """(h, Q): a member's forecast after the series' last point as member_draws should give it — its median
    plus the series' refitted factors times its distances from the median, as trained."""
    p = network.series[name]
    window, _ = network._window(p, len(p.z) - 1, lookback=lookback)
    with torch.no_grad():
        raw = member(torch.as_tensor(window[None], dtype=torch.float32))[0].numpy()          # (h, Q)
    return raw[:, [2]] + member.spread[position] * (raw - raw[:, [2]])


def test_refitted_spreads_reach_the_forecasts_and_leave_the_median():
    """Adam moves every output at about the same speed, so after the few steps early stopping keeps, a
    member's 5% and 10% quantiles sit about equally far from its median (AirPassengers' first panel origin:
    1.004–1.012× in all 15 members; 1.28× for a Gaussian). Refitted on the windows each member trained on
    (one factor per series, step and quantile pair), the intervals the forecast gives are each member's
    median plus those factors times its distances, and the median — every point forecast — is the same bit
    for bit."""
    y = np.array(AIRPASSENGERS, dtype=np.float64)[:-12]
    settings = dict(horizon=12, period=12, **{**TINY, "ensemble": 3, "steps": 60})
    plain = ESLSTM(HybridConfig(refit_spread=False, **settings)).fit([("air", y, None)])
    refitted = ESLSTM(HybridConfig(**settings)).fit([("air", y, None)])
    np.testing.assert_array_equal(plain.predict()["air"][:, 2], refitted.predict()["air"][:, 2])
    own = [m for (_, m) in refitted.members if m.untrained_band is None]
    assert len(own) >= 2                                   # (a member the guard gives the band: spread unused)
    draws = refitted.member_draws("air")                                                # (M, h, Q)
    for index, (lookback, after) in enumerate(refitted.members):
        if after.untrained_band is not None:
            continue
        assert after.stopped_at == 60 and after.spread.shape == (1, 12, 5)
        assert (after.spread >= 1).all() and after.spread[0][:, [0, 1, 3, 4]].max() > 1.5
        np.testing.assert_allclose(draws[index], refitted_draw(refitted, "air", lookback, after, 0), rtol=1e-6)
        # the training windows fall outside each refitted interval about as often as it says
        inputs, futures, targets, last, overlaps = refitted._windows(lookback)
        with torch.no_grad():
            trained = after(inputs[~overlaps]).numpy().astype(np.float64)              # (W, h, Q)
        residual = targets[~overlaps].numpy() - trained[..., 2]
        offsets = (trained - trained[..., [2]]) * after.spread[0]
        for low, high, outside in ((1, 3, 0.2), (0, 4, 0.1)):
            missed = np.mean(residual < offsets[..., low]) + np.mean(residual > offsets[..., high])
            assert abs(missed - outside) < 0.05, (outside, missed)


def test_each_series_keeps_the_seasons_its_own_length_allows():
    """A 30-month newcomer beside AirPassengers: the newcomer has no two whole years before its last h
    points, so its smoothing has no season — and AirPassengers' keeps its 12 (the whole panel used to
    fall to the shortest series' season, 1, and AirPassengers' MAE from ~10 to ~25)."""
    short = air_frame(30).assign(unique_id="new", ds=pd.date_range("1958-07-01", periods=30, freq="MS"))
    forecaster = LSTMForecaster(h=12, **TINY).fit(pd.concat([air_frame(132), short]))
    assert forecaster.seasons_ == {"air": (12,), "new": ()}
    assert forecaster.network.series["air"].smoothing.periods == (12,)
    assert forecaster.network.series["new"].smoothing.periods == ()
    assert forecaster.period_ == 12 and forecaster.season_lengths_ == (12,)
    alone = LSTMForecaster(h=12, **TINY).fit(air_frame(132)).network.series["air"].smoothing
    assert forecaster.network.series["air"].smoothing == alone          # the same smoothing as fitted alone
    assert forecaster.predict().groupby("unique_id").size().to_dict() == {"air": 12, "new": 12}


def test_a_series_without_a_season_gets_none_unless_the_user_names_one():
    """Monthly stamps say a series CAN have a yearly season; a seasonally adjusted one or a price has none,
    and a smoothing that models one anyway carries its first cycles' noise into every forecast (a forecaster's
    trial: seasonally adjusted unemployment 1.73× the best peer with the season, 1.07× without). The hybrid
    keeps a season when STL's seasonal strength reaches 0.64, as forecast::nsdiffs and statsforecast test it."""
    from lstmlab.forecast.seasonality import seasonal_strength
    rng = np.random.default_rng(0)
    walk = 100 + np.cumsum(rng.normal(size=144))                                   # a price: no season
    seasonal = 100 + 0.5 * np.arange(144) + 10 * np.sin(2 * np.pi * np.arange(144) / 12) + rng.normal(size=144)
    assert seasonal_strength(walk, 12) < 0.64 < seasonal_strength(seasonal, 12)
    stamps = pd.date_range("2000-01-01", periods=144, freq="MS")
    frame = pd.concat([pd.DataFrame({"unique_id": "walk", "ds": stamps, "y": walk}),
                       pd.DataFrame({"unique_id": "seasonal", "ds": stamps, "y": seasonal})])
    forecaster = LSTMForecaster(h=12, **TINY).fit(frame)
    assert forecaster.seasons_ == {"walk": (), "seasonal": (12,)}
    assert forecaster.network.series["walk"].smoothing.periods == ()
    named = LSTMForecaster(h=12, season_length=12, **TINY).fit(frame)               # the user's word is kept
    assert named.seasons_ == {"walk": (12,), "seasonal": (12,)}
    pure = LSTMForecaster(h=12, model="lstm", **TINY).fit(frame)                   # no smoothing: windows only
    assert pure.seasons_ == {"walk": (12,), "seasonal": (12,)}


def test_cross_validation_trains_only_before_each_cutoff():
    frame = air_frame()
    changed = frame.copy()
    changed.loc[changed.index[-6:], "y"] *= 10                                   # only the last fold's future
    forecaster = LSTMForecaster(h=6, **TINY)
    first, second = forecaster.cross_validation(frame, n_windows=2), forecaster.cross_validation(changed, n_windows=2)
    assert list(first.cutoff.unique()) == [pd.Timestamp("1959-12-01"), pd.Timestamp("1960-06-01")]
    np.testing.assert_array_equal(first["ES-LSTM"], second["ES-LSTM"])            # no fold saw the change
    assert not np.array_equal(first["y"], second["y"])


def test_cross_validation_is_laid_out_as_its_docstring_and_statsforecast_say():
    """Found by a statsforecast user's audit: the docstring promised unique_id, ds, cutoff, y and the forecasts,
    and the rows came fold by fold with cutoff and y last. Now each series' folds are together, in order."""
    frame = pd.concat([air_frame(60), air_frame(60).assign(unique_id="b", y=lambda d: d.y * 2)], ignore_index=True)
    folds = LSTMForecaster(h=3, **{**TINY, "steps": 2}).cross_validation(frame, n_windows=2)
    assert list(folds.columns[:5]) == ["unique_id", "ds", "cutoff", "y", "ES-LSTM"]
    assert list(folds.unique_id) == ["air"] * 6 + ["b"] * 6
    for _, part in folds.groupby("unique_id"):
        assert part.ds.is_monotonic_increasing and part.cutoff.is_monotonic_increasing
    np.testing.assert_array_equal(folds.y[:6], air_frame(60).y.iloc[-6:])


def test_categorical_ids_are_read_without_a_warning():
    """A categorical unique_id made pandas warn (observed=False is deprecated) on every groupby; unused
    categories are no series."""
    import warnings
    frame = pd.concat([air_frame(48), air_frame(48).assign(unique_id="air2", y=lambda d: d.y * 2)])
    frame["unique_id"] = pd.Categorical(frame["unique_id"], categories=["air", "air2", "unused"])
    forecaster = LSTMForecaster(h=3, **{**TINY, "steps": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = forecaster.fit(frame).predict()
        folds = forecaster.cross_validation(frame, n_windows=1)
    assert list(out["unique_id"].unique()) == ["air", "air2"] and list(folds["unique_id"].unique()) == ["air", "air2"]


@pytest.mark.parametrize("frame, kwargs, message", [
    (pd.DataFrame({"unique_id": "flat", "ds": pd.date_range("2000-01-01", periods=60, freq="MS"), "y": 3.0}), {},
     r"series 'flat' is constant \(3 at all 60 points\)"),
    (air_frame(20), {"season_length": 12}, r"series 'air' has 20 points, too short for season length 12"),
    (air_frame(60).assign(y=lambda d: d.y - 200), {"seasonality": "multiplicative"},
     r"series 'air': multiplicative seasonality needs positive values; y is -88 at ds 1949-01-01"),
    (air_frame(10), {}, r"series 'air' has 10 points: too short to learn horizon 6"),
], ids=["constant", "short-for-season", "multiplicative-negative", "too-short"])
def test_bad_series_are_refused_in_one_line_naming_the_series(frame, kwargs, message):
    with pytest.raises(ValueError, match=message) as caught:
        LSTMForecaster(h=6, **TINY, **kwargs).fit(frame)
    assert "\n" not in str(caught.value)


# --- peers and the panel metric ----------------------------------------------------------------
def test_statistical_peers_forecast_airpassengers():
    pytest.importorskip("statsforecast")
    from lstmlab.forecast.peers import all_peers
    y = np.array(AIRPASSENGERS, dtype=np.float64)
    peers = all_peers(y[:-12], 12, 12)
    assert set(peers) == {"naive", "seasonal_naive", "ets", "autoarima", "theta"}
    np.testing.assert_array_equal(peers["seasonal_naive"], y[-24:-12])
    for name in ("ets", "autoarima", "theta"):
        assert peers[name].shape == (12,) and np.isfinite(peers[name]).all()
        assert np.abs(peers[name] - y[-12:]).mean() < np.abs(peers["naive"] - y[-12:]).mean(), name


def test_each_peer_gets_the_longest_season_it_takes():
    from lstmlab.forecast.peers import peer_season
    assert [peer_season([48, 336], 4000, name) for name in ("ets", "autoarima", "theta")] == [1, 1, 336]
    assert [peer_season([48, 336], 600, name) for name in ("ets", "autoarima", "theta")] == [1, 1, 48]
    assert [peer_season([4], 100, name) for name in ("ets", "autoarima", "theta")] == [4, 4, 4]
    assert peer_season([12], 20, "ets") == 1                                     # fewer than two cycles
    assert peer_season([], 100, "theta") == 1


def test_relative_mae_is_a_geometric_mean():
    rows = [{"metrics": {"m": {"mae": 2.0, "rmse": 2.0, "smape": 1.0, "mase": 1.0}}, "relative_mae": {"m": 2.0}},
            {"metrics": {"m": {"mae": 1.0, "rmse": 1.0, "smape": 1.0, "mase": None}}, "relative_mae": {"m": 0.5}}]
    summary = summarize(rows)["m"]
    assert summary["relative_mae_geomean"] == pytest.approx(1.0) and summary["mae"] == 1.5
    assert summary["mase"] is None                                               # undefined on one row


def test_the_panel_reports_one_peer_per_series_beside_the_best_peer_per_origin(monkeypatch):
    """benchmarks/forecast_panel: per origin the best of the three peers changes; per series one peer is
    taken (the lowest MAE averaged over the origins), and the model's averaged MAE is set against it."""
    # importable from the repository root, also when pytest is given this file alone (no benchmarks/ collected)
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))
    from benchmarks.forecast_panel.run_panel import _relative, _relative_per_series, geomean, summary_table

    def row(maes):                                    # MAE of the model and of each peer at one origin
        metrics = {name: {"mae": value} for name, value in maes.items()}
        best = min(maes[p] for p in ("ets", "autoarima", "theta"))
        return {"metrics": metrics, "period": 12, "relative_mae": {name: v / best for name, v in maes.items()}}
    others = dict.fromkeys(("LSTM", "smoothing", "naive", "seasonal_naive"), 9.0)
    # the peers take turns being best: per origin the model loses both times (1.5×), per series it wins
    series = {"series": "s", "freq": "MS", "horizon": 12,
              "rows": [row({"ES-LSTM": 3.0, "ets": 2.0, "autoarima": 6.0, "theta": 6.0, **others}),
                       row({"ES-LSTM": 3.0, "ets": 6.0, "autoarima": 2.0, "theta": 6.0, **others})]}
    assert _relative([series], "ES-LSTM") == [1.5, 1.5]
    assert _relative_per_series([series], "ES-LSTM") == [pytest.approx(6.0 / 8.0)]          # 3 / mean(2, 6)
    assert geomean(_relative_per_series([series, series], "ets")) == pytest.approx(1.0)
    last_line = summary_table([series]).splitlines()[-1]
    assert "one peer per series" in last_line and "| 0.75 |" in last_line


def test_future_exogenous_values_are_matched_on_their_stamps_and_checked():
    """Found by probing the API: X_df rows were used in the order given (reversed rows, another forecast),
    a NaN gave an all-NaN forecast, and stamps from the past were accepted."""
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2010-01-01", periods=60, freq="MS")
    x = rng.standard_normal(60)
    frame = pd.DataFrame({"unique_id": "s", "ds": stamps, "y": 100 + 5 * x, "x": x})
    forecaster = LSTMForecaster(h=4, **TINY).fit(frame)
    future = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2015-01-01", periods=4, freq="MS"),
                           "x": [0.5, -1.0, 2.0, 0.0]})
    forward = forecaster.predict(X_df=future)
    backward = forecaster.predict(X_df=future.iloc[::-1])
    np.testing.assert_array_equal(forward["ES-LSTM"].to_numpy(), backward["ES-LSTM"].to_numpy())
    with pytest.raises(ValueError, match=r"series 's': X_df's 'x' is nan at future step 2"):
        forecaster.predict(X_df=future.assign(x=[0.5, np.nan, 2.0, 0.0]))
    with pytest.raises(ValueError, match=r"X_df's ds must be the 4 stamps after the fitted data \(2015-01-01"):
        forecaster.predict(X_df=future.assign(ds=pd.date_range("2019-01-01", periods=4, freq="MS")))
    with pytest.raises(ValueError, match=r"^step_size must be a positive integer, got 0$"):
        forecaster.cross_validation(frame, n_windows=2, step_size=0)
    with pytest.raises(ValueError, match=r"level must be among \[80, 90\].*got \[95\]"):
        forecaster.predict(X_df=future, level=(95,))


@pytest.mark.parametrize("call, error, message", [
    (lambda: LSTMForecaster(h=True), ValueError, r"h \(the horizon\) must be a positive integer, got True"),
    (lambda: LSTMForecaster(h=6, season_length=1.5), ValueError, r"season_length must be a positive integer.*1.5"),
    (lambda: LSTMForecaster(h=6, season_length="12"), ValueError, r"season_length must be .*'12'"),
    (lambda: LSTMForecaster(h=6).fit(np.arange(50.0)), TypeError, r"expected a pandas DataFrame .* got ndarray"),
], ids=["bool-h", "float-season", "text-season", "array"])
def test_the_api_refuses_what_it_would_coerce(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_options_are_checked_when_the_forecaster_is_made():
    """A misspelt keyword used to pass the constructor and fail at fit with HybridConfig's TypeError."""
    with pytest.raises(TypeError, match=r"unknown keyword 'ensemle'; the model's options are .*ensemble"):
        LSTMForecaster(h=6, ensemle=3)
    with pytest.raises(ValueError, match=r"seasonality must be auto, additive or multiplicative; got 'mult'"):
        LSTMForecaster(h=6, seasonality="mult")


def test_one_series_needs_no_unique_id_in_x_df_and_level_may_be_one_int():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(60)
    frame = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2010-01-01", periods=60, freq="MS"),
                          "y": 100 + 5 * x, "x": x})
    forecaster = LSTMForecaster(h=4, **TINY).fit(frame)
    future = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2015-01-01", periods=4, freq="MS"),
                           "x": [0.5, -1.0, 2.0, 0.0]})
    full = forecaster.predict(X_df=future)
    without_id = forecaster.predict(X_df=future.drop(columns="unique_id"), level=90)
    assert list(without_id.columns) == ["unique_id", "ds", "ES-LSTM", "ES-LSTM-lo-90", "ES-LSTM-hi-90"]
    np.testing.assert_array_equal(without_id["ES-LSTM-hi-90"], full["ES-LSTM-hi-90"])
    with pytest.raises(TypeError, match=r"X_df must be a pandas DataFrame .* got Series"):
        forecaster.predict(X_df=future["x"])
    panel = pd.concat([frame, frame.assign(unique_id="t")])
    two = LSTMForecaster(h=4, **TINY).fit(panel)
    with pytest.raises(ValueError, match=r"X_df needs a unique_id column: the model was fitted on 2 series"):
        two.predict(X_df=future.drop(columns="unique_id"))


def test_future_values_for_a_model_without_exogenous_columns_are_refused():
    y = 100 + 10 * np.sin(np.arange(60) / 2)
    frame = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2010-01-01", periods=60, freq="MS"), "y": y})
    forecaster = LSTMForecaster(h=4, **TINY).fit(frame)
    future = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2015-01-01", periods=4, freq="MS"), "x": 1.0})
    with pytest.raises(ValueError, match=r"fitted without exogenous columns: X_df would not be used"):
        forecaster.predict(X_df=future)


# --- seq2seq: a scenario step drives the forecast step it describes ------------------------------
def test_moving_the_scenario_by_one_step_moves_the_matching_forecast_step():
    """Issue 16 item 6: y_t = 100 + 5 x_t. A bump of x at scenario step s must move forecast step s
    (on 22c1684 the model read the scenario one step late, and never read its last step)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200)
    series = Series("toy", 100 + 5 * x + 0.05 * rng.standard_normal(200), exogenous={"x": x})
    config = ForecastConfig(kind="seq2seq", horizon=5, lookback=6, period=1, exogenous=("x",), log=False,
                            ensemble=1, epochs=40, patience=40, hidden_size=8, dropout=0.0, lr=2e-2)
    forecaster = Forecaster(config).fit(series)
    calm = forecaster.forecast(series, {"x": np.zeros(5)}).point
    for step in range(5):
        bump = np.zeros(5)
        bump[step] = 3.0
        moved = forecaster.forecast(series, {"x": bump}).point - calm
        assert int(np.argmax(np.abs(moved))) == step, (step, moved)
        assert moved[step] > 5                                                    # about 5 · 3 = 15


def test_each_series_gets_its_own_refitted_spread():
    """Found by a fault hunt: one factor per member over every series' windows let a level shift in one
    series widen a quiet series' 95% quantile from +3 to +19 above its median in the same fit. The factors
    are now per series (the draws of each use its own), and the quiet one's band stays about as it is
    alone."""
    rng = np.random.default_rng(7)
    quiet, shifted = 100 + 2 * rng.standard_normal(100), 100 + 2 * rng.standard_normal(100)
    shifted[70:] += 30
    settings = dict(h=12, ensemble=3, steps=60)
    alone = LSTMForecaster(**settings).fit(one_series(quiet)).predict()
    both = LSTMForecaster(**settings).fit(pd.concat([one_series(quiet), one_series(shifted).assign(unique_id="t")]))
    out = both.predict()
    network = both.network
    assert all(member.spread.shape == (2, 12, 5) for _, member in network.members)
    above = lambda frame: (frame["ES-LSTM-hi-90"] - frame["ES-LSTM"]).to_numpy()            # noqa: E731
    assert above(out[out.unique_id == "s"]).max() < 1.5 * above(alone).max()
    for position, name in enumerate(("s", "t")):
        draws = network.member_draws(name)                                                 # (M, h, Q)
        for index, (lookback, member) in enumerate(network.members):
            if member.untrained_band is not None:
                continue
            np.testing.assert_allclose(draws[index], refitted_draw(network, name, lookback, member, position),
                                       rtol=1e-5, atol=1e-6)


def test_ordered_sorts_around_the_median_and_never_moves_it():
    """The members' median quantiles are sorted for the forecast, but a quantile that crossed the median is
    put at the median, not swapped with it: widening the spreads must never move a point forecast."""
    from lstmlab.forecast.hybrid import ordered
    crossed = np.array([[-2.0, -1.0, 0.0, 1.0, 2.0],        # in order
                        [-1.0, -2.0, 0.0, 2.0, 1.0],        # 5%/10% and 90%/95% swapped
                        [0.5, -1.0, 0.2, 1.0, 2.0]])        # the 5% quantile above the median
    np.testing.assert_array_equal(ordered(crossed, QUANTILES), [[-2.0, -1.0, 0.0, 1.0, 2.0],
                                                               [-2.0, -1.0, 0.0, 1.0, 2.0],
                                                               [-1.0, 0.2, 0.2, 1.0, 2.0]])
