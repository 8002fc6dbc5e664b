"""lstmlab.LSTMCell against torch.nn.LSTMCell: outputs, states and every gradient, in float64."""
import pytest
import torch

import lstmlab


def cell_twins(input_size=5, hidden_size=7, bias=True):
    torch.manual_seed(0)
    ref = torch.nn.LSTMCell(input_size, hidden_size, bias=bias, dtype=torch.float64)
    torch.manual_seed(0)
    ours = lstmlab.LSTMCell(input_size, hidden_size, bias=bias, dtype=torch.float64)
    return ref, ours


def test_same_parameters_names_and_init_as_torch():
    ref, ours = cell_twins()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    for (name, a), b in zip(ours.named_parameters(), ref.parameters()):
        assert torch.equal(a, b), name            # same seed, same draws in the same order


def test_bias_false_has_no_bias_parameters():
    ref, ours = cell_twins(bias=False)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight_ih", "weight_hh"]
    assert ours.bias_ih is None and ours.bias_hh is None


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [True, False], ids=["hx", "no-hx"])
def test_cell_matches_torch(bias, batched, with_hx):
    ref, ours = cell_twins(bias=bias)
    ours.load_state_dict(ref.state_dict(), strict=True)
    shape = (3,) if batched else ()
    x = torch.randn(*shape, 5, dtype=torch.float64)
    hx = (torch.randn(*shape, 7, dtype=torch.float64), torch.randn(*shape, 7, dtype=torch.float64)) if with_hx else None
    results = []
    for module in (ours, ref):
        x_leaf = x.clone().requires_grad_(True)
        hx_leaf = tuple(t.clone().requires_grad_(True) for t in hx) if hx is not None else None
        h, c = module(x_leaf, hx_leaf)
        (h * torch.linspace(-1, 1, 7, dtype=torch.float64)).sum().backward(retain_graph=True)
        (c.sin()).sum().backward()
        grads = [x_leaf.grad] + ([t.grad for t in hx_leaf] if hx is not None else [])
        grads += [p.grad for p in module.parameters()]
        results.append(([h, c], grads))
    (ours_out, ours_grads), (ref_out, ref_grads) = results
    assert ours_out[0].shape == ref_out[0].shape
    for a, b in zip(ours_out + ours_grads, ref_out + ref_grads):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("input_size,hidden_size", [(0, 7), (5, 0), (0, 0)], ids=["no-input", "no-state", "neither"])
def test_zero_sizes_are_cells_as_in_torch(input_size, hidden_size):
    """torch.nn.LSTMCell(0, H) runs on h alone and LSTMCell(I, 0) has an empty state: the same parameters
    (the same draws), outputs and gradients here."""
    ref, ours = cell_twins(input_size, hidden_size)
    for (name, a), b in zip(ours.named_parameters(), ref.parameters()):
        assert a.shape == b.shape and torch.equal(a, b), name
    x = torch.randn(3, input_size, dtype=torch.float64)
    hx = (torch.randn(3, hidden_size, dtype=torch.float64), torch.randn(3, hidden_size, dtype=torch.float64))
    results = []
    for module in (ours, ref):
        leaves = [t.clone().requires_grad_(True) for t in (x, *hx)]
        h, c = module(leaves[0], tuple(leaves[1:]))
        (h.sum() + c.sin().sum()).backward()
        results.append([h, c] + [t.grad for t in leaves] + [p.grad for p in module.parameters()])
    for a, b in zip(*results):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b)
    assert ours(torch.randn(input_size, dtype=torch.float64))[0].shape == (hidden_size,)     # unbatched


def test_cell_gradcheck():
    torch.manual_seed(0)
    cell = lstmlab.LSTMCell(3, 4, dtype=torch.float64)
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *args: cell(args[0], (args[1], args[2])), (x, h, c))


def test_state_dict_round_trip_both_ways():
    ref, ours = cell_twins()
    torch.manual_seed(5)
    fresh_ours = lstmlab.LSTMCell(5, 7, dtype=torch.float64)
    fresh_ours.load_state_dict(ref.state_dict(), strict=True)
    fresh_ref = torch.nn.LSTMCell(5, 7, dtype=torch.float64)
    fresh_ref.load_state_dict(fresh_ours.state_dict(), strict=True)
    for a, b in zip(fresh_ref.parameters(), ref.parameters()):
        assert torch.equal(a, b)


def test_lstm_cell_function_gate_order_is_i_f_g_o():
    # Only the forget block of the bias is large: the cell must keep c (f ≈ 1) and write nothing
    # new (i ≈ 0.5 but g ≈ 0 with zero weights) — a permuted gate order breaks this.
    hidden = 2
    weight_ih = torch.zeros(4 * hidden, 1, dtype=torch.float64)
    weight_hh = torch.zeros(4 * hidden, hidden, dtype=torch.float64)
    bias = torch.zeros(4 * hidden, dtype=torch.float64)
    bias[hidden:2 * hidden] = 50.0                   # f block
    c = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    h_next, c_next = lstmlab.lstm_cell(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, hidden, dtype=torch.float64),
                                       c, weight_ih, weight_hh, bias, torch.zeros_like(bias))
    torch.testing.assert_close(c_next, c)
    torch.testing.assert_close(h_next, 0.5 * torch.tanh(c))


@pytest.mark.parametrize("missing", ["bias_ih", "bias_hh"])
def test_one_bias_set_to_none_leaves_the_other_as_torch_does(missing):
    """torch.lstm_cell adds each bias it is given; lstm_cell added both or neither, so with bias_ih = None it
    dropped bias_hh as well (and with bias_hh = None it failed adding None)."""
    ref, ours = cell_twins()
    for module in (ref, ours):
        setattr(module, missing, None)
    x = torch.randn(3, 5, dtype=torch.float64)
    for got, expected in zip(ours(x), ref(x)):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-15)


def test_under_autocast_the_cell_returns_torchs_dtypes():
    """Found in review: autocast cast the cell's matmuls to bfloat16 and the float32 biases promoted the gates
    back, so a bfloat16 input gave float32 h and c where torch.nn.LSTMCell gives bfloat16 (a float32 input or
    state gives float32 in both: the state is not cast). LSTM.step follows LSTM.forward: all bfloat16."""
    torch.manual_seed(0)
    ref, ours = torch.nn.LSTMCell(3, 4), lstmlab.LSTMCell(3, 4)
    ours.load_state_dict(ref.state_dict())
    exact = torch.nn.LSTMCell(3, 4, dtype=torch.float64)
    exact.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3)
    state = (torch.randn(2, 4), torch.randn(2, 4))
    for args in [(x,), (x.bfloat16(),), (x.bfloat16(), state)]:
        truth = exact(*(a.double() if torch.is_tensor(a) else tuple(t.double() for t in a) for a in args))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got, expected = ours(*args), ref(*args)
        for g, e, t in zip(got, expected, truth):
            assert g.dtype == e.dtype
            # as close to float64 as torch's own (the two round differently): a bfloat16 step, 2⁻⁸, of slack
            assert (g.double() - t).abs().max() <= (e.double() - t).abs().max() + 2 ** -8
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(RuntimeError, match="^mat1 and mat2 must have the same dtype, but got Double and BFloat16$"):
            ours(x.double())
        stack = lstmlab.LSTM(3, 4, num_layers=2)
        by_forward, _ = stack(x[None])
        by_step, _ = stack.step(x, None)
    assert by_forward.dtype == by_step.dtype == torch.bfloat16
