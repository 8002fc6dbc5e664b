"""What every check shares: running a learner's function (a reminder while it still raises
NotImplementedError), comparing, and reporting."""
import numpy as np
import torch



def _run(name, function, *args, **kwargs):
    try:
        return True, function(*args, **kwargs)
    except NotImplementedError:
        print(f"· {name}: not tried yet — fill in the function and run this cell again "
              f"(a solution: lstmlab.exercises.solutions.{name})")
        return False, None


def _close(name, got, expected, **tolerances):
    try:
        torch.testing.assert_close(got, expected, **tolerances)
    except AssertionError as error:
        raise AssertionError(f"{name}: not yet right.\n{error}") from None


def _done(name):
    print(f"✓ {name}")
    return True


def _random_cell(generator, batch=3, input_size=4, hidden_size=5):
    cell = torch.nn.LSTMCell(input_size, hidden_size, dtype=torch.float64)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    x = torch.randn(batch, input_size, generator=generator, dtype=torch.float64)
    h = torch.randn(batch, hidden_size, generator=generator, dtype=torch.float64)
    c = torch.randn(batch, hidden_size, generator=generator, dtype=torch.float64)
    return cell, x, h, c


def _float64(name, value):
    """A returned array (numpy, torch or nested lists) as a float64 tensor, to compare with torch.testing."""
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{name}: expected an array of numbers, got {type(value).__name__}: {error}") from None


def _pair(name, got, what):
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"{name}: return a pair {what}, not {type(got).__name__}"
    return _float64(name, got[0]), _float64(name, got[1])


def _equal(got, other):
    """Same shape and the same values (float64 tolerance): to name a known mistake before the full comparison."""
    other = torch.as_tensor(np.asarray(other, dtype=np.float64))
    return got.shape == other.shape and torch.allclose(got, other, rtol=1e-9, atol=1e-12, equal_nan=True)
