"""Argument and input checks, with torch's exception types and messages.

Where torch checks, lstmlab raises exactly what torch raises (tests compare the two).
Where torch lets bad input through to a low-level error deep inside (a PackedSequence with
a wrong hx, an unbatched cell input with a batched hx, a cell with a negative size),
lstmlab raises an error in the same style that names what was expected and what was given.
"""
import numbers
import warnings

import torch

from .layers import parameter_shapes


def _check_flag(name, value):
    """A bool (1 is not a flag)."""
    if not isinstance(value, bool):
        kind = type(value)                        # numpy's bool is named bool too: say whose it is
        shown = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"{name} should be of type bool, got: {shown}")


def _check_integer(name, value, numpy_integers):
    """A whole number, not a bool (bool is a subclass of int: True is not a size) nor a float such as 2.0:
    a Python int, or also numpy's (np.int64 from a shape or an array) where torch takes them."""
    allowed = numbers.Integral if numpy_integers else int
    if not isinstance(value, allowed) or isinstance(value, bool):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")


def _check_positive(name, value, numpy_integers):
    """A whole number above zero (numpy_integers=False: a Python int, torch.nn.LSTM's own check of
    input_size and hidden_size)."""
    _check_integer(name, value, numpy_integers)
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")


def step_count(name, value):
    """A number of steps, an integer >= 0 (numpy's too: np.int64 from a shape), as a Python int — or a
    ValueError in the words lstmlab's own functions use: "<name> must be an integer >= 0, got -1"."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def check_cell_args(input_size, hidden_size, bias):
    """torch.nn.LSTMCell checks nothing here; lstmlab refuses what no cell can be built from (a size that is
    not a whole number >= 0; numpy's integers are taken, as torch takes them). A size of 0 is a cell, as in
    torch: LSTMCell(0, H) runs on h alone, LSTMCell(I, 0) has an empty state."""
    _check_flag("bias", bias)
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        _check_integer(name, value, numpy_integers=True)
        if value < 0:
            raise ValueError(f"{name} must be zero or greater, got {value}")


def check_lstm_args(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size):
    """torch.nn.RNNBase.__init__'s checks, in torch's order, plus type checks torch leaves out."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] "
            "representing the probability of an element being "
            "zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last "
            "recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}",
            stacklevel=3,
        )
    _check_flag("bias", bias)
    _check_flag("batch_first", batch_first)
    _check_positive("input_size", input_size, numpy_integers=False)
    _check_positive("hidden_size", hidden_size, numpy_integers=False)
    _check_positive("num_layers", num_layers, numpy_integers=True)   # torch takes numpy's integers here
    _check_flag("bidirectional", bidirectional)
    _check_integer("proj_size", proj_size, numpy_integers=True)
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


def check_cell_input(cell, input, hx):
    """torch.nn.LSTMCell.forward's checks and those of its C++ op (check_rnn_cell_forward_*)."""
    _check_is_tensor("input", input)
    if input.dim() not in (1, 2):
        raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
    if hx is not None:
        _check_state_pair(hx, "lstm_cell")
        for idx, value in enumerate(hx):
            if value.dim() not in (1, 2):
                raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
            if value.dim() != input.dim():
                raise RuntimeError(
                    f"LSTMCell: for {input.dim()}-D input, hx[{idx}] should also be {input.dim()}-D, "
                    f"got {value.dim()}-D"
                )
    # torch's cell fails inside its matmul with a RuntimeError; same type, clearer words.
    _check_dtype("LSTMCell", "input", input, cell.weight_ih.dtype, RuntimeError)
    if input.size(-1) != cell.input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(-1)} expected {cell.input_size}")
    if hx is None:
        return
    batch = input.size(0) if input.dim() == 2 else None
    for idx, value in enumerate(hx):
        if batch is not None and value.size(0) != batch:
            raise RuntimeError(f"Input batch size {batch} doesn't match hidden{idx} batch size {value.size(0)}")
        if value.size(-1) != cell.hidden_size:
            raise RuntimeError(
                f"hidden{idx} has inconsistent hidden_size: got {value.size(-1)}, expected {cell.hidden_size}"
            )
        _check_dtype("LSTMCell", f"hx[{idx}]", value, cell.weight_ih.dtype, RuntimeError)


def check_rnn_input(lstm, input, batch_sizes, dtype_error=ValueError):
    """torch.nn.RNNBase.check_input: the weights' dtype, 2 dimensions (packed data) or 3, input_size features."""
    _check_dtype("RNN", "input", input, lstm.weight_ih_l0.dtype, dtype_error)
    expected_dim = 2 if batch_sizes is not None else 3
    if input.dim() != expected_dim:
        raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
    if lstm.input_size != input.size(-1):
        raise RuntimeError(
            f"input.size(-1) must be equal to input_size. Expected {lstm.input_size}, got {input.size(-1)}"
        )


def check_lstm_input(lstm, input, batch_sizes):
    """check_rnn_input on time-major input, then the op's device check and refusal of T = 0 (an empty
    batch, B = 0, is fine); for packed data, that its batch sizes describe it."""
    # torch's forward skips check_input for packed data, and its op then fails with a RuntimeError: same type
    check_rnn_input(lstm, input, batch_sizes, ValueError if batch_sizes is None else RuntimeError)
    if batch_sizes is not None:
        check_batch_sizes(batch_sizes, input.size(0))
    weight = lstm.weight_ih_l0
    if input.device != weight.device:                     # torch's op, word for word
        raise RuntimeError(f"Input and parameter tensors are not at the same device, found input tensor at "
                           f"{input.device} and parameter tensor at {weight.device}")
    if batch_sizes is None and input.size(0) == 0:       # input is time-major here: (T, B, I)
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")    # torch's op, word for word


def check_batch_sizes(batch_sizes, rows):
    """A PackedSequence's batch_sizes: int64 (torch's op, word for word), then what torch does not check — it
    reads past the data, or ignores rows of it, and fails deep inside or not at all: 1-D, positive,
    non-increasing (sequences sorted longest first), adding up to the data's rows."""
    if batch_sizes.dtype != torch.int64:
        name = {torch.int32: "Int", torch.int16: "Short", torch.int8: "Char", torch.uint8: "Byte", torch.float32: "Float",
                torch.float64: "Double", torch.bool: "Bool"}.get(batch_sizes.dtype, str(batch_sizes.dtype))
        raise RuntimeError(f"expected scalar type Long but found {name}")
    if torch.compiler.is_compiling():
        return          # the values are data torch.compile cannot see while tracing: checked when run eagerly
    sizes = batch_sizes.tolist() if batch_sizes.dim() == 1 else None
    if sizes is None or not sizes or min(sizes) <= 0 or any(b > a for a, b in zip(sizes, sizes[1:])) \
            or sum(sizes) != rows:
        shown = sizes if sizes is None or len(sizes) <= 12 else sizes[:6] + ["..."] + sizes[-3:]
        raise RuntimeError(f"PackedSequence: batch_sizes must be a 1-D list of positive, non-increasing counts "
                           f"that add up to the data's {rows} rows, got {shown if sizes is not None else list(batch_sizes.shape)}"
                           f"{f' (sum {sum(sizes)})' if sizes else ''}; build packed input with "
                           f"torch.nn.utils.rnn.pack_padded_sequence or pack_sequence")


def check_lstm_state(lstm, hx, expected_h_size, expected_c_size, input_device=None):
    """torch.nn.LSTM.check_forward_args, hidden part: h0 (L·D, B, P), c0 (L·D, B, H); then the op's
    device check."""
    h0, c0 = hx
    check_hidden_size(h0, expected_h_size, "Expected hidden[0] size {}, got {}")
    check_hidden_size(c0, expected_c_size, "Expected hidden[1] size {}, got {}")
    for idx, value in enumerate(hx):
        # torch's op fails with a RuntimeError ("get_mkldnn_dtype: unsupported data type"): same type, clearer words
        _check_dtype("LSTM", f"hx[{idx}]", value, lstm.weight_ih_l0.dtype, RuntimeError)
        if input_device is not None and value.device != input_device:
            raise RuntimeError(f"Input and hidden tensors are not at the same device, found input tensor at "
                               f"{input_device} and hidden tensor at {value.device}")


def check_lstm_weights(lstm, weights):
    """Every layer's parameters in the shapes and the dtype its constructor gave them. A parameter replaced
    by one of another shape (lstm.weight_ih_l0 = nn.Parameter(...)) made the loops read part of it, or
    fail deep inside; torch's float64 loop fails in a matmul ("mat1 and mat2 shapes cannot be multiplied"),
    so the same type, RuntimeError, naming the parameter."""
    dtype = lstm.weight_ih_l0.dtype
    for k, w in enumerate(weights):
        layer, direction = divmod(k, lstm.num_directions)
        expected = parameter_shapes(lstm.input_size, lstm.hidden_size, lstm.proj_size, lstm.num_directions,
                                    lstm.bias, layer)                  # the shapes the constructor registered
        for kind, tensor in zip(w._fields, w):
            name = f"{kind}_l{layer}" + ("_reverse" if direction else "")
            if tensor is None:
                if kind in expected:              # set to None after construction: torch refuses it (TypeError)
                    advice = "; build the LSTM with bias=False for no biases" if kind.startswith("bias") else ""
                    raise TypeError(f"LSTM: expected {name} to be a tensor of shape {expected[kind]}, got None{advice}")
                continue
            if tuple(tensor.shape) != expected[kind]:
                raise RuntimeError(f"LSTM: expected {name} of shape {expected[kind]}, got {tuple(tensor.shape)}")
            if tensor.dtype != dtype:
                raise RuntimeError(f"LSTM: expected every parameter in weight_ih_l0's dtype ({dtype}), "
                                   f"got {name} in {tensor.dtype}: convert the model, model.to({dtype})")


def check_hidden_size(hx, expected_size, message="Expected hidden size {}, got {}"):
    """torch.nn.RNNBase.check_hidden_size: hx must have exactly the expected size (no broadcasting)."""
    if hx.size() != expected_size:
        raise RuntimeError(message.format(expected_size, list(hx.size())))


def _check_is_tensor(name, value):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} should be a torch.Tensor, got: {type(value).__name__}")


def _check_state_pair(hx, op="lstm"):
    if not isinstance(hx, (tuple, list)):
        raise TypeError(f"hx should be a tuple (h_0, c_0) of two tensors, got: {type(hx).__name__}")
    if len(hx) != 2:                                      # torch's op, word for word (then: how many were given)
        raise RuntimeError(f"{op} expects two hidden states, got {len(hx)}")
    for idx, value in enumerate(hx):
        _check_is_tensor(f"hx[{idx}]", value)


def autocast_on(device_type):
    """torch.is_autocast_enabled(device_type), False where autocast does not exist (the meta device, on
    which torch.nn.LSTM infers shapes; is_autocast_enabled("meta") raises)."""
    return torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type)


def _check_dtype(module, noun, tensor, weight_dtype, error=ValueError):
    """noun: what the tensor is called ("input", "hx[0]"), in the message and in the fix it suggests."""
    if tensor.dtype != weight_dtype and not autocast_on(tensor.device.type):
        # a model only converts to a floating dtype (Module.to refuses an integer one): no such advice then
        model_fix = f", or convert model: model.to({tensor.dtype})" if tensor.dtype.is_floating_point else ""
        raise error(
            f"{module} {noun} dtype ({tensor.dtype}) does not match weight dtype ({weight_dtype}). "
            f"Convert {noun}: {noun}.to({weight_dtype}){model_fix}"
        )
