"""The exogenous columns' linear effect on a series, estimated before the smoothing: "regression with
smoothing errors", the design of R's auto.arima(xreg = …) with exponential smoothing in place of ARIMA.

A column x that moves y (a promotion, a price, the temperature) is, to the smoothing, just noise in y:
the level and season chase it one step late, and the network alone has to learn the whole effect from a
few hundred windows. So the effect is taken out first, on z (log y for multiplicative seasonality: a
promotion adds a percentage; y for additive: it adds units):

    z_t = Σ_e β_e x_{t,e} + u_t           u: the adjusted series, smoothed as before (smoothing.py)

and put back at forecast time, from the scenario's x:  ẑ_{t+k} = smoothing forecast of u + Σ_e β_e x_{t+k,e}.
(x is taken about its mean over the fitted points, x − x̄: a column of large values — a price index near
10⁵ — would otherwise move u by β·x̄, as far as exp() overflows; the level absorbs the constant either way.)
The network still reads every column and learns what the straight line misses.

β comes from least squares on the steps of the series, with one constant per place in the season
(m of them: 12 for monthly data, one without a season):

    z_t − z_{t−1} = c_{t mod m} + Σ_e β_e (x_{t,e} − x_{t−1,e}) + error

Differencing removes the level, so a level that wanders is not credited to a column that happens to
wander too (the "d = 1" of a regression with ARIMA errors); the constants take the trend and the season's
steps. A column whose steps are a trend or a season only (a time index, a month number) has nothing left to
explain once the constants are taken out, and gets β = 0: the trend and the season are the smoothing's.
"""
import numpy as np


def exogenous_effect(z, exogenous, period=1):
    """β (E,): the change in z per unit of each exogenous column, by least squares on the steps of z with
    one constant per place in the season.

    z (N,), exogenous (N, E), period: the longest season length of the series (1: none)."""
    z, exogenous = np.asarray(z, dtype=np.float64), np.asarray(exogenous, dtype=np.float64)
    E = exogenous.shape[1]
    if E == 0 or len(z) < 3:
        return np.zeros(E)
    dz, dx = np.diff(z), np.diff(exogenous, axis=0)                              # (N − 1,), (N − 1, E)
    place = np.arange(1, len(z)) % period                                         # t mod m
    for k in np.unique(place):                                                    # the constants c_k, solved out
        rows = place == k
        dz[rows] -= dz[rows].mean()
        dx[rows] -= dx[rows].mean(axis=0)
    # else nothing left to explain (a constant's steps, a trend's after the constants: rounding only)
    varies = np.abs(dx).max(axis=0) > 1e-9 * np.ptp(exogenous, axis=0)
    beta = np.zeros(E)
    if varies.any():
        beta[varies] = np.linalg.lstsq(dx[:, varies], dz, rcond=None)[0]
    return beta


def without_effect(y, exogenous, period=1, multiplicative=False):
    """(y with the columns' effect taken out, β, x̄): z = log y (multiplicative) or y; u = z − (x − x̄) · β,
    returned in y's units. x is taken about its mean over these points (x̄, (E,)), so the level keeps its
    place; a forecast adds (x_future − x̄) · β back to z."""
    z = np.log(y) if multiplicative else np.asarray(y, dtype=np.float64)
    exogenous = np.asarray(exogenous, dtype=np.float64)
    beta, center = exogenous_effect(z, exogenous, period), exogenous.mean(axis=0)
    u = z - (exogenous - center) @ beta
    return (np.exp(u) if multiplicative else u), beta, center
