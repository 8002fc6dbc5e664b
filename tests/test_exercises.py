"""Every exercise check accepts its solution, reports an untried stub, and rejects a wrong answer."""
import json
import math
import re
from pathlib import Path

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


# --- What a learner may plausibly return or do: the checks judge the answer, not its type --------------------

def _spoiled(value):
    """Overwrite an input in place, as a learner's in-place code would (x /= t, x.flip_...)."""
    if isinstance(value, torch.Tensor):
        value.fill_(float("nan") if value.is_floating_point() else 0)
    elif isinstance(value, np.ndarray):
        value.fill(np.nan if value.dtype.kind == "f" else 0)
    elif isinstance(value, (list, tuple, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            _spoiled(item)
        if isinstance(value, list) and not any(isinstance(item, (torch.Tensor, np.ndarray)) for item in value):
            value.clear()


def _copied(result):
    if isinstance(result, (torch.Tensor, np.ndarray)):
        return result.copy() if isinstance(result, np.ndarray) else result.clone()
    if isinstance(result, (list, tuple)):
        return type(result)(_copied(item) for item in result)
    return result


# lstm_step is checked by lstmlab.testing with its own inputs; stable_sigmoid's x is the leaf it differentiates.
IN_PLACE = [name for name in CHECKS if name not in ("lstm_step", "stable_sigmoid")]


@pytest.mark.parametrize("name", IN_PLACE)
def test_learner_gets_copies_so_in_place_code_passes(name, capsys):
    # The right answer, then every input overwritten: the check compares with what it computed from its own.
    def in_place(*args, **kwargs):
        result = _copied(getattr(solutions, name)(*args, **kwargs))
        _spoiled(args)
        return result
    assert getattr(exercises, f"check_{name}")(in_place) is True


def _reverse_in_place(x, lengths):
    for b, n in enumerate(lengths):
        x[:n, b] = x[:n, b].flip(0).clone()
    return x


def _softmax_in_place(logits, temperature):
    logits /= temperature
    return torch.softmax(logits, dim=-1)


@pytest.mark.parametrize("name, right, wrong", [
    pytest.param("reverse_within_lengths", _reverse_in_place, lambda x, lengths: x.copy_(x.flip(0)),
                 id="reverse-flips-x"),
    pytest.param("softmax_with_temperature", _softmax_in_place, lambda logits, t: torch.softmax(logits.mul_(t), -1),
                 id="softmax-divides-logits"),
])
def test_in_place_answers_are_judged_like_any_other(name, right, wrong):
    assert getattr(exercises, f"check_{name}")(right) is True
    with pytest.raises(AssertionError, match="not yet right"):
        getattr(exercises, f"check_{name}")(wrong)


SCALAR_CHECKS = ["cell_half_life", "forget_bias_to_keep", "mase", "perplexity_from_nll", "bigram_perplexity",
                 "median_ratio", "ratio_from_speedup", "geometric_mean"]


@pytest.mark.parametrize("as_number", [
    pytest.param(np.float32, id="numpy-float32"),
    pytest.param(lambda value: torch.tensor(value, dtype=torch.float32), id="0d-tensor-float32"),
    pytest.param(lambda value: torch.tensor(value, dtype=torch.float64), id="0d-tensor-float64"),
    pytest.param(np.float64, id="numpy-float64"),
])
@pytest.mark.parametrize("name", SCALAR_CHECKS)
def test_a_number_in_any_type_and_float32_rounding_is_accepted(name, as_number):
    def answer(*args):
        return as_number(getattr(solutions, name)(*args))
    assert getattr(exercises, f"check_{name}")(answer) is True


@pytest.mark.parametrize("name", SCALAR_CHECKS)
def test_a_number_off_by_a_thousandth_is_rejected_and_the_expected_value_shown(name):
    def answer(*args):
        return getattr(solutions, name)(*args) * (1 + 1e-3)
    with pytest.raises(AssertionError, match=r"you said .*, expected \d"):
        getattr(exercises, f"check_{name}")(answer)


def _bigram_float32(train_ids, test_ids, vocab_size, k=1.0):
    counts = torch.zeros(vocab_size, vocab_size)                         # torch's default dtype
    counts.index_put_((train_ids[:-1], train_ids[1:]), torch.ones(len(train_ids) - 1), accumulate=True)
    probs = (counts + k) / (counts.sum(1, keepdim=True) + k * vocab_size)
    return torch.exp(-probs[test_ids[:-1], test_ids[1:]].log().mean())


# Computed in float32 throughout, as a learner using torch's default dtype would.
FLOAT32_SCALARS = [
    pytest.param("cell_half_life", lambda bias: torch.log(torch.tensor(0.5)) / torch.log(torch.sigmoid(
        torch.tensor(bias))), id="half-life"),
    pytest.param("forget_bias_to_keep", lambda fraction, steps: torch.logit(torch.tensor(fraction) ** (1 / steps)),
                 id="forget-bias-logit"),
    pytest.param("mase", lambda actual, forecast, history, period: np.float32(
        np.mean(np.abs(actual - forecast)) / np.mean(np.abs(history[period:] - history[:-period]))), id="mase"),
    pytest.param("perplexity_from_nll", lambda nll: torch.exp(torch.tensor(nll)), id="perplexity"),
    pytest.param("bigram_perplexity", _bigram_float32, id="bigram"),
]


@pytest.mark.parametrize("name, answer", FLOAT32_SCALARS)
def test_a_number_computed_in_float32_is_accepted(name, answer):
    assert getattr(exercises, f"check_{name}")(answer) is True


TENSOR_CHECKS = ["reverse_within_lengths", "gate_gradients", "weight_hh_gradient", "softmax_with_temperature",
                 "batch_norm_features", "rollout"]
AS_ARRAY = [
    pytest.param(lambda t: t.detach().numpy(), id="numpy"),
    pytest.param(lambda t: t.tolist(), id="nested-list"),
    pytest.param(lambda t: t.detach().numpy().astype(np.float32), id="numpy-float32"),
    pytest.param(lambda t: t.float(), id="tensor-float32"),
]


@pytest.mark.filterwarnings("ignore:.*float32 rounding")
@pytest.mark.parametrize("as_array", AS_ARRAY)
@pytest.mark.parametrize("name", TENSOR_CHECKS + ["clip_grad_norm"])
def test_an_array_in_any_type_is_accepted(name, as_array):
    def answer(*args):
        result = getattr(solutions, name)(*args)
        return [as_array(g) for g in result] if isinstance(result, list) else as_array(result)
    assert getattr(exercises, f"check_{name}")(answer) is True


@pytest.mark.parametrize("as_array", AS_ARRAY)
@pytest.mark.parametrize("name", TENSOR_CHECKS + ["clip_grad_norm"])
def test_a_wrong_array_in_any_type_is_rejected(name, as_array):
    def answer(*args):
        result = getattr(solutions, name)(*args)
        return [as_array(g * 1.5) for g in result] if isinstance(result, list) else as_array(result + 0.5)
    with pytest.raises(AssertionError, match="not yet right"):
        getattr(exercises, f"check_{name}")(answer)


@pytest.mark.parametrize("name", TENSOR_CHECKS)
@pytest.mark.parametrize("returned", [None, "tensor", {"h": 1}], ids=["None", "str", "dict"])
def test_a_non_array_is_refused_with_what_was_expected(name, returned):
    with pytest.raises(AssertionError, match=r"return a torch tensor of .*shape .*, not "):
        getattr(exercises, f"check_{name}")(lambda *args: returned)


def test_a_float32_answer_is_compared_at_float32_tolerance_and_says_so():
    with pytest.warns(UserWarning, match="float32 rounding"):
        assert exercises.check_gate_gradients(lambda *args: solutions.gate_gradients(*[t.float() for t in args]))
    with pytest.warns(UserWarning, match="float32 rounding"):
        assert exercises.check_forecast_from_changes(lambda last, changes, center, scale: torch.exp(
            center + scale * (_z(last, center, scale) + torch.cumsum(torch.tensor(changes, dtype=torch.float32), 0))))


def test_a_float32_answer_with_wrong_logic_is_still_named():
    path_from_zero = lambda last, changes, center, scale: np.exp(center + scale * np.cumsum(changes)).astype(np.float32)
    with pytest.raises(AssertionError, match="starts from 0"):
        exercises.check_forecast_from_changes(path_from_zero)
    without_dh_path = lambda i, f, g, o, c_prev, c, dh, dc: solutions.gate_gradients(
        *[t.float() for t in (i, f, g, o, c_prev, c)], torch.zeros_like(dh, dtype=torch.float32), dc.float())
    with pytest.raises(AssertionError, match="float32's tolerance"):
        exercises.check_gate_gradients(without_dh_path)


def test_gate_gradients_as_four_blocks_is_refused_with_how_to_join_them():
    def four_blocks(*args):
        return tuple(solutions.gate_gradients(*args).chunk(4, dim=1))
    with pytest.raises(AssertionError, match=re.escape("torch.cat(blocks, dim=1)")):
        exercises.check_gate_gradients(four_blocks)


def _d_f_with_c_t(i, f, g, o, c_prev, c, dh, dc):
    return solutions.gate_gradients(i, f, g, o, c, c, dh, dc)               # c_t where c_{t−1} belongs


def _order_i_f_o_g(*args):
    d_i, d_f, d_g, d_o = solutions.gate_gradients(*args).chunk(4, dim=1)
    return torch.cat([d_i, d_f, d_o, d_g], dim=1)


@pytest.mark.parametrize("wrong, block", [
    pytest.param(_d_f_with_c_t, "block d_f (columns 5…9)", id="d_f-with-c_t"),
    pytest.param(_order_i_f_o_g, "block d_g (columns 10…14)", id="order-i-f-o-g"),
])
def test_gate_gradients_names_the_first_wrong_block(wrong, block):
    with pytest.raises(AssertionError, match=re.escape(block)):
        exercises.check_gate_gradients(wrong)


def test_gate_gradients_takes_the_worked_step_with_its_names_mapped():
    # Notebook 02's worked step calls c_{t−1} `c` and c_t `c_next`; the exercise calls them c_prev and c.
    def worked_step(i, f, g, o, c_prev, c, dh, dc):
        c_next, c = c, c_prev
        tanh_c = c_next.tanh()
        dc_total = dc + dh * o * (1 - tanh_c ** 2)
        return torch.cat([dc_total * g * i * (1 - i), dc_total * c * f * (1 - f), dc_total * i * (1 - g ** 2),
                          dh * tanh_c * o * (1 - o)], dim=1)
    assert exercises.check_gate_gradients(worked_step) is True


def test_notebook_02_says_which_cell_state_is_which():
    notebook = json.loads((Path(__file__).parent.parent / "tutorials" / "02_bptt_by_hand.ipynb").read_text())
    exercise = next("".join(cell["source"]) for cell in notebook["cells"]
                    if "".join(cell["source"]).startswith("## Exercises"))
    assert "`c_prev` = `c_{t−1}`" in exercise and "`c` = `c_t`" in exercise


def test_clip_grad_norm_wants_one_gradient_per_input():
    with pytest.raises(AssertionError, match="return the list of 2 clipped gradients"):
        exercises.check_clip_grad_norm(lambda grads, max_norm: torch.cat([g.flatten() for g in grads]))


@pytest.mark.parametrize("right", [
    pytest.param(lambda *args: list(solutions.persistent_grid(*args)), id="list"),
    pytest.param(lambda *args: tuple(np.int64(n) for n in solutions.persistent_grid(*args)), id="numpy-ints"),
])
def test_persistent_grid_takes_any_pair(right):
    assert exercises.check_persistent_grid(right) is True


def test_persistent_grid_as_one_number_asks_for_the_pair():
    def programs(hidden_size, batch, slice_size, batch_tile):
        return math.prod(solutions.persistent_grid(hidden_size, batch, slice_size, batch_tile))
    with pytest.raises(AssertionError, match=re.escape("return a pair (hidden slices, batch tiles)")):
        exercises.check_persistent_grid(programs)


def _phase_average(error, time_scale, steps):
    t = np.arange(1, steps + 1)
    return float(np.mean(1 - np.cos(error * t / time_scale)))


@pytest.mark.parametrize("wrong, hinted", [
    pytest.param(_phase_average, True, id="phase-average"),
    pytest.param(lambda *args: solutions.phase_drift_mse(*args) * args[2], False, id="sum-not-mean"),
    pytest.param(lambda *args: math.sqrt(solutions.phase_drift_mse(*args)), False, id="rmse"),
])
def test_phase_drift_hints_the_phase_average_only_when_that_is_the_answer(wrong, hinted):
    with pytest.raises(AssertionError, match="expected") as caught:
        exercises.check_phase_drift_mse(wrong)
    assert ("not its phase average" in str(caught.value)) == hinted


@pytest.mark.parametrize("wrong, hinted", [
    pytest.param(lambda times, torch_times: (torch.tensor(times) / torch.tensor(torch_times)).median(), True,
                 id="torch-median-lower"),
    pytest.param(lambda times, torch_times: max(sorted(t / r for t, r in zip(times, torch_times))[1:3]), True,
                 id="upper-middle"),
    pytest.param(lambda times, torch_times: float(np.mean(np.array(times) / np.array(torch_times))), False,
                 id="mean"),
])
def test_median_ratio_explains_an_even_count_only_when_a_middle_value_is_returned(wrong, hinted):
    with pytest.raises(AssertionError, match="expected 2.5") as caught:
        exercises.check_median_ratio(wrong)
    assert ("mean of the two middle values" in str(caught.value)) == hinted


def test_batch_norm_eps_added_to_the_std_is_named():
    def eps_outside(x):
        return (x - x.mean(dim=(0, 1), keepdim=True)) / (x.std(dim=(0, 1), correction=0, keepdim=True) + 1e-5)
    with pytest.raises(AssertionError, match="inside the square root"):
        exercises.check_batch_norm_features(eps_outside)


def test_geometric_mean_untried_on_its_second_case_is_reported_not_raised(capsys):
    calls = []

    def first_case_only(ratios):
        calls.append(ratios)
        if len(calls) > 1:
            raise NotImplementedError
        return 1.0
    assert exercises.check_geometric_mean(first_case_only) is False
    assert "not tried yet" in capsys.readouterr().out
