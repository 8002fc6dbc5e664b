"""`lstmlab check`: every available backend against torch.nn.LSTM, a learner's one-command proof.

For each backend and configuration: build torch.nn.LSTM, copy its weights into lstmlab.LSTM
(strict state_dict), run both on the same input and initial state, backpropagate the same random
weighting of output, h_n and c_n, and report the largest absolute difference of the outputs and
states, and of all gradients (input, h_0, c_0, every parameter).
"""
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import pack_sequence

from . import backends
from .backends.bptt import use_loops
from .lstm import LSTM

# name, constructor options, input form
CONFIGS = [
    ("1 layer", {}, "batched"),
    ("no bias, batch_first", {"bias": False, "batch_first": True}, "batched"),
    ("3 layers", {"num_layers": 3}, "batched"),
    ("bidirectional + proj", {"num_layers": 2, "bidirectional": True, "proj_size": 3}, "batched"),
    ("unbatched", {"num_layers": 2}, "unbatched"),
    ("packed, unsorted, bi", {"bidirectional": True}, "packed"),
]
INPUT_SIZE, HIDDEN_SIZE, STEPS, BATCH = 5, 7, 6, 4
TOLERANCE = 1e-9       # float64 on both sides: differences are rounding, around 1e-16


@dataclass
class CheckRow:
    backend: str
    config: str
    output_diff: float
    grad_diff: float
    path: str = ""          # backend "persistent": the path each pass took (see its plan's reason)

    @property
    def ok(self):
        return self.output_diff <= TOLERANCE and self.grad_diff <= TOLERANCE


def _inputs(form, batch_first, seed=0):
    g = torch.Generator().manual_seed(seed)
    if form == "packed":
        return pack_sequence([torch.randn(n, INPUT_SIZE, generator=g, dtype=torch.float64) for n in (3, 6, 1, 5)],
                             enforce_sorted=False)
    if form == "unbatched":
        return torch.randn(STEPS, INPUT_SIZE, generator=g, dtype=torch.float64)
    shape = (BATCH, STEPS, INPUT_SIZE) if batch_first else (STEPS, BATCH, INPUT_SIZE)
    return torch.randn(shape, generator=g, dtype=torch.float64)


def _run(module, x, hx):
    """Outputs and gradients of one module (fresh leaves, so the twins never share a graph)."""
    if isinstance(x, torch.nn.utils.rnn.PackedSequence):
        x = x._replace(data=x.data.clone().requires_grad_(True))
        leaf = x.data
    else:
        x = leaf = x.clone().requires_grad_(True)
    hx = tuple(t.clone().requires_grad_(True) for t in hx)
    output, (h_n, c_n) = module(x, hx)
    output = output.data if isinstance(output, torch.nn.utils.rnn.PackedSequence) else output
    g = torch.Generator().manual_seed(1)
    values = [output, h_n, c_n]
    sum((v * torch.randn(v.shape, generator=g, dtype=v.dtype)).sum() for v in values).backward()
    grads = [leaf.grad, *(t.grad for t in hx), *(p.grad for p in module.parameters())]
    return values, grads


def _max_diff(ours, ref):
    return max((a - b).abs().max().item() for a, b in zip(ours, ref))


def check_backend(name, options, form):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, dtype=torch.float64, **options)
    ours = LSTM(INPUT_SIZE, HIDDEN_SIZE, dtype=torch.float64, backend=name, **options)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = _inputs(form, options.get("batch_first", False))
    layers = reference.num_layers * (2 if reference.bidirectional else 1)
    batch = [] if form == "unbatched" else [BATCH]
    hx = (torch.randn(layers, *batch, reference.proj_size or HIDDEN_SIZE, dtype=torch.float64),
          torch.randn(layers, *batch, HIDDEN_SIZE, dtype=torch.float64))
    (ours_values, ours_grads), (ref_values, ref_grads) = _run(ours, x, hx), _run(reference, x, hx)
    return _max_diff(ours_values, ref_values), _max_diff(ours_grads, ref_grads), _persistent_path(name)


def _persistent_path(name):
    """Which path backend "persistent" took in its latest forward and backward, e.g. "persistent 1×1"."""
    if name != "persistent":
        return ""
    from .kernels.lstm_persistent import last_plans
    return ", ".join(f"{pass_name} {p.path} {'×'.join(map(str, p.grid))}" for pass_name, p in sorted(
        last_plans.items(), key=lambda item: item[0] != "forward"))


def persistent_reasons():
    """The reasons behind backend "persistent"'s latest plans (for `lstmlab check`), or {}."""
    import sys
    module = sys.modules.get("lstmlab.kernels.lstm_persistent")
    return {name: p.reason for name, p in module.last_plans.items()} if module else {}


def run_checks(names=None):
    """CheckRows for the given backends (default: every available one but the reference itself).
    "bptt" is checked twice: with the loops it runs by default (C++ on the CPU) and as "bptt·py",
    with the PyTorch loops of lstmlab/backends/bptt.py."""
    names = names or [n for n in backends.available_backends("cpu") if n != "torch"]
    rows = []
    for name in names:
        for label, loops in ([(name, "auto"), ("bptt·py", "python")] if name == "bptt" else [(name, "auto")]):
            with use_loops(loops):
                for config, options, form in CONFIGS:
                    rows.append(CheckRow(label, config, *check_backend(name, options, form)))
    return rows


def format_table(rows):
    lines = [f"{'backend':<10} {'config':<24} {'max |Δ| output':>15} {'max |Δ| grad':>13}  ok",
             "-" * 70]
    for row in rows:
        lines.append(f"{row.backend:<10} {row.config:<24} {row.output_diff:>15.2e} {row.grad_diff:>13.2e}  "
                     f"{'✓' if row.ok else '✗'}" + (f"  ({row.path})" if row.path else ""))
    return "\n".join(lines)
