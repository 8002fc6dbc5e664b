"""Backend "persistent" without a GPU: the split-H kernels under the Triton interpreter.

On a GPU one launch runs all T steps and the programs meet at a grid barrier each step. The
interpreter runs programs one after another, so the split grid is tested in "stepped" mode (the same
kernel code, one launch per phase: the launch boundary is the barrier), with ≥ 2 hidden slices and
≥ 2 batch tiles per group and ≥ 2 groups. Tolerances as in test_triton_gates.py: at most 2× as far
from a float64 reference as torch's own LSTM in the same dtype, plus one ulp of the value's size
(4× for weight gradients; conftest.assert_error_within_torchs says why).
"""
import pytest
import torch

import lstmlab
from conftest import assert_error_within_torchs, outputs_and_gradients as run

pytest.importorskip("triton")
pytestmark = pytest.mark.skipif("persistent" not in lstmlab.available_backends("cpu"),
                                reason="needs TRITON_INTERPRET=1 to run Triton kernels on CPU tensors")


def compare_with_torch(dtype, steps, batch, input_size, hidden, split=None, **options):
    """Errors of "persistent" (and of torch in `dtype`) against float64, run on a forced split grid."""
    from lstmlab.kernels import lstm_persistent
    torch.manual_seed(0)
    reference = torch.nn.LSTM(input_size, hidden, dtype=torch.float64, **options)
    layers = reference.num_layers * (2 if reference.bidirectional else 1)
    x = torch.randn(steps, batch, input_size, dtype=torch.float64)
    hx = (torch.randn(layers, batch, reference.proj_size or hidden, dtype=torch.float64),
          torch.randn(layers, batch, hidden, dtype=torch.float64))
    exact = run(reference, x, hx)
    errors = {}
    for backend in ["torch", "persistent"]:
        module = lstmlab.LSTM(input_size, hidden, dtype=dtype, backend=backend, **options)
        module.load_state_dict(reference.state_dict(), strict=True)
        with lstm_persistent.split_grid(*split):
            result = run(module, x.to(dtype), tuple(t.to(dtype) for t in hx))
        errors[backend] = {name: (t.double() - exact[name]).abs().max().item() for name, t in result.items()}
    assert_error_within_torchs(errors, exact, "persistent", dtype)
    return lstm_persistent.last_plans


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_split_grid_at_h256_matches_torch(dtype):
    # H = 256 in slices of 16 units: 16 programs per group; B = 49 is 4 tiles of 16 rows (the last one
    # mostly padding), 2 tiles per group: 2 groups, each program looping over 2 tiles.
    plans = compare_with_torch(dtype, steps=3, batch=49, input_size=8, hidden=256, split=(16, 2))
    for pass_name in ("forward", "backward"):
        launch_plan = plans[pass_name]
        assert launch_plan.path == "stepped" and launch_plan.grid == (16, 2) and launch_plan.tiles_per_group == 2


@pytest.mark.parametrize("options", [
    pytest.param({"proj_size": 20}, id="proj"),
    pytest.param({"num_layers": 2, "bidirectional": True, "proj_size": 9}, id="2layers-bi-proj"),
    pytest.param({"num_layers": 2, "bidirectional": True}, id="2layers-bi"),
])
def test_split_grid_keeps_every_option(options):
    # H = 40 in slices of 16: three programs, the last one mostly padding; P split over them too.
    compare_with_torch(torch.float32, steps=4, batch=37, input_size=5, hidden=40, split=(16, 1), **options)


def test_split_grid_float64_is_exact_to_rounding():
    from lstmlab.kernels import lstm_persistent
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 33, proj_size=7, dtype=torch.float64)
    ours = lstmlab.LSTM(3, 33, proj_size=7, dtype=torch.float64, backend="persistent")
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(5, 20, 3, dtype=torch.float64)
    with lstm_persistent.split_grid(16, 1):
        expected, actual = run(reference, x, (torch.zeros(1, 20, 7, dtype=torch.float64), torch.zeros(1, 20, 33, dtype=torch.float64))), \
            run(ours, x, (torch.zeros(1, 20, 7, dtype=torch.float64), torch.zeros(1, 20, 33, dtype=torch.float64)))
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], msg=name)


def test_one_launch_with_barriers_when_one_program_holds_everything():
    # Under the interpreter the default plan is a single program: its barriers are met by itself, so
    # the whole sequence runs in one launch with GRID_SYNC — the persistent code path, barrier included.
    from lstmlab.kernels import lstm_persistent
    torch.manual_seed(0)
    reference = torch.nn.LSTM(4, 24, dtype=torch.float64)
    ours = lstmlab.LSTM(4, 24, dtype=torch.float64, backend="persistent")
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(6, 37, 4, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], reference(x)[0])
    assert lstm_persistent.last_plans["forward"].path == "persistent"
    assert lstm_persistent.last_plans["forward"].grid == (1, 1)


@pytest.mark.parametrize("pass_name", ["forward", "backward"])
def test_a_program_that_never_arrives_is_a_clear_error_not_a_hang(pass_name):
    # Two slices in one launch with barriers: the interpreter runs program 0 to its barrier before
    # program 1 ever starts, so program 0 waits for a program that never arrives, times out after
    # max_spins polls and sets the error flag; the host raises.
    from lstmlab.kernels import lstm_persistent as persistent
    steps, batch, hidden = 2, 5, 32
    split = persistent.LaunchPlan("persistent", "test: two slices", 16, 4, slices=2, groups=1, tiles_per_group=1)
    gates_x = torch.randn(steps, batch, 4 * hidden)
    weight_hh = torch.randn(4 * hidden, hidden)
    with pytest.raises(RuntimeError, match="grid barrier timed out — not every one of the 2×1 programs arrived"):
        if pass_name == "forward":
            persistent.persistent_forward(gates_x, weight_hh, None, torch.zeros(batch, hidden),
                                          torch.zeros(batch, hidden), launch_plan=split, max_spins=20, grid_sync=True)
        else:
            gates = torch.rand(steps, batch, 4 * hidden)
            persistent.persistent_backward(gates, torch.randn(steps, batch, hidden), torch.zeros(batch, hidden),
                                           weight_hh, None, torch.randn(steps, batch, hidden), None,
                                           launch_plan=split, max_spins=20, grid_sync=True)


@pytest.mark.parametrize("backend", ["triton", "persistent"])
def test_double_backward_is_refused_clearly(backend):
    torch.manual_seed(0)
    module = lstmlab.LSTM(3, 5, dtype=torch.float64, backend=backend)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    output, _ = module(x)
    with pytest.raises(RuntimeError, match=f"backend '{backend}' has no double backward"):
        torch.autograd.grad(output.sum(), x, create_graph=True)
    # First-order gradients are unaffected.
    (grad,) = torch.autograd.grad(module(x)[0].sum(), x)
    assert torch.isfinite(grad).all()


def test_sizes_past_32_bit_offsets_are_refused_before_launch():
    # Meta tensors: the shapes of a huge call without its memory. The launchers check them first.
    from lstmlab.kernels.lstm_gates import check_index_range, gates_forward
    from lstmlab.kernels.lstm_persistent import persistent_forward
    check_index_range("fits", 2 ** 31 - 1)
    with pytest.raises(ValueError, match=r"8192 × 262144 = 2147483648 elements.*32-bit offsets"):
        check_index_range("the gates of one step (B × 4H)", 8192, 262144)
    batch, hidden = 2 ** 23, 64                                # B·4H = 2³¹
    with pytest.raises(ValueError, match="32-bit offsets"):
        gates_forward(torch.empty(batch, 4 * hidden, device="meta"), None, torch.empty(batch, hidden, device="meta"))
    with pytest.raises(ValueError, match="32-bit offsets"):
        persistent_forward(torch.empty(1, batch, 4 * hidden, device="meta"), torch.empty(4 * hidden, hidden, device="meta"),
                           None, torch.empty(batch, hidden, device="meta"), torch.empty(batch, hidden, device="meta"))


def test_plan_on_a_gpu_follows_the_table_and_the_co_resident_capacity():
    from lstmlab.kernels import lstm_persistent as persistent
    limits = persistent.ARCH_LIMITS["sm_90"]
    small = {"registers": 96, "shared_bytes": 43008}
    p = persistent.plan(256, 256, torch.bfloat16, 16, "forward", small, limits, interpreted=False)
    assert (p.path, p.grid, p.slice_width) == ("persistent", (16, 1), 16)
    p = persistent.plan(256, 256, torch.bfloat16, 64, "forward", small, limits, interpreted=False)
    assert p.path == "persistent" and p.grid == (16, 4) and p.tiles_per_group == 1
    # One program per SM (162 KiB shared): 64 slices leave room for 2 groups of the 4 tiles of B = 64.
    big = {"registers": 193, "shared_bytes": 165888}
    p = persistent.plan(1024, 1024, torch.bfloat16, 64, "forward", big, limits, interpreted=False)
    assert p.path == "persistent" and p.grid == (64, 2) and p.tiles_per_group == 2
    # More slices than the device holds at once: no barrier can be met, so one launch per phase.
    p = persistent.plan(1024, 1024, torch.bfloat16, 16, "forward", big, {**limits, "sms": 40}, interpreted=False)
    assert p.path == "stepped" and "exceed the 40 programs" in p.reason
    # Outside the verified table: backend "triton"'s per-step kernels, and the reason says so.
    p = persistent.plan(1024, 1024, torch.float32, 16, "forward", interpreted=False)
    assert p.path == "per-step" and "no verified forward slice width for torch.float32 at H=1024" in p.reason
    previous = torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = False
        p = persistent.plan(256, 256, torch.float32, 16, "forward", small, limits, interpreted=False)
        assert p.path == "per-step" and "allow_tf32 is False" in p.reason
    finally:
        torch.backends.cudnn.allow_tf32 = previous


def test_programs_per_sm_counts_registers_shared_memory_and_threads():
    from lstmlab.kernels.lstm_persistent import ARCH_LIMITS, programs_per_sm
    limits = ARCH_LIMITS["sm_90"]
    assert programs_per_sm(255, 0, 4, limits) == 2           # 8192 registers per warp × 4 warps = half the file
    assert programs_per_sm(64, 0, 4, limits) == 8
    assert programs_per_sm(32, 120_000, 4, limits) == 1      # shared memory binds first
    assert programs_per_sm(16, 0, 32, limits) == 2           # 1024 threads each


def test_lstmlab_check_says_which_path_persistent_took():
    from lstmlab.crosscheck import check_backend, persistent_reasons
    output_diff, grad_diff, path = check_backend("persistent", {"proj_size": 3}, "batched")
    assert output_diff < 1e-12 and grad_diff < 1e-12
    assert path == "forward persistent 1×1, backward persistent 1×1"
    assert persistent_reasons()["backward"].startswith("Triton interpreter: one program")
