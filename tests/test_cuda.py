"""The CUDA test matrix (run by `make gpu`; skipped without a GPU): every backend against cuDNN.

Tolerances per dtype from a float64 reference (cuDNN in float64 on the same weights): a backend may
be at most 2× as far from it as cuDNN in the same dtype (4× for weight gradients, sums over T·B rows
in another order), plus one ulp of the value's size. 16-bit dtypes for the Triton kernels, which
compute in fp32 like cuDNN; every backend in fp32 and float64.
"""
import pytest
import torch

import lstmlab
from conftest import assert_error_within_torchs, outputs_and_gradients as run

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

SHAPES = {
    "T7-B37-I13-H51-2layers-bi": dict(steps=7, batch=37, input_size=13, hidden=51, num_layers=2, bidirectional=True),
    "T9-B20-I8-H64-proj24": dict(steps=9, batch=20, input_size=8, hidden=64, proj_size=24),
    "T64-B16-I256-H256": dict(steps=64, batch=16, input_size=256, hidden=256),
}


def errors_against_float64(backend, dtype, steps, batch, input_size, hidden, seed=0, **options):
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(input_size, hidden, dtype=torch.float64, device="cuda", **options)
    layers = reference.num_layers * (2 if reference.bidirectional else 1)
    x = torch.randn(steps, batch, input_size, dtype=torch.float64, device="cuda")
    hx = (torch.randn(layers, batch, reference.proj_size or hidden, dtype=torch.float64, device="cuda"),
          torch.randn(layers, batch, hidden, dtype=torch.float64, device="cuda"))

    exact = run(reference, x, hx)
    errors = {}
    for name in ["torch", backend]:
        module = lstmlab.LSTM(input_size, hidden, dtype=dtype, device="cuda", backend=name, **options)
        module.load_state_dict(reference.state_dict(), strict=True)
        result = run(module, x.to(dtype), tuple(t.to(dtype) for t in hx))
        errors[name] = {key: (t.double() - exact[key]).abs().max().item() for key, t in result.items()}
    return exact, errors


CASES = [(backend, dtype) for backend in ("cell", "bptt", "triton", "persistent") for dtype in ("float32", "float64")] + \
        [(backend, dtype) for backend in ("triton", "persistent") for dtype in ("bfloat16", "float16")]


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("backend,dtype", CASES, ids=[f"{b}-{d}" for b, d in CASES])
def test_backend_matches_cudnn(backend, dtype, shape):
    dtype = getattr(torch, dtype)
    exact, errors = errors_against_float64(backend, dtype, **SHAPES[shape])
    if dtype == torch.float64:      # the reference itself: torch's error is 0, so torch.testing's float64 bounds
        for name, exact_value in exact.items():
            assert errors[backend][name] <= 1e-7 * (1 + exact_value.abs().max().item()), name
    else:
        assert_error_within_torchs(errors, exact, backend, dtype)


@pytest.mark.parametrize("dtype,hidden", [(torch.float32, 256), (torch.bfloat16, 256), (torch.bfloat16, 1024)],
                         ids=["fp32-H256", "bf16-H256", "bf16-H1024"])
def test_real_sizes_run_persistently_forward_and_backward(dtype, hidden):
    from lstmlab.kernels.lstm_persistent import last_plans
    exact, errors = errors_against_float64("persistent", dtype, steps=32, batch=16, input_size=hidden, hidden=hidden)
    for pass_name in ("forward", "backward"):
        assert last_plans[pass_name].path == "persistent", last_plans[pass_name]
    assert_error_within_torchs(errors, exact, "persistent", dtype)
