"""One setup factory for every benchmarked variant: same weights, same input, checked against torch.

A variant is a module with torch.nn.LSTM's forward; `make_workload` turns it into a zero-argument
callable for one mode, synchronising CUDA inside the call so the timer sees the GPU's work. The
input projection is always inside the timed region (every variant gets raw x).
"""
import importlib.metadata
import os
import platform
from types import SimpleNamespace

import torch

from ..backends.bptt import use_loops
from ..backends.cell_loop import loop_over_time
from ..cell import lstm_cell
from ..lstm import LSTM
from ..rollout import rollout

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# Outputs must match torch's within these (rtol, atol) before a variant is timed: loose enough for
# rounding, far too tight for a kernel that computes something else (those differ by ~0.1–1).
CHECK_TOLERANCE = {"float32": (1e-4, 1e-5), "bfloat16": (5e-2, 5e-2), "float16": (1e-2, 1e-2)}


class CompiledCellLSTM(LSTM):
    """The "cell" textbook loop with the step compiled by torch.compile (one compiled graph per step)."""

    _compiled_step = None

    def _backend_module(self, device):
        if CompiledCellLSTM._compiled_step is None:
            CompiledCellLSTM._compiled_step = torch.compile(lstm_cell, dynamic=False)
        return SimpleNamespace(run_direction=loop_over_time(CompiledCellLSTM._compiled_step))


class PythonLoopsLSTM(LSTM):
    """Backend "bptt" with its PyTorch time loops rather than the C++ ones (what the C++ loops gain)."""

    def forward(self, *args, **kwargs):
        with use_loops("python"):
            return super().forward(*args, **kwargs)


class CUDAGraphForward(torch.nn.Module):
    """Inference with the bptt path captured once in a CUDA graph and replayed (static shapes)."""

    def __init__(self, lstm, example):
        super().__init__()
        self.lstm = lstm
        self.static_input = example.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), torch.no_grad():
            for _ in range(3):                                    # warm up outside the capture
                self.lstm(self.static_input)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), torch.no_grad():
            self.static_output = self.lstm(self.static_input)

    def forward(self, x, hx=None):
        if hx is not None:
            raise ValueError("CUDAGraphForward captures a zero initial state only")
        self.static_input.copy_(x)
        self.graph.replay()
        return self.static_output


def build_variant(case, seed=0):
    """(module, reference torch.nn.LSTM, input x) for one benchmark case, all with the same weights."""
    device, dtype = torch.device(case.device), DTYPES[case.dtype]
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(case.input_size, case.hidden, num_layers=case.layers, device=device, dtype=dtype)
    x = torch.randn(case.steps, case.batch, case.input_size, device=device, dtype=dtype)
    kind = {"compile": "cell", "cudagraph": "bptt", "bptt-python": "bptt", "fused": "auto"}.get(case.variant, case.variant)
    cls = {"compile": CompiledCellLSTM, "bptt-python": PythonLoopsLSTM}.get(case.variant, LSTM)
    module = cls(case.input_size, case.hidden, num_layers=case.layers, device=device, dtype=dtype, backend=kind)
    module.load_state_dict(reference.state_dict(), strict=True)
    if case.variant == "fused":
        module.fused_rollout = True                               # make_workload: lstmlab.rollout, fused=True
    if case.variant == "cudagraph":
        module = CUDAGraphForward(module, x)
    return module, reference, x


def check_matches_reference(module, reference, x, dtype_name):
    """A fast variant that computes something else must not win."""
    rtol, atol = CHECK_TOLERANCE[dtype_name]
    with torch.no_grad():
        expected, _ = reference(x)
        output, _ = module(x)
    torch.testing.assert_close(output, expected, rtol=rtol, atol=atol)


def make_workload(module, x, mode):
    """A zero-argument callable running ``mode`` once (CUDA synchronised inside)."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    if mode == "forward":
        def run():
            with torch.no_grad():
                module(x)
            sync()
    elif mode == "forward+backward":
        x_leaf = x.detach().clone().requires_grad_(True)

        def run():
            output, (h_n, c_n) = module(x_leaf)
            (output.float().sum() + h_n.float().sum() + c_n.float().sum()).backward()
            sync()
    elif mode == "generation":
        # Feed each output back as the next input, one step per call (what future_preds does);
        # a linear head maps the output (H) back to the input size (1 for the sine model).
        lstm = module.lstm if hasattr(module, "lstm") else module
        head = torch.nn.Linear(lstm.hidden_size, lstm.input_size, device=x.device, dtype=x.dtype)
        if getattr(lstm, "fused_rollout", False):                 # all steps in one call (lstmlab.rollout)
            def run():
                with torch.no_grad():
                    rollout(lstm, x[0], x.size(0), head, fused=True)
                sync()
            return run

        def run():
            with torch.no_grad():
                value, state = x[:1], None
                for _ in range(x.size(0)):
                    output, state = lstm(value, state)           # (1, B, H)
                    value = head(output)                          # (1, B, I)
            sync()
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return run


def peak_memory_bytes(run, device):
    """Extra memory at the peak of one run: CUDA allocator peak, or the process's peak RSS on Linux."""
    if device == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        run()
        return torch.cuda.max_memory_allocated() - base
    try:
        with open("/proc/self/clear_refs", "w") as file:    # "5" resets the peak RSS (VmHWM), Linux ≥ 4.0
            file.write("5")
        base = _status_kib("VmRSS")
        run()
        return (_status_kib("VmHWM") - base) * 1024
    except OSError:
        return None


def _status_kib(field):
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def environment(device):
    """Device name and versions, recorded with every result."""
    try:
        triton_version = importlib.metadata.version("triton")
    except importlib.metadata.PackageNotFoundError:
        triton_version = None
    if device == "cuda":
        name = torch.cuda.get_device_name()
    else:
        name = _cpu_name()
    return {"device": device, "device_name": name, "torch": torch.__version__, "triton": triton_version,
            "cuda": torch.version.cuda, "threads": torch.get_num_threads(), "python": platform.python_version(),
            "input_projection_timed": True}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} cores)"
    except OSError:
        pass
    return platform.processor() or "cpu"
