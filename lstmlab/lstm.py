"""lstmlab.LSTM: a multi-layer LSTM with torch.nn.LSTM's interface and interchangeable backends.

Same constructor, parameter names, shapes, registration order and init as torch.nn.LSTM, so a
state_dict moves between the two with strict=True. Layer l, direction d (suffix "_reverse") owns

    weight_ih_l{l}  (4H, I_l)   I_0 = input_size, I_l = D·P for l > 0
    weight_hh_l{l}  (4H, P)     P = proj_size if proj_size > 0 else H
    bias_ih_l{l}, bias_hh_l{l}  (4H,)     when bias=True
    weight_hr_l{l}  (P, H)      when proj_size > 0:  h_t = W_hr (o_t ⊙ tanh(c_t))

Input forms: (T, B, I), batch_first (B, T, I), unbatched (T, I), or a PackedSequence.
"""
import math

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from . import backends
from .cell import lstm_cell
from .layers import direction_weights, parameter_shapes, run_layers
from .sequences import packed_to_padded, padded_to_packed
from .validation import (autocast_on, check_hidden_size, check_lstm_args, check_lstm_input, check_lstm_state,
                         check_lstm_weights, check_rnn_input, _check_is_tensor, _check_state_pair)


def _autocast_dtype(x, hx, weight_dtype, packed=False):
    """The dtype torch.autocast asks for on x's device, when it is on and casts this call; else None.

    Autocast casts floating-point tensors other than float64 (torch's is_eligible): a float64 LSTM on
    float64 input runs in float64, as torch.nn.LSTM does; float64 beside a tensor that would be cast is
    refused here (torch fails inside its op with "mat1 and mat2 must have the same dtype"), and so is a
    state that is not floating point (torch: "get_mkldnn_dtype: unsupported data type"). On the CPU,
    autocast does not cast torch's LSTM on packed input (its PackedSequence overload has no autocast rule
    there): neither does this, when input, state and weights have one dtype (then it runs as given; with
    several, they are cast as for a tensor, where torch's op fails or mixes them)."""
    if not x.is_floating_point() or not autocast_on(x.device.type):
        return None
    for idx, state in enumerate(hx):
        if not state.is_floating_point():
            raise RuntimeError(f"LSTM hx[{idx}] dtype ({state.dtype}) is not a floating-point type: under "
                               f"torch.autocast only floating-point tensors are cast; convert it: "
                               f"hx[{idx}].to({weight_dtype})")
    dtypes = {"input": x.dtype, "hx[0]": hx[0].dtype, "hx[1]": hx[1].dtype, "weights": weight_dtype}
    if packed and x.device.type == "cpu" and len(set(dtypes.values())) == 1:
        return None
    if torch.float64 not in dtypes.values():
        return torch.get_autocast_dtype(x.device.type)
    if set(dtypes.values()) == {torch.float64}:
        return None
    given = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
    raise RuntimeError(f"under torch.autocast, float64 tensors are not cast and the others are: expected one "
                       f"dtype for input, hx and weights, or all float64, got {given}")


class LSTM(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, backend="auto"):
        super().__init__()
        check_lstm_args(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size)
        backends.check_backend(backend)
        # Load the backend's module now (for "auto": the CPU's pick), not inside the first forward call:
        # torch.compile then finds it loaded and traces forward without a graph break.
        if backend == "auto":
            backends.resolve_backend("auto", device if device is not None else "cpu").load()
        else:
            backends.BACKENDS[backend].load()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self.backend = backend
        self.mode = "LSTM"                                                  # torch.nn.RNNBase's attribute

        num_directions = 2 if bidirectional else 1
        self._all_weights = []                                              # names, per layer·direction
        for layer in range(num_layers):
            shapes = parameter_shapes(input_size, hidden_size, proj_size, num_directions, bias, layer)
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                for kind, shape in shapes.items():
                    self.register_parameter(kind + suffix, nn.Parameter(torch.empty(shape, **factory)))
                self._all_weights.append([kind + suffix for kind in shapes])
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        self.reset_parameters()

    def reset_parameters(self):
        """Every parameter ~ U(−1/√H, 1/√H), drawn in registration order as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    # --- torch.nn.LSTM's views of the parameters -------------------------------------------
    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def real_hidden_size(self):
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def direction_weights(self, layer, direction=0):
        """The parameters of one layer and direction as a DirectionWeights tuple."""
        return direction_weights(self, layer, direction)

    def flatten_parameters(self):
        """No-op, for code written against torch.nn.LSTM."""

    # --- torch.nn.LSTM's checks, for code that calls them (input as forward takes it) ---------
    def check_input(self, input, batch_sizes):
        check_rnn_input(self, input, batch_sizes)

    def _state_sizes(self, batch):
        """h_0's (L·D, B, P) and c_0's (L·D, B, H) for a batch of B rows."""
        layers = self.num_layers * self.num_directions
        return (layers, batch, self.real_hidden_size), (layers, batch, self.hidden_size)

    def _mini_batch(self, input, batch_sizes):
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input, batch_sizes):
        return self._state_sizes(self._mini_batch(input, batch_sizes))[0]

    def get_expected_cell_size(self, input, batch_sizes):
        return self._state_sizes(self._mini_batch(input, batch_sizes))[1]

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        check_hidden_size(hx, expected_hidden_size, msg)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        """hx's rows (dim 1) in ``permutation``'s order (a PackedSequence's sorted_indices); None: as they are."""
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    # --- forward ------------------------------------------------------------------------
    def forward(self, input, hx=None):
        """Same inputs and outputs as torch.nn.LSTM.forward: returns output, (h_n, c_n)."""
        is_packed = isinstance(input, PackedSequence)
        if is_packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            x, is_batched = data, True
        else:
            _check_is_tensor("input", input)
            if input.dim() not in (2, 3):
                raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
            batch_sizes = sorted_indices = unsorted_indices = None
            is_batched = input.dim() == 3
            x = input if is_batched else input.unsqueeze(0 if self.batch_first else 1)
            if self.batch_first:
                x = x.transpose(0, 1)                                         # (T, B, I) time-major
        if hx is not None:
            hx = self._batched_state(hx, is_batched, is_packed)
        check_lstm_input(self, x, batch_sizes)                     # (an empty batch_sizes is refused here)
        batch = self._mini_batch(x, batch_sizes) if is_packed else x.size(1)
        hx = self._initial_state(x, batch, hx, sorted_indices)

        output, h_n, c_n = self._run(x, batch_sizes, hx)

        if is_packed:
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            h_n, c_n = self.permute_hidden((h_n, c_n), unsorted_indices)
            return output, (h_n, c_n)
        if self.batch_first:
            output = output.transpose(0, 1)                                   # (B, T, D·P)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)

    @staticmethod
    def _batched_state(hx, is_batched, is_packed):
        """Check hx is a pair of the input's rank; give unbatched states their batch dimension."""
        _check_state_pair(hx)
        if is_packed:                            # a PackedSequence is always batched
            return hx
        rank = 3 if is_batched else 2
        if hx[0].dim() != rank or hx[1].dim() != rank:
            kind = "batched 3-D" if is_batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx and cx should also be {rank}-D "
                               f"but got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        return hx if is_batched else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))

    def _initial_state(self, x, batch, hx, sorted_indices):
        """Check or create (h_0 (L·D, B, P), c_0 (L·D, B, H)), in the packed (sorted) row order."""
        h_size, c_size = self._state_sizes(batch)
        if hx is None:
            return x.new_zeros(h_size), x.new_zeros(c_size)
        check_lstm_state(self, hx, h_size, c_size, x.device)
        return self.permute_hidden(hx, sorted_indices)             # the user's row order -> the packed order

    def _backend_module(self, device):
        """The module implementing this LSTM's backend for tensors on ``device``."""
        return backends.resolve_backend(self.backend, device).load()

    def _run(self, x, batch_sizes, hx):
        backend = self._backend_module(x.device)
        if hasattr(backend, "run_stack"):
            return backend.run_stack(self, x, batch_sizes, hx)
        lengths = positions = None
        if batch_sizes is not None:
            x, lengths, positions = packed_to_padded(x, batch_sizes)          # (T, B, I)
        weights = [self.direction_weights(layer, direction)
                   for layer in range(self.num_layers) for direction in range(self.num_directions)]
        check_lstm_weights(self, weights)
        autocast = _autocast_dtype(x, hx, self.weight_ih_l0.dtype, packed=lengths is not None)
        if autocast is not None:
            # as torch.nn.LSTM under torch.autocast: input, state and weights in the lower precision (the
            # casts are differentiable: the float32 parameters get float32 gradients)
            x, hx = x.to(autocast), (hx[0].to(autocast), hx[1].to(autocast))
            weights = [type(w)(*(t.to(autocast) if t is not None else None for t in w)) for w in weights]
        if autocast_on(x.device.type):
            # cast above, or not cast at all (float64 throughout, or packed on the CPU): either way autocast
            # is off inside, so each backend runs on tensors of one dtype and its own matmuls are not cast
            # behind its back
            with torch.autocast(x.device.type, enabled=False):
                return self._run_layers(backend, x, hx, weights, lengths, positions)
        return self._run_layers(backend, x, hx, weights, lengths, positions)

    def _run_layers(self, backend, x, hx, weights, lengths, positions):
        output, h_n, c_n = run_layers(backend.run_direction, x, hx[0], hx[1], weights, self.num_directions,
                                      self.dropout, self.training, lengths,
                                      getattr(backend, "run_direction_inference", None),
                                      getattr(backend, "SAVES_OUTPUTS", False))
        if positions is not None:
            output = padded_to_packed(output, positions)                      # (N, D·P)
        return output, h_n, c_n

    # --- one step at a time ---------------------------------------------------------------
    def step(self, x, hx):
        """One time step through every layer with the from-scratch cell, on this LSTM's weights.

        For autoregressive generation: x (B, I), hx = (h (L, B, P), c (L, B, H)), or None for zeros ->
        output (B, P), (h', c'). Unidirectional only — a backward direction needs the whole future.
        """
        if self.bidirectional:
            raise RuntimeError("LSTM.step runs one step forward in time; a bidirectional LSTM needs the whole sequence")
        _check_is_tensor("x", x)
        if x.dim() != 2 or x.size(1) != self.input_size:
            raise RuntimeError(f"LSTM.step: x must be (batch, {self.input_size}), got {tuple(x.shape)}")
        check_lstm_input(self, x[None], None)                                 # dtype and device, as forward
        expected = self._state_sizes(x.size(0))                              # unidirectional: L·D = L
        if hx is None:
            hx = (x.new_zeros(expected[0]), x.new_zeros(expected[1]))
        _check_state_pair(hx)
        check_lstm_state(self, hx, expected[0], expected[1], x.device)       # no silent broadcast, no extra layers
        autocast = _autocast_dtype(x, hx, self.weight_ih_l0.dtype)
        if autocast is not None:                                              # as forward casts them
            x, hx = x.to(autocast), (hx[0].to(autocast), hx[1].to(autocast))
        layer_input = x                                                       # (B, I)
        new_h, new_c = [], []
        for layer in range(self.num_layers):
            w = self.direction_weights(layer)
            if self.bias and (w.bias_ih is None or w.bias_hh is None):
                check_lstm_weights(self, [self.direction_weights(k) for k in range(self.num_layers)])   # as forward
            if autocast is not None:
                w = type(w)(*(t.to(autocast) if t is not None else None for t in w))
            h, c = lstm_cell(layer_input, hx[0][layer], hx[1][layer], w.weight_ih, w.weight_hh, w.bias_ih, w.bias_hh)
            if w.weight_hr is not None:
                h = h @ w.weight_hr.T                                         # (B, P)
            new_h.append(h)
            new_c.append(c)
            layer_input = h
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = nn.functional.dropout(layer_input, self.dropout, training=True)
        return layer_input, (torch.stack(new_h), torch.stack(new_c))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(proj_size=0, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)
        for key, default in defaults.items():
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s + f", backend={self.backend!r}"
