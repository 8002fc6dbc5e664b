"""The backward's big products on the tile kernel (kernels/lstm_cpu_matmul.cpp), twinned with torch's GEMM.

The shapes are picked to meet every edge of the kernel: output rows that are not a multiple of the 4-row
groups, columns that end inside a wide tile (64 floats, 32 doubles) and come in several blocks, K long
enough to run in several chunks (the sums of one chunk carried into the next through the output), A given as its transpose, and
B in parts of uneven size (as dW_hh's [h_0; outputs]) — on one thread and on two.
"""
import pytest
import torch

from lstmlab.backends import bptt

F64 = torch.float64


def products():
    """The kernel itself (lstm_cpu.matmul would hand narrow products to torch), and torch's product."""
    from lstmlab.kernels import lstm_cpu

    def on_tiles(a, a_transposed, b_parts):
        out = a.new_empty(a.size(1) if a_transposed else a.size(0), b_parts[0].size(1))
        lstm_cpu.load().matmul_on_tiles(a, a_transposed, b_parts, out)
        return out
    return on_tiles, bptt.matmul


CASES = [  # (M, K, N, part sizes along K or None for one part, dtype)
    (7, 1030, 70, None, torch.float32),           # 2 wide tiles, the second of 6 columns; K in 2 chunks
    (9, 40, 5, [3, 37], F64),                     # one short tile; B in two parts
    (13, 1100, 300, [1, 0, 1099], F64),           # 10 tiles: blocks of 4, 4, 2, each in chunks of 512, 512, 76
    (4, 1, 64, None, torch.float32),              # K = 1
    (8, 1, 64, None, torch.float32),              # 2 row groups, 2 threads: one has no row of B to pack
    (9, 600, 300, [250, 350], torch.float32),     # 5 tiles: blocks of 4 and 1, chunks of 512 and 88
]


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
@pytest.mark.parametrize("a_transposed", [False, True], ids=["A", "A-transposed"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"M{c[0]}-K{c[1]}-N{c[2]}-{str(c[4])[6:]}")
def test_matmul_on_tiles_equals_torch(case, a_transposed, threads):
    M, K, N, sizes, dtype = case
    ours, reference = products()
    torch.manual_seed(0)
    a = torch.randn((K, M) if a_transposed else (M, K), dtype=F64)
    b = torch.randn(K, N, dtype=F64)
    parts = list(b.split(sizes)) if sizes else [b]
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        got = ours(a.to(dtype), a_transposed, [part.to(dtype) for part in parts])
    finally:
        torch.set_num_threads(previous)
    expected = (a.T if a_transposed else a) @ b                        # float64
    torch.testing.assert_close(reference(a, a_transposed, parts), expected, rtol=1e-12, atol=1e-12)
    assert got.shape == (M, N) and got.dtype == dtype
    if dtype == F64:
        torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    else:   # float32: within 4x torch's own float32 error against float64, as the loops' tests hold them
        torch_error = (torch.mm((a.T if a_transposed else a).float(), b.float()).double() - expected).abs().max()
        assert (got.double() - expected).abs().max() <= 4 * torch_error


def test_matmul_on_tiles_with_nothing_to_sum_gives_zeros():
    ours, _ = products()
    got = ours(torch.randn(0, 3), True, [torch.randn(0, 5)])          # K = 0: Aᵀ (3, 0) · B (0, 5): zeros
    assert torch.equal(got, torch.zeros(3, 5))


def test_matmul_on_tiles_names_what_it_expected():
    from lstmlab.kernels import lstm_cpu
    op = lstm_cpu.load().matmul_on_tiles
    out = torch.empty(3, 2)
    with pytest.raises(RuntimeError, match=r"b_parts hold 4 rows, a's product needs K = 5"):
        op(torch.randn(3, 5), False, [torch.randn(4, 2)], out)
    with pytest.raises(RuntimeError, match=r"each of b_parts must be \(k, 2\), got \[1, 3\]"):
        op(torch.randn(3, 5), False, [torch.randn(4, 2), torch.randn(1, 3)], out)
    with pytest.raises(RuntimeError, match="has dtype Double, expected Float"):
        op(torch.randn(3, 5), False, [torch.randn(5, 2, dtype=F64)], out)
    with pytest.raises(RuntimeError, match="must be float32 or float64, got Int"):
        op(torch.ones(3, 5, dtype=torch.int32), False, [torch.ones(5, 2, dtype=torch.int32)], out)
    with pytest.raises(RuntimeError, match=r"out must be \(M, N\) = \(3, 2\), got \[2, 3\]"):
        op(torch.randn(3, 5), False, [torch.randn(5, 2)], torch.empty(2, 3))


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_lstm_cpu_matmul_writes_into_out_from_a_transposed_view(dtype):
    """How run_forward calls it: B = W_ihᵀ, a transposed view (copied contiguous on the way in), the
    result written into a given buffer (the gates), which is also what it returns."""
    from lstmlab.kernels import lstm_cpu
    torch.manual_seed(0)
    x, w_ih = torch.randn(30, 20, dtype=F64), torch.randn(4 * 24, 20, dtype=F64)
    out = torch.full((30, 4 * 24), float("nan"), dtype=dtype)
    got = lstm_cpu.matmul(x.to(dtype), False, [w_ih.to(dtype).T], out)
    assert got.data_ptr() == out.data_ptr()
    expected = x @ w_ih.T                                               # float64
    if dtype == F64:
        torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    else:   # within 4x torch's own float32 error against float64
        torch_error = (x.float() @ w_ih.float().T).double().sub(expected).abs().max()
        assert (out.double() - expected).abs().max() <= 4 * torch_error


def test_narrow_products_go_to_torch(monkeypatch):
    """lstm_cpu.matmul runs the tiles unless padding B's width to whole tiles (64 floats each) would be
    over a third of the arithmetic (MAX_PADDING): 32 and 65 columns go to torch's GEMM, 51, 64 and 100
    to the tiles."""
    from lstmlab.kernels import lstm_cpu
    calls = []
    monkeypatch.setattr(bptt, "matmul", lambda *args: calls.append(args) or torch.zeros(()))
    a = torch.randn(6, 5)
    for width, to_torch in [(32, True), (51, False), (64, False), (65, True), (100, False)]:
        calls.clear()
        got = lstm_cpu.matmul(a, False, [torch.randn(5, width)])
        assert bool(calls) == to_torch, width
        if not to_torch:
            assert got.shape == (6, width)
