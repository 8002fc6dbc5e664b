"""The inference path: with no gradient wanted, backends keep nothing for backward (lstmlab/layers.py).

Twin computations: the inference path and the training path give the same outputs and states; then
what the inference path holds is checked directly — bptt never enters its autograd.Function (which
saves T·B·5H values for backward) and runs the recurrence on chunks of steps, never all T at once.
"""
import pytest
import torch

import lstmlab
from lstmlab.backends import bptt

F64 = torch.float64
OPTIONS = [dict(), dict(num_layers=2, bidirectional=True, proj_size=5), dict(batch_first=True, bias=False)]


def pair(backend, options, seed=0):
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(7, 12, dtype=F64, **options)
    ours = lstmlab.LSTM(7, 12, dtype=F64, backend=backend, **options)
    ours.load_state_dict(reference.state_dict())
    return ours, reference


@pytest.mark.parametrize("backend", ["bptt", "cell"])
@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "2-layer-bidir-proj", "batch_first-nobias"])
@pytest.mark.parametrize("no_grad", [torch.no_grad, torch.inference_mode])
def test_inference_path_equals_the_training_path_and_torch(backend, options, no_grad, monkeypatch):
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_BYTES", 1)          # chunks of 8 steps: 50 = 6 × 8 + 2
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_WEIGHTS", 0)        # nor room made for W_hh
    ours, reference = pair(backend, options)
    x = torch.randn(50, 3, 7, dtype=F64)
    if ours.batch_first:
        x = x.transpose(0, 1)                                      # (B, T, I)
    hx = (torch.randn(ours.num_layers * ours.num_directions, 3, ours.real_hidden_size, dtype=F64),
          torch.randn(ours.num_layers * ours.num_directions, 3, 12, dtype=F64))
    with no_grad():
        inference = ours(x, hx)
        expected = reference(x, hx)
    training = ours(x, hx)                                         # parameters require grad: the full path
    for a, b, c in zip([inference[0], *inference[1]], [training[0], *training[1]], [expected[0], *expected[1]]):
        torch.testing.assert_close(a, b.detach(), rtol=1e-13, atol=1e-13)
        torch.testing.assert_close(a, c, rtol=1e-12, atol=1e-12)


def must_not_run(*args):
    raise AssertionError("the autograd.Function (which saves activations for backward) ran under no_grad")


@pytest.mark.parametrize("options", OPTIONS[:2], ids=["plain", "2-layer-bidir-proj"])
def test_triton_inference_path_equals_torch(options, monkeypatch):
    """The per-step Triton kernels with one step's buffers (under the interpreter on the CPU: kept small)."""
    if "triton" not in lstmlab.available_backends("cpu"):
        pytest.skip("backend 'triton' does not run on the CPU here (needs TRITON_INTERPRET=1)")
    from lstmlab.kernels import lstm_gates
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_BYTES", 1)          # chunks of 8 steps: 20 = 8 + 8 + 4
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_WEIGHTS", 0)        # nor room made for W_hh
    monkeypatch.setattr(lstm_gates.TritonLSTMDirection, "apply", must_not_run)
    ours, reference = pair("triton", options)
    x = torch.randn(20, 2, 7, dtype=F64)
    with torch.no_grad():
        out, (h, c) = ours(x)
        ref_out, (ref_h, ref_c) = reference(x)
    for a, b in [(out, ref_out), (h, ref_h), (c, ref_c)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loops", ["python", "cpp"])
def test_bptt_inference_keeps_nothing_for_backward(loops, monkeypatch):
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_BYTES", 1)
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_WEIGHTS", 0)        # nor room made for W_hh
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, loops)
    seen_steps = []
    module = bptt.recurrence_loops(torch.zeros(1, dtype=torch.float32))
    if loops == "python":                                          # one call of the loop per chunk
        original = module.forward_recurrence

        def recording(gates, *args):
            seen_steps.append(gates.size(0))
            return original(gates, *args)

        monkeypatch.setattr(module, "forward_recurrence", recording)
    else:                                                          # one call for all chunks: their length
        original = module.inference

        def recording(*args):
            seen_steps.append(args[-1])
            return original(*args)

        monkeypatch.setattr(module, "inference", recording)
    monkeypatch.setattr(bptt.LSTMDirectionFunction, "apply", must_not_run)
    lstm = lstmlab.LSTM(4, 8, num_layers=2, backend="bptt")
    with torch.no_grad():
        lstm(torch.randn(100, 2, 4))
    assert seen_steps and max(seen_steps) == 8, seen_steps        # never all 100 steps of gates at once
    with pytest.raises(AssertionError, match="autograd.Function"):
        lstm(torch.randn(100, 2, 4))                               # grad mode: the training path


def inference_cases():
    """(options, partition, fuse_from_rows): the fuse threshold only where the walk runs on tiles — a layer
    without a projection, on tiles (auto chooses them there); elsewhere it changes nothing."""
    for name, options in [("plain", {}), ("2-layer-proj", dict(num_layers=2, proj_size=5))]:
        for partition in ["tiles", "tile-rows", "units", "rows", "auto"]:
            on_tiles = not options and partition in ("tiles", "tile-rows", "auto")
            fuses = [(0, "input-in-the-walk"), (4, "by-rows"), (10**9, "input-gemm")] if on_tiles else [(4, "")]
            for fuse, fuse_id in fuses:
                yield pytest.param(options, partition, fuse, id="-".join(filter(None, (name, partition, fuse_id))))


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize("options, partition, fuse_from_rows", inference_cases())
def test_cpp_inference_in_chunks_matches_torch(partition, fuse_from_rows, threads, options, monkeypatch):
    """The C++ inference path (kernels/lstm_cpu_inference.cpp) in chunks of 8 steps, each thread making
    the input projections of its own units (or rows: gathered first) per chunk and stepping on its own
    copy of W_hh — transposed for the GEMM, or packed into tiles (not with a projection: the GEMM then)
    — must give torch's outputs and states, and leave the caller's h_0 and c_0 as they were. On tiles,
    W_ih x_t is made either by the chunk's GEMM or in the tile walk itself (FUSE_INPUT_FROM_ROWS): both, and
    at 4 (the default) on tile-rows with 2 threads the 5 rows split 4 + 1, one thread each way."""
    from lstmlab.kernels import lstm_cpu
    monkeypatch.setattr(lstm_cpu, "FUSE_INPUT_FROM_ROWS", fuse_from_rows)
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_BYTES", 1)          # chunks of 8 steps: 20 = 8 + 8 + 4
    monkeypatch.setattr(bptt, "INFERENCE_CHUNK_WEIGHTS", 0)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    monkeypatch.setattr(lstm_cpu, "PARTITION", partition)
    monkeypatch.setattr(bptt.LSTMDirectionFunction, "apply", must_not_run)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ours, reference = pair("bptt", options)
        x = torch.randn(20, 5, 7, dtype=F64)
        states = ours.num_layers * ours.num_directions
        hx = (torch.randn(states, 5, ours.real_hidden_size, dtype=F64), torch.randn(states, 5, 12, dtype=F64))
        given = (hx[0].clone(), hx[1].clone())
        with torch.no_grad():
            out, (h, c) = ours(x, hx)
            ref_out, (ref_h, ref_c) = reference(x, given)
    finally:
        torch.set_num_threads(previous)
    for a, b in [(out, ref_out), (h, ref_h), (c, ref_c)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(hx, given):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize("partition", ["tiles", "tile-rows", "units", "rows"])
@pytest.mark.parametrize("fuse_from_rows", [0, 10**9], ids=["input-in-the-walk", "input-gemm"])
def test_cpp_inference_in_float32_lays_the_weights_out_right(partition, fuse_from_rows, threads, monkeypatch):
    """Each thread lays its weights out block by block, a whole U × U block (16 floats) transposed in
    registers and the edges value by value (lstm_cpu_tiles.h's transpose_block). The float64 tests above
    only meet 8 × 8 blocks; here H = 40 = 16 + 16 + 8 units and I = 37 = 16 + 16 + 5 inputs in float32, on
    every split. A misplaced weight errs by O(0.1); float32 rounding by ~1e-6 — the error is held to
    4× torch's own float32 error against float64, as test_cpu_loops does. On tiles W_ih is laid out in
    two ways (tiles of its own, or tiles side by side for the chunk's GEMM): both."""
    from lstmlab.kernels import lstm_cpu
    monkeypatch.setattr(lstm_cpu, "FUSE_INPUT_FROM_ROWS", fuse_from_rows)
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    monkeypatch.setattr(lstm_cpu, "PARTITION", partition)
    torch.manual_seed(0)
    reference = torch.nn.LSTM(37, 40, dtype=F64)
    torch32 = torch.nn.LSTM(37, 40)
    ours32 = lstmlab.LSTM(37, 40, backend="bptt")
    for module in (torch32, ours32):
        module.load_state_dict(reference.state_dict())
    x = torch.randn(12, 9, 37, dtype=F64)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            expected = reference(x)[0]
            torch_error = (torch32(x.float())[0].double() - expected).abs().max().item()
            ours_error = (ours32(x.float())[0].double() - expected).abs().max().item()
    finally:
        torch.set_num_threads(previous)
    assert ours_error <= 4 * torch_error, (ours_error, torch_error)


def test_variable_lengths_and_gradients_take_the_full_path():
    """A PackedSequence needs each row's own last cell state: the full run_direction runs (and agrees)."""
    ours, reference = pair("bptt", dict(num_layers=2))
    x = torch.randn(9, 3, 7, dtype=F64)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor([9, 5, 2]))
    with torch.no_grad():
        out, (h, c) = ours(packed)
        ref_out, (ref_h, ref_c) = reference(packed)
    for a, b in [(out.data, ref_out.data), (h, ref_h), (c, ref_c)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"proj_size": 9, "num_layers": 2}], ids=["plain", "2-layer-proj"])
def test_persistent_inference_keeps_no_gates_and_a_ring_of_cell_states(options, monkeypatch):
    """KEEP_FOR_BACKWARD=False: on a split grid of 3 programs (H = 40 in slices of 16), 5 steps, c_t and
    m_t in rings of two slots; the training path's autograd.Function must not run."""
    if "persistent" not in lstmlab.available_backends("cpu"):
        pytest.skip("backend 'persistent' does not run on the CPU here (needs TRITON_INTERPRET=1)")
    from lstmlab.kernels import lstm_persistent
    monkeypatch.setattr(lstm_persistent.PersistentLSTMDirection, "apply", must_not_run)
    torch.manual_seed(0)
    reference = torch.nn.LSTM(5, 40, dtype=F64, **options)
    ours = lstmlab.LSTM(5, 40, dtype=F64, backend="persistent", **options)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(5, 18, 5, dtype=F64)
    with torch.no_grad(), lstm_persistent.split_grid(16, 1):
        out, (h, c) = ours(x)
        ref_out, (ref_h, ref_c) = reference(x)
    for a, b in [(out, ref_out), (h, ref_h), (c, ref_c)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_cpp_inference_op_names_what_it_expected():
    """The C++ op checks what it is given (the Python wrapper always passes the right shapes; a direct
    call must fail with the expected shape named, not read past a buffer)."""
    from lstmlab.kernels import lstm_cpu
    op = lstm_cpu.load().lstm_inference
    x, w_ih, w_hh = torch.randn(3, 2, 5), torch.randn(16, 5), torch.randn(16, 4)
    h0, c0 = torch.zeros(2, 4), torch.zeros(2, 4)
    out, c = op(x, w_ih, w_hh, None, None, h0, c0, 8, 0, 4)
    assert out.shape == (3, 2, 4) and c.shape == (2, 4)
    with pytest.raises(RuntimeError, match=r"h0 must be \(B, P\) = \(2, 4\), got \[2, 3\]"):
        op(x, w_ih, w_hh, None, None, torch.zeros(2, 3), c0, 8, 0, 4)
    with pytest.raises(RuntimeError, match=r"c0 must be \(B, H\) = \(2, 4\), got \[3, 4\]"):
        op(x, w_ih, w_hh, None, None, h0, torch.zeros(3, 4), 8, 0, 4)
    with pytest.raises(RuntimeError, match=r"w_hr must be \(P, H\) = \(2, 4\)"):
        op(x, w_ih, torch.randn(16, 2), None, torch.randn(4, 2), torch.zeros(2, 2), c0, 8, 0, 4)
    with pytest.raises(RuntimeError, match="partition must be 0-4, got 7"):
        op(x, w_ih, w_hh, None, None, h0, c0, 8, 7, 4)
    with pytest.raises(RuntimeError, match="chunk_steps must be"):
        op(x, w_ih, w_hh, None, None, h0, c0, 0, 0, 4)


@pytest.mark.parametrize("fuse_from_rows", [0, 10**9], ids=["input-in-the-walk", "input-gemm"])
def test_cpp_inference_walks_a_big_layer_back_to_front_on_odd_steps(fuse_from_rows, monkeypatch):
    """Tiles bigger than ZIGZAG_ABOVE_BYTES (1 MiB) are walked back to front on odd steps (lstm_cpu_tiles.h's
    walk_backwards, sized by what a step walks: W_ih's and W_hh's tiles with the input in the walk, W_hh's
    alone without). Here H = I = 192 in float64 on one thread: 24 tiles × 384 values of k × 32 doubles, 2.25
    MiB in the walk, 1.1 MiB without — both past the threshold."""
    from lstmlab.kernels import lstm_cpu
    monkeypatch.setenv(bptt.LOOPS_VARIABLE, "cpp")
    monkeypatch.setattr(lstm_cpu, "PARTITION", "tiles")
    monkeypatch.setattr(lstm_cpu, "FUSE_INPUT_FROM_ROWS", fuse_from_rows)
    torch.manual_seed(0)
    reference = torch.nn.LSTM(192, 192, dtype=F64)
    ours = lstmlab.LSTM(192, 192, backend="bptt", dtype=F64)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(4, 5, 192, dtype=F64)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            out, (h, c) = ours(x)
            ref_out, (ref_h, ref_c) = reference(x)
    finally:
        torch.set_num_threads(previous)
    for a, b in [(out, ref_out), (h, ref_h), (c, ref_c)]:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
