"""Shared helpers for the twin tests: the same computation in lstmlab and in torch.nn, float64."""
import os

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence

# Triton kernels run on CPU tensors through the Triton interpreter (numpy) when no GPU is here.
# It must be chosen before triton is first imported; lstmlab itself never imports triton on import.
if "TRITON_INTERPRET" not in os.environ and not torch.cuda.is_available():
    os.environ["TRITON_INTERPRET"] = "1"

import lstmlab  # noqa: E402

# The from-scratch backends that run on CPU tensors here ("triton" through the interpreter).
CPU_BACKENDS = [b for b in lstmlab.available_backends("cpu") if b in ("cell", "bptt", "triton", "persistent")]


# "bptt" runs its C++ time loops on CPU tensors (forced here: a build failure must fail the tests, not
# fall back quietly); "bptt-python-loops" runs the same backend with its PyTorch loops.
BACKEND_PARAMS = CPU_BACKENDS + ["bptt-python-loops"]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request, monkeypatch):
    if request.param.startswith("bptt"):
        monkeypatch.setenv("LSTMLAB_BPTT_LOOPS", "python" if request.param == "bptt-python-loops" else "cpp")
        return "bptt"
    return request.param


def twins(backend, *args, dtype=torch.float64, seed=0, **kwargs):
    """A torch.nn.LSTM and an lstmlab.LSTM with the same weights (loaded, strict)."""
    torch.manual_seed(seed)
    ref = torch.nn.LSTM(*args, dtype=dtype, **kwargs)
    ours = lstmlab.LSTM(*args, dtype=dtype, backend=backend, **kwargs)
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def run_and_backward(module, x, hx, seed=1):
    """Forward, then backward of a random weighting of output, h_n and c_n.

    Returns (output, h_n, c_n) and the gradients of the input, h_0, c_0 and every parameter.
    x and hx must be fresh leaves (see leaf); a PackedSequence's data is the input leaf.
    """
    output, (h_n, c_n) = module(x, hx)
    out_data = output.data if isinstance(output, PackedSequence) else output
    g = torch.Generator().manual_seed(seed)
    # Drawn in float64 and cast: the same weighting whatever the dtype under test.
    loss = sum((t * torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.dtype)).sum()
               for t in (out_data, h_n, c_n))
    loss.backward()
    x_leaf = x.data if isinstance(x, PackedSequence) else x
    grads = {"input": x_leaf.grad}
    if hx is not None:
        grads["h_0"], grads["c_0"] = hx[0].grad, hx[1].grad
    grads.update({name: p.grad for name, p in module.named_parameters()})
    return (out_data, h_n, c_n), grads


def assert_twins_equal(ours_result, ref_result, **tolerances):
    (ours_values, ours_grads), (ref_values, ref_grads) = ours_result, ref_result
    for name, a, b in zip(("output", "h_n", "c_n"), ours_values, ref_values):
        torch.testing.assert_close(a, b, msg=lambda m: f"{name}: {m}", **tolerances)
    assert ours_grads.keys() == ref_grads.keys()
    for name in ref_grads:
        assert ref_grads[name] is not None, name
        torch.testing.assert_close(ours_grads[name], ref_grads[name], msg=lambda m: f"grad {name}: {m}", **tolerances)


def outputs_and_gradients(module, x, hx, seed=1):
    """By name: output, h_n, c_n and the gradients of the input, h_0, c_0 and every parameter, for a random
    weighting of output, h_n and c_n summed in float64 (the same loss whatever the dtype under test)."""
    x = x.clone().requires_grad_(True)
    hx = tuple(t.clone().requires_grad_(True) for t in hx)
    output, (h_n, c_n) = module(x, hx)
    g = torch.Generator(device=x.device).manual_seed(seed)
    values = [output, h_n, c_n]
    sum((v.double() * torch.randn(v.shape, generator=g, dtype=torch.float64, device=x.device)).sum()
        for v in values).backward()
    names = ["output", "h_n", "c_n", "grad input", "grad h_0", "grad c_0"] + \
            [f"grad {name}" for name, _ in module.named_parameters()]
    tensors = values + [x.grad, *(t.grad for t in hx), *(p.grad for p in module.parameters())]
    return dict(zip(names, tensors))


def assert_error_within_torchs(errors, exact, backend, dtype):
    """errors[b][name] = max |b's value − the float64 value|. `backend` may be at most 2× as far from float64
    as torch in the same dtype, plus one ulp of the value's size — 4× for the weight gradients, sums over
    all T·B rows in another order than torch's (measured, fp32 with a projection, seeds 0–3: 1.9–2.8×
    for "persistent", 2.0–3.3× for "triton"; 2× failed on main at 22c1684)."""
    eps = torch.finfo(dtype).eps
    for name, exact_value in exact.items():
        factor = 4 if name.startswith("grad weight") else 2
        allowed = factor * errors["torch"][name] + eps * exact_value.abs().max().item()
        assert errors[backend][name] <= allowed, \
            f"{name}: {backend} error {errors[backend][name]:.2e} > allowed {allowed:.2e} (torch: {errors['torch'][name]:.2e})"
