"""Step backends: interchangeable implementations of one LSTM recurrence.

Every backend but "torch" supplies ``run_direction(x, h0, c0, weights) -> (outputs, cell_states)``
and shares the layer/direction plumbing in lstmlab.layers. "torch" is torch's own fused op on the
same parameters: the reference every other backend is checked and timed against, never a default.

Backend modules are imported only when used, so ``import lstmlab`` never imports triton.
"""
import functools
import importlib
import importlib.util
import os
from dataclasses import dataclass
from typing import Callable, Optional

import torch


def _always(device=None):
    return None


@functools.lru_cache(maxsize=None)
def _triton_installed():
    return importlib.util.find_spec("triton") is not None     # a file-system search: once per process


def _triton_reason(device=None):
    """Why a Triton backend can't run on ``device`` (None: on this machine at all), or None."""
    if not _triton_installed():
        return "triton is not installed (pip install 'lstmlab[triton]')"
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    if device is None:
        if interpreted or torch.cuda.is_available():
            return None
        return "needs a CUDA GPU, or TRITON_INTERPRET=1 to run kernels on the CPU"
    if device.type == "cuda" and not interpreted:
        return None
    if device.type == "cpu" and interpreted:
        return None
    return f"cannot run on {device.type} tensors with TRITON_INTERPRET={'1' if interpreted else 'unset'}"


@dataclass(frozen=True)
class BackendInfo:
    name: str
    module: str                                   # imported on first use
    summary: str
    from_scratch: bool                            # False only for torch's own op
    unavailable_reason: Callable = _always        # (device or None) -> str or None
    auto_rank: Optional[dict] = None              # device type -> rank for "auto" (lower is preferred)

    def load(self):
        module = _loaded.get(self.module)            # a dict lookup: torch.compile traces it without a graph break
        if module is None:
            module = _loaded[self.module] = importlib.import_module(self.module)
        return module


_loaded = {}                                      # module name -> module, filled on first use


# Order = the order of the backend table in the README.
BACKENDS = {
    info.name: info
    for info in [
        BackendInfo("cell", "lstmlab.backends.cell_loop",
                    "textbook loop of the from-scratch cell; autograd does BPTT",
                    True, auto_rank={"cpu": 9, "cuda": 9}),
        BackendInfo("bptt", "lstmlab.backends.bptt",
                    "input GEMM hoisted, hand-written backpropagation through time",
                    True, auto_rank={"cpu": 0, "cuda": 5}),
        # On the CPU the Triton interpreter runs (numpy): correct, and far too slow to be "auto".
        BackendInfo("triton", "lstmlab.kernels.lstm_gates",
                    "the bptt design with each step's gate math in one fused Triton kernel (kernels/)",
                    True, unavailable_reason=_triton_reason, auto_rank={"cuda": 1}),
        BackendInfo("persistent", "lstmlab.kernels.lstm_persistent",
                    "one Triton launch per pass for all T steps: H split across programs, W_hh slices on chip, "
                    "a grid barrier per step (per-step kernels where its table has no verified size)",
                    True, unavailable_reason=_triton_reason, auto_rank={"cuda": 0}),
        BackendInfo("torch", "lstmlab.backends.torch_fused",
                    "torch's fused op (oneDNN on CPU, cuDNN on GPU) on the same parameters: the reference",
                    False),
    ]
}


def register(info):
    """Add a backend (later ones register themselves here: bptt, triton, persistent)."""
    BACKENDS[info.name] = info


def available_backends(device=None):
    """Names of the backends that run on this machine (or on ``device``'s tensors)."""
    device = torch.device(device) if device is not None else None
    return [name for name, info in BACKENDS.items() if info.unavailable_reason(device) is None]


def check_backend(name, device=None):
    """Raise a ValueError naming the available backends unless ``name`` can run (a TypeError unless it is
    a string)."""
    if not isinstance(name, str):
        raise TypeError(f"backend must be a string, one of {_choices(None)}; got {type(name).__name__} "
                        f"{name!r}")
    if name == "auto":
        return
    device = torch.device(device) if device is not None else None
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; available: {_choices(device)}")
    reason = BACKENDS[name].unavailable_reason(device)
    if reason is not None:
        where = f" on {device.type}" if device is not None else ""
        raise ValueError(f"backend {name!r} is not available{where}: {reason}; available: {_choices(device)}")


def _choices(device):
    """For error messages only: asking every backend costs more than a forward call should pay."""
    return ", ".join(repr(n) for n in ["auto"] + available_backends(device))


def resolve_backend(name, device):
    """The BackendInfo to run tensors on ``device`` with; "auto" = fastest from-scratch one there."""
    device = torch.device(device)
    if name != "auto":
        check_backend(name, device)
        return BACKENDS[name]
    ranked = [
        (info.auto_rank.get(device.type, 99), info.name)
        for info in BACKENDS.values()
        if info.from_scratch and info.auto_rank and info.unavailable_reason(device) is None
    ]
    return BACKENDS[min(ranked)[1]]
