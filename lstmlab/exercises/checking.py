"""What every check shares: running a learner's function (a reminder while it still raises
NotImplementedError), turning what it returned into numbers, comparing, and reporting.

A check computes its expected answer first, from inputs the learner never sees: the learner gets copies, so
an answer that works in place (``x /= t``) cannot change what it is compared with."""
import warnings

import numpy as np
import torch

# float32 rounds at ~6e-8 relative; after a few log/exp/pow a right answer is within a few 1e-6 of float64's
# (3.6e-6 for the half-life at bias 5), and 1e-5 still rejects a formula off by 1e-3. A float64 result gets
# float64's tolerance.
FLOAT32_TOLERANCE = dict(rtol=1e-5, atol=1e-5)
NUMBER_RTOL = 1e-5                     # a returned number may have gone through float32 unseen (.item())


def _run(name, function, *args, **kwargs):
    try:
        return True, function(*args, **kwargs)
    except NotImplementedError:
        print(f"· {name}: not tried yet — fill in the function and run this cell again "
              f"(a solution: lstmlab.exercises.solutions.{name})")
        return False, None


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


def _described(value):
    """What the learner returned, in a few words: 'a tuple of 4', 'an ndarray of shape (3, 2)', 'int 12'."""
    if hasattr(value, "shape"):
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r}"


def _tensor(name, value, what="an array of numbers", shape=None):
    """A returned array — torch tensor, NumPy array, list or tuple — as a CPU tensor of the expected ``shape``:
    float32 stays float32, so that _close judges it at float32's tolerance; anything else becomes float64."""
    try:
        array = value.detach().cpu() if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):                  # ragged lists, strings, None, ...
        array = None
    assert array is not None and (shape is None or tuple(array.shape) == tuple(shape)), (
        f"{name}: return {what}, not {_described(value)}")
    return array if array.dtype == torch.float32 else array.double()


def _tolerances(got, expected):
    """float32's if either is float32, else float64's (torch.testing's defaults)."""
    return FLOAT32_TOLERANCE if torch.float32 in (got.dtype, expected.dtype) else dict(rtol=1e-7, atol=1e-7)


def _close(name, got, expected, what="an array of numbers"):
    """got (anything _tensor takes) against the tensor expected, at the tolerance of the coarser dtype of the
    two: a float32 answer to a float64 exercise differs by rounding, not by a mistake."""
    got = _tensor(name, got, what, expected.shape)
    try:
        torch.testing.assert_close(got.double(), expected.double(), **_tolerances(got, expected))
    except AssertionError as error:
        at = " (your result is float32: compared at float32's tolerance)" if got.dtype == torch.float32 else ""
        raise AssertionError(f"{name}: not yet right{at}.\n{error}") from None
    if got.dtype == torch.float32 and expected.dtype == torch.float64:
        exercise = name.split()[0]                          # not the case: Python shows a repeated warning once
        warnings.warn(f"{exercise}: your result is float32, so it was compared at float32's tolerance (the check "
                      f"works in float64): right, up to float32 rounding", stacklevel=3)


def _pair(name, got, what):
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"{name}: return a pair {what}, not {_described(got)}"
    return _tensor(name, got[0]), _tensor(name, got[1])


def _equal(got, other):
    """Same shape and the same values (at got's tolerance): to name a known mistake before the full comparison."""
    other = torch.as_tensor(np.asarray(other, dtype=np.float64))
    tolerances = FLOAT32_TOLERANCE if got.dtype == torch.float32 else dict(rtol=1e-9, atol=1e-12)
    return got.shape == other.shape and torch.allclose(got.double(), other, **tolerances, equal_nan=True)


def _number(name, value):
    """A returned number — Python, NumPy, or a one-element tensor or array — as a float."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        array = None
    assert array is not None and array.size == 1, f"{name}: return a number, not {_described(value)}"
    return float(array.reshape(()))


def _near(got, expected, rtol=NUMBER_RTOL):
    """got within rtol of expected, relative: float32 rounding passes, a wrong formula does not."""
    return abs(got - expected) <= rtol * abs(expected)
