"""Every exercise check accepts its solution, reports an untried stub, and rejects a wrong answer."""
import math
import re

import numpy as np
import pytest
import torch

from lstmlab import exercises
from lstmlab.exercises import solutions
from lstmlab.forecast import metrics

CHECKS = sorted(name[len("check_"):] for name in dir(exercises) if name.startswith("check_"))


def test_every_check_has_a_solution_and_back():
    public = {name for name in dir(solutions) if not name.startswith("_") and callable(getattr(solutions, name))
              and getattr(getattr(solutions, name), "__module__", "") == solutions.__name__}
    assert set(CHECKS) == public


@pytest.mark.parametrize("name", CHECKS)
def test_solution_passes(name, capsys):
    assert getattr(exercises, f"check_{name}")(getattr(solutions, name)) is True
    assert f"✓ {name}" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_untried_stub_is_reported_not_raised(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError
    assert getattr(exercises, f"check_{name}")(stub) is False
    assert "not tried yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_wrong_answer_is_rejected(name):
    def wrong(*args, **kwargs):
        result = getattr(solutions, name)(*args, **kwargs)
        if isinstance(result, tuple) and isinstance(result[0], torch.Tensor):
            return tuple(t + 0.5 if t.is_floating_point() else ~t if t.dtype == torch.bool else t + 1 for t in result)
        if isinstance(result, tuple) and isinstance(result[0], tuple):
            return tuple(shape + (1,) for shape in result)
        if isinstance(result, tuple):
            return tuple(n + 1 for n in result)
        if isinstance(result, list):
            return [g * 1.5 for g in result]
        return result * 1.5 + 0.1
    with pytest.raises(AssertionError):
        getattr(exercises, f"check_{name}")(wrong)


def test_lstm_step_solution_has_the_shared_signature():
    # lstm_step(x, state, weights) -> (h, c), weights named as torch.nn.LSTMCell's parameters.
    cell = torch.nn.LSTMCell(3, 4, dtype=torch.float64)
    x, h, c = torch.randn(2, 3, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64)
    got = solutions.lstm_step(x, (h, c), dict(cell.named_parameters()))
    torch.testing.assert_close(got, cell(x, (h, c)))


def test_ngram_baseline_is_exact_on_a_tiny_case():
    from lstmlab.text import ngram_perplexity
    train, test = torch.tensor([0, 1, 0, 1, 0]), torch.tensor([0, 1, 1])
    # add-1 bigram: p(1|0) = (2+1)/(2+2), p(1|1) = (0+1)/(2+2)
    expected = (3 / 4 * 1 / 4) ** -0.5
    assert ngram_perplexity(train, test, 2, order=2, k=1.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("naive", [
    pytest.param(lambda x: 1 / (1 + torch.exp(-x)), id="naive-formula"),
    pytest.param(lambda x: torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x))),
                 id="where-both-branches"),
])
def test_naive_sigmoid_is_rejected(naive):
    # Right values in float32, but exp overflows to inf at |x| = 1e4 and backward gives 0·inf = NaN.
    with pytest.raises(AssertionError, match="gradient"):
        exercises.check_stable_sigmoid(naive)


def _windows_from_last_input(values, lookback, horizon):
    starts = np.arange(len(values) - lookback - horizon + 1)[:, None]
    return values[starts + np.arange(lookback)][..., None], values[starts + lookback - 1 + np.arange(horizon)]


def _windows_one_too_many(values, lookback, horizon):
    starts = np.arange(len(values) - lookback - horizon + 2)[:, None]
    return values[starts + np.arange(lookback)][..., None], values[starts + lookback - 1 + np.arange(horizon)]


def _rows_exogenous_one_step_late(y, x):
    k = np.arange(len(y) - 2)
    return np.concatenate([(y[k + 1] - y[k])[:, None], x[k + 1] - x[k]], axis=1), y[k + 2] - y[k + 1]


def _rows_target_is_own_change(y, x):
    k = np.arange(len(y) - 2)
    return np.concatenate([(y[k + 1] - y[k])[:, None], x[k + 2] - x[k + 1]], axis=1), y[k + 1] - y[k]


def _standardised(dims, correction=0, eps=1e-5):
    return lambda x: (x - x.mean(dim=dims, keepdim=True)) / torch.sqrt(
        x.var(dim=dims, correction=correction, keepdim=True) + eps)


def _z(last_value, center, scale):
    return (math.log(last_value) - center) / scale


# The forecasting exercises' (04, 05) classic mistakes: each is rejected, and the message names it.
PLAUSIBLE_MISTAKES = [
    pytest.param("lookback_windows", _windows_from_last_input, "AFTER the window", id="windows-target-is-last-input"),
    pytest.param("lookback_windows", _windows_one_too_many, "the windows whose targets all exist",
                 id="windows-one-too-many"),
    pytest.param("minmax_scale_train_only", lambda values, n: (values - values.min()) / (values.max() - values.min()),
                 "leaked", id="scaler-fit-on-everything"),
    pytest.param("minmax_scale_train_only", lambda values, n: solutions.minmax_scale_train_only(values[:n], n),
                 "the test part too", id="scaled-training-part-only"),
    pytest.param("mase", lambda actual, forecast, history, period: solutions.mase(actual, forecast, history, 1),
                 "one-step", id="mase-one-step-scale"),
    pytest.param("mase", lambda actual, forecast, history, period: metrics.mae(actual, forecast) / metrics.mae(
        actual, metrics.seasonal_naive_forecast(history, len(actual), period)), "in-sample", id="mase-test-scale"),
    pytest.param("seq2seq_rows", _rows_exogenous_one_step_late, "AFTER the one it describes",
                 id="exogenous-one-step-late"),
    pytest.param("seq2seq_rows", _rows_target_is_own_change, "NEXT change", id="target-is-own-change"),
    pytest.param("batch_norm_features", _standardised((0, 1), correction=1), "biased", id="unbiased-variance"),
    pytest.param("batch_norm_features", _standardised((1,)), "its own time steps", id="per-sequence"),
    pytest.param("batch_norm_features", _standardised((0,)), "over the batch only", id="per-time-step"),
    pytest.param("batch_norm_features", _standardised((0, 1), eps=0.0), "eps", id="no-eps"),
    pytest.param("forecast_from_changes", lambda last, changes, center, scale: np.exp(
        center + scale * np.cumsum(changes)), "starts from 0", id="path-from-zero"),
    pytest.param("forecast_from_changes", lambda last, changes, center, scale: np.exp(
        center + scale * (_z(last, center, scale) + changes)), "running sum", id="no-running-sum"),
    pytest.param("forecast_from_changes", lambda last, changes, center, scale: np.exp(
        center + scale * (_z(last, center, scale) + np.cumsum(np.concatenate([[0.0], changes[:-1]])))),
        "one step late", id="sum-one-step-late"),
]


@pytest.mark.parametrize("name, wrong, message", PLAUSIBLE_MISTAKES)
def test_plausible_forecasting_mistake_is_rejected_and_named(name, wrong, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        getattr(exercises, f"check_{name}")(wrong)


def test_seq2seq_rows_solution_matches_the_forecaster():
    # The exercise's rule is the pipeline's: a bump in step t's exogenous value lands in the row predicting step t.
    y, x = np.zeros(8), np.zeros((8, 1))
    x[5:] = 1.0                                      # the scenario steps up at step 5: change x[5] − x[4] = 1
    inputs, targets = solutions.seq2seq_rows(y, x)
    assert np.flatnonzero(inputs[:, 1]).tolist() == [3]        # row 3 predicts the change into step 3 + 2 = 5
