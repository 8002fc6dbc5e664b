"""The LSTM cell, written out from the equations (Hochreiter & Schmidhuber 1997; Gers et al. 2000).

One step maps an input x and the previous state (h, c) to a new state (h', c'):

    i  = σ(W_ii x + b_ii + W_hi h + b_hi)        input gate: how much of the new candidate to write
    f  = σ(W_if x + b_if + W_hf h + b_hf)        forget gate: how much of the old cell to keep
    g  = tanh(W_ig x + b_ig + W_hg h + b_hg)     input node: the candidate cell content
    o  = σ(W_io x + b_io + W_ho h + b_ho)        output gate: how much of the cell to show
    c' = f ⊙ c + i ⊙ g                           cell state: an additive path, so gradients survive
    h' = o ⊙ tanh(c')                            hidden state

The four weight blocks are stacked in torch's order i, f, g, o: weight_ih is (4H, I) and
weight_hh is (4H, H), so one matrix product computes all four gates at once.
"""
import math

import torch
from torch import nn

from .validation import autocast_on, check_cell_args, check_cell_input


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step.  x: (B, I), h: (B, P), c: (B, H) -> h', c': (B, H).

    P is the size of h fed back (P = H unless a projection follows, see lstmlab.LSTM).
    """
    gates = x @ weight_ih.T + h @ weight_hh.T            # (B, 4H), blocks ordered i, f, g, o
    if bias_ih is not None:                               # each bias that is given, as torch.lstm_cell adds them
        gates = gates + bias_ih                           # (B, 4H)
    if bias_hh is not None:
        gates = gates + bias_hh
    i_pre, f_pre, g_pre, o_pre = gates.chunk(4, dim=1)    # 4 × (B, H)
    i = torch.sigmoid(i_pre)                              # (B, H) input gate
    f = torch.sigmoid(f_pre)                              # (B, H) forget gate
    g = torch.tanh(g_pre)                                 # (B, H) input node
    o = torch.sigmoid(o_pre)                              # (B, H) output gate
    c_next = f * c + i * g                                # (B, H) c' = f ⊙ c + i ⊙ g
    h_next = o * torch.tanh(c_next)                       # (B, H) h' = o ⊙ tanh(c')
    return h_next, c_next


class LSTMCell(nn.Module):
    """A drop-in twin of ``torch.nn.LSTMCell``: same constructor, parameters, init and
    ``state_dict``, with the gate math of :func:`lstm_cell` instead of torch's fused op."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        check_cell_args(input_size, hidden_size, bias)
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        # Registration order matters: it fixes the state_dict order and which random
        # numbers reset_parameters() draws for which tensor (same as torch).
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, **factory))   # (4H, I)
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size, **factory))  # (4H, H)
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size, **factory))  # (4H,)
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size, **factory))  # (4H,)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(−1/√H, 1/√H), as torch does (H = 0: no values to draw)."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, input, hx=None):
        """input: (N, I) or (I,); hx: optional (h, c), each (N, H) or (H,) -> (h', c')."""
        check_cell_input(self, input, hx)
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)                                       # (1, I)
        if hx is None:
            zeros = input.new_zeros(input.size(0), self.hidden_size)         # (N, H)
            hx = (zeros, zeros)
        elif not is_batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        biases = self.bias_ih, self.bias_hh
        if input.is_floating_point() and autocast_on(input.device.type):
            low = torch.get_autocast_dtype(input.device.type)
            if input.dtype == torch.float64 and self.weight_ih.dtype != torch.float64:   # not cast, beside ones that are
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got Double and "
                                   f"{'BFloat16' if low == torch.bfloat16 else 'Half'}")
            # torch.lstm_cell's gates are two linear layers, which autocast casts with their biases; the matmuls
            # here are cast, and a float32 bias would promote the gates back. The state stays as given.
            biases = tuple(b.to(low) if b is not None and b.dtype != torch.float64 else b for b in biases)
        h, c = lstm_cell(input, hx[0], hx[1], self.weight_ih, self.weight_hh, *biases)
        if not is_batched:
            h, c = h.squeeze(0), c.squeeze(0)
        return h, c

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
