"""Long-format data, frequencies and seasonality, and the CSV/JSON/checkpoint items of issue 14 (8-11)."""
import json
import pickle
import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

pd = pytest.importorskip("pandas")

from lstmlab.forecast.cli import json_safe  # noqa: E402
from lstmlab.forecast.datasets import airpassengers  # noqa: E402
from lstmlab.forecast.frame import prepare, read_csv, season_lengths, split_series  # noqa: E402
from lstmlab.forecast.pipeline import Forecaster  # noqa: E402
from lstmlab.forecast.run import default_config, format_metrics, split  # noqa: E402
from lstmlab.forecast.seasonality import season_lengths_for, usable_season  # noqa: E402


def cli(*args):
    return subprocess.run([sys.executable, "-m", "lstmlab.cli", "forecast", *args], capture_output=True, text=True)


def monthly_csv(path, values, start="2000-01-01", freq="MS", bom=False, quoted=False):
    stamps = pd.date_range(start, periods=len(values), freq=freq).strftime("%Y-%m-%d %H:%M")
    rows = [f'"{d}","{v}"' if quoted else f"{d},{v}" for d, v in zip(stamps, values)]
    path.write_text(("\ufeff" if bom else "") + "ds,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


QUICK = ["--no-peers", "--ensemble", "1", "--train-steps", "5"]


# --- frequencies and seasonality ------------------------------------------------------------------
@pytest.mark.parametrize("freq, expected", [
    ("MS", [12]), ("ME", [12]), ("QS-OCT", [4]), ("QE-DEC", [4]), ("W-SUN", [52]), ("D", [7]), ("h", [24, 168]),
    ("30min", [48, 336]), ("15min", [96, 672]), ("YS-JAN", []), ("12", [12]), ("1", []),
    # business and month-end variants are their calendar unit (BME once read as business-daily, [5])
    ("BME", [12]), ("BMS", [12]), ("BQE-DEC", [4]), ("BYE-DEC", []), ("B", [5]), ("SMS", [24]),
    ("3ME", [4]), ("2QS-JAN", [2]), ("2W-SUN", [26]), ("4h", [6, 42]), ("M", [12]), ("H", [24, 168]),
], ids=lambda v: str(v))
def test_season_lengths_from_the_frequency(freq, expected):
    assert season_lengths_for(freq) == expected


def test_business_month_end_stamps_are_monthly_end_to_end(tmp_path):
    """The last business day of each month (closing prices): season 12 — it was read as business-daily,
    5 — and the seasonal smoothing then forecasts a pure yearly cycle exactly."""
    path = monthly_csv(tmp_path / "close.csv", np.round(100 + np.sin(np.arange(60) * np.pi / 6), 3), freq="BME")
    result = cli("--csv", str(path), "--horizon", "3", "--json", *QUICK)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["freq"] == "BME" and report["season_lengths"] == [12], {k: report[k] for k in ("freq", "season_lengths")}


def test_a_frequency_of_zero_steps_is_refused():
    with pytest.raises(ValueError, match=r"at least 1 \(1: no season\), got '0'"):
        season_lengths_for("0")


def test_the_longest_season_with_two_cycles_is_used():
    assert usable_season([48, 336], 4000) == 336
    assert usable_season([48, 336], 500) == 48
    assert usable_season([12], 20) == 1


@pytest.mark.parametrize("freq, alias, lengths", [("30min", "30min", [48, 336]), ("h", "h", [24, 168]),
                                                  ("MS", "MS", [12]), ("W-SUN", "W-SUN", [52])])
def test_any_regular_frequency_is_accepted(tmp_path, freq, alias, lengths):
    """Issue 14 item 9: half-hourly and hourly stamps used to be refused as 'not increasing'."""
    path = monthly_csv(tmp_path / "s.csv", np.arange(1.0, 101.0), freq=freq)
    frame = read_csv(path)
    assert frame.attrs["freq"] == alias and season_lengths(frame) == lengths
    assert len(split_series(frame)[0]) == 100


def test_half_hourly_csv_through_the_command(tmp_path):
    """Issue 14 item 9, end to end: `lstmlab forecast` on a half-hourly file (failed on 22c1684)."""
    t = np.arange(400)
    path = monthly_csv(tmp_path / "load.csv", np.round(100 + 10 * np.sin(2 * np.pi * t / 48), 3), freq="30min")
    result = cli("--csv", str(path), "--horizon", "12", *QUICK)
    assert result.returncode == 0, result.stderr
    assert "frequency 30min (every 30 minutes), season lengths [48, 336]" in result.stdout


def test_two_weeks_of_half_hours_get_a_daily_and_a_weekly_season(tmp_path):
    """With two whole weeks in the training data the report names both seasons the smoothing models."""
    t = np.arange(2 * 336 + 24)
    path = monthly_csv(tmp_path / "load.csv", np.round(100 + 10 * np.sin(2 * np.pi * t / 48) + 5 * (t % 336 > 240), 3),
                       freq="30min")
    result = cli("--csv", str(path), "--horizon", "12", *QUICK)
    assert result.returncode == 0, result.stderr
    assert "(season length 336; the smoothing's: 48, 336)" in result.stdout


@pytest.mark.parametrize("stamps, message", [
    (["2020-01-01", "2020-03-01", "2020-02-01", "2020-04-01"], r"ds goes back in time at .*line 4"),
    (["2020-01-01", "2020-02-01", "2020-02-01", "2020-03-01"], r"ds repeats at .*line 4"),
    (["2020-01-01", "2020-02-01", "2020-04-01", "2020-05-01", "2020-06-01"], r"not evenly spaced .*line 4"),
    (["2020-01-01 00:00", "2020-01-01 00:30", "2020-01-01 01:00", "2020-01-01 01:45", "2020-01-01 02:00"],
     r"line 5"),
], ids=["unsorted", "duplicated", "gap", "irregular-half-hours"])
def test_bad_stamps_are_refused_naming_the_row(tmp_path, stamps, message):
    """Issue 14 item 9: unsorted, duplicated or irregular stamps are refused, naming the row."""
    path = tmp_path / "bad.csv"
    path.write_text("ds,y\n" + "\n".join(f"{s},{k + 1}" for k, s in enumerate(stamps)) + "\n")
    with pytest.raises(ValueError, match=message):
        read_csv(path)
    result = cli("--csv", str(path), "--horizon", "2", *QUICK)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "series 'bad'" in result.stderr


# --- reading CSVs ------------------------------------------------------------------------------
def test_a_bom_csv_is_read(tmp_path):
    """Issue 14 item 8: Excel's UTF-8 byte-order mark is not part of the first column's name."""
    path = monthly_csv(tmp_path / "excel.csv", np.arange(1.0, 61.0), bom=True, quoted=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = read_csv(path)
    assert list(frame.columns) == ["unique_id", "ds", "y"] and frame["y"].iloc[-1] == 60.0
    result = cli("--csv", str(path), "--column", "y", "--time-column", "ds", "--horizon", "6", *QUICK)
    assert result.returncode == 0, result.stderr


def test_many_series_in_one_file_with_an_id_column(tmp_path):
    t = np.arange(60)
    rows = ["store,date,sales,price"] + [f"{store},{d:%Y-%m-%d},{10 * k + 5 + np.sin(i):.3f},{1 + i % 3}"
                                         for k, store in enumerate(["a", "b"])
                                         for i, d in zip(t, pd.date_range("2015-01-01", periods=60, freq="MS"))]
    path = tmp_path / "panel.csv"
    path.write_text("\n".join(rows) + "\n")
    frame = read_csv(path, id_column="store", time_column="date", target_column="sales")
    series = split_series(frame)
    assert [s.unique_id for s in series] == ["a", "b"] and set(series[0].exogenous) == {"price"}
    assert frame.attrs["freq"] == "MS"


@pytest.mark.parametrize("text, message", [
    ("unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,\na,2020-03-01,3\n", r"series 'a': y is missing \(empty or NaN\) at .*line 3"),
    ("unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,2\nb,2020-01-01,5\n", r"series 'b' has only 1 point at .*line 4"),
    ("unique_id,ds,y\na,2020-01-01,1\na,not a date,2\n", r"series 'a': ds 'not a date' at .*line 3 is not a date"),
    ("id,ds,y\na,2020-01-01,1\n", r"column 'unique_id' not in"),
], ids=["nan", "one-point", "bad-date", "no-id-column"])
def test_bad_panels_are_refused_naming_the_series(tmp_path, text, message):
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_csv(path, id_column="unique_id")


@pytest.mark.parametrize("text, options, message", [
    ("id,ds,y\na,2020-01-01,1\na,2020-02-01,2\n,2020-03-01,3\n", {"id_column": "id"},
     r"series id \(unique_id\) is missing at .*line 4"),
    ("ds,y,y\n2020-01-01,1,1\n2020-02-01,2,2\n", {}, r"column 'y' appears 2 times in the header"),
    ("ds,y\n2020-01-01,1\n2020-02-01,2\n", {"time_column": "y"}, r"time_column and target_column both name column 'y'"),
], ids=["row-without-id", "repeated-header", "one-column-two-roles"])
def test_what_pandas_would_drop_or_rename_is_refused(tmp_path, text, options, message):
    """Found by probing the CLI: groupby dropped rows without an id, pandas renamed a repeated y to y.1
    (then read as an exogenous column: the target itself), and --time-column y was ignored."""
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_csv(path, **options)


@pytest.mark.parametrize("text, message", [
    ("ds,y\n", r"has no data rows"),
    ("ds,y\n2020-01-01,true\n2020-02-01,false\n2020-03-01,true\n", r"holds True/False, not numbers"),
    ("ds,y\n" + "".join(f"2020-{m:02d}-01,{m}\n" for m in (1, 2, 3, 4, 5, 7, 8, 9)),
     r"not evenly spaced: ds 2020-07-01 00:00:00 at .*line 7, where steps of MS .* lead to 2020-06-01"),
    ("ds,y\n2020-03-29 00:00+01:00,1\n2020-03-29 01:00+01:00,2\n2020-03-29 03:00+02:00,3\n"
     "2020-03-29 04:00+02:00,4\n", r"mixes UTC offsets \(\+0100, \+0200"),
], ids=["header-only", "boolean-y", "missing-month", "two-utc-offsets"])
def test_more_bad_files_get_one_clear_line(tmp_path, text, message):
    """Found by probing the CLI: a header-only file failed with "min() arg is an empty sequence", True/False
    was forecast as 1/0, a missing month was reported at Feb -> Mar (months differ in length), and stamps
    across a daylight-saving change contradicted themselves ("00:00+01:00 -> 01:00+01:00 ... steps are 1 hour")."""
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_csv(path)


def test_a_semicolon_file_is_read_and_a_bad_freq_alias_is_named(tmp_path):
    months = pd.date_range("2018-01-01", periods=30, freq="MS")
    path = tmp_path / "semi.csv"
    path.write_text("ds;y\n" + "".join(f"{d:%Y-%m-%d};{k + 1}\n" for k, d in enumerate(months)))
    frame = read_csv(path)
    assert frame.attrs["freq"] == "MS" and frame["y"].iloc[-1] == 30.0
    with pytest.raises(ValueError, match=r"freq '7' is not a pandas frequency alias"):
        read_csv(path, freq="7")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # pandas' FutureWarning printed before our message
        with pytest.raises(ValueError, match=r"freq 'bogus' is not a pandas frequency alias"):
            read_csv(path, freq="bogus")


def test_options_the_new_models_cannot_honour_are_refused_before_training(tmp_path):
    path = monthly_csv(tmp_path / "m.csv", np.arange(1.0, 61.0))
    result = cli("--csv", str(path), "--horizon", "6", "--holdout", "3", *QUICK)
    assert result.returncode == 2 and "--holdout is for the older models" in result.stderr
    result = cli("--csv", str(path), "--horizon", "6", "--model", "multi-horizon", "--folds", "2", "--train-steps",
                 "5", "--seasonality", "additive")
    assert result.returncode == 2
    assert "--folds, --train-steps, --seasonality are for --model hybrid or lstm" in result.stderr
    result = cli("--csv", str(path), "--horizon", "6", "--model", "next-step", "--folds", "0")   # 0 is given too
    assert result.returncode == 2 and "--folds is for --model hybrid or lstm" in result.stderr
    result = cli("--csv", str(path), "--horizon", "6", "--no-peers", "--train-steps", "0")
    assert result.returncode == 2 and "--train-steps must be a positive integer, got 0" in result.stderr
    short = monthly_csv(tmp_path / "short.csv", np.arange(1.0, 31.0))
    result = cli("--csv", str(short), "--horizon", "12", *QUICK)       # 30 points, 18 before the cutoff
    assert result.returncode == 2
    assert "has 18 points" in result.stderr and "in fold 1 of 1, trained on each series up to its cutoff, 12 " \
        "steps before its end" in result.stderr
    exogenous = tmp_path / "x.csv"
    exogenous.write_text("ds,y,x\n" + "".join(f"{d:%Y-%m-%d},{k + 1},{k % 3}\n" for k, d in
                                              enumerate(pd.date_range("2015-01-01", periods=60, freq="MS"))))
    result = cli("--csv", str(exogenous), "--horizon", "6", "--out", str(tmp_path / "out"), *QUICK)
    assert result.returncode == 2 and "needs the future values of the exogenous column(s) x" in result.stderr
    assert not (tmp_path / "out").exists()


def test_day_first_dates_are_read_day_first_or_refused_when_ambiguous(tmp_path):
    """01/02/2020: pandas reads 2 January. Four years of monthly day-first dates are only evenly spaced
    read day first; one year of them is evenly spaced either way (daily or monthly) and is refused."""
    months = [(m, y) for y in range(2018, 2022) for m in range(1, 13)]
    path = tmp_path / "dmy.csv"
    path.write_text("ds,y\n" + "".join(f"01/{m:02d}/{y},{k + 1}\n" for k, (m, y) in enumerate(months)))
    frame = read_csv(path)
    assert frame.attrs["freq"] == "MS" and frame["ds"].iloc[1] == pd.Timestamp("2018-02-01")
    path.write_text("ds,y\n" + "".join(f"01/{m:02d}/2020,{m}\n" for m in range(1, 13)))
    with pytest.raises(ValueError, match=r"reads as 2020-01-02 \(month first\) or 2020-02-01 \(day first\)"):
        read_csv(path)


def test_monthly_stamps_on_the_15th_are_monthly(tmp_path):
    """No pandas alias names the 15th of every month (MS is the 1st, ME the last day): such stamps were
    refused as "not evenly spaced ... most steps are 31 days". They are read as pd.DateOffset(months=1),
    get season 12, and the forecast continues on the 15th; a missing month is still a gap."""
    stamps = pd.date_range("2016-01-01", periods=60, freq="MS") + pd.Timedelta(days=14)
    path = tmp_path / "mid.csv"
    path.write_text("ds,y\n" + "".join(f"{d:%Y-%m-%d},{10 + k % 12 + 0.1 * k}\n" for k, d in enumerate(stamps)))
    frame = read_csv(path)
    assert frame.attrs["freq"] == pd.DateOffset(months=1) and season_lengths(frame) == [12]
    from lstmlab.forecast.api import LSTMForecaster
    forecast = LSTMForecaster(3, ensemble=1, steps=2).fit(frame).predict()
    assert list(forecast["ds"]) == list(pd.to_datetime(["2021-01-15", "2021-02-15", "2021-03-15"]))
    quarterly = pd.DataFrame({"unique_id": "q", "ds": pd.date_range("2000-01-01", periods=20, freq="3MS")
                              + pd.Timedelta(days=9), "y": np.arange(20.0)})
    assert season_lengths(prepare(quarterly)) == [4]
    result = cli("--csv", str(path), "--horizon", "3", *QUICK)
    assert result.returncode == 0, result.stderr
    assert "frequency DateOffset(months=1), season lengths [12]" in result.stdout
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:20] + lines[21:]) + "\n")        # the row of 2017-08-15 dropped
    with pytest.raises(ValueError, match=r"ds 2017-09-15 00:00:00 at .*line 21, where steps of "
                                         r"DateOffset\(months=1\) .* lead to 2017-08-15"):
        read_csv(path)


def test_a_gap_in_mid_month_stamps_from_july_is_found_where_it_is():
    """Jul 15, Aug 15, Sep 15 are 31 days apart twice: pandas calls that 31D, and the gap was reported at
    row 3 against a made-up grid (found in review). Months are tried first now."""
    stamps = (pd.date_range("2016-07-01", periods=40, freq="MS") + pd.Timedelta(days=14)).delete(10)
    frame = pd.DataFrame({"unique_id": "s", "ds": stamps, "y": np.arange(39.0)})
    with pytest.raises(ValueError, match=r"ds 2017-06-15 00:00:00 at row 10, where steps of DateOffset\(months=1\)"):
        prepare(frame)


def test_monthly_stamps_on_moving_days_are_refused_as_such():
    """The 30th of each month, and Feb 29: one a month, nothing missing; it was reported as a gap in a grid
    of "30D" steps (found in review)."""
    stamps = [pd.Timestamp(2020, m, 29 if m == 2 else 30) for m in range(1, 13)]
    frame = pd.DataFrame({"unique_id": "s", "ds": stamps, "y": np.arange(12.0)})
    with pytest.raises(ValueError, match=r"one a month but not on one day of the month: most are on day 30 of "
                                         r"their month, ds 2020-02-29 00:00:00 at row 1 is not"):
        prepare(frame)


def test_one_slipped_month_end_is_named_not_the_first_february():
    """Found by a user's trial: month ends with one stamp a day early (2004-03-30) were refused naming
    2000-02-29, a correct month end, because each day was compared with the first stamp's (the 31st)."""
    stamps = pd.date_range("2000-01-31", periods=60, freq="ME")
    stamps = stamps.where(stamps != pd.Timestamp("2004-03-31"), pd.Timestamp("2004-03-30"))
    frame = pd.DataFrame({"unique_id": "s", "ds": stamps, "y": np.arange(60.0)})
    with pytest.raises(ValueError, match=r"most are on the last day of their month, ds 2004-03-30 00:00:00 at row 50 "
                                         r"is not"):
        prepare(frame)


def test_a_month_alias_on_mid_month_stamps_says_to_leave_it_out():
    frame = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2016-01-01", periods=30, freq="MS")
                          + pd.Timedelta(days=14), "y": np.arange(30.0)})
    with pytest.raises(ValueError, match=r"off the regular MS grid .*DateOffset\(months=1\) apart, on day 15 of "
                                         r"the month: leave out freq"):
        prepare(frame, freq="MS")


def test_a_dateoffset_frequency_counts_its_multiplier():
    assert season_lengths_for(pd.DateOffset(n=2, months=1)) == [6]
    assert season_lengths_for(pd.DateOffset(months=3)) == [4]
    with pytest.raises(ValueError, match="-1 months does not go forward in time"):
        season_lengths_for(pd.DateOffset(months=-1))


def test_period_stamps_are_refused_with_the_conversion():
    frame = pd.DataFrame({"unique_id": "s", "ds": pd.period_range("2000-01", periods=30, freq="M"),
                          "y": np.arange(30.0)})
    with pytest.raises(ValueError, match=r"holds pandas Periods \(2000-01, ...\).*dt.to_timestamp\(\)"):
        prepare(frame)
    frame["ds"] = frame["ds"].astype(object)               # Periods in a column of objects
    with pytest.raises(ValueError, match=r"holds pandas Periods"):
        prepare(frame)


def test_mixed_utc_offsets_with_a_frequency_read_without_a_warning(tmp_path):
    """Stamps across a daylight-saving change are read with --freq; pandas' FutureWarning about mixed time
    zones used to print on every such file."""
    stamps = pd.date_range("2021-03-26", periods=96, freq="h", tz="Europe/Berlin")
    path = tmp_path / "dst.csv"
    path.write_text("ds,y\n" + "".join(f"{d.isoformat()},{k % 24}\n" for k, d in enumerate(stamps)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_csv(path, freq="h")
    assert len(frame) == 96


def test_stamps_pandas_will_not_read_together_are_read_one_by_one(monkeypatch):
    """pandas 3 raises where pandas 2 warns (several UTC offsets in one column): _parse_stamps then reads
    the stamps one at a time, and a stamp that is no date is still NaT."""
    from lstmlab.forecast import frame as frame_module
    real = pd.to_datetime

    def like_pandas_3(arg, *args, **kwargs):
        if isinstance(arg, pd.Series):
            raise ValueError("Mixed timezones detected. Pass utc=True in to_datetime")
        return real(arg, *args, **kwargs)
    monkeypatch.setattr(pd, "to_datetime", like_pandas_3)
    parsed = frame_module._parse_stamps(pd.Series(["2021-03-28 01:00+01:00", "2021-03-28 03:00+02:00", "May"]))
    assert parsed[0] == pd.Timestamp("2021-03-28 00:00", tz="UTC") == parsed[1] - pd.Timedelta(hours=1)
    assert pd.isna(parsed[2])


def test_integer_steps_need_a_frequency():
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(30), "y": np.arange(30.0)})
    with pytest.raises(ValueError, match="pass freq"):
        prepare(frame)
    assert season_lengths(prepare(frame, freq="12")) == [12]


# --- JSON output and undefined metrics ------------------------------------------------------------
def test_json_safe_turns_nan_and_infinity_into_null():
    report = {"mape": float("nan"), "mase": np.float64("inf"), "mae": np.float64(1.5), "n": np.int64(3)}
    text = json.dumps(json_safe(report), allow_nan=False)
    assert json.loads(text) == {"mape": None, "mase": None, "mae": 1.5, "n": 3}


def test_json_prints_null_for_an_undefined_metric_and_the_text_says_why(tmp_path):
    """Issue 14 item 10: a metric that cannot be computed is null in --json (NaN is not JSON), and the
    human output says why. A series repeating its season exactly has no seasonal-naive error: MASE is 0/0."""
    season = [5.0, 7.0, 9.0, 4.0, 6.0, 8.0, 3.0, 5.0, 7.0, 9.0, 6.0, 4.0]
    path = monthly_csv(tmp_path / "periodic.csv", season * 6)

    def strict(text):
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in --json output"))

    result = cli("--csv", str(path), "--horizon", "12", "--json", *QUICK)
    assert result.returncode == 0, result.stderr
    report = strict(result.stdout)
    assert report["rows"][0]["metrics"]["ES-LSTM"]["mase"] is None
    human = cli("--csv", str(path), "--horizon", "12", *QUICK)
    assert "MASE of series 'periodic' is undefined" in human.stdout


def test_older_models_say_why_mape_is_undefined():
    metrics = {"mae": 1.0, "rmse": 1.0, "mape": float("nan"), "smape": 3.0, "mase": 0.5}
    text = format_metrics({"dataset": "d", "model": "next-step", "horizon": 2, "holdout": 2,
                           "metrics": {"lstm": metrics, "naive": metrics}})
    assert "nan" not in text.lower() and "MAPE is undefined: the held-out values include 0" in text


# --- loading a saved forecaster -------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    series = airpassengers()
    config = replace(default_config(series, horizon=12), ensemble=1, epochs=1, hidden_size=4, mlp_size=8)
    Forecaster(config).fit(split(series, 132)).save(tmp_path)
    return tmp_path


def test_load_refuses_a_config_that_claims_a_huge_model_before_building_it(saved):
    """Issue 14 item 11: hidden size 200000 used to allocate 640 GB and die with a traceback."""
    config = json.loads((saved / "config.json").read_text())
    config["config"]["hidden_size"] = 200_000
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="hidden_size 200000; at most 4096"):
        Forecaster.load(saved)
    result = cli("--dataset", "airpassengers", "--model", "multi-horizon", "--horizon", "12", "--load", str(saved))
    assert result.returncode == 2 and "Traceback" not in result.stderr and "hidden_size 200000" in result.stderr


def test_load_checks_every_shape_against_the_config(saved):
    config = json.loads((saved / "config.json").read_text())
    config["config"]["mlp_size"] = 16                                   # the weights have 8
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"decoder.0.weight of model 0 has shape \(8, .*\), the config implies \(16"):
        Forecaster.load(saved)


class _Payload:
    def __reduce__(self):
        return (print, ("this code ran at load time",))


def test_a_refused_pickle_never_suggests_weights_only_false(saved):
    torch.save([{"weight": _Payload()}], saved / "weights.pt")
    with pytest.raises(ValueError) as caught:
        Forecaster.load(saved)
    message = str(caught.value)
    assert "refused" in message and "weights_only" not in message and "False" not in message
    (saved / "weights.pt").write_bytes(pickle.dumps("not torch"))
    with pytest.raises(ValueError) as caught:
        Forecaster.load(saved)
    assert "weights_only" not in str(caught.value)


# --- found by a new user's audit (2026-12-02) ----------------------------------------------------
def test_whole_number_float_steps_are_steps_and_fractions_are_refused():
    """An integer column that passed through a NaN arrives as 0.0, 1.0, …: it was read as nanoseconds
    since 1970 (frequency ns, forecasts stamped 1970-01-01 00:00:00.000000144)."""
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(40.0), "y": np.arange(40.0) % 7})
    prepared = prepare(frame, freq="7")
    assert prepared["ds"].dtype.kind == "i" and prepared.attrs["freq"] == "7"
    with pytest.raises(ValueError, match=r"ds is 2.5 at row 2: expected dates, or whole numbers"):
        prepare(frame.assign(ds=[0.0, 1.0, 2.5] + list(np.arange(3.0, 40.0))), freq="7")


def test_dates_or_durations_as_y_are_refused():
    stamps = pd.date_range("2000-01-01", periods=30, freq="MS")
    for y, what in ((stamps, "dates"), (pd.to_timedelta(np.arange(30), unit="D"), "durations")):
        with pytest.raises(ValueError, match=f"y in the frame holds {what}"):
            prepare(pd.DataFrame({"unique_id": "s", "ds": stamps, "y": y}))


def test_ids_keep_their_leading_zeros(tmp_path):
    months = pd.date_range("2000-01-01", periods=30, freq="MS")
    rows = [f"{store},{d:%Y-%m-%d},{k}" for store in ("007", "010") for k, d in enumerate(months)]
    path = tmp_path / "stores.csv"
    path.write_text("store,ds,y\n" + "\n".join(rows) + "\n")
    assert list(read_csv(path, id_column="store")["unique_id"].unique()) == ["007", "010"]


def test_line_numbers_count_the_blank_lines_pandas_skips(tmp_path):
    months = pd.date_range("2000-01-01", periods=30, freq="MS")
    lines = [f"{d:%Y-%m-%d},{k}" for k, d in enumerate(months)]
    lines[20] = f"{months[20]:%Y-%m-%d},"                      # y missing on the 21st data row …
    path = tmp_path / "gaps.csv"
    path.write_text("ds,y\n" + "\n".join(lines[:9]) + "\n\n\n" + "\n".join(lines[9:]) + "\n")
    with pytest.raises(ValueError, match=r"gaps.csv, line 24 \(ds 2001-09-01\)"):    # … after two blank lines
        read_csv(path)


def test_semicolon_files_read_decimal_commas_and_a_thousands_separator_is_named(tmp_path):
    months = pd.date_range("2000-01-01", periods=30, freq="MS")
    path = tmp_path / "excel.csv"
    path.write_text("ds;y\n" + "".join(f"{d:%d.%m.%Y};{k},25\n" for k, d in enumerate(months)))
    assert read_csv(path)["y"].iloc[3] == 3.25
    path = tmp_path / "thousands.csv"
    path.write_text("ds,y\n" + "".join(f'{d:%Y-%m-%d},"1,{k:03d}"\n' for k, d in enumerate(months)))
    with pytest.raises(ValueError, match=r"y is '1,000', not a finite number at .*line 2 .*a thousands separator or "
                                         r"a decimal comma\? write numbers as 1234.5"):
        read_csv(path)


def test_a_comma_at_the_end_of_every_line_and_a_file_sorted_newest_first(tmp_path):
    """Found by a forecaster's trial: a trailing comma on every line made an empty column with no name,
    refused as "a saved pandas index?"; a download sorted newest first was answered with a guess that
    its price column named the series."""
    months = pd.date_range("1990-01-01", periods=40, freq="MS")
    lines = ["DATE,HOUSTNSA,"] + [f"{m:%Y-%m-%d},{100 + k % 12}," for k, m in enumerate(months)]
    (tmp_path / "trailing.csv").write_text("\n".join(lines) + "\n")
    frame = read_csv(tmp_path / "trailing.csv", time_column="DATE", target_column="HOUSTNSA")
    assert list(frame.columns) == ["unique_id", "ds", "y"] and len(frame) == 40
    newest = pd.DataFrame({"Date": months[::-1].strftime("%d-%b-%y"), "Open": np.arange(40.0), "Close": 1 + np.arange(40.0)})
    newest.to_csv(tmp_path / "newest.csv", index=False)
    with pytest.raises(ValueError, match=r"series 'newest': the rows run newest first \(Date 1993-04-01.*, then "
                                         r"1993-03-01.* at .*newest.csv, line 3\); sort them oldest first "
                                         r"\(df.sort_values\('Date'\)\)"):
        read_csv(tmp_path / "newest.csv", time_column="Date", target_column="Close")


def test_a_column_without_a_name_is_refused_and_exogenous_columns_are_chosen(tmp_path):
    """df.to_csv(path) writes the index as a column with an empty name: it used to become an exogenous
    input without a word (and change the forecast)."""
    months = pd.date_range("2000-01-01", periods=40, freq="MS")
    frame = pd.DataFrame({"ds": months, "y": np.arange(40.0) % 12, "promo": np.arange(40) % 2})
    frame.to_csv(tmp_path / "saved.csv")
    with pytest.raises(ValueError, match=r"column 'Unnamed: 0' of .*saved.csv has no name in the header"):
        read_csv(tmp_path / "saved.csv")
    assert list(read_csv(tmp_path / "saved.csv", exogenous=["promo"]).columns) == ["unique_id", "ds", "y", "promo"]
    assert list(read_csv(tmp_path / "saved.csv", exogenous=[]).columns) == ["unique_id", "ds", "y"]
    with pytest.raises(ValueError, match=r"exogenous 'price': not a column .*; those are: Unnamed: 0, promo"):
        read_csv(tmp_path / "saved.csv", exogenous=["price"])
    result = cli("--csv", str(tmp_path / "saved.csv"), "--horizon", "3", "--exogenous", "promo", "--json", *QUICK)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["exogenous"] == ["promo"]


def test_business_days_with_holidays_name_the_missing_day(tmp_path):
    days = pd.bdate_range("2021-01-04", periods=60)
    days = days[days != pd.Timestamp("2021-01-18")]                 # Martin Luther King Day
    path = tmp_path / "close.csv"
    path.write_text("ds,y\n" + "".join(f"{d:%Y-%m-%d},{100 + k % 5}\n" for k, d in enumerate(days)))
    with pytest.raises(ValueError, match=r"business days \(Monday to Friday\) with some left out: 2021-01-18 is "
                                         r"missing before ds 2021-01-19.* line 12 \(a holiday\?\)"):
        read_csv(path)


def test_notes_above_the_header_are_passed_over_and_lines_still_count(tmp_path):
    months = pd.date_range("2000-01-01", periods=30, freq="MS")
    rows = [f"{d:%Y-%m-%d},{k}" for k, d in enumerate(months)]
    rows[4] = f"{months[4]:%Y-%m-%d},"
    path = tmp_path / "noted.csv"
    path.write_text("# AirPassengers-like, source: a book\n\nds,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"noted.csv, line 8 \(ds 2000-05-01\)"):
        read_csv(path)
    path.write_text("# a note\nds,y\n" + "\n".join(rows[:4] + rows[5:]) + "\n")
    with pytest.raises(ValueError, match=r"not evenly spaced: ds 2000-06-01 00:00:00 at .*noted.csv, line 7,"):
        read_csv(path)


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"unique_id": "s", "ds": [19490131, 19490228, 19490331], "y": [1.0, 2.0, 3.0]}),
     r"integers such as 19490131, not dates: if they are dates written YYYYMMDD, convert them first"),
    (pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2000-01-01", periods=4, freq="QS").tolist() * 2,
                   "y": np.arange(8.0), "series": ["gdp"] * 4 + ["cpi"] * 4}),
     r"exogenous column 'series' is 'gdp' .* not a number; if 'series' names the series, make it the unique_id "
     r"column \(read_csv: id_column='series'\)"),
], ids=["yyyymmdd", "panel-without-id"])
def test_likely_mistakes_get_the_way_out_in_the_message(frame, message):
    with pytest.raises(ValueError, match=message):
        prepare(frame)


def test_a_horizon_longer_than_the_series_says_what_is_held_out():
    frame = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2000-01-01", periods=30, freq="MS"),
                          "y": np.arange(30.0)})
    from lstmlab.forecast.api import LSTMForecaster
    with pytest.raises(ValueError, match=r"series 's' has 30 points: too short for horizon 100 \(the last 100 points "
                                         r"are held out"):
        LSTMForecaster(h=100).cross_validation(frame, n_windows=1)


def test_the_shipped_quarterly_dataset_reads_without_a_warning():
    from lstmlab.forecast.cli import _frame_from_dataset
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame, _ = _frame_from_dataset("us_macro")
    assert frame["ds"].iloc[1] == pd.Timestamp("1959-04-01")


def test_a_weekly_schedule_is_not_taken_for_trading_days_and_spaced_headers_keep_text_ids(tmp_path):
    """From review: Monday, Wednesday, Friday every week was called 'business days with some left out'; an
    id column named 'id ' (a space in the header) lost its leading zeros."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    days = days[days.dayofweek.isin([0, 2, 4])]
    with pytest.raises(ValueError, match="not evenly spaced") as caught:
        prepare(pd.DataFrame({"unique_id": "s", "ds": days, "y": np.arange(len(days), dtype=float)}))
    assert "holiday" not in str(caught.value)
    months = pd.date_range("2000-01-01", periods=30, freq="MS")
    path = tmp_path / "spaced.csv"
    path.write_text("id , ds,y\n" + "".join(f"007,{d:%Y-%m-%d},{k}\n" for k, d in enumerate(months)))
    assert read_csv(path, id_column="id")["unique_id"].iloc[0] == "007"


def test_a_unique_id_column_names_the_series_as_in_the_forecasters_long_format(tmp_path):
    """unique_id, ds, y is statsforecast's format, which --help promises: its unique_id is the id without
    --id-column (it used to be refused, asking for --id-column unique_id); ids stay text (007)."""
    path = tmp_path / "panel.csv"
    path.write_text("unique_id,ds,y\n" + "".join(f"{uid},2020-{m:02d}-01,{m + k}\n" for k, uid in enumerate(["a", "007"])
                                                for m in range(1, 13)))
    assert list(read_csv(path, time_column="ds")["unique_id"].unique()) == ["a", "007"]
    frame = read_csv(path, id_column="unique_id", time_column="ds")
    assert list(frame["unique_id"].unique()) == ["a", "007"]


# --- found by a user-style audit of `lstmlab forecast` and LSTMForecaster -----------------------------
def weekly_stamps(shift_from, every_later=True):
    """30 Mondays, 7 days apart, with the stamp at ``shift_from`` (and every later one) moved to Tuesday."""
    stamps = list(pd.date_range("2020-01-06", periods=30, freq="7D"))
    moved = range(shift_from, 30) if every_later else [shift_from]
    return [stamp + pd.Timedelta(days=1) if k in moved else stamp for k, stamp in enumerate(stamps)]


@pytest.mark.parametrize("every_later", [True, False], ids=["weekday-shifts", "one-tuesday"])
def test_weekly_stamps_that_change_weekday_are_told_so(tmp_path, every_later):
    """Mondays, then Tuesdays (or one Tuesday among Mondays) were told to "fill the gaps"."""
    path = tmp_path / "weekly.csv"
    path.write_text("ds,y\n" + "".join(f"{d:%Y-%m-%d},{k}\n" for k, d in enumerate(weekly_stamps(15, every_later))))
    with pytest.raises(ValueError, match=r"a week apart, but the weekday changes from Monday to Tuesday at "
                                         r".*weekly.csv, line 17 \(ds 2020-04-21 00:00:00\); weekly stamps must fall "
                                         r"on one weekday: .* pass freq='52'$") as caught:
        read_csv(path)
    assert "fill the gaps" not in str(caught.value)


@pytest.mark.parametrize("stamps, freq, message", [
    ([int(f"{2015 + k // 12}{k % 12 + 1:02d}") for k in range(30)], None,
     r"integers such as 201501, not dates: if they are dates written YYYYMM, convert them first, e\.g\. "
     r"df\['ds'\] = pd\.to_datetime\(df\['ds'\]\.astype\(str\), format='%Y%m'\); if they count steps, pass freq$"),
    ([int(f"{2015 + k // 12}{k % 12 + 1:02d}") for k in range(30)], "12",
     r"ds goes 201512 -> 201601 at row 12; integer stamps must increase by 1; if they are dates written YYYYMM"),
    (list((pd.date_range("2019-01-01", periods=30, freq="MS") - pd.Timestamp("1899-12-30")).days), None,
     r"integers such as 43466, not dates: if they are Excel's day numbers \(43466 is 2019-01-01\), convert them "
     r"first, e\.g\. df\['ds'\] = pd\.to_datetime\(df\['ds'\], unit='D', origin='1899-12-30'\)"),
    (list((pd.date_range("2019-01-01", periods=30, freq="MS") - pd.Timestamp("1899-12-30")).days), "12",
     r"ds goes 43466 -> 43497 at row 1; integer stamps must increase by 1; if they are Excel's day numbers"),
], ids=["yyyymm", "yyyymm-with-freq", "excel", "excel-with-freq"])
def test_integer_stamps_that_read_as_dates_get_the_conversion(stamps, freq, message):
    """YYYYMM integers and Excel's day numbers were told only to pass freq, or that steps must increase by 1."""
    frame = pd.DataFrame({"unique_id": "s", "ds": stamps, "y": np.arange(30.0)})
    with pytest.raises(ValueError, match=message):
        prepare(frame, freq=freq)


def test_the_conversion_names_the_users_time_column_and_reads_excels_month_text(tmp_path):
    """Found in a CLI trial: the YYYYMM advice said df['ds'] for a column called month, and 'Jan-20' (Excel's
    mmm-yy) was only "not a date"."""
    months = pd.date_range("2020-01-01", periods=30, freq="MS")
    path = tmp_path / "m.csv"
    path.write_text("month,y\n" + "".join(f"{d:%Y%m},{k}\n" for k, d in enumerate(months)))
    with pytest.raises(ValueError, match=r"df\['month'\] = pd\.to_datetime\(df\['month'\]\.astype\(str\), format='%Y%m'\)"):
        read_csv(path, time_column="month")
    path.write_text("month,y\n" + "".join(f"{d:%b-%y},{k}\n" for k, d in enumerate(months)))
    with pytest.raises(ValueError, match=r"month 'Jan-20' at .*m\.csv, line 2 is not a date; if they are months "
                                         r"written mmm-yy \(Jan-20\), convert them first, e\.g\. "
                                         r"df\['month'\] = pd\.to_datetime\(df\['month'\], format='%b-%y'\)$"):
        read_csv(path, time_column="month")
    frame = pd.read_csv(path)
    frame["month"] = pd.to_datetime(frame["month"], format="%b-%y")          # the advice, followed, works
    frame.to_csv(tmp_path / "converted.csv", index=False)
    assert read_csv(tmp_path / "converted.csv", time_column="month").attrs["freq"] == "MS"


@pytest.mark.parametrize("by_date", [False, True], ids=["one-after-the-other", "interleaved"])
def test_numbered_series_without_an_id_column_are_told_to_name_it(tmp_path, by_date):
    """Stores 1 and 2 in one file, read without --id-column: the numbers are an exogenous column to pandas,
    and the stamps that start again were told only to "sort the rows"."""
    months = pd.date_range("2015-01-01", periods=30, freq="MS")
    rows = [(store, d, k + store) for store in (1, 2) for k, d in enumerate(months)]
    if by_date:
        rows.sort(key=lambda row: row[1])
    path = tmp_path / "stores.csv"
    path.write_text("store,ds,y\n" + "".join(f"{store},{d:%Y-%m-%d},{y}\n" for store, d, y in rows))
    what = r"repeats at .*line 3" if by_date else r"goes back in time at .*line 32"
    with pytest.raises(ValueError, match=rf"ds {what} .*; column 'store' changes from 1 to 2 there: if it names the "
                                         r"series, make it the unique_id column \(read_csv: id_column='store'\)"):
        read_csv(path)
    if not by_date:
        result = cli("--csv", str(path), "--horizon", "3", *QUICK)
        assert result.returncode == 2 and "if it names the series, pass --id-column store;" in result.stderr
        assert len(read_csv(path, id_column="store").groupby("unique_id")) == 2


@pytest.mark.parametrize("text, message", [
    ("ds,y,caf\u00e9\n2020-01-01,1,0\n2020-02-01,2,1\n", r"byte 0xe9 at line 1, 'é' in Windows-1252"),
    ("unique_id,ds,y\n\u20ac,2020-01-01,1\n\u20ac,2020-02-01,2\n", r"byte 0x80 at line 2, '€' in Windows-1252"),
], ids=["header", "id"])
def test_a_windows_1252_file_is_told_to_be_saved_as_utf8(tmp_path, text, message):
    path = tmp_path / "excel.csv"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(ValueError, match=rf"excel.csv is not UTF-8: {message}; save the file as UTF-8 \(Excel: CSV "
                                         r"UTF-8\) and try again$"):
        read_csv(path, id_column="unique_id" if "unique_id" in text else None)


def test_a_directory_is_not_reported_as_missing(tmp_path):
    with pytest.raises(ValueError, match=r"is a directory, not a CSV file$"):
        read_csv(tmp_path)


def test_python_errors_name_keywords_and_the_command_line_names_flags(tmp_path):
    """LSTMForecaster and read_csv users were told about --freq, --exogenous, --time-column …; the command
    line still names its flags."""
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(30), "y": np.arange(30.0)})
    with pytest.raises(ValueError, match=r"pass freq to say what one step is \(e\.g\. freq='12' or freq='MS' for "
                                         r"months, freq='1' for no season\)"):
        prepare(frame)
    with pytest.raises(ValueError, match=r"\(e\.g\. --freq 12 or --freq MS for months, --freq 1 for no season\)"):
        prepare(frame, command_line=True)
    path = monthly_csv(tmp_path / "m.csv", np.arange(1.0, 31.0))
    for options in ({"time_column": "y"}, {"exogenous": ["price"]}):
        with pytest.raises(ValueError) as caught:
            read_csv(path, **options)
        assert "--" not in str(caught.value)
    with pytest.raises(ValueError, match=r"--time-column and --column both name column 'y'"):
        read_csv(path, time_column="y", command_line=True)


def test_one_series_too_short_in_a_panel_is_named_with_what_it_has_and_needs():
    """The panel is refused as a whole (no series is dropped without a word), naming the short one."""
    months = pd.date_range("2015-01-01", periods=60, freq="MS")
    frame = pd.concat([pd.DataFrame({"unique_id": "a", "ds": months, "y": 10 + np.arange(60.0) % 12}),
                       pd.DataFrame({"unique_id": "b", "ds": months[:10], "y": 5 + np.arange(10.0)})])
    from lstmlab.forecast.api import LSTMForecaster
    with pytest.raises(ValueError, match=r"^series 'b' has 7 points: too short to learn horizon 3 .*\(needs at "
                                         r"least 8\) — in fold 1 of 1, trained on each series up to its cutoff, 3 "
                                         r"steps before its end$"):
        LSTMForecaster(3, ensemble=1, steps=2).cross_validation(frame, n_windows=1)


# --- from a new user's trial on series nobody tuned on (2026-12-07) ------------------------------
def test_messages_name_the_columns_as_the_file_names_them(tmp_path):
    """--time-column year --column tfr: the messages said "column ds" and "y is missing"."""
    path = tmp_path / "fertility.csv"
    path.write_text("year,tfr\n" + "\n".join(f"{1960 + k},{2.5 - 0.01 * k}" for k in range(30)) + "\n")
    result = cli("--csv", str(path), "--time-column", "year", "--column", "tfr", "--horizon", "3", *QUICK)
    assert result.returncode != 0
    assert "column year holds integers such as 1960, not dates: if they are years, pass --freq YS" in result.stderr, \
        result.stderr
    path.write_text("year,tfr\n" + "\n".join(f"{1960 + k}-01-01,{'' if k == 5 else 2.5}" for k in range(30)) + "\n")
    result = cli("--csv", str(path), "--time-column", "year", "--column", "tfr", "--horizon", "3", *QUICK)
    assert "tfr is missing (empty or NaN)" in result.stderr and "(year 1965-01-01" in result.stderr, result.stderr


def test_a_frequency_on_another_grid_names_the_one_the_stamps_are_on():
    """freq='Y' (year ends, as statsforecast users write it) for stamps on January 1st: the message said
    only that the stamps must be evenly spaced, which they are."""
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("1960-01-01", periods=20, freq="YS"),
                          "y": np.arange(20.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)          # pandas' warning about 'Y' stays inside
        with pytest.raises(ValueError, match=r"off the regular Y grid .* evenly spaced on another grid, 'YS-JAN': "
                                             r"pass freq='YS-JAN', or leave freq out"):
            prepare(frame, freq="Y")
    assert prepare(frame, freq="YS").attrs["freq"] == "YS"


def test_a_wide_table_is_named_as_such(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("country,1960,1961,1962,1963\nA,1,2,3,4\nB,2,3,4,5\n")
    result = cli("--csv", str(path), "--horizon", "2", *QUICK)
    assert result.returncode != 0 and "it looks wide, one column per date" in result.stderr, result.stderr
    assert "df.melt(" in result.stderr


def test_the_report_says_what_the_exogenous_columns_do_and_what_a_step_is(tmp_path):
    """Every other column is an exogenous input: the LSTM models are scored with its actual future values,
    the peers with none — the report said only "exogenous inputs: …"."""
    stamps = pd.date_range("2000-01-01", periods=40, freq="QS-OCT")
    rows = [f"{d:%Y-%m-%d},{10 + np.sin(k):.3f},{k % 4}" for k, d in enumerate(stamps)]
    path = tmp_path / "q.csv"
    path.write_text("ds,y,promo\n" + "\n".join(rows) + "\n")
    result = cli("--csv", str(path), "--horizon", "4", *QUICK)
    assert result.returncode == 0, result.stderr
    assert "frequency QS-OCT (quarterly)" in result.stdout, result.stdout
    assert ("exogenous inputs: promo — the LSTM models read their actual values over each forecast window"
            in result.stdout), result.stdout
    assert "the statistical models use none" in result.stdout


def test_a_panel_report_warns_that_mae_adds_units_and_says_no_season(tmp_path):
    rows = [f"{uid},{k},{scale * (1 + 0.1 * np.sin(k)):.4f}" for uid, scale in (("small", 0.04), ("big", 12.0))
            for k in range(40)]
    path = tmp_path / "panel.csv"
    path.write_text("id,ds,y\n" + "\n".join(rows) + "\n")
    result = cli("--csv", str(path), "--id-column", "id", "--freq", "1", "--horizon", "4", *QUICK)
    assert result.returncode == 0, result.stderr
    assert "(no season)" in result.stdout and "season length 1" not in result.stdout, result.stdout
    assert "MAE and RMSE average series in their own units" in result.stdout


def test_progress_bars_only_on_a_terminal(monkeypatch):
    from argparse import Namespace
    from lstmlab.forecast.cli import _show_progress
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not _show_progress(Namespace(json=False))                   # a log file: no bars
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _show_progress(Namespace(json=False)) and not _show_progress(Namespace(json=True))


def test_dates_in_a_year_and_a_quarter_or_month_column_are_made_one(tmp_path):
    """statsmodels' macrodata (and many statistics offices' files) give the date as two columns, year and
    quarter. There was no way in: no ds column, --time-column year repeats each year, and with --freq the
    year and quarter became exogenous inputs."""
    path = tmp_path / "macro.csv"
    path.write_text('"year","quarter","realcons","realdpi"\n' + "".join(
        f"{1959 + k // 4},{k % 4 + 1},{1700 + 10 * k + 5 * (k % 4)},{1900 + 11 * k}\n" for k in range(40)))
    frame = read_csv(path, target_column="realcons")
    assert list(frame.columns) == ["unique_id", "ds", "y", "realdpi"]
    assert frame["ds"].iloc[:5].dt.strftime("%Y-%m-%d").tolist() == ["1959-01-01", "1959-04-01", "1959-07-01",
                                                                      "1959-10-01", "1960-01-01"]
    assert season_lengths(frame) == [4]
    result = cli("--csv", str(path), "--column", "realcons", "--horizon", "4", "--json", *QUICK)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["exogenous"] == ["realdpi"] and report["freq"].startswith("QS")
    monthly = tmp_path / "monthly.csv"
    monthly.write_text("Year,Month,sales\n" + "".join(f"{2000 + k // 12},{k % 12 + 1},{k}\n" for k in range(30)))
    assert read_csv(monthly, target_column="sales")["ds"].iloc[13].strftime("%Y-%m-%d") == "2001-02-01"
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("year,qtr,y\n" + "".join(f"{2000 + k // 4},Q{k % 4 + 1},{k}\n" for k in range(12)))
    assert read_csv(labelled)["ds"].iloc[-1].strftime("%Y-%m-%d") == "2002-10-01"


def test_a_broken_date_part_is_named_with_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("year,quarter,y\n2019,1,5\n2019,2,6\n2019,5,7\n")
    with pytest.raises(ValueError, match=r"columns 'year' and 'quarter': quarter is 5 at .*bad.csv, line 4; "
                                         r"expected a quarter number, 1 to 4 \(or Q1 to Q4\)"):
        read_csv(path)
    path.write_text("year,month,y\n2019,1,5\nnext,2,6\n")
    with pytest.raises(ValueError, match=r"year is 'next' at .*line 3; expected a year"):
        read_csv(path)


def test_the_multiplicative_refusal_names_the_files_columns_and_a_plain_date(tmp_path):
    """It said "y is 0 at ds 2019-03-01 00:00:00" of a file whose columns are month and sales."""
    stamps = pd.date_range("2019-01-01", periods=26, freq="MS")
    path = tmp_path / "shop.csv"
    path.write_text("month,sales\n" + "".join(f"{d:%Y-%m-%d},{0 if k == 2 else 5 + k % 3}\n"
                                              for k, d in enumerate(stamps)))
    result = cli("--csv", str(path), "--time-column", "month", "--column", "sales", "--horizon", "3",
                 "--seasonality", "multiplicative", *QUICK)
    assert result.returncode == 2
    assert "multiplicative seasonality needs positive values; sales is 0 at month 2019-03-01;" in result.stderr, \
        result.stderr


def test_date_parts_stay_out_of_the_way_of_finer_dates_and_named_columns(tmp_path):
    """Found in review: year, month and day columns were read as monthly stamps (then refused as repeats),
    a date column beside year and month was ignored, and --column month lost its column."""
    daily = tmp_path / "daily.csv"
    daily.write_text("year,month,day,y\n" + "".join(f"2020,1,{d},{d}\n" for d in range(1, 29)))
    with pytest.raises(ValueError, match=r"column 'ds' not in"):
        read_csv(daily)
    dated = tmp_path / "dated.csv"
    dated.write_text("date,year,month,y\n" + "".join(f"2020-{m:02d}-01,2020,{m},{m}\n" for m in range(1, 13)))
    with pytest.raises(ValueError, match=r"column 'ds' not in"):
        read_csv(dated)
    frame = read_csv(dated, time_column="date")
    assert set(frame.columns) == {"unique_id", "ds", "y", "year", "month"}
    target = tmp_path / "target.csv"
    target.write_text("year,month,ds\n" + "".join(f"{2000 + k // 12},{k % 12 + 1},{k}\n" for k in range(24)))
    result = cli("--csv", str(target), "--column", "month", "--freq", "12", "--horizon", "2", "--json", *QUICK)
    assert result.returncode == 0, result.stderr                       # month is the target, ds the steps
    assert json.loads(result.stdout)["exogenous"] == ["year"]


def test_an_infinite_exogenous_value_is_refused_with_its_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("ds,y,x\n" + "".join(f"2000-{m:02d}-01,{m},{'inf' if m == 5 else m}\n" for m in range(1, 13)))
    with pytest.raises(ValueError, match=r"exogenous column 'x' is inf at .*x.csv, line 6, not a finite number"):
        read_csv(path)


def test_out_with_exogenous_columns_reads_their_future_from_a_file(tmp_path):
    """--out with an exogenous column was refused ("the command line cannot take them"): now --future gives
    their values over the forecast steps, checked before any training, and the forecast follows them."""
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2015-01-01", periods=78, freq="MS")
    promo = (rng.random(78) < 0.3).astype(float)
    y = 100 + 0.5 * np.arange(78) + 30 * promo + rng.normal(0, 2, 78)
    data = tmp_path / "shop.csv"
    pd.DataFrame({"month": stamps[:72], "sales": y[:72], "promo": promo[:72]}).to_csv(data, index=False)
    future = tmp_path / "future.csv"
    pd.DataFrame({"month": stamps[72:], "promo": [0, 1, 0, 0, 1, 0]}).to_csv(future, index=False)
    base = ["--csv", str(data), "--time-column", "month", "--column", "sales", "--horizon", "6"]
    result = cli(*base, "--out", str(tmp_path / "out"), "--future", str(future), "--ensemble", "1",
                 "--train-steps", "5", "--no-peers")
    assert result.returncode == 0, result.stderr
    forecast = pd.read_csv(tmp_path / "out" / "forecast.csv")["ES-LSTM"].to_numpy()
    assert forecast[[1, 4]].min() > forecast[[0, 2, 3, 5]].max() + 15          # the promoted months
    short = tmp_path / "short.csv"
    pd.DataFrame({"month": stamps[72:77], "promo": 0.0}).to_csv(short, index=False)
    result = cli(*base, "--out", str(tmp_path / "out2"), "--future", str(short), *QUICK)
    assert result.returncode == 2 and f"series 'shop': --future {short} has 5 future rows, expected 6" in result.stderr
    pd.DataFrame({"month": pd.date_range("2021-02-01", periods=6, freq="MS"), "promo": 0.0}).to_csv(short, index=False)
    result = cli(*base, "--out", str(tmp_path / "out2"), "--future", str(short), *QUICK)
    assert result.returncode == 2 and "short.csv's month must be the 6 stamps after the fitted data (2021-01-01 .. " \
        "2021-06-01), got 2021-02-01 .. 2021-07-01" in result.stderr
    pd.DataFrame({"month": stamps[72:], "price": 1.0}).to_csv(short, index=False)
    result = cli(*base, "--out", str(tmp_path / "out2"), "--future", str(short), *QUICK)
    assert result.returncode == 2 and f"--future {short} lacks column(s) promo; its columns: month, price" in result.stderr
    pd.DataFrame({"month": range(72, 78), "promo": 0.0}).to_csv(short, index=False)      # numbers, not dates
    result = cli(*base, "--out", str(tmp_path / "out2"), "--future", str(short), *QUICK)
    assert result.returncode == 2 and "short.csv's month holds numbers (72, …) where the fitted data has dates: give " \
        "the 6 stamps after it as dates (2021-01-01 .. 2021-06-01)" in result.stderr
    result = cli(*base, "--future", str(future), *QUICK)
    assert result.returncode == 2 and "there is no --out" in result.stderr
    assert not (tmp_path / "out2").exists()


def test_a_scenario_written_below_the_data_is_pointed_to_future(tmp_path):
    """A common layout: the future's promo values in the last rows, y empty. It was refused as a missing
    value to fill or drop; the message now says where such rows go. A gap in the middle keeps the old advice."""
    stamps = pd.date_range("2020-01-01", periods=15, freq="MS")
    y = [str(5 + k % 4) for k in range(12)] + ["", "", ""]
    path = tmp_path / "tail.csv"
    path.write_text("ds,y,promo\n" + "".join(f"{d:%Y-%m-%d},{v},{k % 2}\n" for k, (d, v) in enumerate(zip(stamps, y))))
    result = cli("--csv", str(path), "--horizon", "3", *QUICK)
    assert result.returncode == 2
    assert "line 14 (ds 2021-01-01); this and every later row of the series have no y: if they hold the exogenous " \
        "columns' future, put them in a file of their own and pass it with --future (and --out)" in result.stderr
    with pytest.raises(ValueError, match=r"pass them as X_df to predict\(\)"):
        read_csv(path)
    y[5] = ""
    path.write_text("ds,y,promo\n" + "".join(f"{d:%Y-%m-%d},{v},{k % 2}\n" for k, (d, v) in enumerate(zip(stamps, y))))
    with pytest.raises(ValueError, match=r"line 7 .*; fill or drop missing values before forecasting$"):
        read_csv(path)


def test_future_files_are_read_as_their_data_file(tmp_path):
    """From a review of --future: in a file without dates a step column in the future file was dropped (rows
    out of order got the wrong promo); day-first dates that read right in --csv were refused in --future; an
    empty future file, a series only in it, and an unreadable date each get one line."""
    rng = np.random.default_rng(1)
    promo = (rng.random(66) < 0.3).astype(float)
    y = 100 + 0.5 * np.arange(66) + 30 * promo + rng.normal(0, 2, 66)
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"y": y[:60], "promo": promo[:60]}).to_csv(plain, index=False)
    steps = tmp_path / "steps.csv"
    pd.DataFrame({"ds": np.arange(65, 59, -1), "promo": [0, 0, 0, 0, 1, 1]}).to_csv(steps, index=False)
    run = ["--horizon", "6", "--ensemble", "1", "--train-steps", "5", "--no-peers"]
    result = cli("--csv", str(plain), "--freq", "12", *run, "--out", str(tmp_path / "o1"), "--future", str(steps))
    assert result.returncode == 0, result.stderr
    forecast = pd.read_csv(tmp_path / "o1" / "forecast.csv")["ES-LSTM"].to_numpy()     # steps 60 .. 65
    assert forecast[:2].min() > forecast[2:].max() + 15                                # promo at steps 60, 61
    stamps = pd.date_range("2015-01-01", periods=66, freq="MS")
    european = tmp_path / "eu.csv"
    pd.DataFrame({"ds": stamps[:60].strftime("%d/%m/%Y"), "y": y[:60], "promo": promo[:60]}).to_csv(european, index=False)
    future = tmp_path / "eu_future.csv"
    pd.DataFrame({"ds": stamps[60:].strftime("%d/%m/%Y"), "promo": promo[60:]}).to_csv(future, index=False)
    result = cli("--csv", str(european), *run, "--out", str(tmp_path / "o2"), "--future", str(future))
    assert result.returncode == 0, result.stderr
    for text, message in (("ds,promo\n", "has no data rows: it needs one row per forecast step"),
                          ("ds,promo\n" + "".join(f"{d:%d/%m/%Y},0\n" for d in stamps[60:65]) + "someday,0\n",
                           "ds is 'someday' at " + str(future) + ", line 7, not a date")):
        future.write_text(text)
        result = cli("--csv", str(european), *run, "--out", str(tmp_path / "o3"), "--future", str(future))
        assert result.returncode == 2 and message in result.stderr, result.stderr
    panel = tmp_path / "panel.csv"
    pd.DataFrame({"store": "007", "ds": stamps[:60], "y": y[:60], "promo": promo[:60]}).to_csv(panel, index=False)
    future.write_text("store,ds,promo\n" + "".join(f"{uid},{d:%Y-%m-%d},0\n" for uid in ("007", "099") for d in stamps[60:]))
    result = cli("--csv", str(panel), "--id-column", "store", *run, "--out", str(tmp_path / "o3"), "--future", str(future))
    assert result.returncode == 2 and "has rows for series '099', which the --csv file does not have" in result.stderr
    assert not (tmp_path / "o3").exists()


# --- found by a user trial (session 21) ---------------------------------------------------------------
def test_a_column_named_as_a_role_that_another_column_plays_is_refused_or_left_out(tmp_path):
    """--column price on a file that also has a y column used to crash inside pandas (two columns named y)."""
    stamps = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    path = tmp_path / "prices.csv"
    path.write_text("ds,y,price\n" + "\n".join(f"{d},{100 + k},{10 + 0.8 * k:.2f}" for k, d in enumerate(stamps)) + "\n")
    with pytest.raises(ValueError, match=r"has a column 'y' that is not the target \(target_column='price'\): inside "
                                         r"lstmlab the target is called 'y'.*leave it out \(exogenous=\[\]"):
        read_csv(path, target_column="price")
    frame = read_csv(path, target_column="price", exogenous=[])
    assert list(frame.columns) == ["unique_id", "ds", "y"] and frame.y.iloc[0] == 10.0
    result = cli("--csv", str(path), "--column", "price", "--horizon", "3", *QUICK)
    assert result.returncode == 2 and "that is not the target (--column price)" in result.stderr
    assert "Traceback" not in result.stderr
    dated = tmp_path / "dated.csv"
    dated.write_text("ds,date,sales\n" + "\n".join(f"{k},{d},{50 + k}" for k, d in enumerate(stamps)) + "\n")
    with pytest.raises(ValueError, match=r"column 'ds' that is not the time column \(time_column='date'\)"):
        read_csv(dated, time_column="date", target_column="sales")
    assert read_csv(dated, time_column="date", target_column="sales", exogenous=[]).ds.dt.year.iloc[-1] == 2022


def test_thousands_points_in_a_semicolon_file_are_refused_not_read_as_decimals(tmp_path):
    """974 beside 1.011 (one thousand and eleven, the European way): read with decimal commas, 1.011 became one
    point something and the series jumped between ~1 and ~1000 without a word."""
    stamps = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    values = [f"{v:,}".replace(",", ".") for v in range(900, 1200, 10)]
    path = tmp_path / "eu.csv"
    path.write_text("ds;y\n" + "\n".join(f"{d};{v}" for d, v in zip(stamps, values)) + "\n")
    with pytest.raises(ValueError, match=r"column 'y' of .*eu.csv holds '1.000' beside '900': in a semicolon-separated "
                                         r"file '1.000' may be a number with a thousands point \(1000\)"):
        read_csv(path)
    decimals = tmp_path / "decimals.csv"                    # decimal points only, none without: read as written
    decimals.write_text("ds;y\n" + "\n".join(f"{d};{v / 1000:.3f}" for d, v in zip(stamps, range(900, 1200, 10))) + "\n")
    assert read_csv(decimals).y.iloc[-1] == pytest.approx(1.19)
    commas = tmp_path / "commas.csv"
    commas.write_text("ds;y\n" + "\n".join(f"{d};{v},5" for d, v in zip(stamps, range(900, 1200, 10))) + "\n")
    assert read_csv(commas).y.iloc[-1] == pytest.approx(1190.5)


def test_messages_of_an_interleaved_panel_quote_the_series_own_stamps(tmp_path):
    """Rows of two series in turn: 'goes back in time' quoted the row above, another series' stamp."""
    path = tmp_path / "interleaved.csv"
    path.write_text("id,ds,y\nA,2020-01-01,1\nB,2020-05-01,5\nA,2020-03-01,2\nB,2020-06-01,6\nA,2020-02-01,3\n"
                    "B,2020-07-01,7\n")
    with pytest.raises(ValueError, match=r"series 'A': ds goes back in time at .*line 6 \(2020-03-01 -> 2020-02-01\)"):
        read_csv(path, id_column="id")
    steps = tmp_path / "steps.csv"
    steps.write_text("id,ds,y\nA,1,1\nB,11,5\nA,2,2\nB,12,6\nA,4,3\nB,13,7\n")
    with pytest.raises(ValueError, match=r"series 'A': ds goes 2 -> 4 at"):
        read_csv(steps, id_column="id", freq="1")


@pytest.mark.parametrize("short_first", [False, True])
def test_a_series_of_two_points_is_on_the_panels_grid_not_another_frequency(short_first):
    """Two monthly stamps are 31 days apart: read alone they said 31D, and the panel was refused for mixing
    frequencies (blaming the long series when the short one came first). Now the panel's frequency comes
    from its longest series, and the short one is refused for being short."""
    long = pd.DataFrame({"unique_id": "A", "ds": pd.date_range("2020-01-01", periods=40, freq="MS"), "y": np.arange(40.0)})
    short = pd.DataFrame({"unique_id": "B", "ds": pd.to_datetime(["2022-05-01", "2022-06-01"]), "y": [10.0, 11.0]})
    frame = prepare(pd.concat([short, long] if short_first else [long, short], ignore_index=True))
    assert frame.attrs["freq"] == "MS"
    from lstmlab.forecast.api import LSTMForecaster
    with pytest.raises(ValueError, match=r"series 'B' has 2 points: too short"):
        LSTMForecaster(h=2, ensemble=1, steps=5).fit(frame)


def test_tuple_ids_forecast_like_any_other_id():
    """A (store, sku) tuple is a hashable id that fit accepted; predict then built its frame from the tuple as
    if it were a column of two values and failed inside pandas."""
    from lstmlab.forecast.api import LSTMForecaster
    from lstmlab.forecast.selection import selected_frame
    t = np.arange(40)
    ids = [("store1", "sku9"), ("store1", "sku10")]
    frame = pd.concat([pd.DataFrame({"unique_id": [uid] * 40, "ds": pd.date_range("2020-01-01", periods=40, freq="MS"),
                                     "y": 100 + 10 * k + t + np.sin(t)}) for k, uid in enumerate(ids)], ignore_index=True)
    forecaster = LSTMForecaster(h=3, ensemble=1, steps=5).fit(frame)
    forecast = forecaster.predict()
    assert list(forecast.unique_id) == [ids[0]] * 3 + [ids[1]] * 3
    assert list(selected_frame(forecaster, forecast).unique_id) == list(forecast.unique_id)


@pytest.mark.parametrize("freq", ["D", "W-SUN", "MS"])
def test_local_dates_across_a_daylight_saving_change_are_read_as_dates(tmp_path, freq):
    """Local midnights written with their UTC offset (+01:00 in winter, +02:00 in summer) were refused with
    advice for hourly data (pass --freq h), and with --freq D as off the grid: a day is a calendar day."""
    stamps = pd.date_range("2020-10-01", periods=60, freq=freq, tz="Europe/Berlin")
    path = tmp_path / "local.csv"
    pd.DataFrame({"ds": stamps.astype(str), "y": np.arange(60.0)}).to_csv(path, index=False)
    frame = read_csv(path)
    assert frame.attrs["freq"] == freq
    assert list(frame.ds) == list(stamps.tz_localize(None))
    hourly = tmp_path / "hourly.csv"                        # hours do move with the clock: --freq h, as before
    pd.DataFrame({"ds": pd.date_range("2021-03-27", periods=60, freq="h", tz="Europe/Berlin").astype(str),
                  "y": np.arange(60.0)}).to_csv(hourly, index=False)
    with pytest.raises(ValueError, match=r"mixes UTC offsets \(\+0100, \+0200.*pass freq='h'"):
        read_csv(hourly)


@pytest.mark.parametrize("alias", ["SMS", "SME"])
def test_twice_a_month_stamps_are_read_without_freq(alias):
    """The 1st and 15th (SMS), or the 15th and the month's end (SME): pd.infer_freq names neither, and they
    were refused as 'not evenly spaced … fill the gaps' although --freq SMS read them."""
    stamps = pd.date_range("2018-01-01", periods=60, freq=alias)
    frame = prepare(pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(60.0)}))
    assert frame.attrs["freq"] == alias and season_lengths(frame) == [24]
    gap = pd.DataFrame({"unique_id": "a", "ds": stamps.delete(30), "y": np.arange(59.0)})
    with pytest.raises(ValueError, match="not evenly spaced"):
        prepare(gap)


def test_what_spreadsheets_write_is_read_or_named(tmp_path):
    """Excel's first line sep=; , rows of bare separators at the end, a word in a column of decimal commas,
    117.1% — each used to be a wrong message (no ds column; y missing; the first 1,5 blamed; fill or drop
    missing values)."""
    stamps = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    excel = tmp_path / "excel.csv"
    excel.write_text("sep=;\nds;y\n" + "".join(f"{d};{k},5\n" for k, d in enumerate(stamps)) + ";\n;\n")
    frame = read_csv(excel)
    assert len(frame) == 30 and frame.y.iloc[-1] == 29.5
    excel.write_text("sep=;\nds;y\n" + "".join(f"{d};{'unknown' if k == 4 else f'{k},5'}\n" for k, d in enumerate(stamps)))
    with pytest.raises(ValueError, match=r"y is 'unknown', not a finite number at .*line 7 .*; fix that value: y must be a "
                                         r"number on every row"):
        read_csv(excel)
    percent = tmp_path / "percent.csv"
    percent.write_text("ds,y\n" + "".join(f'{d},"{100 + k}.1%"\n' for k, d in enumerate(stamps)))
    with pytest.raises(ValueError, match=r"'100.1%'.*write plain numbers \(117.1\), without a unit or sign"):
        read_csv(percent)


def test_command_line_counts_and_short_series_are_named_as_typed(tmp_path):
    path = monthly_csv(tmp_path / "short.csv", np.arange(6.0))
    result = cli("--csv", str(path), "--horizon", "0", *QUICK)
    assert result.returncode == 2 and "--horizon must be a positive integer, got 0" in result.stderr
    result = cli("--csv", str(path), "--horizon", "2", "--freq", "MS", *QUICK)
    assert result.returncode == 2 and "too short to learn horizon 2 with no season" in result.stderr
    from lstmlab.forecast.hints import option
    assert option("id_column", "Series id", command_line=True) == "--id-column 'Series id'"


def test_statsforecast_format_with_a_future_file_needs_no_id_column(tmp_path):
    """Found in review: the data file's unique_id was taken as the id, the --future file's was not (every
    row was given the first series' id)."""
    months = pd.date_range("2018-01-01", periods=40, freq="MS")
    rows = [(uid, d, 100 + k + 10 * (uid == "b") + 30 * (k % 5 == 0), float(k % 5 == 0))
            for uid in ("007", "b") for k, d in enumerate(months)]
    data = tmp_path / "panel.csv"
    pd.DataFrame(rows, columns=["unique_id", "ds", "y", "promo"]).to_csv(data, index=False)
    future = tmp_path / "future.csv"
    stamps = pd.date_range("2021-05-01", periods=3, freq="MS").strftime("%Y-%m-%d")
    future.write_text("unique_id,ds,promo\n" + "".join(f"{uid},{d},0\n" for uid in ("007", "b") for d in stamps))
    result = cli("--csv", str(data), "--horizon", "3", "--out", str(tmp_path / "out"), "--future", str(future), *QUICK)
    assert result.returncode == 0, result.stderr
    forecast = pd.read_csv(tmp_path / "out" / "forecast.csv", dtype={"unique_id": str})
    assert list(forecast.unique_id) == ["007"] * 3 + ["b"] * 3


def test_ids_and_lines_in_semicolon_files(tmp_path):
    """Found in review: the thousands-point check read the id column too (an id 1.100 beside 12 was refused),
    and rows of bare separators at the end moved every line number in messages to the row count's guess."""
    months = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    path = tmp_path / "stores.csv"
    path.write_text("store;ds;y\n" + "".join(f"{uid};{d};{k},5\n" for uid in ("1.100", "12") for k, d in enumerate(months)))
    assert list(read_csv(path, id_column="store").unique_id.unique()) == ["1.100", "12"]
    result = cli("--csv", str(path), "--id-column", "store", "--horizon", "3", "--json", *QUICK)   # the CLI too
    assert result.returncode == 0, result.stderr
    broken = tmp_path / "broken.csv"
    body = [f"{d};{'oops' if k == 20 else f'{k},5'}" for k, d in enumerate(months)]
    broken.write_text("ds;y\n" + "\n".join(body[:10]) + "\n\n" + "\n".join(body[10:]) + "\n;\n;\n")
    with pytest.raises(ValueError, match=r"y is 'oops', not a finite number at .*broken.csv, line 23 "):
        read_csv(broken)


def test_a_series_too_short_to_evaluate_can_still_be_forecast(tmp_path):
    """Found by a user's trial: 36 monthly points at --horizon 12 forecast fine in Python, but the command
    holds the last 12 out to evaluate first, and 24 points are too few to train on — nothing was written.
    The refusal now says how to skip the evaluation, and --folds 0 with --out writes the forecast alone."""
    t = np.arange(36)
    path = monthly_csv(tmp_path / "short.csv", np.round(100 + 10 * np.sin(2 * np.pi * t / 12) + t, 2))
    refused = cli("--csv", str(path), "--horizon", "12", "--out", str(tmp_path / "out"), *QUICK)
    assert refused.returncode == 2
    assert "in fold 1 of 1" in refused.stderr and "--folds 0 with --out skips the evaluation" in refused.stderr
    written = cli("--csv", str(path), "--horizon", "12", "--folds", "0", "--out", str(tmp_path / "out"), *QUICK)
    assert written.returncode == 0, written.stderr
    assert "no evaluation (--folds 0)" in written.stdout
    forecast = pd.read_csv(tmp_path / "out" / "forecast.csv")
    assert len(forecast) == 12 and forecast["ds"].iloc[0] == "2003-01-01"
    alone = cli("--csv", str(path), "--horizon", "12", "--folds", "0", *QUICK)
    assert alone.returncode == 2 and "--folds must be a positive integer, got 0 (--folds 0, with --out" in alone.stderr
    spaced = cli("--csv", str(path), "--horizon", "12", "--folds", "0", "--step", "3", "--out", str(tmp_path), *QUICK)
    assert spaced.returncode == 2 and "with --folds 0 there are none" in spaced.stderr


@pytest.mark.parametrize("written", ["%d.%m.%Y", "%m/%d/%Y"])
def test_monthly_stamps_on_the_fifth_are_read_day_first_or_month_first(written):
    """Found by a user's trial: 05.01.2000, 05.02.2000, … (the 5th of each month, day first) were refused as
    "not evenly spaced … 2000-05-13": the day-first reading was only tried against pandas' frequencies,
    which name no 5th of the month."""
    ds = pd.date_range("2000-01-05", periods=30, freq=pd.DateOffset(months=1))
    frame = prepare(pd.DataFrame({"unique_id": "s", "ds": ds.strftime(written), "y": np.arange(30.0)}))
    np.testing.assert_array_equal(frame["ds"].to_numpy(), ds.to_numpy())


def test_monthly_stamps_whose_time_of_day_moves_name_the_odd_one():
    """Found in review: the 15th of every month, one of them at noon, was refused as "most are on day 15 …,
    2000-01-15 at row 0 is not" — the first stamp, on the 15th like the rest."""
    ds = pd.date_range("2000-01-15", periods=24, freq=pd.DateOffset(months=1))
    ds = ds + pd.to_timedelta(np.where(np.arange(24) == 5, 12, 0), unit="h")
    with pytest.raises(ValueError, match=r"most are on day 15 of their month at 00:00:00, ds 2000-06-15 12:00:00 at "
                                         r"row 5 is not"):
        prepare(pd.DataFrame({"unique_id": "s", "ds": ds, "y": np.arange(24.0)}))


def test_a_missing_stamp_in_a_datetime_column_is_named_as_missing():
    """Found in a fault hunt: a NaT in a datetime ds was reported as "goes back in time at row 5 (NaT ->
    2015-06-01)", or as a gap at the last row."""
    ds = pd.Series(pd.date_range("2015-01-01", periods=30, freq="MS"))
    frame = pd.DataFrame({"unique_id": "a", "ds": ds, "y": np.arange(30.0) + 1})
    for row in (4, 29):
        with pytest.raises(ValueError, match=rf"^series 'a': ds is missing \(NaT\) at row {row}; every row needs"):
            prepare(frame.assign(ds=ds.where(np.arange(30) != row)))


@pytest.mark.parametrize("start, refusal", [("2021-03-27 12:00", "not evenly spaced"), ("2021-10-30 12:00", "repeats")],
                         ids=["spring", "autumn"])
def test_local_clock_stamps_across_a_daylight_saving_change_are_told_to_convert(start, refusal):
    """Found in a fault hunt: hourly local times across the spring change were told to "fill the gaps", across
    the autumn one to "drop duplicates"; the advice that works is converting them to UTC, as the message now
    says — and what it suggests is then read as hourly."""
    local = pd.Series(pd.date_range(start, periods=48, freq="h", tz="Europe/London").tz_localize(None))
    frame = pd.DataFrame({"unique_id": "h", "ds": local, "y": np.arange(48.0)})
    with pytest.raises(ValueError, match=rf"{refusal}.*a daylight-saving change skips or repeats an hour there: "
                                         r"convert them to UTC first"):
        prepare(frame)
    converted = local.dt.tz_localize("Europe/London", ambiguous="infer").dt.tz_convert("UTC")
    assert prepare(frame.assign(ds=converted)).attrs["freq"] == "h"
    daily = pd.Series(pd.date_range("2021-01-01", periods=40, freq="D")).drop(index=[10]).reset_index(drop=True)
    with pytest.raises(ValueError) as caught:                # a gap in daily data: no clock in it
        prepare(pd.DataFrame({"unique_id": "d", "ds": daily, "y": np.arange(39.0)}))
    assert "daylight" not in str(caught.value)


def test_irregular_stamps_are_not_told_to_pass_a_frequency():
    """Found in a fault hunt: "fill the gaps or pass --freq", but --freq then refused the same stamps as off its
    grid: a frequency cannot make uneven stamps even."""
    stamps = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-05", "2020-01-07", "2020-01-08"])
    with pytest.raises(ValueError, match="not evenly spaced") as caught:
        prepare(pd.DataFrame({"unique_id": "i", "ds": stamps, "y": np.arange(6.0)}))
    assert "freq" not in str(caught.value) and "fill the gaps" in str(caught.value)


def test_the_written_forecast_names_the_id_and_time_columns_as_the_file_does(tmp_path):
    """Found in a fault hunt: with --id-column shop --time-column date, forecast.csv said unique_id and ds (the
    API's predict already names them as its frame does)."""
    months = pd.date_range("2018-01-01", periods=30, freq="MS").strftime("%Y-%m-%d")
    path = tmp_path / "shops.csv"
    path.write_text("shop,date,y\n" + "".join(f"{shop},{d},{100 + k + 5 * (shop == 'b')}\n"
                                              for shop in ("a", "b") for k, d in enumerate(months)))
    result = cli("--csv", str(path), "--id-column", "shop", "--time-column", "date", "--horizon", "3", "--folds", "0",
                 "--out", str(tmp_path / "out"), *QUICK)
    assert result.returncode == 0, result.stderr
    forecast = pd.read_csv(tmp_path / "out" / "forecast.csv")
    assert list(forecast.columns[:3]) == ["shop", "date", "ES-LSTM"]
    assert list(forecast.shop) == ["a"] * 3 + ["b"] * 3 and forecast.date.iloc[0] == "2020-07-01"
