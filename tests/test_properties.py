"""Property-based twins: hypothesis draws the configuration, lstmlab must equal torch.nn.LSTM / LSTMCell.

Drawn: layers (1–2), bidirectional, proj_size, bias, batch_first, input and hidden sizes down to 1,
the input form (batched, unbatched, PackedSequence sorted or unsorted with random lengths), the batch
size (0 included), with or without (h_0, c_0), float32 or float64, and the backend. Compared: output,
h_n, c_n and the gradients of the input, h_0, c_0 and every parameter.

float64: torch.testing's float64 defaults. float32: a float64 run of torch.nn.LSTM is the reference, and
lstmlab's float32 error must stay within 4× torch's own float32 error (plus a few ulp of the values'
scale, for cases where torch happens to be exact).

`make test` runs a small derandomized budget (the same examples every run); `pytest -m hypothesis_long`
a larger random one, whose failures hypothesis keeps in tests/hypothesis-failures/ (commit them).
"""
import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from torch.nn.utils.rnn import pack_padded_sequence

import lstmlab
from lstmlab.backends import bptt
from conftest import CPU_BACKENDS, run_and_backward

settings.register_profile("make-test", derandomize=True, max_examples=30, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          database=DirectoryBasedExampleDatabase(os.path.join(os.path.dirname(__file__),
                                                                              "hypothesis-failures")))
SMALL = settings.get_profile("make-test")
LONG = settings.get_profile("long")

# Every backend that runs on CPU tensors without the Triton interpreter; "bptt" with both of its loops.
FAST_BACKENDS = ["cell", "bptt-cpp", "bptt-python", "torch"]


@st.composite
def lstm_cases(draw, backends):
    hidden = draw(st.integers(1, 5))
    options = dict(num_layers=draw(st.integers(1, 2)), bidirectional=draw(st.booleans()),
                   proj_size=draw(st.integers(0, hidden - 1)), bias=draw(st.booleans()),
                   batch_first=draw(st.booleans()))
    form = draw(st.sampled_from(["batched", "unbatched", "packed-sorted", "packed-unsorted"]))
    steps = draw(st.integers(1, 4))
    batch = draw(st.integers(0 if form == "batched" else 1, 3))
    lengths = draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    return dict(input_size=draw(st.integers(1, 4)), hidden_size=hidden, options=options, form=form, steps=steps,
                batch=batch, lengths=lengths, with_hx=draw(st.booleans()),
                dtype=draw(st.sampled_from([torch.float32, torch.float64])),
                backend=draw(st.sampled_from(backends)), seed=draw(st.integers(0, 2**16)))


def run_case(module, case, dtype):
    """Outputs and gradients of ``module`` on the case's input (drawn in float64, cast to ``dtype``)."""
    g = torch.Generator().manual_seed(case["seed"])
    options, steps, batch = case["options"], case["steps"], case["batch"]
    batch_first = options["batch_first"]
    layers = options["num_layers"] * (2 if options["bidirectional"] else 1)
    x = torch.randn(steps, max(batch, 1), case["input_size"], generator=g, dtype=torch.float64)[:, :batch]
    state_batch = [] if case["form"] == "unbatched" else [batch]
    hx = (torch.randn(layers, *state_batch, options["proj_size"] or case["hidden_size"], generator=g, dtype=torch.float64),
          torch.randn(layers, *state_batch, case["hidden_size"], generator=g, dtype=torch.float64))
    hx = tuple(t.to(dtype).requires_grad_(True) for t in hx) if case["with_hx"] else None
    if case["form"] == "unbatched":
        x = x[:, 0]                                                        # (T, I)
    elif batch_first:
        x = x.transpose(0, 1).contiguous()                                 # (B, T, I)
    if case["form"].startswith("packed"):
        lengths = sorted(case["lengths"], reverse=True) if case["form"] == "packed-sorted" else case["lengths"]
        packed = pack_padded_sequence(x.to(dtype), torch.tensor(lengths), batch_first=batch_first,
                                      enforce_sorted=case["form"] == "packed-sorted")
        return run_and_backward(module, packed._replace(data=packed.data.detach().requires_grad_(True)), hx)
    return run_and_backward(module, x.to(dtype).requires_grad_(True), hx)


def flatten(result):
    values, grads = result
    assert all(g is not None for g in grads.values()), [k for k, g in grads.items() if g is None]
    return [*values, *grads.values()], ["output", "h_n", "c_n", *(f"grad {k}" for k in grads)]


def check_lstm_case(case):
    backend = case["backend"]
    torch.manual_seed(case["seed"])
    args = (case["input_size"], case["hidden_size"])
    ref64 = torch.nn.LSTM(*args, dtype=torch.float64, **case["options"])
    ours = lstmlab.LSTM(*args, dtype=case["dtype"], backend=backend.split("-")[0], **case["options"])
    ours.load_state_dict(ref64.state_dict(), strict=True)
    loops = backend.split("-")[1] if backend.startswith("bptt-") else "auto"
    with bptt.use_loops(loops):
        ours_values, names = flatten(run_case(ours, case, case["dtype"]))
    ref_values, _ = flatten(run_case(ref64, case, torch.float64))
    if case["dtype"] == torch.float64:
        for name, a, b in zip(names, ours_values, ref_values):
            torch.testing.assert_close(a, b, msg=lambda m: f"{name}: {m}")
        return
    torch32 = torch.nn.LSTM(*args, **case["options"])
    torch32.load_state_dict(ref64.state_dict(), strict=True)
    torch_values, _ = flatten(run_case(torch32, case, torch.float32))
    eps = torch.finfo(torch.float32).eps
    for name, a, t, r in zip(names, ours_values, torch_values, ref_values):
        assert a.shape == r.shape and a.dtype == torch.float32, name
        if r.numel() == 0:
            continue
        ours_error = (a.double() - r).abs().max().item()
        torch_error = (t.double() - r).abs().max().item()
        bound = 4 * torch_error + 16 * eps * max(1.0, r.abs().max().item())
        assert ours_error <= bound, f"{name}: float32 error {ours_error:.3g} > {bound:.3g} (torch's: {torch_error:.3g})"


@SMALL
@given(lstm_cases(FAST_BACKENDS))
def test_lstm_equals_torch_for_any_configuration(case):
    check_lstm_case(case)


@pytest.mark.skipif(not {"triton", "persistent"} & set(CPU_BACKENDS), reason="Triton cannot run on CPU tensors here")
@settings(SMALL, max_examples=6)
@given(lstm_cases([b for b in ("triton", "persistent") if b in CPU_BACKENDS]))
def test_triton_backends_equal_torch_under_the_interpreter(case):
    check_lstm_case(case)


@st.composite
def cell_cases(draw):
    return dict(input_size=draw(st.integers(1, 4)), hidden_size=draw(st.integers(1, 5)), bias=draw(st.booleans()),
                batched=draw(st.booleans()), batch=draw(st.integers(0, 3)), with_hx=draw(st.booleans()),
                dtype=draw(st.sampled_from([torch.float32, torch.float64])), seed=draw(st.integers(0, 2**16)))


def check_cell_case(case):
    torch.manual_seed(case["seed"])
    ref = torch.nn.LSTMCell(case["input_size"], case["hidden_size"], bias=case["bias"], dtype=case["dtype"])
    ours = lstmlab.LSTMCell(case["input_size"], case["hidden_size"], bias=case["bias"], dtype=case["dtype"])
    ours.load_state_dict(ref.state_dict(), strict=True)
    batch = [case["batch"]] if case["batched"] else []
    x = torch.randn(*batch, case["input_size"], dtype=case["dtype"])
    hx = (torch.randn(*batch, case["hidden_size"], dtype=case["dtype"]),
          torch.randn(*batch, case["hidden_size"], dtype=case["dtype"])) if case["with_hx"] else None

    def run(module):
        leaves = [x.clone().requires_grad_(True), *(t.clone().requires_grad_(True) for t in (hx or ()))]
        h, c = module(leaves[0], tuple(leaves[1:]) if hx is not None else None)
        (h * 1.5 + c * c).sum().backward()
        return [h, c, *(t.grad for t in leaves), *(p.grad for p in module.parameters())]

    # The same ops as torch's cell up to the order of one addition: float32 rounding of a few ulp.
    tolerance = {} if case["dtype"] == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(run(ours), run(ref), **tolerance)


@SMALL
@given(cell_cases())
def test_cell_equals_torch_for_any_configuration(case):
    check_cell_case(case)


@pytest.mark.hypothesis_long
@LONG
@given(lstm_cases(FAST_BACKENDS))
def test_lstm_equals_torch_long_budget(case):
    check_lstm_case(case)


@pytest.mark.hypothesis_long
@LONG
@given(cell_cases())
def test_cell_equals_torch_long_budget(case):
    check_cell_case(case)
