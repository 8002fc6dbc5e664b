"""The C++ time loops of backend "bptt" (kernels/lstm_cpu_recurrence.cpp).

The full twin matrix (every option, float64, outputs + states + every gradient, gradcheck) runs in
test_lstm.py with both loops ("bptt" = C++, "bptt-python-loops"). Here: the float activations
against float64, the float32 error against torch's own, and the choice of loops.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import time
import warnings

import pytest
import torch

import lstmlab
from lstmlab.backends import bptt
from lstmlab.kernels import lstm_cpu

from torch.nn.utils.rnn import pack_padded_sequence

from conftest import assert_twins_equal, leaf, run_and_backward, twins

FLOAT32_EPS = torch.finfo(torch.float32).eps


def ulps(values, reference):
    """|values − reference| in units of float32 eps relative to |reference| (tiny references left out)."""
    keep = reference.abs() > 1e-30
    return ((values.double() - reference).abs() / reference.abs() / FLOAT32_EPS)[keep].max().item()


def test_float_activations_are_within_two_ulp_of_float64():
    x = torch.cat([torch.linspace(-100, 100, 400_001), torch.linspace(-1, 1, 200_001),
                   torch.logspace(-30, 1.5, 20_000), -torch.logspace(-30, 1.5, 20_000)])
    sigmoid, tanh = lstm_cpu.load().activations(x)
    x64 = x.double()
    # torch's own float32 sigmoid / tanh measure 1.20 / 0.50 ulp on this grid; the polynomials 1.68 / 1.24.
    assert ulps(sigmoid, torch.sigmoid(x64)) < 2
    assert ulps(tanh, torch.tanh(x64)) < 2


def test_double_activations_are_within_a_few_ulp_of_torchs():
    """The double σ and tanh are polynomials too (the C library's tanh does not vectorise); torch's own
    float64 σ / tanh are the reference. Measured here: 2.08 / 1.00 ulp of float64."""
    x = torch.cat([torch.linspace(-800, 800, 400_001, dtype=torch.float64),
                   torch.linspace(-1, 1, 200_001, dtype=torch.float64),
                   torch.logspace(-300, 1.5, 20_000, dtype=torch.float64),
                   -torch.logspace(-300, 1.5, 20_000, dtype=torch.float64)])
    sigmoid, tanh = lstm_cpu.load().activations(x)
    eps64 = torch.finfo(torch.float64).eps
    for ours, theirs in [(sigmoid, torch.sigmoid(x)), (tanh, torch.tanh(x))]:
        keep = theirs.abs() > 1e-300
        assert ((ours - theirs).abs() / theirs.abs() / eps64)[keep].max().item() < 3


def test_activations_of_special_values():
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, 1e4, -1e4])
    for dtype in (torch.float32, torch.float64):
        sigmoid, tanh = lstm_cpu.load().activations(x.to(dtype))
        torch.testing.assert_close(sigmoid, torch.tensor([float("nan"), 1, 0, 0.5, 1, 0], dtype=dtype),
                                   equal_nan=True, atol=0, rtol=0)
        torch.testing.assert_close(tanh, torch.tensor([float("nan"), 1, -1, 0, 1, -1], dtype=dtype),
                                   equal_nan=True, atol=0, rtol=0)


def float64_reference_and_float32_runs(options, loops, monkeypatch):
    """Max error against a float64 run, for torch.nn.LSTM in float32 and for lstmlab's loops in float32."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(7, 51, dtype=torch.float64, **options)
    x = torch.randn(40, 37, 7, dtype=torch.float64)
    values64, grads64 = run_and_backward(ref, leaf(x), None)

    def error(module):
        values, grads = run_and_backward(module, leaf(x.float()), None)
        value_error = max((a.double() - b).abs().max().item() for a, b in zip(values, values64))
        grad_error = max((grads[k].double() - grads64[k]).abs().max().item() for k in grads64)
        return value_error, grad_error

    torch32 = torch.nn.LSTM(7, 51, **options)
    torch32.load_state_dict(ref.state_dict())
    ours32 = lstmlab.LSTM(7, 51, backend="bptt", **options)
    ours32.load_state_dict(ref.state_dict())
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, loops)
    return error(torch32), error(ours32)


@pytest.mark.parametrize("loops", ["cpp", "python"])
@pytest.mark.parametrize("options", [{}, {"proj_size": 5, "num_layers": 2, "bidirectional": True}],
                         ids=["plain", "bi-proj"])
def test_float32_error_is_of_the_order_of_torchs(options, loops, monkeypatch):
    (torch_values, torch_grads), (ours_values, ours_grads) = float64_reference_and_float32_runs(
        options, loops, monkeypatch)
    # float32 rounding, not a bug, sets both errors: measured ratios ours/torch are 0.3–1.8.
    assert ours_values <= 4 * torch_values
    assert ours_grads <= 4 * torch_grads


@pytest.fixture
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("options", [
    pytest.param({}, id="plain"),
    pytest.param({"num_layers": 2, "bidirectional": True, "proj_size": 3}, id="bi-proj"),
    pytest.param({"batch_first": True, "bias": False}, id="batch-first-no-bias"),
])
@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("partition", ["rows", "units", "tiles", "tile-rows"])
def test_work_split_across_threads_matches_torch(options, packed, partition, two_threads, monkeypatch):
    # B = 37 rows, H = 7 units: two threads own 18 + 19 rows (no barrier: rows never meet), or units 0–2
    # and 3–6 (and the matching output features) and meet at a barrier every step; on tiles, 5 + 5 groups
    # of 4 rows (the last one short: 37 = 9·4 + 1) each on every tile.
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    monkeypatch.setattr(lstm_cpu, "PARTITION", partition)
    ref, ours = twins("bptt", 5, 7, **options)
    states = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    x = torch.randn(37, 9, 5, dtype=torch.float64) if options.get("batch_first") else \
        torch.randn(9, 37, 5, dtype=torch.float64)
    h0 = torch.randn(states, 37, options.get("proj_size") or 7, dtype=torch.float64)
    c0 = torch.randn(states, 37, 7, dtype=torch.float64)

    lengths = torch.randint(1, 10, (37,), generator=torch.Generator().manual_seed(3))

    def inputs():
        hx = (leaf(h0), leaf(c0))
        if not packed:
            return leaf(x), hx
        sequence = pack_padded_sequence(x, lengths, batch_first=options.get("batch_first", False),
                                        enforce_sorted=False)
        return sequence._replace(data=leaf(sequence.data)), hx

    assert_twins_equal(run_and_backward(ours, *inputs()), run_and_backward(ref, *inputs()))


def test_big_gate_buffers_on_huge_pages_match_torch(monkeypatch):
    """From 8 MiB the gates and gate gradients live in 2 MiB-aligned, huge-page-advised memory of their own
    (lstm_cpu_buffers.h): the buffer is what the loops need, and training through it matches torch."""
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    like = torch.zeros(1, dtype=torch.float64)
    small, big = lstm_cpu.empty_gates(4, 2, 8, like), lstm_cpu.empty_gates(64, 16, 1024, like)   # 8 MiB
    assert big.shape == (64, 16, 1024) and big.dtype == torch.float64 and big.is_contiguous()
    assert big.data_ptr() % (2 << 20) == 0 and small.shape == (4, 2, 8)
    big.fill_(1.0)                                                    # every page is ours to write
    assert big.sum().item() == big.numel()
    ref, ours = twins("bptt", 3, 256)                                 # T = 64, B = 16: (64, 16, 1024) gates
    x, h0, c0 = (torch.randn(64, 16, 3, dtype=torch.float64), torch.randn(1, 16, 256, dtype=torch.float64),
                 torch.randn(1, 16, 256, dtype=torch.float64))
    assert_twins_equal(run_and_backward(ours, leaf(x), (leaf(h0), leaf(c0))),
                       run_and_backward(ref, leaf(x), (leaf(h0), leaf(c0))))


@pytest.mark.parametrize("partition", ["auto", "tiles"])
def test_gate_gradients_are_written_over_the_activations(partition, monkeypatch):
    """Backward keeps one (T, B, 4H) buffer, not two: the gate gradients go where the activations were."""
    monkeypatch.setattr(lstm_cpu, "PARTITION", partition)
    torch.manual_seed(0)
    steps, batch, hidden = 5, 3, 4
    gates = torch.randn(steps, batch, 4 * hidden, dtype=torch.float64)
    w_hh, h0, c0 = (torch.randn(4 * hidden, hidden, dtype=torch.float64), torch.zeros(batch, hidden, dtype=torch.float64),
                    torch.zeros(batch, hidden, dtype=torch.float64))
    acts = gates.clone()
    outputs, cell_states, _ = lstm_cpu.forward_recurrence(acts, w_hh, None, h0, c0)
    saved = acts.clone()
    grad_outputs = torch.randn_like(outputs)
    grad_gates, _, _ = lstm_cpu.backward_recurrence(acts, cell_states, c0, w_hh, None, grad_outputs, None)
    assert grad_gates.data_ptr() == acts.data_ptr()
    # the Python loops, which allocate their own, in their gate order (i, f, o, g: a swap, its own inverse)
    ifog = bptt._to_ifog(hidden, "cpu")
    expected, _, _ = bptt.backward_recurrence(saved[..., ifog], cell_states, c0, w_hh[ifog], None, grad_outputs, None)
    torch.testing.assert_close(grad_gates, expected[..., ifog], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"proj_size": 3, "num_layers": 2, "bidirectional": True}],
                         ids=["plain", "proj-2layers-bidirectional"])
def test_a_second_backward_through_a_retained_graph_matches_torch(options, monkeypatch):
    """The first backward used the saved activations up (see above); the second runs the forward again
    for them, and both match torch.nn.LSTM's — the second bit for bit the first's (gradcheck's reentrancy)."""
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    ref, ours = twins("bptt", 3, 5, **options)
    x = torch.randn(6, 4, 3, dtype=torch.float64)
    grads = {}
    for name, module in (("ref", ref), ("ours", ours)):
        x_leaf = leaf(x)
        output, (h_n, c_n) = module(x_leaf)
        loss = output.square().sum() + h_n.sum() + c_n.sum()
        inputs = [x_leaf, *module.parameters()]
        first = torch.autograd.grad(loss, inputs, retain_graph=True)
        again = torch.autograd.grad(loss, inputs, retain_graph=True)
        grads[name] = first + torch.autograd.grad(3 * loss, inputs)
        if name == "ours":
            assert all(torch.equal(a, b) for a, b in zip(first, again))
    for a, b in zip(grads["ours"], grads["ref"]):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_unknown_loop_choice_names_the_choices(monkeypatch):
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "fortran")
    with pytest.raises(ValueError, match=r"LSTMLAB_BPTT_LOOPS must be one of auto, cpp, python, got 'fortran'"):
        lstmlab.LSTM(3, 4, backend="bptt")(torch.randn(2, 3))


def test_cpp_loops_refuse_other_dtypes_and_auto_uses_python_loops(monkeypatch):
    lstm = lstmlab.LSTM(3, 4, backend="bptt", dtype=torch.bfloat16)
    x = torch.randn(5, 2, 3, dtype=torch.bfloat16)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    with pytest.raises(ValueError, match=r"runs float32/float64 CPU tensors only, got torch.bfloat16 on cpu"):
        lstm(x)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "auto")
    assert bptt.recurrence_loops(x) is bptt
    assert lstm(x)[0].shape == (5, 2, 4)


def test_auto_warns_once_and_falls_back_when_the_build_fails(monkeypatch):
    def no_compiler():
        raise lstm_cpu.BuildError("could not build the C++ LSTM loops: no compiler")
    monkeypatch.setattr(lstm_cpu, "load", no_compiler)
    monkeypatch.setattr(bptt, "_build_warned", False)
    x = torch.randn(4, 2, 3)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "auto")
    with pytest.warns(RuntimeWarning, match="no compiler.*runs its PyTorch loops instead"):
        assert bptt.recurrence_loops(x) is bptt
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # a second warning would raise here
        assert bptt.recurrence_loops(x) is bptt
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    with pytest.raises(lstm_cpu.BuildError, match="no compiler"):
        bptt.recurrence_loops(x)


def test_no_compiler_is_a_clear_build_error(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler")
    lstm_cpu.load.cache_clear()                              # load() builds once per process: ask again
    try:
        with pytest.raises(lstm_cpu.BuildError, match=r"no C\+\+ compiler \('no-such-compiler'\) on PATH"):
            lstm_cpu.load()
    finally:
        lstm_cpu.load.cache_clear()                          # later tests load the real library


def test_auto_picks_the_cpp_loops_for_float_cpu_tensors(monkeypatch):
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "auto")
    for dtype in (torch.float32, torch.float64):
        assert bptt.recurrence_loops(torch.zeros(1, dtype=dtype)) is lstm_cpu


def test_the_ops_check_their_arguments():
    gates = torch.randn(3, 2, 16).transpose(0, 1)             # not contiguous
    w_hh = torch.randn(16, 4)                                 # (4H, P)
    with pytest.raises(RuntimeError, match="gates must be contiguous"):
        lstm_cpu.load().lstm_forward_recurrence(gates, w_hh, None, torch.zeros(3, 4), torch.zeros(3, 4), 0)
    with pytest.raises(RuntimeError, match="h0 has dtype Double, expected Float"):
        lstm_cpu.load().lstm_forward_recurrence(torch.randn(3, 2, 16), w_hh, None,
                                                torch.zeros(2, 4, dtype=torch.float64), torch.zeros(2, 4), 0)
    with pytest.raises(RuntimeError, match="lstm_forward_recurrence: partition must be 0-4, got 5"):
        lstm_cpu.load().lstm_forward_recurrence(torch.randn(3, 2, 16), w_hh, None, torch.zeros(2, 4),
                                                torch.zeros(2, 4), 5)
    with pytest.raises(RuntimeError, match="lstm_backward_recurrence: partition must be 0-4, got -1"):
        lstm_cpu.load().lstm_backward_recurrence(torch.rand(3, 2, 16), torch.randn(3, 2, 4), torch.zeros(2, 4), w_hh,
                                                 None, torch.randn(3, 2, 4), None, -1)


# Run in a fresh process: OpenMP reads OMP_THREAD_LIMIT / OMP_DYNAMIC once, at start-up.
THREAD_GRANT_SCRIPT = """
import sys, torch
from lstmlab.backends import bptt
from lstmlab.kernels import lstm_cpu
sys.path.insert(0, "tests")
from conftest import assert_twins_equal, leaf, run_and_backward, twins
torch.set_num_threads(int(sys.argv[1]))
ref, ours = twins("bptt", 32, 128, num_layers=2)                # the issue's case: T=20, B=64, I=32, H=128
x, h0, c0 = torch.randn(20, 64, 32, dtype=torch.float64), torch.randn(2, 64, 128, dtype=torch.float64), \\
    torch.randn(2, 64, 128, dtype=torch.float64)
ref_result = run_and_backward(ref, leaf(x), (leaf(h0), leaf(c0)))
for partition in ("auto", "rows", "units", "tiles", "tile-rows"):
    lstm_cpu.PARTITION = partition
    ours.zero_grad()
    with bptt.use_loops("cpp"):
        ours_result = run_and_backward(ours, leaf(x), (leaf(h0), leaf(c0)))
    assert_twins_equal(ours_result, ref_result)
    print("ok", partition)
"""


@pytest.mark.parametrize("partition", ["tiles", "tile-rows"])
@pytest.mark.parametrize("hidden, batch", [(20, 37), (8, 1), (33, 4), (8, 9)])
def test_forward_on_packed_tiles_matches_torch_with_two_threads(hidden, batch, partition, two_threads, monkeypatch):
    """The loops on packed tiles (8 double units each: H = 20 is 3 tiles, the last one short;
    H = 8 one whole tile; rows in blocks of 4), threads owning whole tiles, or whole groups of 4 rows
    (B = 9: 2 groups and 1 row; B ≤ 4: one group, one thread)."""
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    monkeypatch.setattr(lstm_cpu, "PARTITION", partition)
    ref, ours = twins("bptt", 5, hidden, num_layers=2)
    x = torch.randn(9, batch, 5, dtype=torch.float64)
    hx = (torch.randn(2, batch, hidden, dtype=torch.float64), torch.randn(2, batch, hidden, dtype=torch.float64))
    assert_twins_equal(run_and_backward(ours, leaf(x), (leaf(hx[0]), leaf(hx[1]))),
                       run_and_backward(ref, leaf(x), (leaf(hx[0]), leaf(hx[1]))))


@pytest.mark.parametrize("partition", ["tiles", "tile-rows"])
@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
def test_tiles_walked_back_to_front_on_odd_steps_when_they_outgrow_the_cache(partition, threads, monkeypatch):
    """B = 1, H = 512 in float64: each thread's tiles of W_hh (and of W_hhᵀ in backward) are 4-8 MiB,
    above ZIGZAG_ABOVE_BYTES, so odd steps walk them back to front (lstm_cpu_tiles.h's walk_backwards) —
    in the training loops and in the inference path (the tiles forced: the automatic choice sits right at
    its thresholds here). T = 5: steps walked both ways, forward and back."""
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    monkeypatch.setattr(lstm_cpu, "PARTITION", partition)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ref, ours = twins("bptt", 3, 512)
        x = torch.randn(5, 1, 3, dtype=torch.float64)
        assert_twins_equal(run_and_backward(ours, leaf(x), None), run_and_backward(ref, leaf(x), None))
        with torch.no_grad():
            torch.testing.assert_close(ours(x)[0], ref(x)[0], rtol=1e-12, atol=1e-12)
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("asked, environment", [
    pytest.param(2, {"OMP_THREAD_LIMIT": "1"}, id="limit-1-ask-2"),
    pytest.param(4, {"OMP_THREAD_LIMIT": "3"}, id="limit-3-ask-4"),
    # libgomp's dynamic adjustment grants at most the number of online CPUs (less the load average)
    pytest.param(max(8, 4 * (os.cpu_count() or 1)), {"OMP_DYNAMIC": "true"}, id="dynamic-ask-more-than-cpus"),
])
def test_cpp_loops_are_exact_whatever_threads_openmp_grants(asked, environment):
    # Each work split (auto, rows, units) in turn, forward and backward, against torch.nn.LSTM.
    env = {**os.environ, **environment}
    result = subprocess.run([sys.executable, "-c", THREAD_GRANT_SCRIPT, str(asked)], env=env,
                            capture_output=True, text=True, cwd=pathlib.Path(__file__).parent.parent, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["ok", "auto", "ok", "rows", "ok", "units", "ok", "tiles", "ok", "tile-rows"]


def test_cpp_loops_refuse_zero_steps_and_pass_an_empty_batch():
    ops = lstm_cpu.load()
    w_hh = torch.randn(16, 4)
    with pytest.raises(RuntimeError, match=r"gates must be \(T, B, 4H\) with T ≥ 1, got \[0, 2, 16\]"):
        ops.lstm_forward_recurrence(torch.randn(0, 2, 16), w_hh, None, torch.zeros(2, 4), torch.zeros(2, 4), 0)
    outputs, cells, _ = ops.lstm_forward_recurrence(torch.randn(3, 0, 16), w_hh, None, torch.zeros(0, 4),
                                                    torch.zeros(0, 4), 0)
    assert outputs.shape == (3, 0, 4) and cells.shape == (3, 0, 4)


# --- the build: its cache key, and a lock left by a build that was killed ---------------------------
def test_build_folder_is_keyed_by_flags_compiler_and_cpu_features(monkeypatch):
    native = lstm_cpu.build_directory()
    monkeypatch.setattr(lstm_cpu, "COMPILE_FLAGS", [f if f != "-march=native" else "-march=x86-64"
                                                    for f in lstm_cpu.COMPILE_FLAGS])
    assert lstm_cpu.build_directory() != native                      # other flags, other binary
    monkeypatch.undo()
    assert lstm_cpu.build_directory() == native                      # and the key is stable
    # Another CPU: the same compiler and flags, but -march=native enables other instruction sets.
    real_target = lstm_cpu._compiler_target
    monkeypatch.setattr(lstm_cpu, "_compiler_target",
                        lambda compiler, flags: real_target(compiler, flags) + "\n#define __AVX512F__ 1")
    assert lstm_cpu.build_directory() != native


def test_two_checkouts_get_a_build_folder_each(monkeypatch, tmp_path):
    """Found when a second checkout (a copy under /tmp) and this one took turns: cpp_extension's build.ninja
    names the sources by path, so each one's first call rebuilt the other's library in the shared folder."""
    native = lstm_cpu.build_key()                      # the key, not build_directory(): that makes the folder
    monkeypatch.setattr(lstm_cpu, "SOURCE", tmp_path / lstm_cpu.SOURCE.name)
    assert lstm_cpu.build_key() != native


LOAD_SCRIPT = "from lstmlab.kernels import lstm_cpu; lstm_cpu.load(); print('loaded')"


@pytest.fixture
def built_copy(tmp_path):
    """A TORCH_EXTENSIONS_DIR holding a copy of this machine's built library (no rebuild needed)."""
    source = lstm_cpu.build_directory()
    lstm_cpu.load()
    target = tmp_path / "lstmlab_cpu_recurrence" / source.name
    shutil.copytree(source, target)                                 # copy2: keeps mtimes, so ninja has nothing to do
    (target / "lstmlab.lock").unlink(missing_ok=True)
    return tmp_path, target


def test_a_stale_lock_from_a_killed_build_is_removed_not_waited_on(built_copy):
    root, folder = built_copy
    (folder / "lock").write_text("")                                # what a build killed half-way leaves
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", LOAD_SCRIPT], env={**os.environ, "TORCH_EXTENSIONS_DIR": str(root)},
                            capture_output=True, text=True, timeout=300)   # cpp_extension alone would wait forever
    assert result.returncode == 0 and result.stdout.strip() == "loaded", result.stderr[-2000:]
    assert not (folder / "lock").exists()
    print(f"loaded past a stale lock in {time.monotonic() - start:.1f} s")


def test_a_build_held_by_a_live_process_falls_back_after_the_wait(built_copy, monkeypatch):
    import fcntl
    root, folder = built_copy
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(root))
    monkeypatch.setenv(lstm_cpu.WAIT_VARIABLE, "0.5")
    monkeypatch.setattr(bptt, "_build_warned", False)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "auto")
    lstm_cpu.load.cache_clear()
    try:
        with open(folder / "lstmlab.lock", "a+") as holder:        # another "process" is building right now
            fcntl.flock(holder, fcntl.LOCK_EX)
            start = time.monotonic()
            with pytest.warns(RuntimeWarning, match=r"another process has been building them .* more than 0.5 s"):
                assert bptt.recurrence_loops(torch.zeros(1)) is bptt   # the PyTorch loops, with one warning
            assert time.monotonic() - start < 10
    finally:
        lstm_cpu.load.cache_clear()                                 # later tests load the real library
