"""The `selected` forecast: per series, whichever of the ES-LSTM and the statistical peers forecast the last
h points up to the cutoff best (lstmlab/forecast/selection.py), and the ES-LSTM's score on that window."""
import json
import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("statsforecast")

from lstmlab.forecast.api import LSTMForecaster  # noqa: E402
from lstmlab.forecast.datasets import AIRPASSENGERS  # noqa: E402
from lstmlab.forecast.evaluate import evaluate, format_report  # noqa: E402
from lstmlab.forecast.peers import fit_peer, statistical  # noqa: E402
from lstmlab.forecast.selection import select, selected_forecast, selected_frame, validation_scores  # noqa: E402

TINY = {"ensemble": 2, "steps": 20, "hidden_size": 8, "mlp_size": 16}


def air_frame(n=144):
    return pd.DataFrame({"unique_id": "air", "ds": pd.date_range("1949-01-01", periods=n, freq="MS"),
                         "y": np.array(AIRPASSENGERS[:n], dtype=np.float64)})


def two_series(n=132):
    """AirPassengers' first n months and a rising sine wave on the same months: a panel of two."""
    t = np.arange(n)
    wave = air_frame(n).assign(unique_id="wave", y=100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12))
    return pd.concat([air_frame(n), wave], ignore_index=True)


def test_select_takes_the_lowest_validation_mae_and_the_network_on_a_tie():
    assert select({"ES-LSTM": 3.0, "ets": 2.0, "autoarima": 2.5, "theta": 4.0}) == "ets"
    assert select({"ES-LSTM": 2.0, "ets": 2.0, "autoarima": 2.0}) == "ES-LSTM"
    assert select({"autoarima": 1.0, "theta": 0.5}) == "theta"          # the network not scored
    assert select({}) == "ES-LSTM"
    # a forecast that is not finite (a peer that fitted the shorter history but not the whole one) is passed over
    forecasts = {"ES-LSTM": np.ones(3), "ets": np.full(3, np.nan), "autoarima": np.ones(3), "theta": np.ones(3)}
    assert select({"ES-LSTM": 3.0, "ets": 2.0, "autoarima": 2.5}, forecasts) == "autoarima"


def test_the_selected_forecast_falls_back_when_the_chosen_peer_fails_on_the_whole_history(monkeypatch):
    """--out refits the chosen peer on the whole series; when that fit fails (NaN), the next-ranked one
    forecasts (the file had NaN beside the failed peer's name)."""
    from lstmlab.forecast import selection
    y = np.array(AIRPASSENGERS[:120], dtype=np.float64)
    scores = validation_scores(y, 12, [12], network_mae=1e9)             # the network last
    first, second = sorted(("ets", "autoarima", "theta"), key=scores.get)[:2]
    original = selection.fit_peer

    def failing_on_the_whole_history(name, history, *args, **kwargs):
        out = original(name, history, *args, **kwargs)
        if name == first and len(history) == len(y):
            out["mean"] = np.full(12, np.nan)
        return out
    monkeypatch.setattr(selection, "fit_peer", failing_on_the_whole_history)
    chosen, forecast, _ = selection.selected_forecast(y, 12, [12], 1e9, np.zeros(12))
    assert chosen == second and np.isfinite(forecast).all()
    np.testing.assert_array_equal(forecast, statistical(y, 12, 12, (second,), [12])[second])


def test_the_peers_are_scored_on_the_last_h_points_fitted_without_them():
    """Twin computation: each peer fitted by statsforecast on the first N − h points, its MAE on the last h."""
    y = np.array(AIRPASSENGERS[:120], dtype=np.float64)
    scores = validation_scores(y, 12, [12], network_mae=7.5)
    expected = statistical(y[:-12], 12, 12, season_lengths=[12])
    assert scores["ES-LSTM"] == 7.5
    for name in ("ets", "autoarima", "theta"):
        assert scores[name] == pytest.approx(np.abs(expected[name] - y[-12:]).mean(), rel=1e-12), name
    assert "ES-LSTM" not in validation_scores(y, 12, [12], network_mae=None)


def test_the_networks_validation_mae_is_its_forecast_of_the_held_out_last_window():
    """validation_mae: the members' median forecast from the window that ends h points before the end (the
    window early stopping holds out), against those h points; without early stopping every member trained on
    that window, and there is no score."""
    frame = air_frame(132)
    forecaster = LSTMForecaster(h=12, **TINY).fit(frame)
    network = forecaster.network
    assert all(member.held_out for _, member in network.members)
    # (that no training window's targets reach these 12 months: test_forecast_hybrid's early-stopping test)
    middle = network.config.quantiles.index(0.5)
    draws = network.member_draws("air", end=132 - 12 - 1)                                 # (M, 12, Q)
    median = np.sort(np.median(draws, axis=0), axis=1)[:, middle]     # as predict: the members' median, sorted
    forecast = network.to_series_units("air", median[:, None], end=132 - 12 - 1)[:, 0]
    expected = np.abs(forecast - frame.y.to_numpy()[-12:]).mean()
    assert forecaster.validation_mae() == {"air": pytest.approx(expected, rel=1e-6)}
    unvalidated = LSTMForecaster(h=12, early_stopping=False, **TINY).fit(frame)
    assert unvalidated.validation_mae() == {"air": None}


def test_the_report_selects_per_series_and_scores_the_selected_forecast_as_the_chosen_model():
    """Two series, one fold: `selected` has, for each series, the metrics of the candidate with the lowest
    validation MAE, and the report says which and why."""
    frame = two_series()
    report = evaluate(frame, 12, models=("hybrid",), **TINY)
    for row in report["rows"]:
        scores, chosen = row["selected"]["validation_mae"], row["selected"]["model"]
        assert set(scores) == {"ES-LSTM", "ets", "autoarima", "theta"}
        assert chosen == min(scores, key=scores.get)
        assert row["metrics"]["selected"] == row["metrics"][chosen]
    lines = format_report(report).splitlines()
    assert sum(line.startswith("  selected: ") for line in lines) == 2               # one per series and fold
    assert any(line.startswith("selected ") for line in lines)                        # a row of the summary
    without_peers = evaluate(frame, 12, models=("hybrid",), peers=False, keep_forecasts=True, **TINY)
    assert all("selected" not in row and "selected" not in row["metrics"] for row in without_peers["rows"])
    for row in without_peers["rows"]:                      # keep_forecasts: the values every metric was taken on
        assert set(row["forecasts"]) == set(row["metrics"]) == {"ES-LSTM", "smoothing"} and len(row["actual"]) == 12
        for name, forecast in row["forecasts"].items():
            assert row["metrics"][name]["mae"] == pytest.approx(np.abs(np.subtract(forecast, row["actual"])).mean())
    assert all("forecasts" not in row for row in report["rows"])


def test_the_command_lines_forecast_file_has_the_selected_forecast_and_its_model(tmp_path, capsys):
    """--out: past the end of the file, the ES-LSTM's forecast and the selected one, which is the ES-LSTM's
    or the chosen peer's fitted on the whole series (computed again here with statsforecast)."""
    from lstmlab.cli import main
    frame = two_series()
    frame.to_csv(tmp_path / "two.csv", index=False)
    assert main(["forecast", "--csv", str(tmp_path / "two.csv"), "--id-column", "unique_id", "--horizon", "6",
                 "--ensemble", "2", "--train-steps", "20", "--out", str(tmp_path / "out"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    written = pd.read_csv(tmp_path / "out" / "forecast.csv")
    # the picks are reported (they are made on the whole file, so they may differ from the last cutoff's)
    assert report["files"]["selected"] == written.groupby("unique_id")["selected_model"].first().to_dict()
    assert set(report["files"]["validation_mae"]) == {"air", "wave"}
    assert {"ES-LSTM", "selected", "selected_model"} <= set(written.columns) and len(written) == 12
    # the branch that refits a peer on the whole series is the one to check: 2 members of 20 steps lose to one
    assert (written["selected_model"] != "ES-LSTM").any()
    for uid, part in written.groupby("unique_id"):
        chosen = part["selected_model"].iloc[0]
        history = frame[frame.unique_id == uid].y.to_numpy()
        expected = part["ES-LSTM"].to_numpy() if chosen == "ES-LSTM" else \
            statistical(history, 6, 12, models=(chosen,), season_lengths=[12])[chosen]
        np.testing.assert_allclose(part["selected"].to_numpy(), expected, rtol=1e-6)


def test_a_series_too_short_to_hold_a_window_out_selects_among_the_peers():
    """40 months, horizon 12: every training window's targets reach into the last one, so early stopping
    holds nothing out and the ES-LSTM has no validation score (the report crashed on it: isnan(None))."""
    t = np.arange(40)
    frame = pd.DataFrame({"unique_id": "short", "ds": pd.date_range("2020-01-01", periods=40, freq="MS"),
                          "y": 50 + t + 5 * np.sin(t)})
    assert LSTMForecaster(h=12, **TINY).fit(frame.iloc[:28]).validation_mae() == {"short": None}
    report = evaluate(frame, 12, models=("hybrid",), **TINY)
    row = report["rows"][0]
    assert "ES-LSTM" not in row["selected"]["validation_mae"] and row["selected"]["model"] != "ES-LSTM"
    assert row["metrics"]["selected"] == row["metrics"][row["selected"]["model"]]
    assert "the ES-LSTM is not scored: the series is too short" in format_report(report)     # said, not left out


def test_a_flat_stretch_in_the_validation_fit_warns_nothing():
    """Flat for 48 months, then rising for 12: the validation fit sees only the flat part, statsmodels divides
    by its zero variance inside Theta's test for a season, and numpy's RuntimeWarning reached the command
    line (about a shorter history the user never gave)."""
    y = np.r_[np.full(48, 5.0), 5.0 + 0.5 * np.arange(1, 13)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        statistical(y[:-12], 12, 12, season_lengths=[12])                  # what the selection fits
    assert any(w.category is RuntimeWarning for w in seen)                 # so the test below can fail
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scores = validation_scores(y, 12, [12], network_mae=None)
    assert set(scores) == {"ets", "autoarima", "theta"}


def test_each_fold_selects_on_data_before_its_cutoff():
    """Two folds one horizon apart: the window the second fold validates on is the first fold's test
    window, so each peer's validation MAE there equals its test MAE in the first fold — the selection at a
    cutoff sees nothing after it. The pure LSTM listed first (the report read the ES-LSTM's score from the
    first model's frame, and crashed)."""
    report = evaluate(air_frame(144), 12, folds=2, models=("lstm", "hybrid"), **TINY)
    first, second = report["rows"]
    for name in ("ets", "autoarima", "theta"):
        assert second["selected"]["validation_mae"][name] == pytest.approx(first["metrics"][name]["mae"], rel=1e-9)
    assert first["selected"]["model"] in first["selected"]["validation_mae"]


def test_selected_frame_gives_every_series_its_pick_and_refuses_the_pure_lstm():
    """selection.selected_frame: what --out writes, for a fitted forecaster in Python — per series the pick
    that selected_forecast makes with the forecaster's own validation score and seasons."""
    forecaster = LSTMForecaster(h=6, **TINY).fit(two_series())
    frame, forecast = selected_frame(forecaster), forecaster.predict()
    bands = ["lo-90", "lo-80", "hi-80", "hi-90"]                      # statsforecast's column order
    assert list(frame.columns) == ["unique_id", "ds", "selected"] + [f"selected-{b}" for b in bands] + \
        ["selected_model"] and len(frame) == 12
    assert (frame["ds"].to_numpy() == forecast["ds"].to_numpy()).all()
    for series in forecaster.series_:
        rows = (frame["unique_id"] == series.unique_id).to_numpy()
        chosen, values, scores = selected_forecast(series.y, 6, [12], forecaster.validation_mae()[series.unique_id],
                                                   forecast.loc[rows, "ES-LSTM"].to_numpy())
        assert (frame.loc[rows, "selected_model"] == chosen).all()
        np.testing.assert_array_equal(frame.loc[rows, "selected"].to_numpy(), values)
        assert frame.attrs["validation_mae"][series.unique_id] == scores
        # the chosen model's own intervals: the ES-LSTM's quantiles, or the peer's prediction intervals
        expected = {b: forecast.loc[rows, f"ES-LSTM-{b}"].to_numpy() for b in bands} if chosen == "ES-LSTM" else \
            fit_peer(chosen, series.y, 6, 12, [12], level=(80, 90))
        for b in bands:
            np.testing.assert_array_equal(frame.loc[rows, f"selected-{b}"].to_numpy(), expected[b])
        selected = frame.loc[rows]
        assert (selected["selected-lo-90"] <= selected["selected-lo-80"]).all()
        assert (selected["selected-lo-80"] <= selected["selected"]).all() and \
            (selected["selected"] <= selected["selected-hi-80"]).all()
    with pytest.raises(ValueError, match="model='lstm'"):
        selected_frame(LSTMForecaster(h=6, model="lstm", **TINY).fit(air_frame(132)))


def test_the_same_series_in_another_order_train_the_same_network():
    """Found by a statsforecast user's audit: swapping which series came first changed every forecast (about
    as much as another seed), and with it validation_mae and the selected pick. The panel is trained sorted by
    id; the output keeps the input's order."""
    frame = two_series(n=72)
    ids = list(dict.fromkeys(frame.unique_id))
    swapped = pd.concat([frame[frame.unique_id == ids[1]], frame[frame.unique_id == ids[0]]], ignore_index=True)
    first = LSTMForecaster(6, **TINY).fit(frame)
    second = LSTMForecaster(6, **TINY).fit(swapped)
    a, b = first.predict(), second.predict()
    assert list(b.unique_id.unique()) == ids[::-1]
    merged = a.merge(b, on=["unique_id", "ds"])
    np.testing.assert_array_equal(merged["ES-LSTM_x"], merged["ES-LSTM_y"])
    assert first.validation_mae() == second.validation_mae()


def test_selected_frame_takes_levels_as_predict_does_and_names_missing_bands():
    forecaster = LSTMForecaster(12, **TINY).fit(air_frame(96))
    assert list(selected_frame(forecaster, level=90).columns) == ["unique_id", "ds", "selected", "selected-lo-90",
                                                                   "selected-hi-90", "selected_model"]
    assert list(forecaster.predict(level=[80.0]).columns) == ["unique_id", "ds", "ES-LSTM", "ES-LSTM-lo-80",
                                                              "ES-LSTM-hi-80"]           # not -lo-80.0
    assert list(forecaster.predict(level=None).columns) == ["unique_id", "ds", "ES-LSTM"]   # statsforecast's None
    assert list(selected_frame(forecaster, level=None).columns) == ["unique_id", "ds", "selected", "selected_model"]
    with pytest.raises(ValueError, match=r"the forecast passed in lacks ES-LSTM-lo-90, ES-LSTM-hi-90: make it with "
                                         r"predict\(level=\[80, 90\]\)"):
        selected_frame(forecaster, forecaster.predict(level=[80]))
    assert list(forecaster.predict(level=[90, 80]).columns) == list(forecaster.predict(level=[80, 90]).columns)


def test_a_report_with_integer_ids_is_json():
    """Found by the same audit: np.int64 ids (and h) made json.dumps fail; the CLI reads ids as text."""
    frame = air_frame(60).assign(unique_id=7)
    report = evaluate(frame, np.int64(6), models=("hybrid",), peers=False, **TINY)
    assert json.loads(json.dumps(report, allow_nan=False))["rows"][0]["unique_id"] == 7
