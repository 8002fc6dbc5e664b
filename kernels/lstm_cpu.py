"""The C++ time loops of backend "bptt" (lstm_cpu_recurrence.cpp): built on first use, then cached.

    forward_recurrence(gates, w_hh, weight_hr, h0, c0, bias) -> outputs, cell_states, unprojected
    backward_recurrence(acts, cell_states, c0, w_hh, weight_hr, grad_outputs, grad_cell_states)
        -> grad_gates (written over acts: BACKWARD_OVERWRITES_ACTS), grad_h0, grad_c0
    inference(x, w_ih, w_hh, bias, weight_hr, h0, c0, chunk_steps) -> outputs, c_T
        (the inference path, lstm_cpu_inference.cpp: a whole direction's forward, nothing kept)
    matmul(a, a_transposed, b_parts, out=None) -> a @ B or aᵀ @ B, B the parts stacked
        (training's big products — the forward's input projection, the backward's weight and input
        gradients — lstm_cpu_matmul.cpp: on the tile kernel; narrow ones on torch's GEMM)

Same signatures and equations as the PyTorch loops in lstmlab/backends/bptt.py, which stay the
readable reference and the fallback. One difference: the gate rows stay in torch's order (i, f, g, o)
— the Python loops reorder them to (i, f, o, g) to make one sigmoid call out of three, which the
fused pass does not need (GATE_ORDER tells LSTMDirectionFunction which order to hand over).

The first call compiles the C++ file with torch.utils.cpp_extension (a C++ compiler and ninja are
needed; ~15 s here), into TORCH_EXTENSIONS_DIR (default ~/.cache/torch_extensions), in a folder keyed
by everything that changes the binary (torch version, machine, flags, compiler, and the CPU features
-march=native turns on); later processes load the cached library in a fraction of a second. A build
killed half-way leaves cpp_extension's `lock` file behind, on which every later build would wait
forever; lstmlab builds under an OS lock of its own, released by the kernel when its holder dies, so a
`lock` file found while holding it is stale and is removed. `make` builds it during setup
(`python -m lstmlab.kernels.lstm_cpu`). Only float32 and float64 CPU tensors.
"""
import contextlib
import contextvars
import functools
import hashlib
import os
import pathlib
import platform
import re
import shlex
import shutil
import subprocess
import time

import torch

from . import lstm_cpu_plan

SOURCE = pathlib.Path(__file__).with_name("lstm_cpu_recurrence.cpp")
# One library, four ideas: the time loops of backend "bptt", its inference path, the backward's big
# products and the closed-loop rollout (lstmlab.rollout); all on the tiles of lstm_cpu_tiles.h.
SOURCES = [SOURCE, SOURCE.with_name("lstm_cpu_inference.cpp"), SOURCE.with_name("lstm_cpu_matmul.cpp"),
           SOURCE.with_name("lstm_cpu_rollout.cpp")]
HEADERS = [SOURCE.with_name(name) for name in ("lstm_cpu_activations.h", "lstm_cpu_checks.h", "lstm_cpu_pointwise.h",
                                               "lstm_cpu_split.h", "lstm_cpu_team.h", "lstm_cpu_tiles.h",
                                               "lstm_cpu_buffers.h")]
DTYPES = (torch.float32, torch.float64)
GATE_ORDER = "ifgo"
# Backward writes the gate gradients over the activations it reads (one (T, B, 4H) buffer, not two):
# LSTMDirectionFunction.backward then knows the saved activations are gone after one backward.
BACKWARD_OVERWRITES_ACTS = True
# -march=native: this machine's widest vectors (the library is built here, for here);
# -fno-trapping-math (as torch itself is built): lets GCC turn the selects into blends. No -ffast-math: the
# float exp below splits ln 2 in two on purpose, and reassociation would undo it.
# -fopenmp: the threads are torch's own OpenMP pool (the library links libgomp.so.1 by name, and the
# one torch has already loaded is the one it gets).
COMPILE_FLAGS = ["-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-fno-trapping-math"]


class BuildError(RuntimeError):
    """The C++ loops could not be compiled or loaded on this machine."""


def _put_ninja_on_path():
    """cpp_extension runs `ninja` from PATH; the pip-installed one sits in the venv's bin/, which
    is not on PATH when .venv/bin/python is run directly (as `make test` does)."""
    if shutil.which("ninja") is None:
        try:
            import ninja                                            # the PyPI package: a ninja binary
        except ImportError:
            return
        os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")


@functools.lru_cache(maxsize=None)
def _compiler_target(compiler, flags):
    """What the compiler makes of these flags on this machine: its predefined macros (its name and
    version, and the instruction sets -march=native enables: __AVX2__, __AVX512F__, ...)."""
    try:
        result = subprocess.run([*shlex.split(compiler), *flags, "-E", "-dM", "-x", "c++", "-"], input="",
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        return f"unavailable: {error}"
    return "\n".join(sorted(result.stdout.splitlines())) + result.stderr


def build_key():
    """torch version and machine type, readable, then a hash of what else changes the binary: the
    flags, the compiler (path and predefined macros), the CPU features -march=native selects and the
    headers; and the folder of the sources. A home folder shared by two machines gets one build per CPU
    kind, never one the other cannot run; two checkouts get one build each — in one folder, cpp_extension's
    build.ninja names the sources by path, so each checkout's first call rebuilt the other's (~40 s)."""
    compiler = os.environ.get("CXX", "c++")
    binary = "\0".join([str(SOURCE.parent.resolve()), " ".join(COMPILE_FLAGS), str(shutil.which(compiler) or compiler),
                        _compiler_target(compiler, tuple(COMPILE_FLAGS)),
                        *(header.read_text() for header in HEADERS)])   # cpp_extension only watches the sources
    digest = hashlib.sha256(binary.encode()).hexdigest()[:16]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"torch{torch.__version__}-{platform.machine()}-{digest}")


def build_directory():
    """The build folder for this torch, machine, compiler, flags and CPU (see build_key): cpp_extension's
    own cache only notices a changed source or changed flags."""
    from torch.utils import cpp_extension
    root = os.environ.get("TORCH_EXTENSIONS_DIR") or cpp_extension.get_default_build_root()
    directory = pathlib.Path(root) / "lstmlab_cpu_recurrence" / build_key()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# How long to wait for another process that is building the library right now, in seconds.
WAIT_VARIABLE = "LSTMLAB_BUILD_WAIT"
DEFAULT_WAIT = 600.0


@contextlib.contextmanager
def build_lock(directory):
    """Hold lstmlab's lock on ``directory`` while cpp_extension builds or loads there.

    An flock on `lstmlab.lock`: the kernel releases it when its holder exits or is killed, so it
    never goes stale. Whoever holds it is the only lstmlab process in cpp_extension's hands in this
    folder; a cpp_extension `lock` file found then was left by a build that died, and is removed
    (cpp_extension would otherwise wait on it forever). A live build by another process is waited
    for, up to LSTMLAB_BUILD_WAIT seconds (default 600), then BuildError.
    """
    try:
        import fcntl
    except ImportError:                                             # not POSIX: cpp_extension's lock alone
        yield
        return
    wait = float(os.environ.get(WAIT_VARIABLE, DEFAULT_WAIT))
    with open(directory / "lstmlab.lock", "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BuildError(f"could not build the C++ LSTM loops: another process has been building "
                                     f"them in {directory} for more than {wait:g} s "
                                     f"(set {WAIT_VARIABLE} to wait longer)") from None
                time.sleep(0.1)
        try:
            stale = directory / "lock"                              # cpp_extension's lock file
            if stale.exists():
                stale.unlink(missing_ok=True)                       # its owner is gone: we hold the lock
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=None)
def load():
    """Compile (first time) and load the library; registers torch.ops.lstmlab_cpu.*. Raises BuildError."""
    from torch.utils import cpp_extension                           # imported only when needed
    compiler = os.environ.get("CXX", "c++")                         # what cpp_extension will call
    if shutil.which(compiler) is None:
        raise BuildError(f"could not build the C++ LSTM loops: no C++ compiler ({compiler!r}) on PATH")
    _put_ninja_on_path()
    directory = build_directory()
    try:
        with build_lock(directory):
            cpp_extension.load(name="lstmlab_cpu_recurrence", sources=[str(source) for source in SOURCES],
                               build_directory=str(directory),
                               extra_cflags=COMPILE_FLAGS, extra_ldflags=["-fopenmp"], is_python_module=False,
                               verbose=False)
    except BuildError:
        raise
    except Exception as error:                                      # no compiler, no ninja, build failed
        last_lines = "\n".join(str(error).strip().splitlines()[-12:])   # the compiler's own words
        raise BuildError(f"could not build the C++ LSTM loops from {SOURCE.name} "
                         f"({type(error).__name__}):\n{last_lines}") from error
    return torch.ops.lstmlab_cpu


# How the threads share the work (lstm_cpu_split.h): "units" gives each thread a slice of the hidden
# units (a block of batch rows too when there are spare threads and few units), and they meet at a
# barrier every step; "rows" gives each thread a block of batch rows, which never meet; "tiles": the
# loops on packed W_hh tiles (forward_on_tiles, backward_on_tiles), threads owning whole tiles of units;
# "tile-rows": the same loops, each thread owning whole groups of 4 rows on every tile (no barrier).
# "measure" (the default) times the candidates on the first call of each shape and keeps the fastest
# (lstm_cpu_plan.py); "auto" takes the fixed rule measured on one 2-core Intel Xeon (auto_partition in
# lstm_cpu_split.h; the inference path: the tiles for every layer without a projection, see the end of
# lstm_cpu_inference.cpp); the tests force each. With one thread "auto" (training) takes the tiles for
# layers without a projection up to
# B·4H·P = 2^23 multiply-adds per step forward and 2^20 backward. Measured there, one thread on one
# core, T = 100 — forward time / oneDNN's: B=8 H=51 1.14 (one GEMM call per step: 1.57), B=1 H=64 0.68
# (1.72), B=16 H=32 0.91 (1.19), B=64 H=128 1.25 (1.30), B=32 H=512 1.73 (1.40); backward recurrence, µs
# per step, tiles vs GEMM calls: B=8 H=51 4.2 vs 6.2, B=1 H=64 1.2 vs 3.0, B=64 H=128 171 vs 133, B=64
# H=256 427 vs 314 (a noisy, shared machine: medians of 20 runs).
PARTITIONS = {name: code for code, name in lstm_cpu_plan.NAMES.items()}   # auto, rows, units, tiles, tile-rows
PARTITION_VARIABLE = "LSTMLAB_CPU_PARTITION"
PARTITION = os.environ.get(PARTITION_VARIABLE, "measure")
_partition_override = contextvars.ContextVar("lstm_cpu_partition", default=None)


@contextlib.contextmanager
def use_partition(name):
    """``with use_partition("auto"):`` — the C++ loops inside split their work this way, whatever PARTITION
    says. A measured plan depends on how busy the machine was when it was timed, and a split can change
    the last bits of a result: code whose results must not depend on the load (the forecasters, whose
    training would carry those bits on) runs under the fixed rule, "auto"."""
    _check_partition(name, "partition")
    token = _partition_override.set(name)
    try:
        yield
    finally:
        _partition_override.reset(token)


def _check_partition(name, what):
    """Refuses a partition name that is neither "measure" nor a split; ``what`` names where it came from."""
    if name != "measure" and name not in PARTITIONS:
        raise ValueError(f"{what} must be 'measure' or one of {', '.join(map(repr, PARTITIONS))}, got {name!r}")


def _partition(loop, steps, batch, hidden, out_size, projected, dtype, trial, *more_key):
    """The partition code for one call: PARTITION's (or use_partition's), or for "measure" the plan for the
    call's shape (lstm_cpu_plan.plan), made the first time by ``trial(partition, steps)`` on a copy of its
    first steps. Under torch.use_deterministic_algorithms(True), "measure" is the fixed rule: results
    then never depend on a timing."""
    choice = _partition_override.get() or PARTITION
    if choice == "measure" and torch.are_deterministic_algorithms_enabled():
        choice = "auto"
    _check_partition(choice, f"{PARTITION_VARIABLE} (lstmlab.kernels.lstm_cpu.PARTITION)")
    if choice != "measure":
        return PARTITIONS[choice]
    if steps == 0 or batch == 0:
        return PARTITIONS["auto"]                                   # nothing to run, nothing to time
    threads = torch.get_num_threads()
    k = lstm_cpu_plan.trial_steps(steps, batch * 4 * hidden * out_size)
    key = (loop, batch, hidden, out_size, projected, str(dtype).removeprefix("torch."), threads, k, *more_key)
    return lstm_cpu_plan.plan(key, projected, threads, lambda partition: trial(partition, k))


def empty_gates(steps, batch, gate_size, like):
    """An empty (T, B, 4H) tensor for forward's gates, on huge pages when big (lstm_cpu_buffers.h)."""
    return load().empty_gates([steps, batch, gate_size], like)


def forward_recurrence(gates, w_hh, weight_hr, h0, c0, bias=None):
    """gates (T, B, 4H): input projections W_ih x_t, overwritten with activations; w_hh (4H, P);
    bias (4H) or None -> outputs, cell_states, unprojected."""
    weight_hr = weight_hr.contiguous() if weight_hr is not None else None
    bias = bias.contiguous() if bias is not None else None
    w_hh, h0, c0 = w_hh.contiguous(), h0.contiguous(), c0.contiguous()

    def run(gates, partition):
        return load().lstm_forward_recurrence(gates, w_hh, weight_hr, h0, c0, partition, bias)
    steps, batch, gate_size = gates.shape
    partition = _partition("forward", steps, batch, gate_size // 4, w_hh.size(1), weight_hr is not None,
                           gates.dtype, lambda partition, k: run(gates[:k].clone(), partition))
    return run(gates, partition)


def backward_recurrence(acts, cell_states, c0, w_hh, weight_hr, grad_outputs, grad_cell_states):
    """-> grad_gates (T, B, 4H): acts itself, overwritten; grad_h0 (B, P), grad_c0 (B, H)."""
    if grad_cell_states is not None:
        grad_cell_states = grad_cell_states.contiguous()
    weight_hr = weight_hr.contiguous() if weight_hr is not None else None
    c0, w_hh, grad_outputs = c0.contiguous(), w_hh.contiguous(), grad_outputs.contiguous()

    def run(acts, cell_states, grad_outputs, grad_cell_states, partition):
        return load().lstm_backward_recurrence(acts, cell_states, c0, w_hh, weight_hr, grad_outputs,
                                               grad_cell_states, partition)

    def trial(partition, k):                                        # the first k steps, on a copy of acts
        return run(acts[:k].clone(), cell_states[:k], grad_outputs[:k],
                   None if grad_cell_states is None else grad_cell_states[:k], partition)
    steps, batch, gate_size = acts.shape
    partition = _partition("backward", steps, batch, gate_size // 4, w_hh.size(1), weight_hr is not None,
                           acts.dtype, trial)
    return run(acts, cell_states, grad_outputs, grad_cell_states, partition)


# On W_hh's tiles the inference path adds W_ih x_t in the same walk as W_hh h_{t−1} (the tiles of W_ih
# walked first, the sums left in registers) for a thread with at least this many batch rows; with fewer,
# each weight read per step feeds too few rows, and one GEMM per chunk of steps makes W_ih x_t instead (its
# sums laid out as the tiles need them). T = 300, I = H = 512, 2 threads on tiles, forward time / oneDNN's,
# medians of 15 interleaved rounds (this project's AMD VM, 2026-12-07), chunk's GEMM → in the walk:
# B = 1 0.87 → 1.17, B = 2 0.94 → 0.90, B = 4 1.05 → 0.90; a first run of 7 rounds: B = 2 0.82 → 1.04,
# B = 4 1.26 → 0.97. At 2 rows the two runs disagree; from 4 the walk won both.
FUSE_INPUT_FROM_ROWS = 4


def inference(x, w_ih, w_hh, bias, weight_hr, h0, c0, chunk_steps):
    """The inference path (lstm_cpu_inference.cpp): one direction's whole forward, nothing kept for backward.
    x (T, B, I), w_ih (4H, I), w_hh (4H, P), bias (4H) or None, weight_hr (P, H) or None, h0 (B, P), c0 (B, H);
    chunk_steps: steps per input GEMM -> outputs (T, B, P), c_T (B, H)."""
    bias = bias.contiguous() if bias is not None else None
    weight_hr = weight_hr.contiguous() if weight_hr is not None else None
    x, w_ih, w_hh, h0, c0 = x.contiguous(), w_ih.contiguous(), w_hh.contiguous(), h0.contiguous(), c0.contiguous()

    def run(x, partition):
        return load().lstm_inference(x, w_ih, w_hh, bias, weight_hr, h0, c0, chunk_steps, partition,
                                     FUSE_INPUT_FROM_ROWS)
    steps, batch, input_size = x.shape
    partition = _partition("inference", steps, batch, w_hh.size(0) // 4, w_hh.size(1), weight_hr is not None,
                           x.dtype, lambda partition, k: run(x[:k], partition), input_size, min(chunk_steps, steps))
    return run(x, partition)


# The tile kernel computes B's columns 4 vectors at a time (64 floats, 32 doubles), the last ones padded
# with zeros: it takes the product only where that padding is at most a third of its arithmetic (float32:
# MKL keeps widths up to 42 and 65–85). One run of it, 2 threads, T·B rows of d_gates (this project's AMD
# VM, medians of 11, 2026-12-07; the README's ranges over several runs: dx 0.80–0.87, dW 0.87–1.00), time on
# tiles / torch's: T=100 B=16 H=I=256: dx 0.86, dW_ih 0.80, dW_hh 0.94; T=20 B=128 H=I=128: 0.88, 0.87,
# 0.83; B=16 H=I=128: 0.74, 0.76, 0.71; B=64 H=I=512: 0.97, 0.94, 0.98; B=8 H=51: dW_hh 0.82 — but
# I=32: dx 1.37, dW_ih 1.52 (half of each tile padding), I=1: 5.7.
MAX_PADDING = 1.5                                     # padded width / width


def matmul(a, a_transposed, b_parts, out=None):
    """a @ B, or aᵀ @ B when a_transposed, where B is the tensors of b_parts stacked along their first
    dimension, into ``out`` if given (lstm_cpu_matmul.cpp: the tile kernel, K in chunks; B's parts are
    never joined in a copy) — or torch's GEMM (bptt.matmul) where B's width would leave much of the last
    tile padding. The same product either way, summed in another order."""
    width, lanes = b_parts[0].size(-1), 64 // a.element_size()
    padded = -(-width // (4 * lanes)) * 4 * lanes
    if padded > MAX_PADDING * width:
        from lstmlab.backends import bptt
        return bptt.matmul(a, a_transposed, b_parts, out)
    if out is None:
        out = a.new_empty(a.size(1) if a_transposed else a.size(0), width)
    load().matmul_on_tiles(a.contiguous(), a_transposed, [part.contiguous() for part in b_parts], out)
    return out


def rollout(inputs, h0, c0, weights, biases, projections, feedback_weight, feedback_bias, steps, threads,
            measure, team_must_win_by):
    """The closed-loop rollout (lstm_cpu_rollout.cpp) on weights packed by lstmlab.rollout.pack_affine:
    inputs (T_in, B, I) read first, then each output fed back. measure: the first steps are timed on one
    thread and on the team of `threads`, and the rest run on the team only if it was faster by
    team_must_win_by. -> outputs (steps, B, I), h_n (L, B, P), c_n (L, B, H), the threads that ran."""
    return load().lstm_rollout(inputs.contiguous(), h0.contiguous(), c0.contiguous(), weights, biases,
                               projections, feedback_weight, feedback_bias, steps, threads, measure,
                               team_must_win_by)


if __name__ == "__main__":                                          # `make` runs this once, at setup
    import time
    start = time.perf_counter()
    try:
        load()
    except BuildError as error:
        print(f"lstmlab: {error}\nlstmlab: backend 'bptt' will run its PyTorch loops instead.")
    else:
        print(f"lstmlab: C++ loops of backend 'bptt' ready in {build_directory()} "
              f"({time.perf_counter() - start:.1f} s)")
