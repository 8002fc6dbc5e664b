"""Tolerances derived per dtype from a float64 reference, and the comparison against them.

The reference is torch in float64 on the case's inputs, rounded to the case's dtype first (so no side
is blamed for the rounding of its inputs). A dtype's own error scale, per compared tensor, is the larger
error of two correct implementations run in that dtype against that reference: torch's fused op, and
lstmlab's textbook cell (one torch op per equation). An implementation passes when its error is at most
TOLERANCE_MULTIPLE times that scale (never below EPS_FLOOR units of the dtype's rounding of the
tensor's largest value, so a scale that happens to be 0 does not demand bit-equality).
"""
import math
import re
from dataclasses import dataclass
from typing import Optional

import torch

from .cases import SATURATING

TOLERANCE_MULTIPLE = 4.0
EPS_FLOOR = 4.0


def quantities(result):
    """A Result as one ordered dict: values first, then "grad <name>"."""
    return {**result.values, **{f"grad {name}": g for name, g in result.grads.items()}}


def tolerances(reference, twins, dtype, saturated=False):
    """Per quantity: TOLERANCE_MULTIPLE × max(error of each twin in ``dtype``, EPS_FLOOR · eps · max|ref|).

    saturated: every gate at 0 or 1, pre-activations SATURATING times the usual size and so rounded that
    much more coarsely: the values' floor grows by that factor (a correct cell computing cat([x, h]) @ W
    missed the usual one by 7× in float64). Gradients only have to be finite (an overflowing exp gives
    NaN there): what is left of a gradient through a saturated gate is
    σ'(z) = σ(1 − σ) with 1 − σ ≈ 1e-13, rounded with a relative error of ~eps / 1e-13: correct
    implementations that compute it in another order (cat([x, h]) @ W, the C++ loops) differed from torch
    by 1.4× to 10⁷× the rounding-based tolerance over 10 seeds."""
    eps = torch.finfo(dtype).eps
    ref = quantities(reference)
    twin_quantities = [quantities(t) for t in twins]
    largest = {name: (t.abs().max().item() if t is not None and t.numel() else 0.0) for name, t in ref.items()}
    layer_largest = {}
    for name, value in largest.items():
        layer = _weight_layer(name)
        if layer is not None:
            layer_largest[layer] = max(layer_largest.get(layer, 0.0), value)
    result = {}
    for name, expected in ref.items():
        if expected is None:
            continue
        if saturated and name.startswith("grad "):
            result[name] = math.inf                       # finite is all that is asked (compare_one)
            continue
        # one layer's weight gradients are sums over t of the same d_gates_t times x_t or h_{t−1}: they are
        # rounded on the scale of the largest of them (grad weight_hh_l1 of 2.4e-3, a sum that cancelled,
        # next to grad weight_ih_l1 of 7.7e-2, missed its own floor by 1.2× in a float32 fuzz case)
        own = max(largest[name], layer_largest.get(_weight_layer(name), 0.0))
        scale = EPS_FLOOR * eps * (SATURATING if saturated else 1.0) * own
        for twin in twin_quantities:
            got = twin.get(name)
            if got is not None and got.shape == expected.shape:
                scale = max(scale, (got - expected).abs().max().item())
        result[name] = TOLERANCE_MULTIPLE * scale
    return result


def _weight_layer(name):
    """"grad weight_hh_l1_reverse" -> "_l1_reverse" (a cell's "grad bias_ih" -> ""); None for anything else."""
    match = re.fullmatch(r"grad (?:weight|bias)_(?:ih|hh|hr)(_l\d+(?:_reverse)?)?", name)
    return (match.group(1) or "") if match else None


@dataclass
class Mismatch:
    """The first quantity out of tolerance, where its error is largest."""
    quantity: str
    max_error: float = float("nan")
    tolerance: float = float("nan")
    index: tuple = ()
    expected: float = float("nan")
    actual: float = float("nan")
    note: Optional[str] = None            # a shape mismatch or a missing gradient

    def describe(self):
        if self.note:
            return f"{self.quantity}: {self.note}"
        return (f"{self.quantity}{list(self.index)}: expected {self.expected:.6g}, got {self.actual:.6g} "
                f"(|error| {self.max_error:.2e}, tolerance {self.tolerance:.2e})")


def max_error(actual, expected):
    return (actual - expected).abs().max().item() if expected.numel() else 0.0


def compare_one(name, actual, expected, tolerance):
    """A Mismatch, or None when within tolerance."""
    if actual is None:
        return Mismatch(name, note="no gradient reached it (detached from the graph, or a backward that returns None)")
    if actual.shape != expected.shape:
        return Mismatch(name, note=f"expected shape {tuple(expected.shape)}, got {tuple(actual.shape)}")
    if not expected.numel():
        return None
    broken = ~torch.isfinite(actual) & torch.isfinite(expected)
    if broken.any():                                  # NaN or inf where torch is finite: at any tolerance
        worst = int(broken.reshape(-1).nonzero()[0])
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), actual.shape))
        return Mismatch(name, math.inf, tolerance, index, expected.reshape(-1)[worst].item(),
                        actual.reshape(-1)[worst].item())
    diff = (actual - expected).abs()
    diff = torch.where(torch.isnan(diff), torch.full_like(diff, float("inf")), diff)
    worst = int(diff.argmax())
    if diff.reshape(-1)[worst].item() <= tolerance:
        return None
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), diff.shape))
    return Mismatch(name, diff.reshape(-1)[worst].item(), tolerance, index,
                    expected.reshape(-1)[worst].item(), actual.reshape(-1)[worst].item())


def compare(result, reference, tols):
    """Every Mismatch, in order: values (outputs, states), then gradients."""
    got = quantities(result)
    mismatches = []
    for name, expected in quantities(reference).items():
        if expected is None:
            continue
        if name not in got:
            mismatches.append(Mismatch(name, note="missing"))
            continue
        mismatch = compare_one(name, got[name], expected, tols[name])
        if mismatch is not None:
            mismatches.append(mismatch)
    return mismatches


DTYPE_NOTE = "returned in {got}, not in {expected}, the dtype of the input and weights"


def is_wrong_dtype(mismatch):
    """Is this one of wrong_dtypes' mismatches (a value in another dtype, not another value)?"""
    return bool(mismatch.note) and mismatch.note.startswith(DTYPE_NOTE.split("{")[0])


def wrong_dtypes(result, dtype):
    """A Mismatch for each value that came back in another dtype than the case's (an upcast for accuracy
    that was never cast back): torch returns the input's dtype."""
    return [Mismatch(name, note=DTYPE_NOTE.format(got=got, expected=dtype))
            for name, got in result.dtypes.items() if got != dtype]
