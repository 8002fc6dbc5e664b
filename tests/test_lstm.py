"""lstmlab.LSTM against torch.nn.LSTM: every constructor option and input form, float64,
outputs, h_n, c_n and the gradients of the input, h_0, c_0 and every parameter."""
import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

import lstmlab
from conftest import assert_twins_equal, leaf, run_and_backward, twins

INPUT, HIDDEN, T, B = 5, 7, 6, 4

OPTIONS = [
    pytest.param({}, id="default"),
    pytest.param({"bias": False}, id="no-bias"),
    pytest.param({"batch_first": True}, id="batch_first"),
    pytest.param({"num_layers": 3}, id="layers3"),
    pytest.param({"bidirectional": True}, id="bi"),
    pytest.param({"proj_size": 3}, id="proj"),
    pytest.param({"bidirectional": True, "proj_size": 3, "num_layers": 2}, id="bi-proj-layers2"),
    pytest.param({"bidirectional": True, "proj_size": 2, "num_layers": 3, "bias": False, "batch_first": True},
                 id="bi-proj-layers3-no-bias-batch_first"),
    pytest.param({"num_layers": 2, "dropout": 0.5}, id="dropout-eval"),
]
FORMS = ["batched", "unbatched", "packed-sorted", "packed-unsorted"]


def make_input(form, batch_first, with_hx, state_shapes):
    torch.manual_seed(3)
    if form.startswith("packed"):
        lengths = [6, 5, 5, 2] if form == "packed-sorted" else [3, 6, 1, 5]
        x = pack_sequence([torch.randn(n, INPUT, dtype=torch.float64) for n in lengths],
                          enforce_sorted=form == "packed-sorted")
        x = x._replace(data=leaf(x.data))
        batch = B
    elif form == "unbatched":
        x, batch = leaf(torch.randn(T, INPUT, dtype=torch.float64)), None
    else:
        shape = (B, T, INPUT) if batch_first else (T, B, INPUT)
        x, batch = leaf(torch.randn(shape, dtype=torch.float64)), B
    if not with_hx:
        return x, None
    hx = tuple(leaf(torch.randn(layers, *([batch] if batch else []), size, dtype=torch.float64))
               for layers, size in state_shapes)
    return x, hx


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no-hx"])
def test_lstm_matches_torch(backend, options, form, with_hx):
    ref, ours = twins(backend, INPUT, HIDDEN, **options)
    ref.eval(), ours.eval()
    layers = ref.num_layers * (2 if ref.bidirectional else 1)
    state_shapes = [(layers, ref.proj_size or HIDDEN), (layers, HIDDEN)]
    x, hx = make_input(form, ref.batch_first, with_hx, state_shapes)
    x_twin = x._replace(data=leaf(x.data)) if form.startswith("packed") else leaf(x)
    hx_twin = tuple(leaf(t) for t in hx) if hx is not None else None
    assert_twins_equal(run_and_backward(ours, x, hx), run_and_backward(ref, x_twin, hx_twin))


def test_packed_output_keeps_the_packing(backend):
    ref, ours = twins(backend, INPUT, HIDDEN, bidirectional=True)
    x = pack_sequence([torch.randn(n, INPUT, dtype=torch.float64) for n in (2, 5, 3)], enforce_sorted=False)
    out, _ = ours(x)
    expected, _ = ref(x)
    assert isinstance(out, torch.nn.utils.rnn.PackedSequence)
    assert torch.equal(out.batch_sizes, expected.batch_sizes)
    assert torch.equal(out.sorted_indices, expected.sorted_indices)
    assert torch.equal(out.unsorted_indices, expected.unsorted_indices)


@pytest.mark.parametrize("options", [{}, {"proj_size": 3, "batch_first": True}], ids=["plain", "proj-batch_first"])
def test_the_output_can_be_edited_in_place_before_backward(backend, options):
    """Found by a torch user's audit: out.relu_() (or out += skip) failed backward on "bptt", "triton" and
    "persistent" — the output was the tensor their Function had saved — where torch's float64 LSTM takes it."""
    ref, ours = twins(backend, INPUT, HIDDEN, **options)
    torch.manual_seed(2)
    x = torch.randn(B, T, INPUT, dtype=torch.float64) if options.get("batch_first") else \
        torch.randn(T, B, INPUT, dtype=torch.float64)
    results = []
    for module in (ours, ref):
        x_leaf = leaf(x)
        output, (h_n, c_n) = module(x_leaf)
        output[0] += 0.1                                               # a skip connection, in place
        output.relu_()                                                 # as nn.ReLU(inplace=True)
        (output.square().sum() + h_n.sum() + c_n.sum()).backward()
        results.append((output, x_leaf.grad, [p.grad for p in module.parameters()]))
    (ours_out, ours_dx, ours_dw), (ref_out, ref_dx, ref_dw) = results
    torch.testing.assert_close(ours_out, ref_out)
    torch.testing.assert_close(ours_dx, ref_dx)
    for a, b in zip(ours_dw, ref_dw):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("options", [
    pytest.param({"num_layers": 3, "dropout": 0.4}, id="layers3"),
    pytest.param({"num_layers": 2, "dropout": 0.3, "bidirectional": True, "proj_size": 3}, id="bi-proj"),
])
def test_training_dropout_uses_the_same_masks_as_torch(backend, options):
    # Dropout in training mode is random; with the same seed, lstmlab draws its masks with the
    # same op, at the same place, on tensors of the same shape as torch's native LSTM, so the
    # masks are identical and the twins must agree exactly — masks and all.
    ref, ours = twins(backend, INPUT, HIDDEN, **options)
    ref.train(), ours.train()
    x = torch.randn(T, B, INPUT, dtype=torch.float64)
    torch.manual_seed(11)
    ref_result = run_and_backward(ref, leaf(x), None)
    torch.manual_seed(11)
    ours_result = run_and_backward(ours, leaf(x), None)
    assert_twins_equal(ours_result, ref_result)
    # ... and dropout really acted: in eval mode the output differs.
    ours.eval()
    eval_out, _ = ours(x)
    assert not torch.allclose(eval_out, ours_result[0][0])


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_training_dropout_on_a_packed_sequence_uses_torch_masks(backend, bidirectional):
    """torch drops the packed (N, F) rows between layers, not a padded (T, B, F) tensor: other random
    numbers. Masks drawn on the padded tensor differed from torch's by 0.016 (found by an audit)."""
    ref, ours = twins(backend, INPUT, HIDDEN, num_layers=3, dropout=0.5, bidirectional=bidirectional)
    ref.train(), ours.train()
    x = [torch.randn(n, INPUT, dtype=torch.float64) for n in (2, 5, 3)]
    results = []
    for module in (ours, ref):
        packed = pack_sequence([t.clone() for t in x], enforce_sorted=False)
        packed.data.requires_grad_(True)
        torch.manual_seed(11)
        results.append(run_and_backward(module, packed, None))
        results[-1] += (torch.rand(4),)                       # both drew the same count of random numbers
    assert_twins_equal(results[0][:2], results[1][:2])
    assert torch.equal(results[0][2], results[1][2])


def test_a_learned_initial_state_expanded_over_the_batch(backend):
    """h0, c0 = one learned row expanded to B rows (stride 0 along the batch): every backend takes the
    non-contiguous state, and its gradient sums over the batch as torch's does (the Triton backend
    refused the expanded c0 in training mode, found by an audit)."""
    ref, ours = twins(backend, INPUT, HIDDEN, num_layers=2)
    x = torch.randn(T, B, INPUT, dtype=torch.float64)
    results = []
    for module in (ours, ref):
        h_row = torch.randn(2, 1, HIDDEN, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
        c_row = (h_row * 0.5).clone()
        h_row.requires_grad_(True), c_row.requires_grad_(True)
        output, (h_n, c_n) = module(x, (h_row.expand(2, B, HIDDEN), c_row.expand(2, B, HIDDEN)))
        (output.sum() + (h_n * c_n).sum()).backward()
        results.append((output, h_n, c_n, h_row.grad, c_row.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b)


def test_autocast_runs_in_the_lower_precision_as_torch_does(backend, monkeypatch):
    """Under torch.autocast("cpu", bfloat16) torch.nn.LSTM computes in bfloat16 and returns bfloat16;
    lstmlab returned float32 (and "bptt" failed on bfloat16 input). Error against float64: at most 4×
    torch's own under autocast (measured 1.3–3.0× over 5 seeds)."""
    monkeypatch.delenv("LSTMLAB_BPTT_LOOPS", raising=False)     # bfloat16 takes "bptt"'s PyTorch loops
    ref, ours = twins(backend, INPUT, HIDDEN, num_layers=2, bidirectional=True)
    exact = ref(torch.randn(T, B, INPUT, dtype=torch.float64, generator=torch.Generator().manual_seed(5)))[0]
    ref, ours = ref.float(), ours.float()
    x = torch.randn(T, B, INPUT, dtype=torch.float64, generator=torch.Generator().manual_seed(5)).float()
    results = []
    for module in (ref, ours):
        leaf = x.clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output, (h_n, c_n) = module(leaf)
        output.float().sum().backward()
        assert (output.dtype, h_n.dtype, c_n.dtype) == (torch.bfloat16,) * 3
        assert leaf.grad.dtype == module.weight_ih_l0.grad.dtype == torch.float32
        results.append((output.double() - exact).abs().max().item())
    torch_error, our_error = results
    assert our_error <= 4 * torch_error, (our_error, torch_error)


def test_autocast_leaves_a_float64_lstm_in_float64(backend):
    """Autocast casts floating tensors other than float64 (torch's rule): a float64 LSTM on float64 input
    runs in float64 under it, equal to torch's. lstmlab cast everything to bfloat16."""
    ref, ours = twins(backend, INPUT, HIDDEN, num_layers=2, proj_size=3)
    x, _ = make_input("batched", False, False, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours_result, ref_result = run_and_backward(ours, x, None), run_and_backward(ref, leaf(x), None)
    assert ours_result[0][0].dtype == torch.float64
    assert_twins_equal(ours_result, ref_result)


@pytest.mark.parametrize("model_dtype, input_dtype", [(torch.float32, torch.float64), (torch.float64, torch.float32)])
def test_autocast_refuses_float64_beside_a_tensor_it_casts(model_dtype, input_dtype):
    """torch fails inside its op ("mat1 and mat2 must have the same dtype", "get_mkldnn_dtype"); lstmlab
    cast the float64 tensor to bfloat16 without a word. Now: torch's RuntimeError, naming every dtype."""
    lstm = lstmlab.LSTM(INPUT, HIDDEN, dtype=model_dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16), pytest.raises(RuntimeError) as info:
        lstm(torch.randn(T, B, INPUT, dtype=input_dtype))
    message = str(info.value)
    assert "autocast" in message and f"input {input_dtype}" in message and f"weights {model_dtype}" in message


@pytest.mark.parametrize("backend_name", ["cell", "bptt", "auto"])
@pytest.mark.parametrize("options", [{}, {"bidirectional": True, "proj_size": 3, "num_layers": 2, "batch_first": True}],
                         ids=["default", "bi-proj-layers2-batch_first"])
def test_meta_device_infers_torchs_shapes(backend_name, options):
    """On the meta device (no data, shapes only; how large models are built before their weights are
    loaded) torch.nn.LSTM infers shapes; lstmlab crashed in torch.is_autocast_enabled("meta"). Output,
    states and every parameter's gradient come out with torch's shapes, for plain and packed input."""
    ref = torch.nn.LSTM(INPUT, HIDDEN, device="meta", **options)
    ours = lstmlab.LSTM(INPUT, HIDDEN, device="meta", backend=backend_name, **options)
    x = torch.randn(*((B, T) if ours.batch_first else (T, B)), INPUT, device="meta")
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor([6, 5, 2, 1]),
                                                     batch_first=ours.batch_first)
    for given in (x, packed):
        shapes = []
        for module in (ours, ref):
            module.zero_grad(set_to_none=True)
            output, (h_n, c_n) = module(given)
            output = output.data if isinstance(output, torch.nn.utils.rnn.PackedSequence) else output
            (output.sum() + h_n.sum() + c_n.sum()).backward()
            shapes.append([output.shape, h_n.shape, c_n.shape, output.device]
                          + [p.grad.shape for p in module.parameters()])
        assert shapes[0] == shapes[1]


def test_dropout_is_off_in_eval_mode(backend):
    _, ours = twins(backend, INPUT, HIDDEN, num_layers=2, dropout=0.9)
    ours.eval()
    x = torch.randn(T, B, INPUT, dtype=torch.float64)
    first, _ = ours(x)
    second, _ = ours(x)
    assert torch.equal(first, second)


def test_gradcheck(backend):
    torch.manual_seed(0)
    # gradcheck runs forward twice per input element; the Triton interpreter gets the smallest case.
    layers, bidirectional, steps = (1, False, 2) if backend in ("triton", "persistent") else (2, True, 3)
    lstm = lstmlab.LSTM(3, 4, num_layers=layers, bidirectional=bidirectional, proj_size=2, dtype=torch.float64,
                        backend=backend)
    states = layers * (2 if bidirectional else 1)
    x = torch.randn(steps, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(states, 2, 2, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(states, 2, 4, dtype=torch.float64, requires_grad=True)

    def f(x, h0, c0, *params):
        weights = dict(zip(lstm._flat_weights_names, params))
        output, (h_n, c_n) = torch.func.functional_call(lstm, weights, (x, (h0, c0)))
        return output, h_n, c_n

    params = [p.detach().clone().requires_grad_(True) for p in lstm.parameters()]
    assert torch.autograd.gradcheck(f, (x, h0, c0, *params))


@pytest.mark.parametrize("options", [
    pytest.param({}, id="default"),
    pytest.param({"num_layers": 2, "bidirectional": True, "proj_size": 3, "bias": False}, id="bi-proj-no-bias"),
])
def test_parameters_and_state_dict_match_torch(options):
    torch.manual_seed(0)
    ref = torch.nn.LSTM(INPUT, HIDDEN, **options)
    torch.manual_seed(0)
    ours = lstmlab.LSTM(INPUT, HIDDEN, **options)
    assert ours._flat_weights_names == ref._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
           [[tuple(w.shape) for w in ws] for ws in ref.all_weights]
    for (name, a), (ref_name, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert name == ref_name
        assert torch.equal(a, b), name               # same init: same draws in the same order
    # round trip both ways, strict
    torch.manual_seed(9)
    ref2 = torch.nn.LSTM(INPUT, HIDDEN, **options)
    ours.load_state_dict(ref2.state_dict(), strict=True)
    ref.load_state_dict(ours.state_dict(), strict=True)
    for a, b in zip(ref.parameters(), ref2.parameters()):
        assert torch.equal(a, b)


def test_init_is_uniform_in_plus_minus_one_over_sqrt_hidden():
    lstm = lstmlab.LSTM(30, 100, num_layers=2)
    values = torch.cat([p.detach().flatten() for p in lstm.parameters()])
    bound = 1 / 100 ** 0.5
    assert values.abs().max() <= bound
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert abs(values.mean()) < 0.02 * bound          # ~10 standard errors of the mean


def test_step_equals_forward_one_step_at_a_time(backend):
    torch.manual_seed(0)
    lstm = lstmlab.LSTM(3, 6, num_layers=2, proj_size=4, dtype=torch.float64, backend=backend)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    output, (h_n, c_n) = lstm(x)
    state = (torch.zeros(2, 2, 4, dtype=torch.float64), torch.zeros(2, 2, 6, dtype=torch.float64))
    for t in range(5):
        out_t, state = lstm.step(x[t], state)
        torch.testing.assert_close(out_t, output[t])
    torch.testing.assert_close(state[0], h_n)
    torch.testing.assert_close(state[1], c_n)


def test_backend_selection():
    names = lstmlab.available_backends()
    assert "cell" in names and "torch" in names
    with pytest.raises(ValueError, match="unknown backend 'nope'; available: 'auto', 'cell'"):
        lstmlab.LSTM(3, 4, backend="nope")
    from lstmlab.backends import resolve_backend
    assert resolve_backend("auto", "cpu").name != "torch"
    assert resolve_backend("auto", "cpu").from_scratch


def test_import_does_not_import_triton():
    import subprocess
    import sys
    code = "import sys, lstmlab, lstmlab.kernels; sys.exit('triton' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("options", [
    pytest.param({}, id="default"),
    pytest.param({"bidirectional": True, "proj_size": 3, "num_layers": 2}, id="bi-proj-layers2"),
    pytest.param({"batch_first": True, "bias": False}, id="batch_first-no-bias"),
])
@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no-hx"])
def test_empty_batch_matches_torch(backend, options, with_hx):
    # B = 0: torch.nn.LSTM returns empty outputs and states, and zero gradients for every weight.
    ref, ours = twins(backend, INPUT, HIDDEN, **options)
    layers = ref.num_layers * (2 if ref.bidirectional else 1)
    x = torch.randn((0, T, INPUT) if ref.batch_first else (T, 0, INPUT), dtype=torch.float64)
    hx = (torch.randn(layers, 0, ref.proj_size or HIDDEN, dtype=torch.float64),
          torch.randn(layers, 0, HIDDEN, dtype=torch.float64)) if with_hx else None

    def inputs():
        return leaf(x), (tuple(leaf(t) for t in hx) if hx is not None else None)

    ours_result, ref_result = run_and_backward(ours, *inputs()), run_and_backward(ref, *inputs())
    assert [v.shape for v in ours_result[0]] == [v.shape for v in ref_result[0]]
    assert_twins_equal(ours_result, ref_result)
