"""LSTMForecaster's frames against statsforecast's, twin computations: the same data through both, and the
frames must line up column for column — names, order, dtypes, stamps, cutoffs — so a user can merge them
on the id and ds without fixing anything. Only the forecast values differ (they are different models), and
the row order where ids are not sorted (statsforecast sorts them; here they keep the input's order)."""
import numpy as np
import pytest

pd = pytest.importorskip("pandas")
statsforecast = pytest.importorskip("statsforecast")

from statsforecast import StatsForecast  # noqa: E402
from statsforecast.models import AutoETS  # noqa: E402

from lstmlab.forecast.api import LSTMForecaster  # noqa: E402
from lstmlab.forecast.datasets import AIRPASSENGERS  # noqa: E402

TINY = {"ensemble": 1, "steps": 10, "hidden_size": 8, "mlp_size": 16}


def panel(n=96, ids=("air", "wave")):
    """Two monthly series, ids given sorted (statsforecast sorts its output by id)."""
    t = np.arange(n)
    ds = pd.date_range("1949-01-01", periods=n, freq="MS")
    values = {ids[0]: np.array(AIRPASSENGERS[:n], dtype=np.float64),
              ids[1]: 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12)}
    return pd.concat([pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}) for uid, y in values.items()],
                     ignore_index=True)


def statistical_twin(freq="MS"):
    """statsforecast's AutoETS: its interval columns nest, lo-90, lo-80, hi-80, hi-90, as AutoARIMA's and
    AutoTheta's do (its Naive and SeasonalNaive write lo-80, lo-90, …: statsforecast 2.0 is not consistent)."""
    return StatsForecast(models=[AutoETS(season_length=12)], freq=freq)


def same_layout(ours, theirs, model="ES-LSTM", peer="AutoETS"):
    """Column names and order (model names swapped), dtypes, and every non-forecast column equal."""
    assert [c.replace(model, peer) for c in ours.columns] == list(theirs.columns)
    shared = [c for c in ours.columns if model not in c]
    for column in shared:
        assert ours[column].dtype == theirs[column].dtype, column
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())


@pytest.mark.parametrize("categorical", [False, True])
def test_predict_and_cross_validation_line_up_with_statsforecast(categorical):
    df = panel()
    if categorical:
        df["unique_id"] = df["unique_id"].astype("category")
    twin = statistical_twin()
    forecaster = LSTMForecaster(h=6, **TINY)
    same_layout(forecaster.forecast(df, level=[80, 90]), twin.forecast(df=df, h=6, level=[80, 90]))
    ours = forecaster.cross_validation(df, n_windows=2, step_size=6, level=[90])
    theirs = twin.cross_validation(df=df, h=6, n_windows=2, step_size=6, level=[90])
    same_layout(ours, theirs)                # cutoff in datetime64[ns] as ds is; a categorical id stays one


def test_integer_stamps_line_up_with_statsforecast():
    df = panel(72).assign(ds=lambda d: d.groupby("unique_id").cumcount() + 1)
    twin = statistical_twin(freq=1)
    ours = LSTMForecaster(h=6, freq=1, season_length=12, **TINY).cross_validation(df, n_windows=2, level=None)
    same_layout(ours, twin.cross_validation(df=df, h=6, n_windows=2, step_size=6))


def test_id_time_and_target_columns_can_have_the_callers_names():
    """fit(df, id_col=, time_col=, target_col=) as statsforecast takes them: the same forecasts as with the
    canonical names, and the caller's names in every frame that comes back (predict, cross_validation,
    selected_frame), X_df included."""
    df = panel(84).assign(price=lambda d: np.arange(len(d)) % 5)
    named = df.rename(columns={"unique_id": "store", "ds": "month", "y": "sales"})
    future = pd.DataFrame({"unique_id": np.repeat(["air", "wave"], 6), "price": 1.0,
                           "ds": np.tile(pd.date_range("1956-01-01", periods=6, freq="MS"), 2)})
    plain = LSTMForecaster(h=6, **TINY).fit(df)
    renamed = LSTMForecaster(h=6, **TINY).fit(named, id_col="store", time_col="month", target_col="sales")
    expected = plain.predict(X_df=future)
    got = renamed.predict(X_df=future.rename(columns={"unique_id": "store", "ds": "month"}))
    assert list(got.columns) == ["store", "month"] + list(expected.columns[2:])
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    folds = renamed.cross_validation(named, n_windows=1, id_col="store", time_col="month", target_col="sales")
    assert list(folds.columns[:4]) == ["store", "month", "cutoff", "sales"]
    from lstmlab.forecast.selection import selected_frame
    picked = selected_frame(renamed, X_df=future.rename(columns={"unique_id": "store", "ds": "month"}))
    assert list(picked.columns[:3]) == ["store", "month", "selected"]


def test_column_names_that_do_not_fit_the_frame_are_refused_in_one_line():
    df = panel(84)
    with pytest.raises(ValueError, match=r"id_col='store' is not a column of the frame \(columns: unique_id, ds, y\)"):
        LSTMForecaster(h=6, **TINY).fit(df, id_col="store")
    with pytest.raises(ValueError, match=r"the frame has a column 'y' beside target_col='sales': rename or drop it"):
        LSTMForecaster(h=6, **TINY).fit(df.assign(sales=df.y), target_col="sales")
    with pytest.raises(ValueError, match="three different columns"):
        LSTMForecaster(h=6, **TINY).fit(df, time_col="y")
    with pytest.raises(ValueError, match=r"time_col='cutoff' is the name of a column the forecasts add"):
        LSTMForecaster(h=6, **TINY).fit(df.rename(columns={"ds": "cutoff"}), time_col="cutoff")
    with pytest.raises(ValueError, match=r"target_col='ES-LSTM' is the name of a column the forecasts add"):
        LSTMForecaster(h=6, **TINY).fit(df.rename(columns={"y": "ES-LSTM"}), target_col="ES-LSTM")


def test_cross_validation_takes_statsforecasts_keywords_or_refuses_them():
    forecaster, df = LSTMForecaster(h=6, **TINY), panel(84)
    with pytest.raises(ValueError, match=r"forecasts h=6 steps, not h=12"):
        forecaster.cross_validation(df, h=12)
    with pytest.raises(ValueError, match=r"refit=False is not supported"):
        forecaster.cross_validation(df, refit=False)
    folds = forecaster.cross_validation(df, h=6, n_windows=1, refit=1, level=None)    # statsforecast's 1: True
    assert list(folds.columns) == ["unique_id", "ds", "cutoff", "y", "ES-LSTM"]


def test_forecast_checks_h_and_level_before_it_fits_and_a_refused_fit_keeps_the_model():
    """Found in review: forecast(df, h=12) on an h=6 forecaster trained the whole ensemble before saying
    so; and a refused second fit with other column names renamed the first fit's forecasts."""
    df = panel(84)
    forecaster = LSTMForecaster(h=6, **TINY)
    for keywords in ({"h": 12}, {"level": [95]}):
        with pytest.raises(ValueError):
            forecaster.forecast(df, **keywords)
        assert forecaster.network is None                              # refused before any training
    expected = forecaster.fit(df).predict()
    with pytest.raises(ValueError, match="no data rows"):
        forecaster.fit(df.iloc[:0].rename(columns={"unique_id": "store"}), id_col="store")
    np.testing.assert_array_equal(forecaster.predict().columns, expected.columns)


def test_h_must_be_a_whole_number_and_forecast_names_the_argument_order():
    """Found in a trial: forecast(12, df), statsforecast's order, failed deep inside with "the truth value of a
    DataFrame is ambiguous"; h=12.0, refused by the constructor, was taken by forecast."""
    forecaster, df = LSTMForecaster(h=6, **TINY), panel(84)
    with pytest.raises(TypeError, match=r"forecast takes the frame first: forecast\(df, h=6\)"):
        forecaster.forecast(6, df)
    for h, shown in ((6.0, "6.0"), (True, "True"), ("6", "'6'"), (np.array([6]), "ndarray")):
        with pytest.raises(ValueError, match=f"h \\(the horizon\\) must be a positive integer, got {shown}$"):
            forecaster.forecast(df, h=h)
    assert forecaster.network is None                                  # refused before any training
    forecaster.fit(df)
    with pytest.raises(ValueError, match="must be a positive integer, got 6.0"):
        forecaster.predict(h=6.0)
    assert len(forecaster.predict(h=np.int64(6))) == 6 * df["unique_id"].nunique()


def test_an_unfitted_forecaster_says_to_fit_first():
    from lstmlab.forecast.selection import selected_frame
    for call in (lambda f: f.predict(), lambda f: selected_frame(f)):
        with pytest.raises(RuntimeError, match="call fit before predict"):
            call(LSTMForecaster(h=6, **TINY))


def test_a_fold_without_a_validation_score_raises_no_pandas_warning():
    """Found in a CLI trial (--folds 2 --step 20 on 48 points): the earlier fold is too short to hold a
    validation window out, its validation-MAE column was all None, and pandas' concat warned about it."""
    import warnings
    forecaster, df = LSTMForecaster(h=6, **{**TINY, "ensemble": 3}), panel(48)     # lookbacks 6, 12, 18
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        folds = forecaster.cross_validation(df, n_windows=2, step_size=20, validation=True, level=None)
    scores = folds["ES-LSTM-validation-mae"]
    assert scores.dtype == np.float64 and scores.isna().any() and scores.notna().any()
