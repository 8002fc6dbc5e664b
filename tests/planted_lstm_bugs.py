"""Deliberately wrong LSTMs (one known bug each) and correct ones written independently of lstmlab.

Used by tests/test_conformance_planted.py to show lstmlab.testing catches each bug and names it, and
passes a correct third-party-style implementation with its own parameter names and layout.
Nothing here imports lstmlab: these are "anyone's" LSTMs.
"""
import math

import torch
from torch import nn


# --- step functions: step(x, (h, c), weights) -> (h, c), weights under torch.nn.LSTMCell's names ---------
def correct_step(x, state, weights):
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gate_order_swapped(x, state, weights):
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    i, f, o, g = gates.chunk(4, dim=-1)                      # bug: torch stacks i, f, g, o
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def bias_missing(x, state, weights):
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T   # bug: no bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def bias_added_twice(x, state, weights):
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_ih"]   # bug
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def initial_state_ignored(x, state, weights):
    h, c = (torch.zeros_like(t) for t in state)               # bug: the given state is never used
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def sigmoid_for_tanh(x, state, weights):
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.sigmoid(g)     # bug: g = tanh(·)
    return torch.sigmoid(o) * torch.tanh(c), c


def h_and_c_swapped(x, state, weights):
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return c, torch.sigmoid(o) * torch.tanh(c)               # bug: torch returns (h, c)


def transposed_weight(x, state, weights):
    """Per-gate matrices, the recurrent ones used as stored: (H, H) blocks, so no shape error warns."""
    h, c = state
    w_i = weights["weight_ih"].chunk(4, dim=0)               # 4 × (H, I)
    w_h = weights["weight_hh"].chunk(4, dim=0)               # 4 × (H, H)
    b = (weights["bias_ih"] + weights["bias_hh"]).chunk(4)
    pre = [x @ w_i[k].T + h @ w_h[k] + b[k] for k in range(4)]          # bug: h @ w_h[k].T
    i, f, g, o = pre
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def forget_gate_ignored(x, state, weights):
    """A bug that is in no list of known patterns: c' = c + i ⊙ g (the forget gate never applied)."""
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    i, f, g, o = gates.chunk(4, dim=-1)
    c = c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def sigmoid_from_its_definition(x, state, weights):
    """σ(z) = 1/(1 + e⁻ᶻ) as written: right, but autograd's derivative e⁻ᶻ/(1 + e⁻ᶻ)² is inf/inf at z = −1000."""
    h, c = state
    gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
    sigmoid = lambda z: 1 / (1 + torch.exp(-z))                                  # noqa: E731
    i, f, g, o = gates.chunk(4, dim=-1)
    c = sigmoid(f) * c + sigmoid(i) * g.tanh()
    return sigmoid(o) * c.tanh(), c


# --- a third party's cell: its own names and layout (inputs on the left, gates ordered i, f, o, g, one bias) -
class ThirdPartyCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.W_x = nn.Parameter(torch.empty(input_size, 4 * hidden_size))      # columns i, f, o, g
        self.W_h = nn.Parameter(torch.empty(hidden_size, 4 * hidden_size))
        self.b = nn.Parameter(torch.empty(4 * hidden_size)) if bias else None
        bound = 1 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, state=None):
        if state is None:
            zeros = x.new_zeros(*x.shape[:-1], self.hidden_size)
            state = (zeros, zeros)
        h, c = state
        z = x @ self.W_x + h @ self.W_h
        if self.b is not None:
            z = z + self.b
        i, f, o, g = z.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


def _ifog(weight):
    """torch's blocks (i, f, g, o) -> this layout's (i, f, o, g)."""
    i, f, g, o = weight.chunk(4, dim=0)
    return torch.cat([i, f, o, g], dim=0)


def third_party_layout(torch_weights, suffix=""):
    """torch's weights -> ThirdPartyCell's names; differentiable, so gradients flow back to torch's names."""
    layout = {"W_x": _ifog(torch_weights["weight_ih" + suffix]).T,
              "W_h": _ifog(torch_weights["weight_hh" + suffix]).T}
    if "bias_ih" + suffix in torch_weights:
        layout["b"] = _ifog(torch_weights["bias_ih" + suffix] + torch_weights["bias_hh" + suffix])
    return layout


def wrong_third_party_layout(torch_weights):
    """The same hook, with the gate blocks left in torch's order: the layout hook's bug, not the cell's."""
    layout = {"W_x": torch_weights["weight_ih"].T, "W_h": torch_weights["weight_hh"].T}
    if "bias_ih" in torch_weights:
        layout["b"] = torch_weights["bias_ih"] + torch_weights["bias_hh"]
    return layout


class ThirdPartyLSTM(nn.Module):
    """Stacked ThirdPartyCells: layers, bias, batch_first and unbatched input; no bidirectional, proj or packing."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.batch_first = batch_first
        self.cells = nn.ModuleList(ThirdPartyCell(input_size if k == 0 else hidden_size, hidden_size, bias)
                                   for k in range(num_layers))

    def forward(self, x, state=None):
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
            state = None if state is None else (state[0].unsqueeze(1), state[1].unsqueeze(1))
        elif self.batch_first:
            x = x.transpose(0, 1)
        if state is None:
            zeros = x.new_zeros(self.num_layers, x.shape[1], self.hidden_size)
            state = (zeros, zeros)
        h_n, c_n = [], []
        for layer, cell in enumerate(self.cells):
            h, c = state[0][layer], state[1][layer]
            outputs = []
            for x_t in x.unbind(0):
                h, c = cell(x_t, (h, c))
                outputs.append(h)
            x = torch.stack(outputs)
            h_n.append(h)
            c_n.append(c)
        h_n, c_n = torch.stack(h_n), torch.stack(c_n)
        if unbatched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)


def third_party_lstm_layout(torch_weights):
    layers = sorted({int(name.split("_l")[1]) for name in torch_weights})
    return {f"cells.{layer}.{name}": value for layer in layers
            for name, value in third_party_layout(torch_weights, f"_l{layer}").items()}


# --- LSTM modules with one bug each (subclasses of the correct one) -------------------------------------------
class OffByOneLSTM(ThirdPartyLSTM):
    """Emits the state *before* each update: output[t] = h_{t−1}. h_n and c_n are right."""

    def forward(self, x, state=None):
        output, (h_n, c_n) = super().forward(x, state)
        time = 1 if self.batch_first and x.dim() == 3 else 0
        h_first = (state[0][-1] if state is not None else torch.zeros_like(h_n[-1])).unsqueeze(time)
        shifted = torch.cat([h_first, output.narrow(time, 0, output.shape[time] - 1)], dim=time)
        return shifted, (h_n, c_n)


class ForgetBiasOneCell(ThirdPartyCell):
    """Right forward and backward; its init sets the forget-gate bias to 1 (a common trick, not torch's init)."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)
        if self.b is not None:
            with torch.no_grad():
                self.b[hidden_size:2 * hidden_size] = 1.0


class _DropGradient(torch.autograd.Function):
    """Identity forward; a hand-written backward that forgets to pass the gradient on."""

    @staticmethod
    def forward(ctx, tensor):
        return tensor.clone()

    @staticmethod
    def backward(ctx, grad):
        return torch.zeros_like(grad)


class H0GradientLostLSTM(ThirdPartyLSTM):
    """Forward right; the gradient for h_0 is lost in a hand-written backward."""

    def forward(self, x, state=None):
        if state is not None:
            state = (_DropGradient.apply(state[0]), state[1])
        return super().forward(x, state)


class FirstLayerStateEverywhereLSTM(ThirdPartyLSTM):
    """Every layer starts from layer 0's initial state: right for one layer, wrong from layer 1 on."""

    def forward(self, x, state=None):
        if state is not None:
            state = tuple(s[:1].expand_as(s) for s in state)
        return super().forward(x, state)


class UnflippedReverseLSTM(nn.LSTM):
    """torch's LSTM, with the reverse direction's outputs left in its own (back-to-front) order."""

    def forward(self, x, hx=None):
        output, state = super().forward(x, hx)
        if self.bidirectional and not isinstance(output, nn.utils.rnn.PackedSequence):
            half = output.shape[-1] // 2
            time = 1 if self.batch_first and x.dim() == 3 else 0
            output = torch.cat([output[..., :half], output[..., half:].flip(time)], dim=-1)
        return output, state


class ReverseGateOrderLSTM(nn.Module):
    """A bidirectional LSTM from a cell with the gate order bug in the reverse direction only."""

    def __init__(self, input_size, hidden_size, bidirectional=False):
        super().__init__()
        self.forward_lstm = nn.LSTM(input_size, hidden_size)
        self.reverse_lstm = nn.LSTM(input_size, hidden_size) if bidirectional else None
        self.num_layers, self.bidirectional = 1, bidirectional

    def forward(self, x, state):
        h0, c0 = state
        out_f, (h_f, c_f) = self.forward_lstm(x, (h0[:1], c0[:1]))
        if self.reverse_lstm is None:
            return out_f, (h_f, c_f)
        out_r, (h_r, c_r) = self.reverse_lstm(x.flip(0), (h0[1:], c0[1:]))
        return torch.cat([out_f, out_r.flip(0)], -1), (torch.cat([h_f, h_r]), torch.cat([c_f, c_r]))


def reverse_gate_order_layout(torch_weights):
    """Forward weights as they are; the reverse ones with blocks g and o swapped (the bug)."""
    mapped = {}
    for name, value in torch_weights.items():
        kind = name.split("_l0")[0]
        if name.endswith("_reverse"):
            mapped[f"reverse_lstm.{kind}_l0"] = _ifog(value)
        else:
            mapped[f"forward_lstm.{kind}_l0"] = value
    return mapped
