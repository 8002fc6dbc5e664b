"""Every exercise check accepts its solution, reports an untried stub, and rejects a wrong answer."""
import pytest
import torch

from lstmlab import exercises
from lstmlab.exercises import solutions

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
