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
