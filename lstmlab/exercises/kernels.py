"""Checks for 08 Triton and 09 benchmarking."""
import torch

from . import solutions
from .checking import _run, _close, _done, _described, _near, _number


# --- 08 Triton ----------------------------------------------------------------------------------

def check_stable_sigmoid(stable_sigmoid):
    """Values against torch.sigmoid (float64), then a finite gradient at every x. The naive 1/(1 + e⁻ˣ) has
    the right values, but at x = −1e4 e⁻ˣ overflows to inf, and its backward multiplies 0 by inf: NaN."""
    x = torch.tensor([-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4], dtype=torch.float32,
                     requires_grad=True)
    expected = torch.sigmoid(x.detach().double()).float()
    ok, got = _run("stable_sigmoid", stable_sigmoid, x)           # x itself, not a copy: the gradient is taken at x
    if not ok:
        return False
    assert isinstance(got, torch.Tensor), (
        f"stable_sigmoid: return a torch tensor of x's shape (9,), not {_described(got)}")
    assert torch.isfinite(got).all(), f"stable_sigmoid: not finite: {got}"
    _close("stable_sigmoid", got, expected, "a torch tensor of x's shape (9,)")
    assert got.requires_grad, "stable_sigmoid: no gradient reaches x — write it with torch operations"
    grad, = torch.autograd.grad(got.sum(), x)
    bad = ~torch.isfinite(grad)
    assert not bad.any(), (
        f"stable_sigmoid: the values are right, but the gradient is {grad[bad].tolist()} at x = "
        f"{x.detach()[bad].tolist()}. An exp overflowed to inf there, and backward multiplied it by 0: NaN "
        f"(this happens inside a torch.where branch that is not chosen too: both branches are computed)")
    return _done("stable_sigmoid")


def check_persistent_grid(persistent_grid):
    for args in [(128, 64, 32, 16), (51, 37, 16, 16), (512, 1, 64, 16)]:
        ok, got = _run("persistent_grid", persistent_grid, *args)
        if not ok:
            return False
        expected = solutions.persistent_grid(*args)
        assert isinstance(got, (tuple, list)) and len(got) == 2, (
            f"persistent_grid: return a pair (hidden slices, batch tiles) — the programs along x and along y — "
            f"not {_described(got)}")
        assert tuple(got) == expected, f"H, B, S, B_tile = {args}: you said {tuple(got)}, the grid is {expected}"
    return _done("persistent_grid")


def check_block_offsets_and_mask(block_offsets_and_mask):
    for n, block, pid in [(10, 4, 0), (10, 4, 2), (64, 64, 0)]:
        ok, got = _run("block_offsets_and_mask", block_offsets_and_mask, n, block, pid)
        if not ok:
            return False
        offsets, mask = solutions.block_offsets_and_mask(n, block, pid)
        assert torch.equal(torch.as_tensor(got[0]), offsets) and torch.equal(torch.as_tensor(got[1]), mask), (
            f"n={n}, BLOCK={block}, program {pid}: expected offsets {offsets.tolist()}, mask {mask.tolist()}")
    return _done("block_offsets_and_mask")


# --- 09 benchmarking ----------------------------------------------------------------------------

def check_median_ratio(median_ratio):
    times, torch_times = [2.0, 9.0, 3.0, 4.0], [1.0, 3.0, 1.0, 4.0]     # ratios 2, 3, 3, 1 -> median 2.5
    ok, got = _run("median_ratio", median_ratio, list(times), list(torch_times))
    if not ok:
        return False
    got = _number("median_ratio", got)
    # torch.median returns the lower middle value of an even count (2 here)
    hint = ("; with an even count the median is the mean of the two middle values (torch.median gives the "
            "lower one)" if _near(got, 2.0) or _near(got, 3.0) else "")
    assert _near(got, 2.5), f"median_ratio: you said {got:.8g}, expected 2.5; per-round ratios are 2, 3, 3, 1{hint}"
    return _done("median_ratio")


def check_ratio_from_speedup(ratio_from_speedup):
    for speedup in [2.0, 0.5, 1.25]:
        ok, got = _run("ratio_from_speedup", ratio_from_speedup, speedup)
        if not ok:
            return False
        got = _number("ratio_from_speedup", got)
        assert _near(got, 1 / speedup), f"speedup {speedup}: you said {got:.8g}, expected {1 / speedup:.8g}"
    return _done("ratio_from_speedup")


def check_geometric_mean(geometric_mean):
    ok, got = _run("geometric_mean", geometric_mean, [2.0, 0.5])
    if not ok:
        return False
    got = _number("geometric_mean", got)
    assert _near(got, 1.0), f"geometric_mean of 2 and 0.5: you said {got:.8g}, expected 1 (2× slower and 2× faster)"
    ok, got = _run("geometric_mean", geometric_mean, [1.0, 4.0, 2.0])
    if not ok:
        return False
    got = _number("geometric_mean", got)
    assert _near(got, 2.0), f"geometric_mean of 1, 4, 2: you said {got:.8g}, expected 2"
    return _done("geometric_mean")
