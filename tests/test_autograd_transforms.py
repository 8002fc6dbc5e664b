"""Higher-order autograd, torch.func and torch.compile through the backends, against torch.nn.LSTM (float64).

"bptt" is an autograd.Function with a hand-written backward; these tests make sure it is a full
citizen of autograd: double backward (create_graph=True) gives torch's second-order gradients, and
torch.func's grad / vmap / jacrev and torch.compile give torch's answers.
"""
import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.func import functional_call, grad, jacrev, vmap

import lstmlab
from lstmlab.backends import bptt
from conftest import twins

LOOPS = ["cpp", "python"]
OPTIONS = [
    pytest.param({}, id="default"),
    pytest.param({"num_layers": 2, "bidirectional": True, "proj_size": 2}, id="bi-proj-layers2"),
    pytest.param({"bias": False, "batch_first": True}, id="no-bias-batch_first"),
]


def functional(module):
    """(x, h0, c0, *parameters) -> (output, h_n, c_n): every input of the LSTM an argument."""
    names = [name for name, _ in module.named_parameters()]

    def run(x, h0, c0, *parameters):
        output, (h_n, c_n) = functional_call(module, dict(zip(names, parameters)), (x, (h0, c0)))
        return output, h_n, c_n
    return run


def inputs(ref, batch=2, steps=3):
    torch.manual_seed(5)
    layers = ref.num_layers * (2 if ref.bidirectional else 1)
    shape = (batch, steps, ref.input_size) if ref.batch_first else (steps, batch, ref.input_size)
    tensors = [torch.randn(shape, dtype=torch.float64),
               torch.randn(layers, batch, ref.proj_size or ref.hidden_size, dtype=torch.float64),
               torch.randn(layers, batch, ref.hidden_size, dtype=torch.float64),
               *(p.detach() for p in ref.parameters())]
    return [t.clone().requires_grad_(True) for t in tensors]


@pytest.mark.parametrize("loops, options", [
    pytest.param("cpp", {}, id="cpp-default"),
    pytest.param("python", {"bidirectional": True, "proj_size": 2}, id="python-bi-proj"),
])
def test_double_backward_gradgradcheck(loops, options):
    # Second derivatives w.r.t. the input, h0, c0 and every parameter, against finite differences
    # (small: gradgradcheck runs the model hundreds of times; the twin test below covers every option).
    ref, ours = twins("bptt", 3, 4, **options)
    with bptt.use_loops(loops):
        assert gradgradcheck(functional(ours), inputs(ref, batch=1, steps=2))


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("loops", LOOPS)
def test_double_backward_matches_torch(loops, options):
    # A gradient-norm penalty (as in WGAN-GP): d/dθ Σ (d loss / d inputs)² needs create_graph=True.
    ref, ours = twins("bptt", 3, 4, **options)

    def second_order(module):
        leaves = inputs(ref)
        output, h_n, c_n = functional(module)(*leaves)
        loss = (output ** 2).sum() + (h_n ** 2).sum() + (c_n ** 3).sum()
        first = torch.autograd.grad(loss, leaves, create_graph=True)
        penalty = sum((g ** 2).sum() for g in first)
        return first, torch.autograd.grad(penalty, leaves)

    with bptt.use_loops(loops):
        ours_first, ours_second = second_order(ours)
    ref_first, ref_second = second_order(ref)
    torch.testing.assert_close(ours_first, ref_first)
    torch.testing.assert_close(ours_second, ref_second)


def test_first_order_backward_keeps_no_graph():
    # The fast path stays the default: without create_graph the gradients carry no graph.
    ref, ours = twins("bptt", 3, 4)
    leaves = inputs(ref)
    output, _, _ = functional(ours)(*leaves)
    (g,) = torch.autograd.grad(output.sum(), leaves[0])
    assert g.grad_fn is None and not g.requires_grad


# --- torch.func --------------------------------------------------------------------------
def func_twins(loops):
    ref, ours = twins("bptt", 3, 4, num_layers=2, bidirectional=True, proj_size=2)
    params = {name: p.detach() for name, p in ref.named_parameters()}
    return ref, ours, params


@pytest.mark.parametrize("loops", LOOPS)
def test_torch_func_grad_and_jacrev_match_torch(loops):
    ref, ours, params = func_twins(loops)
    x = torch.randn(4, 2, 3, dtype=torch.float64)

    def loss(module):
        return lambda p, x: functional_call(module, p, (x,))[0].pow(2).sum()

    with bptt.use_loops(loops):
        ours_grad = grad(loss(ours), argnums=(0, 1))(params, x)
        ours_jac_x = jacrev(lambda x: functional_call(ours, params, (x,))[0])(x)
        ours_jac_p = jacrev(lambda p: functional_call(ours, p, (x,))[1][0])(params)
    torch.testing.assert_close(ours_grad, grad(loss(ref), argnums=(0, 1))(params, x))
    torch.testing.assert_close(ours_jac_x, jacrev(lambda x: functional_call(ref, params, (x,))[0])(x))
    torch.testing.assert_close(ours_jac_p, jacrev(lambda p: functional_call(ref, p, (x,))[1][0])(params))


@pytest.mark.parametrize("loops", LOOPS)
def test_torch_func_vmap_matches_torch_one_problem_at_a_time(loops):
    # torch.nn.LSTM itself has no vmap rule: the reference is a Python loop over the problems.
    ref, ours, params = func_twins(loops)
    xs = torch.randn(3, 4, 2, 3, dtype=torch.float64)                 # 3 problems of (T, B, I)
    x = xs[0]
    w = torch.stack([params["weight_hh_l0"], 2 * params["weight_hh_l0"]])

    def run(module, p, x):
        return functional_call(module, p, (x,))[0]

    def sample_loss(module):
        return lambda p, x: run(module, p, x).pow(2).sum()

    with bptt.use_loops(loops):
        batched_inputs = vmap(lambda x: run(ours, params, x))(xs)
        unbatched_rows = vmap(lambda row: run(ours, params, row), in_dims=1)(x)      # each row unbatched
        batched_weights = vmap(lambda w: run(ours, {**params, "weight_hh_l0": w}, x))(w)
        per_sample_grads = vmap(grad(sample_loss(ours)), in_dims=(None, 1))(params, x)
    torch.testing.assert_close(batched_inputs, torch.stack([run(ref, params, x) for x in xs]))
    torch.testing.assert_close(unbatched_rows, torch.stack([run(ref, params, x[:, b]) for b in range(x.size(1))]))
    torch.testing.assert_close(batched_weights, torch.stack([run(ref, {**params, "weight_hh_l0": v}, x) for v in w]))
    ref_grads = [grad(sample_loss(ref))(params, x[:, b]) for b in range(x.size(1))]
    torch.testing.assert_close(per_sample_grads, {k: torch.stack([g[k] for g in ref_grads]) for k in params})


# --- torch.compile -----------------------------------------------------------------------
COMPILE_BACKENDS = ["cell", "bptt", "torch"]


def assert_call_matches_torch(call, ref, x):
    """call(x) and torch's ref(x) give the same output, h_n, c_n and input gradient (float64)."""
    x_ours, x_ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    output, (h_n, c_n) = call(x_ours)
    ref_output, (ref_h_n, ref_c_n) = ref(x_ref)
    torch.testing.assert_close((output, h_n, c_n), (ref_output, ref_h_n, ref_c_n))
    (output.sum() + (c_n ** 2).sum()).backward()
    (ref_output.sum() + (ref_c_n ** 2).sum()).backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad)


@pytest.mark.parametrize("backend", COMPILE_BACKENDS)
def test_torch_compile_matches_torch(backend):
    torch._dynamo.reset()
    ref, ours = twins(backend, 3, 4, num_layers=2)
    assert_call_matches_torch(torch.compile(ours), ref, torch.randn(3, 2, 3, dtype=torch.float64))
    torch.testing.assert_close([p.grad for p in ours.parameters()], [p.grad for p in ref.parameters()])


@pytest.mark.parametrize("backend, graphs", [("cell", 1), ("torch", 1)])
def test_torch_compile_traces_one_graph(backend, graphs):
    # What the README promises: "cell" compiles to one graph from the first call; "torch" runs its fused op
    # eagerly beside that graph, as dynamo treats torch.nn.LSTM ("bptt" breaks the graph around each layer's
    # autograd.Function, whose C++ loops dynamo cannot look into, and runs them eagerly).
    from torch._dynamo.testing import CompileCounter
    torch._dynamo.reset()
    counter = CompileCounter()
    ours = lstmlab.LSTM(3, 4, num_layers=2, backend=backend, dtype=torch.float64)
    torch.compile(ours, backend=counter)(torch.randn(3, 2, 3, dtype=torch.float64))
    assert counter.frame_count == graphs


COMPILE_FLOAT32 = """
import sys, torch, lstmlab
torch.manual_seed(0)
ref = torch.nn.LSTM(3, 4, num_layers=2)
ours = lstmlab.LSTM(3, 4, num_layers=2, backend="torch")
ours.load_state_dict(ref.state_dict(), strict=True)
compiled = torch.compile(ours)
for x_needs_grad in (False, True):             # the input a leaf of its own or not: both took oneDNN's op
    x = torch.randn(3, int(sys.argv[1]), 3)
    x_ours, x_ref = x.clone().requires_grad_(x_needs_grad), x.clone().requires_grad_(x_needs_grad)
    ours.zero_grad(), ref.zero_grad()
    output, (h_n, c_n) = compiled(x_ours)
    expected = ref(x_ref)
    torch.testing.assert_close((output, (h_n, c_n)), expected)
    (output.sum() + c_n.sum()).backward()
    (expected[0].sum() + expected[1][1].sum()).backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad)
    torch.testing.assert_close([p.grad for p in ours.parameters()], [p.grad for p in ref.parameters()])
print("ok")
"""


@pytest.mark.parametrize("batch", [2, 0], ids=["batch2", "empty-batch"])
def test_torch_backend_compiles_in_float32(batch):
    """Traced by dynamo, CPU float32's fused op (oneDNN) failed in inductor, and with B = 0 the process died
    of SIGFPE: hence a process of its own, forward and backward with gradients on (under no_grad both ran)."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", COMPILE_FLOAT32, str(batch)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (result.returncode, result.stderr[-2000:])


@pytest.mark.parametrize("backend", ["bptt", "cell"])
@pytest.mark.parametrize("options", OPTIONS)
def test_batched_gradients_match_torch(backend, options):
    """autograd.grad(..., is_grads_batched=True) and jacobian(vectorize=True) vmap the backward: "bptt"'s C++
    loops have no batching rule, so it takes the same equations in torch ops (it raised)."""
    ref, ours = twins(backend, 3, 4, **options)
    x = inputs(ref)[0]
    output, ref_output = ours(x)[0], ref(x)[0]
    vectors = torch.randn(3, *output.shape, dtype=torch.float64)
    got = torch.autograd.grad(output, list(ours.parameters()), vectors, is_grads_batched=True)
    expected = torch.autograd.grad(ref_output, list(ref.parameters()), vectors, is_grads_batched=True)
    torch.testing.assert_close(got, expected)
    jacobian = torch.autograd.functional.jacobian(lambda z: ours(z)[0], x, vectorize=True)
    torch.testing.assert_close(jacobian, torch.autograd.functional.jacobian(lambda z: ref(z)[0], x, vectorize=True))


# --- torch.export and torch.jit.trace -----------------------------------------------------------
@pytest.mark.parametrize("backend", ["cell", "bptt"])
@pytest.mark.parametrize("record", ["export", "trace"])
def test_export_and_trace_record_a_graph_with_torchs_answers(backend, record):
    """torch.export and jit.trace record the ops a call runs. "bptt"'s C++ loops are opaque ops to them
    (export: no shape function; trace: refuses the op's optional output), and "cell" traced two different
    graphs (the inference path in one run, the training path in the other). Inside them every backend now
    records the textbook loop; the recorded graph, run on a new input and differentiated, gives torch's answers."""
    options = {"num_layers": 2, "bidirectional": True, "proj_size": 2, "batch_first": True}
    ref, ours = twins(backend, 3, 4, **options)
    example = torch.randn(2, 5, 3, dtype=torch.float64)
    graph = torch.export.export(ours, (example,)).module() if record == "export" else torch.jit.trace(ours, (example,))
    assert_call_matches_torch(graph, ref, torch.randn(2, 5, 3, dtype=torch.float64))     # a new input


def test_forward_mode_on_bptt_names_the_backend_that_has_it():
    x = torch.randn(3, 2, 3, dtype=torch.float64)
    ours = lstmlab.LSTM(3, 4, backend="bptt", dtype=torch.float64)
    with pytest.raises(NotImplementedError, match=r"no forward-mode derivative .* use backend='cell'"):
        torch.func.jvp(lambda z: ours(z)[0], (x,), (torch.ones_like(x),))
    ref, cell = twins("cell", 3, 4)
    _, tangent = torch.func.jvp(lambda z: cell(z)[0], (x,), (torch.ones_like(x),))
    _, expected = torch.func.jvp(lambda z: ref(z)[0], (x,), (torch.ones_like(x),))
    torch.testing.assert_close(tangent, expected)


def test_compiling_bptt_traces_nothing_it_cannot_look_into():
    """dynamo traced into the Function, met the C++ loops' loader (lru_cache, os.stat, …) and printed a page
    of warnings before giving up on it; run_direction now runs eagerly between graphs."""
    import warnings
    torch._dynamo.reset()
    ref, ours = twins("bptt", 3, 4, num_layers=2)
    x = torch.randn(3, 2, 3, dtype=torch.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_call_matches_torch(torch.compile(ours), ref, x)
    dynamo = [str(w.message)[:80] for w in caught if "Dynamo" in str(w.message)]
    assert not dynamo, dynamo
