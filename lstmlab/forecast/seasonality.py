"""Frequency and seasonal periods from the time stamps.

A step's length says which cycles a series can have: twelve months make a year, seven days a week,
48 half-hours a day and 336 a week. A user who knows better passes --season-length N (repeatable).

    frequency         season lengths     (pandas aliases)
    yearly            none               YS, YE, BYE, A, AS …
    quarterly         4                  QS, QE, BQE, Q …
    monthly           12                 MS, ME, BME, BMS, M …  (or pd.DateOffset(months=1): the 15th)
    twice a month     24                 SMS, SME
    weekly            52                 W-SUN, W-MON …
    daily             7                  D
    business days     5                  B
    hourly            24 and 168         h, H
    half-hourly       48 and 336         30min
    quarter-hourly    96 and 672         15min
    minutely          1440 and 10080     min, T
    every k months    12 / k             2MS, 3ME … (k dividing 12); likewise k quarters, k weeks
    every k hours …   a day and a week   2h, 5min … (when k steps divide a day)
"""
import numpy as np


def frequency_of(stamps):
    """The pandas frequency alias of evenly spaced stamps, or None when they are not."""
    import pandas as pd
    if len(stamps) < 3:
        step = pd.Timestamp(stamps.iloc[1]) - pd.Timestamp(stamps.iloc[0])
        return pd.tseries.frequencies.to_offset(step).freqstr
    try:
        index = pd.DatetimeIndex(stamps)
        inferred = pd.infer_freq(index)
    except (TypeError, ValueError):
        return None
    if inferred is None and index.tz is None:
        for alias in TWICE_A_MONTH:               # pandas infers neither: tried on the stamps themselves
            try:
                if index.equals(pd.date_range(index[0], periods=len(index), freq=alias)):
                    return alias
            except ValueError:                    # SME is new in pandas 2.2
                continue
    return inferred


# twice a month, which pd.infer_freq never names: the 1st and 15th (SMS), the 15th and the month's end (SME)
TWICE_A_MONTH = ("SMS", "SME")


# Seasonal strength at which a season counts as there: the threshold of forecast::nsdiffs' "seas" test and of
# statsforecast's AutoARIMA (Wang, Smith & Hyndman 2006).
SEASONAL_STRENGTH = 0.64


def seasonal_strength(y, period):
    """How much of y's variation, once its trend is out, is a cycle of ``period`` steps (0 to 1):

        F_s = max(0, 1 − Var(R) / Var(S + R))     S, R: STL's seasonal part and remainder (statsmodels)

    A calendar says which cycles a series CAN have; this says whether it has one. A seasonally adjusted
    series (GDP, unemployment) or a price has none, and a smoothing that models a season anyway carries
    its first cycles' noise into every forecast. Needs two whole cycles (len(y) ≥ 2·period).

    STL as R's mstl runs it for that test (statsforecast's port too): a seasonal window of 11 with
    degree 0 — statsmodels' default (7, degree 1) follows noise closely enough that four years of white
    noise pass as seasonal more often than not — and R's jumps (each smoother evaluated at every tenth
    point and interpolated), without which a weekly season of minute data (10,080) takes minutes."""
    from statsmodels.tsa.seasonal import STL
    y = np.asarray(y, dtype=np.float64)
    period = int(period)
    trend = int(np.ceil(1.5 * period / (1 - 1.5 / 11))) | 1             # statsmodels' own windows: the
    low_pass = (period + 1) | 1                                           # smallest odd ≥ 1.5m/(1 − 1.5/11), > m
    fit = STL(y, period=period, seasonal=11, seasonal_deg=0, trend=trend, low_pass=low_pass, seasonal_jump=2,
              trend_jump=-(-trend // 10), low_pass_jump=-(-low_pass // 10)).fit()
    total = np.var(fit.seasonal + fit.resid, ddof=1)
    if np.ptp(y) == 0 or total <= 1e-12 * np.var(y, ddof=1):            # a constant or straight series: STL's
        return 0.0                                                         # parts are rounding, no season
    return float(max(0.0, 1.0 - np.var(fit.resid, ddof=1) / total))


def month_steps(index):
    """Months from each stamp of a DatetimeIndex to the next, whatever the days: Jan 30 -> Feb 29 is 1."""
    return np.diff(index.year * 12 + index.month)


def monthly_on_one_day(stamps):
    """pd.DateOffset(months=k) for stamps on one day of the month (the 2nd to the 28th, at one time of
    day), k months apart: e.g. the 15th of every month, which no pandas alias names (MS is the 1st, ME
    the last day). None otherwise."""
    import pandas as pd
    try:
        index = pd.DatetimeIndex(stamps)
    except (TypeError, ValueError):           # several UTC offsets: not one time of day anyway
        return None
    if len(index) < 2 or len(set(index.day)) != 1 or not 1 < index.day[0] <= 28 \
            or len(set(index - index.normalize())) != 1:
        return None
    steps = month_steps(index)
    return pd.DateOffset(months=int(steps[0])) if steps[0] >= 1 and (steps == steps[0]).all() else None


def months_apart(freq):
    """k for the frequency pd.DateOffset(months=k) (or n=2, months=1 …), else None; k < 1 is refused."""
    kwds = getattr(freq, "kwds", None)
    if isinstance(freq, str) or not kwds or set(kwds) != {"months"}:
        return None
    months = freq.n * kwds["months"]
    if months < 1:
        raise ValueError(f"a frequency of {months} months does not go forward in time: expected "
                         "pd.DateOffset(months=k) with k >= 1")
    return months


def frequency_name(freq):
    """How a frequency is written in reports: the alias, or the DateOffset a user would pass as freq."""
    months = months_apart(freq)
    return f"DateOffset(months={months})" if months is not None else str(freq)


# pandas' calendar offsets by the unit they step in: (offset classes, unit, its adverb, steps of one in a
# cycle: a year — a week for business days).
# season_lengths_for takes the season from here, frequency_in_words the words.
CALENDAR_UNITS = (
    ({"YearBegin", "YearEnd", "BYearBegin", "BYearEnd"}, "years", "yearly", 1),
    ({"QuarterBegin", "QuarterEnd", "BQuarterBegin", "BQuarterEnd"}, "quarters", "quarterly", 4),
    ({"SemiMonthBegin", "SemiMonthEnd"}, "half-months", "twice a month", 24),
    ({"MonthBegin", "MonthEnd", "BusinessMonthBegin", "BusinessMonthEnd", "CustomBusinessMonthBegin",
      "CustomBusinessMonthEnd"}, "months", "monthly", 12),
    ({"Week"}, "weeks", "weekly", 52),
    ({"BusinessDay", "CustomBusinessDay"}, "business days", "business-daily", 5),
)


def _calendar_unit(offset):
    """The CALENDAR_UNITS row of a pandas offset, or None (fixed lengths: D, h, min …; Easter …)."""
    names = {cls.__name__ for cls in type(offset).__mro__}      # BusinessMonthEnd, MonthOffset, …
    return next((row for row in CALENDAR_UNITS if names & row[0]), None)


def frequency_in_words(freq):
    """'quarterly' for QS-OCT (pandas' own name for quarters that start in January, April, July and
    October), 'every 2 months', 'every 30 minutes' …; None for a number of steps or what has no words."""
    months = months_apart(freq)
    if months is not None:
        return "monthly" if months == 1 else f"every {months} months"
    if freq is None or str(freq).isdigit():
        return None
    try:
        offset = offset_of(freq)
    except ValueError:
        return None
    if offset.n < 1:
        return None
    row = _calendar_unit(offset)
    if row is not None:
        return row[2] if offset.n == 1 else f"every {offset.n} {row[1]}"
    nanos = _fixed_nanos(offset)
    if nanos:
        for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second")):
            if nanos % (size * 10**9) == 0:
                count = nanos // (size * 10**9)
                return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return None


def season_lengths_for(freq):
    """Seasonal periods for a frequency alias ("MS", "BME", "QS-OCT", "30min", "W-SUN", "12" …) or a
    pd.DateOffset(months=k); [] if none.

    The alias is read by pandas itself (its offset classes), so business and month-end variants land on
    their calendar unit: "BME" (last business day of each month) is monthly, not business-daily."""
    if freq is None:
        return []
    months = months_apart(freq)
    if months is not None:
        return _whole_cycles(12, months)
    text = str(freq)
    if text.isdigit():                           # --freq 12 for a file without dates: the period itself
        if int(text) < 1:
            raise ValueError(f"a frequency in steps per season must be at least 1 (1: no season), got {freq!r}")
        return [int(text)] if int(text) > 1 else []
    offset = offset_of(freq)
    n = abs(offset.n)
    row = _calendar_unit(offset)
    if row is not None:
        return _whole_cycles(row[3], n)          # years: _whole_cycles(1, n) is []
    nanos = _fixed_nanos(offset)
    if nanos:                                    # D, h, min, s …: cycles of a day and of a week
        day = 86_400 * 10**9
        if nanos == day:
            return [7]
        steps_per_day = day // nanos if day % nanos == 0 else 0
        return [steps_per_day, 7 * steps_per_day] if steps_per_day > 1 else []
    return []                                    # an offset pandas knows but no calendar cycle fits (Easter …)


def _whole_cycles(period, every):
    """[period // every] when ``every`` steps divide the cycle into at least two: 12 months every 3 -> [4]."""
    return [period // every] if 0 < every < period and period % every == 0 else []


def offset_of(freq):
    """pandas' offset for an alias; deprecated spellings (M, H, T …) are read without pandas' warning."""
    import warnings
    from pandas.tseries.frequencies import to_offset
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return to_offset(freq)
    except (TypeError, ValueError):
        raise ValueError(f"unknown frequency {freq!r}: expected a pandas alias such as MS, QS, W, D, h, 30min, "
                         "or a number of steps per season") from None


def _fixed_nanos(offset):
    """The length of a fixed-length offset (D, h, min, s …) in nanoseconds; None for calendar offsets."""
    try:
        return int(offset.nanos)
    except ValueError:                           # "… is a non-fixed frequency"
        return None


def usable_season(lengths, length, cycles=2):
    """The longest period with at least ``cycles`` full cycles in ``length`` steps; 1 when none."""
    usable = [m for m in lengths if m > 1 and cycles * m <= length]
    return max(usable) if usable else 1
