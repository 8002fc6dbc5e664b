"""Checks for 06 sine waves (rollout, phase drift) and 07 the character-level language model."""
import math

import torch

from . import solutions
from .checking import _run, _close, _done, _near, _number


# --- 06 sine waves ------------------------------------------------------------------------------

def check_rollout(rollout):
    from ..data import sine_waves
    from ..models import AutoregressiveLSTM
    torch.manual_seed(0)
    model = AutoregressiveLSTM(hidden_size=7, backend="cell").eval()
    observed = sine_waves(n=2, length=20).y
    with torch.no_grad():
        expected = model(observed, future_preds=14)[:, 19:]        # from the value at T = 20 on
        ok, got = _run("rollout", rollout, model, observed.clone(), 15)
        if not ok:
            return False
    _close("rollout", got, expected, f"a torch tensor of shape (B, steps) = {tuple(expected.shape)}")
    return _done("rollout")


def check_phase_drift_mse(phase_drift_mse):
    for error, time_scale, steps in [(0.01, 20.0, 1000), (0.001, 20.0, 1000), (0.05, 10.0, 200)]:
        ok, got = _run("phase_drift_mse", phase_drift_mse, error, time_scale, steps)
        if not ok:
            return False
        got, expected = _number("phase_drift_mse", got), solutions.phase_drift_mse(error, time_scale, steps)
        # 0.1% leaves room for float32 (~1e-4 here) and still tells the exact mean from its phase average
        if _near(got, expected, rtol=1e-3):
            continue
        t = torch.arange(1, steps + 1, dtype=torch.float64)
        phase_average = float((1 - torch.cos(error * t / time_scale)).mean())
        hint = (f": the mean over t = 1…{steps} of (sin(t/τ) − sin((1 + ε) t/τ))², not its phase average "
                f"1 − cos(ε t/τ)" if _near(got, phase_average, rtol=1e-3) else "")
        raise AssertionError(f"phase_drift_mse (ε={error}, τ={time_scale}, {steps} steps): you said {got:.6g}, "
                             f"expected {expected:.6g} (within 0.1%){hint}")
    return _done("phase_drift_mse")


# --- 07 character-level language model ----------------------------------------------------------

def check_softmax_with_temperature(softmax_with_temperature):
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0], dtype=torch.float64)
    for temperature in [0.25, 1.0, 4.0]:
        expected = torch.softmax(logits / temperature, dim=-1)
        ok, got = _run("softmax_with_temperature", softmax_with_temperature, logits.clone(), temperature)
        if not ok:
            return False
        _close(f"softmax_with_temperature (T = {temperature})", got, expected, "a torch tensor of logits' shape (4,)")
    return _done("softmax_with_temperature")


def check_perplexity_from_nll(perplexity_from_nll):
    for nll in [0.0, 1.0, math.log(65)]:
        ok, got = _run("perplexity_from_nll", perplexity_from_nll, nll)
        if not ok:
            return False
        got, expected = _number("perplexity_from_nll", got), math.exp(nll)
        assert _near(got, expected), f"mean NLL {nll}: you said {got:.8g}, expected {expected:.8g}"
    return _done("perplexity_from_nll")


def check_bigram_perplexity(bigram_perplexity):
    from ..text import ngram_perplexity
    generator = torch.Generator().manual_seed(5)
    train, test = torch.randint(0, 6, (500,), generator=generator), torch.randint(0, 6, (100,), generator=generator)
    expected = ngram_perplexity(train, test, 6, order=2, k=1.0)
    ok, got = _run("bigram_perplexity", bigram_perplexity, train.clone(), test.clone(), 6, 1.0)
    if not ok:
        return False
    got = _number("bigram_perplexity", got)
    assert _near(got, expected), f"bigram_perplexity: you said {got:.8g}, expected {expected:.8g} (an add-1 bigram model)"
    return _done("bigram_perplexity")
