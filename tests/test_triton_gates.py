"""The Triton kernels — the fused gate step (backend "triton") and the persistent whole-sequence
kernel (backend "persistent") — on the CPU through the Triton interpreter.

The float64 twin tests in test_lstm.py run "triton" too (every option and input form). Here: lower
precisions, with tolerances derived per dtype against a float64 reference — the kernel may be at most
2× as wrong as torch's own LSTM in the same dtype (4× for weight gradients), plus one ulp — irregular
sizes (B=37, H=51), and saturated gates.
"""
import pytest
import torch

import lstmlab
from conftest import assert_error_within_torchs, outputs_and_gradients as run

pytest.importorskip("triton")
pytestmark = pytest.mark.skipif("triton" not in lstmlab.available_backends("cpu"),
                                reason="needs TRITON_INTERPRET=1 to run Triton kernels on CPU tensors")


@pytest.mark.parametrize("kernel", ["triton", "persistent"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("options", [
    pytest.param({}, id="1layer"),
    pytest.param({"num_layers": 2, "bidirectional": True}, id="2layers-bi"),
    pytest.param({"proj_size": 20}, id="proj"),
])
def test_low_precision_error_at_most_twice_torchs(kernel, dtype, options):
    steps, batch, input_size, hidden = 4, 37, 13, 51          # irregular on purpose
    torch.manual_seed(0)
    reference = torch.nn.LSTM(input_size, hidden, dtype=torch.float64, **options)
    layers = reference.num_layers * (2 if reference.bidirectional else 1)
    x = torch.randn(steps, batch, input_size, dtype=torch.float64)
    hx = (torch.randn(layers, batch, reference.proj_size or hidden, dtype=torch.float64),
          torch.randn(layers, batch, hidden, dtype=torch.float64))
    exact = run(reference, x, hx)

    errors = {}
    for backend in ["torch", kernel]:
        module = lstmlab.LSTM(input_size, hidden, dtype=dtype, backend=backend, **options)
        module.load_state_dict(reference.state_dict(), strict=True)
        result = run(module, x.to(dtype), tuple(t.to(dtype) for t in hx))
        assert all(t.dtype == dtype for t in result.values())
        errors[backend] = {name: (t.double() - exact[name]).abs().max().item() for name, t in result.items()}

    assert_error_within_torchs(errors, exact, kernel, dtype)


# numpy (under the interpreter) warns when e^{−x} overflows to inf: that is the case under test.
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_saturated_gates_give_no_nan_or_inf(dtype):
    from lstmlab.kernels.lstm_gates import gates_backward, gates_forward
    batch, hidden = 3, 5
    pre = torch.tensor([-1e4, 1e4, -50.0, 50.0, 0.0]).repeat(batch, 4)      # (B, 4H): ±1e4 in every gate
    pre = pre[:, torch.randperm(4 * hidden, generator=torch.Generator().manual_seed(0))].to(dtype).contiguous()
    c_prev = torch.randn(batch, hidden)
    gates, c, h = gates_forward(pre, None, c_prev)
    for t in (gates, c, h):
        assert torch.isfinite(t).all()
    # Against the exact activations in float64.
    pre64 = pre.double()
    i, f, g, o = pre64.chunk(4, dim=1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    expected_c = f * c_prev.double() + i * g
    torch.testing.assert_close(c.double(), expected_c, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(h.double(), o * expected_c.tanh(), rtol=4 * torch.finfo(dtype).eps, atol=1e-6)
    grad_pre, grad_c_prev = gates_backward(torch.ones(batch, hidden), torch.ones(batch, hidden), gates, c, c_prev)
    assert torch.isfinite(grad_pre).all() and torch.isfinite(grad_c_prev).all()


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
@pytest.mark.parametrize("kernel", ["triton", "persistent"])
def test_saturated_lstm_matches_torch(kernel):
    # Weights large enough that gate pre-activations reach ~±1e4.
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 6, dtype=torch.float32)
    with torch.no_grad():
        reference.weight_ih_l0.mul_(3e4)
    ours = lstmlab.LSTM(3, 6, backend=kernel)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(5, 2, 3)
    output, (h_n, c_n) = ours(x)
    expected, (expected_h, expected_c) = reference(x)
    assert torch.isfinite(output).all() and torch.isfinite(c_n).all()
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(c_n, expected_c)


def test_launcher_rejects_bad_shapes():
    from lstmlab.kernels.lstm_gates import gates_forward
    with pytest.raises(ValueError, match=r"pre: expected shape \(2, 12\), got \(2, 10\)"):
        gates_forward(torch.zeros(2, 10), None, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="c_prev: expected a contiguous tensor"):
        gates_forward(torch.zeros(2, 12), None, torch.zeros(3, 2).T)


def test_persistent_tiles_irregular_batches():
    # B = 37 is three tiles of 16 rows, the last one mostly padding.
    torch.manual_seed(0)
    reference = torch.nn.LSTM(4, 24, num_layers=2, bidirectional=True, dtype=torch.float64)
    ours = lstmlab.LSTM(4, 24, num_layers=2, bidirectional=True, dtype=torch.float64, backend="persistent")
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(6, 37, 4, dtype=torch.float64)
    output, (h_n, c_n) = ours(x)
    expected, (expected_h, expected_c) = reference(x)
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(c_n, expected_c)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kernel", ["triton", "persistent"])
def test_matches_torch_on_cuda(kernel):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(13, 51, num_layers=2, bidirectional=True, device="cuda")
    ours = lstmlab.LSTM(13, 51, num_layers=2, bidirectional=True, device="cuda", backend=kernel)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(7, 37, 13, device="cuda")
    torch.testing.assert_close(ours(x)[0], reference(x)[0], rtol=1e-4, atol=1e-5)
