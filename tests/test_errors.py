"""Bad input: the same exception types and messages as torch, or a clear one where torch has none."""
import warnings

import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

import lstmlab


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def raised_or_none(fn):
    """(type, message) of what fn raises, or None: for calls that torch lets through too."""
    try:
        fn()
    except Exception as error:
        return type(error), str(error)
    return None


CONSTRUCTOR_CASES = [
    pytest.param({"dropout": 1.5}, id="dropout>1"),
    pytest.param({"dropout": -0.1}, id="dropout<0"),
    pytest.param({"dropout": True}, id="dropout-bool"),
    pytest.param({"dropout": "0.1"}, id="dropout-str"),
    pytest.param({"proj_size": 7}, id="proj=hidden"),
    pytest.param({"proj_size": 9}, id="proj>hidden"),
    pytest.param({"proj_size": -1}, id="proj<0"),
    pytest.param({"hidden_size": 0}, id="hidden=0"),
    pytest.param({"hidden_size": 7.0}, id="hidden-float"),
    pytest.param({"input_size": 0}, id="input=0"),
    pytest.param({"input_size": -3}, id="input<0"),
    pytest.param({"num_layers": 0}, id="layers=0"),
    pytest.param({"bias": 1}, id="bias-int"),
    pytest.param({"batch_first": "yes"}, id="batch_first-str"),
]


@pytest.mark.parametrize("bad", CONSTRUCTOR_CASES)
def test_constructor_errors_match_torch(bad):
    kwargs = {"input_size": 5, "hidden_size": 7, **bad}
    assert raised(lambda: lstmlab.LSTM(**kwargs)) == raised(lambda: torch.nn.LSTM(**kwargs))


@pytest.mark.parametrize("bad, expected", [
    ({"num_layers": 2.0}, (TypeError, "num_layers should be of type int, got: float")),
    ({"proj_size": 2.0}, (TypeError, "proj_size should be of type int, got: float")),
    ({"bidirectional": 1}, (TypeError, "bidirectional should be of type bool, got: int")),
], ids=["layers-float", "proj-float", "bidirectional-int"])
def test_constructor_errors_torch_leaves_to_its_internals(bad, expected):
    # torch fails later with a message about tensor sizes (or not at all); lstmlab says what is wrong.
    assert raised(lambda: lstmlab.LSTM(5, 7, **bad)) == expected


def test_dropout_with_one_layer_warns_like_torch():
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        lstmlab.LSTM(5, 7, dropout=0.5)
    with warnings.catch_warnings(record=True) as ref:
        warnings.simplefilter("always")
        torch.nn.LSTM(5, 7, dropout=0.5)
    assert [str(w.message) for w in ours] == [str(w.message) for w in ref]
    assert ours[0].category is ref[0].category is UserWarning
    assert ours[0].filename == __file__            # points at the caller's line, not lstmlab's


def f64(*shape):
    return torch.randn(*shape, dtype=torch.float64)


FORWARD_CASES = [
    pytest.param({}, lambda: (f64(5),), id="input-1D"),
    pytest.param({}, lambda: (f64(2, 3, 4, 5),), id="input-4D"),
    pytest.param({}, lambda: (f64(4, 3, 6),), id="wrong-feature-size"),
    pytest.param({}, lambda: (f64(4, 6),), id="unbatched-wrong-feature-size"),
    pytest.param({}, lambda: (torch.randn(4, 3, 5),), id="dtype-mismatch"),
    pytest.param({}, lambda: (f64(4, 3, 5), (f64(1, 7), f64(1, 3, 7))), id="hx-2D-for-batched"),
    pytest.param({}, lambda: (f64(4, 5), (f64(1, 1, 7), f64(1, 7))), id="hx-3D-for-unbatched"),
    pytest.param({}, lambda: (f64(4, 3, 5), (f64(1, 2, 7), f64(1, 3, 7))), id="h0-batch"),
    pytest.param({}, lambda: (f64(4, 3, 5), (f64(1, 3, 7), f64(1, 3, 6))), id="c0-size"),
    pytest.param({"num_layers": 2}, lambda: (f64(4, 3, 5), (f64(1, 3, 7), f64(2, 3, 7))), id="h0-layers"),
    pytest.param({"proj_size": 3}, lambda: (f64(4, 3, 5), (f64(1, 3, 7), f64(1, 3, 7))), id="h0-proj-size"),
    pytest.param({"bidirectional": True}, lambda: (f64(4, 3, 5), (f64(1, 3, 7), f64(1, 3, 7))), id="bi-h0-layers"),
    pytest.param({"batch_first": True}, lambda: (f64(3, 4, 5), (f64(1, 4, 7), f64(1, 4, 7))), id="batch_first-h0-batch"),
    pytest.param({}, lambda: (f64(0, 3, 5),), id="zero-steps"),
    pytest.param({}, lambda: (f64(0, 5),), id="unbatched-zero-steps"),
    pytest.param({"batch_first": True}, lambda: (f64(3, 0, 5),), id="batch_first-zero-steps"),
    pytest.param({"bidirectional": True}, lambda: (f64(0, 0, 5),), id="bi-zero-steps-empty-batch"),
]


@pytest.mark.parametrize("options, make_args", FORWARD_CASES)
def test_forward_errors_match_torch(options, make_args):
    torch.manual_seed(0)
    args = make_args()
    ref = torch.nn.LSTM(5, 7, dtype=torch.float64, **options)
    ours = lstmlab.LSTM(5, 7, dtype=torch.float64, **options)
    assert raised(lambda: ours(*args)) == raised(lambda: ref(*args))


def test_packed_input_with_wrong_hx_gets_a_clear_error():
    # torch.nn.LSTM skips its checks for a PackedSequence and fails deep in its kernel.
    lstm = lstmlab.LSTM(5, 7, dtype=torch.float64)
    x = pack_sequence([f64(3, 5), f64(2, 5)])
    assert raised(lambda: lstm(x, (f64(1, 3, 7), f64(1, 3, 7)))) == \
        (RuntimeError, "Expected hidden[0] size (1, 2, 7), got [1, 3, 7]")
    x = pack_sequence([f64(3, 4), f64(2, 4)])
    assert raised(lambda: lstm(x)) == \
        (RuntimeError, "input.size(-1) must be equal to input_size. Expected 5, got 4")


def test_a_state_tuple_of_three_is_refused_with_torchs_type_and_words():
    h = f64(1, 3, 7)
    for ours, ref, args in ((lstmlab.LSTM(5, 7, dtype=torch.float64), torch.nn.LSTM(5, 7, dtype=torch.float64),
                             (f64(4, 3, 5), (h, h, h))),
                            (lstmlab.LSTMCell(5, 7, dtype=torch.float64), torch.nn.LSTMCell(5, 7, dtype=torch.float64),
                             (f64(3, 5), (h[0], h[0], h[0])))):
        kind, message = raised(lambda: ours(*args))
        ref_kind, ref_message = raised(lambda: ref(*args))
        assert (kind, message) == (ref_kind, ref_message + ", got 3")
    packed = pack_sequence([f64(3, 5), f64(2, 5)], enforce_sorted=False)   # torch ignores a third state here
    assert raised(lambda: lstmlab.LSTM(5, 7, dtype=torch.float64)(packed, (h, h, h))) == \
        (RuntimeError, "lstm expects two hidden states, got 3")


@pytest.mark.parametrize("backend", ["cell", "bptt", "torch"])
def test_packed_input_whose_batch_sizes_do_not_describe_it_is_refused(backend):
    """int32 batch sizes: torch's words. Batch sizes that are not int64 at all, grow, or do not add up to the
    data's rows: torch reads past the data (a deep "doesn't match the broadcast shape"), fails on its
    own index (an empty one), or ignores rows (sum < rows) — each refused here, saying what they must be."""
    from torch.nn.utils.rnn import PackedSequence
    lstm = lstmlab.LSTM(3, 4, backend=backend)
    int32 = PackedSequence(torch.randn(3, 3), torch.tensor([2, 1], dtype=torch.int32))
    assert raised(lambda: lstm(int32)) == raised(lambda: torch.nn.LSTM(3, 4)(int32))
    assert raised(lambda: lstm(PackedSequence(torch.randn(3, 3), torch.tensor([2.0, 1.0])))) == \
        (RuntimeError, "expected scalar type Long but found Float")
    for rows, sizes in ((5, [2, 1]), (3, [1, 2]), (0, []), (3, [3, 0])):
        kind, message = raised(lambda: lstm(PackedSequence(torch.randn(rows, 3), torch.tensor(sizes, dtype=torch.long))))
        assert kind is RuntimeError and message.startswith(
            "PackedSequence: batch_sizes must be a 1-D list of positive, non-increasing counts that add up to "
            f"the data's {rows} rows, got {sizes}"), message


# Two units in the last place of bfloat16 at 1 (8 significant bits): |h| < 1, and this small LSTM (3 → 4,
# 4 steps) ends 0.0008 (torch's autocast) to 0.0012 (lstmlab's bfloat16) from the float32 run.
BF16_TWO_ULPS = 2 ** -7


@pytest.mark.parametrize("backend", ["cell", "bptt"])
def test_under_autocast_a_packed_cpu_input_is_not_cast_and_an_integer_state_is_refused(backend):
    """On the CPU torch.autocast does not cast torch's LSTM on packed input: its output and states stay float32
    (its inner products still run in bfloat16, so its values carry bfloat16 rounding). lstmlab's are float32
    too, and are the float32 run's. A state that is not floating point is not cast either: refused (torch's op
    fails with "get_mkldnn_dtype: unsupported data type", the same type)."""
    torch.manual_seed(0)
    ref, ours = torch.nn.LSTM(3, 4), lstmlab.LSTM(3, 4, backend=backend)
    ours.load_state_dict(ref.state_dict())
    packed = pack_sequence([torch.randn(4, 3), torch.randn(2, 3)])
    in_float32 = ref(packed)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torchs, got = ref(packed), ours(packed)
        integer_state = (torch.zeros(1, 2, 4, dtype=torch.long),) * 2
        ref_kind = raised(lambda: ref(torch.randn(5, 2, 3), integer_state))[0]
        kind, message = raised(lambda: ours(torch.randn(5, 2, 3), integer_state))
    for a, b, c in zip((got[0].data, *got[1]), (in_float32[0].data, *in_float32[1]), (torchs[0].data, *torchs[1])):
        assert a.dtype == c.dtype == torch.float32
        torch.testing.assert_close(a, b)
        # torch's own values against its float32 run: no lstmlab change can fail this line; it guards the
        # premise above (torch keeps float32 outputs with bfloat16 inner products), should torch change it
        torch.testing.assert_close(c, b, rtol=0, atol=BF16_TWO_ULPS)
        assert (c - b).abs().max() > 0              # … and that its inner products are rounded (not float32's)
    assert kind is ref_kind is RuntimeError and "hx[0] dtype (torch.int64) is not a floating-point type" in message


@pytest.mark.parametrize("backend", ["cell", "bptt"])
def test_under_autocast_a_packed_cpu_input_of_mixed_dtypes_is_cast_as_a_tensor_would_be(backend):
    """bfloat16 weights with float32 packed data (or a bfloat16 state beside float32 data and weights): torch's
    op runs them (mixing the dtypes); lstmlab casts all to autocast's dtype, as for a tensor input, and gives
    torch's values to bfloat16's precision."""
    torch.manual_seed(0)
    ref, ours = torch.nn.LSTM(3, 4), lstmlab.LSTM(3, 4, backend=backend)
    ours.load_state_dict(ref.state_dict())
    packed = pack_sequence([torch.randn(4, 3), torch.randn(2, 3)])
    expected = ref(packed)[0].data
    ours_bf16 = lstmlab.LSTM(3, 4, backend=backend, dtype=torch.bfloat16)
    ours_bf16.load_state_dict(ref.state_dict())
    state = (torch.zeros(1, 2, 4, dtype=torch.bfloat16),) * 2
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for output in (ours_bf16(packed)[0].data, ours(packed, state)[0].data):
            assert output.dtype == torch.bfloat16
            torch.testing.assert_close(output.float(), expected, rtol=0, atol=BF16_TWO_ULPS)


def test_numpy_integers_are_sizes_where_torch_takes_them():
    """torch.nn.LSTM takes np.int64 for num_layers and proj_size (it checks only input_size and hidden_size
    for int), and torch.nn.LSTMCell for its sizes: so does lstmlab; input_size=np.int64 is refused by both."""
    import numpy as np
    lstm = lstmlab.LSTM(5, 7, num_layers=np.int64(2), proj_size=np.int64(3))
    assert lstm(torch.randn(4, 2, 5))[0].shape == torch.nn.LSTM(5, 7, num_layers=np.int64(2),
                                                                  proj_size=np.int64(3))(torch.randn(4, 2, 5))[0].shape
    assert lstmlab.LSTMCell(np.int64(5), np.int64(7))(torch.randn(2, 5))[0].shape == (2, 7)
    assert raised(lambda: lstmlab.LSTM(np.int64(5), 7)) == raised(lambda: torch.nn.LSTM(np.int64(5), 7))
    assert raised(lambda: lstmlab.LSTMCell(5, np.float64(7.0))) == (TypeError, "hidden_size should be of type int, got: float64")


@pytest.mark.parametrize("which", [0, 1])
def test_hx_of_another_dtype_gets_torchs_type_and_a_clear_message(which):
    # torch's op fails with RuntimeError("get_mkldnn_dtype: unsupported data type"); lstmlab raised ValueError.
    # (A float32 c_0 in a float64 torch.nn.LSTM is promoted without a word; lstmlab refuses that too.)
    hx = [torch.randn(1, 3, 7), torch.randn(1, 3, 7)]
    hx[which] = hx[which].double()
    ref_kind = raised(lambda: torch.nn.LSTM(5, 7)(torch.randn(4, 3, 5), tuple(hx)))[0]
    assert raised(lambda: lstmlab.LSTM(5, 7)(torch.randn(4, 3, 5), tuple(hx))) == (
        ref_kind, f"LSTM hx[{which}] dtype (torch.float64) does not match weight dtype (torch.float32). "
                  f"Convert hx[{which}]: hx[{which}].to(torch.float32), or convert model: model.to(torch.float64)")


@pytest.mark.parametrize("backend", ["cell", "bptt"])
@pytest.mark.parametrize("name, shape", [("weight_ih_l0", (28, 2)), ("weight_hh_l1", (28, 6)), ("bias_hh_l0", (27,)),
                                         ("weight_hr_l1_reverse", (4, 7))])
def test_a_parameter_replaced_by_one_of_another_shape_is_refused_naming_it(backend, name, shape):
    """Found by a torch user's audit: "bptt" trained on a weight_ih of the wrong width (it read part of the
    input, silently) and weight_hr of the wrong shape ran too; torch's float64 loop fails in a matmul."""
    options = {"num_layers": 2, "bidirectional": True, "proj_size": 3} if "hr" in name else {"num_layers": 2}
    ref = torch.nn.LSTM(5, 7, dtype=torch.float64, **options)
    ours = lstmlab.LSTM(5, 7, dtype=torch.float64, backend=backend, **options)
    for module in (ref, ours):
        setattr(module, name, torch.nn.Parameter(f64(*shape)))
    x = f64(4, 3, 5)
    assert raised(lambda: ref(x))[0] is RuntimeError
    expected = {"weight_ih_l0": (28, 5), "weight_hh_l1": (28, 7), "bias_hh_l0": (28,), "weight_hr_l1_reverse": (3, 7)}
    assert raised(lambda: ours(x)) == (RuntimeError, f"LSTM: expected {name} of shape {expected[name]}, got {shape}")


@pytest.mark.parametrize("backend", ["cell", "bptt"])
@pytest.mark.parametrize("name", ["bias_ih_l0", "bias_hh_l1"])
def test_a_bias_set_to_none_is_refused_with_torchs_type(backend, name):
    """Found in review: with bias_ih set to None, "cell" and "bptt" ran with no bias at all (bias_hh dropped
    too); torch refuses (TypeError: expected Tensor as element 2 …). Same type, naming the parameter."""
    ref = torch.nn.LSTM(5, 7, num_layers=2, dtype=torch.float64)
    ours = lstmlab.LSTM(5, 7, num_layers=2, dtype=torch.float64, backend=backend)
    for module in (ref, ours):
        setattr(module, name, None)
    x = f64(4, 3, 5)
    assert raised(lambda: ref(x))[0] is TypeError
    assert raised(lambda: ours(x)) == (TypeError, f"LSTM: expected {name} to be a tensor of shape (28,), got None; "
                                                  "build the LSTM with bias=False for no biases")


def test_a_parameter_of_another_dtype_is_refused_naming_it():
    lstm = lstmlab.LSTM(5, 7, backend="bptt")
    lstm.weight_hh_l0.data = lstm.weight_hh_l0.data.double()       # one parameter converted on its own
    assert raised(lambda: lstm(torch.randn(4, 3, 5))) == (
        RuntimeError, "LSTM: expected every parameter in weight_ih_l0's dtype (torch.float32), got weight_hh_l0 in "
                      "torch.float64: convert the model, model.to(torch.float32)")


def test_packed_input_of_another_dtype_gets_torchs_type():
    # torch skips check_input for packed data; its op fails with a RuntimeError (lstmlab raised ValueError)
    x = pack_sequence([torch.randn(3, 5, dtype=torch.bfloat16), torch.randn(2, 5, dtype=torch.bfloat16)])
    assert raised(lambda: torch.nn.LSTM(5, 7)(x))[0] is RuntimeError
    assert raised(lambda: lstmlab.LSTM(5, 7)(x)) == (
        RuntimeError, "RNN input dtype (torch.bfloat16) does not match weight dtype (torch.float32). "
                      "Convert input: input.to(torch.float32), or convert model: model.to(torch.bfloat16)")


def test_integer_input_is_not_told_to_convert_the_model_to_integers():
    # Module.to refuses an integer dtype, so "or convert model: model.to(torch.int64)" was advice that fails
    assert raised(lambda: lstmlab.LSTMCell(3, 4)(torch.ones(2, 3, dtype=torch.int64))) == (
        RuntimeError, "LSTMCell input dtype (torch.int64) does not match weight dtype (torch.float32). "
                      "Convert input: input.to(torch.float32)")
    assert raised(lambda: lstmlab.LSTM(3, 4)(torch.ones(5, 2, 3, dtype=torch.int64)))[1].endswith(
        "Convert input: input.to(torch.float32)")


def test_non_tensor_input_and_hx():
    lstm = lstmlab.LSTM(5, 7, dtype=torch.float64)
    assert raised(lambda: lstm([[1.0] * 5])) == (TypeError, "input should be a torch.Tensor, got: list")
    assert raised(lambda: lstm(f64(4, 3, 5), f64(1, 3, 7)))[0] is TypeError


CELL_CASES = [
    pytest.param(lambda: (f64(2, 3, 5),), id="input-3D"),
    pytest.param(lambda: (f64(3, 5), (f64(1, 3, 7), f64(3, 7))), id="hx-3D"),
    pytest.param(lambda: (f64(3, 4),), id="input-size"),
    pytest.param(lambda: (f64(3, 5), (f64(3, 6), f64(3, 7))), id="h-size"),
    pytest.param(lambda: (f64(3, 5), (f64(3, 7), f64(3, 6))), id="c-size"),
    pytest.param(lambda: (f64(3, 5), (f64(2, 7), f64(3, 7))), id="h-batch"),
    pytest.param(lambda: (f64(3, 5), (f64(3, 7), f64(2, 7))), id="c-batch"),
]


@pytest.mark.parametrize("make_args", CELL_CASES)
def test_cell_errors_match_torch(make_args):
    args = make_args()
    ref = torch.nn.LSTMCell(5, 7, dtype=torch.float64)
    ours = lstmlab.LSTMCell(5, 7, dtype=torch.float64)
    assert raised(lambda: ours(*args)) == raised(lambda: ref(*args))


def test_cell_errors_clearer_than_torch():
    cell = lstmlab.LSTMCell(5, 7, dtype=torch.float64)
    kind, message = raised(lambda: cell(torch.randn(3, 5)))
    assert kind is RuntimeError                    # torch's type (its matmul fails)
    assert "torch.float32" in message and "torch.float64" in message
    assert raised(lambda: cell(f64(5), (f64(3, 7), f64(3, 7)))) == \
        (RuntimeError, "LSTMCell: for 1-D input, hx[0] should also be 1-D, got 2-D")
    assert raised(lambda: lstmlab.LSTMCell(-1, 7)) == (ValueError, "input_size must be zero or greater, got -1")
    assert raised(lambda: lstmlab.LSTMCell(5, -1)) == (ValueError, "hidden_size must be zero or greater, got -1")
    assert raised(lambda: lstmlab.LSTMCell(5, 7, bias=1)) == (TypeError, "bias should be of type bool, got: int")
    assert raised(lambda: cell([[1.0] * 5])) == (TypeError, "input should be a torch.Tensor, got: list")  # as LSTM


@pytest.mark.parametrize("backend", ["cell", "bptt", "torch"])
def test_tensors_on_another_device_get_torchs_error(backend):
    """A meta input used to return meta outputs from "bptt" (and a meta state failed deep in the C++
    op's dispatcher); torch's op checks the devices first."""
    ours, ref = lstmlab.LSTM(3, 4, backend=backend), torch.nn.LSTM(3, 4)
    on_meta = torch.zeros(2, 2, 3, device="meta")
    state_on_meta = (torch.zeros(1, 2, 4, device="meta"),) * 2
    assert raised(lambda: ours(on_meta)) == raised(lambda: ref(on_meta))
    x = torch.zeros(2, 2, 3)
    assert raised(lambda: ours(x, state_on_meta)) == raised(lambda: ref(x, state_on_meta))
    assert ours.mode == ref.mode == "LSTM"


METHOD_OPTIONS = [{}, {"batch_first": True}, {"num_layers": 2, "bidirectional": True, "proj_size": 3}]


@pytest.mark.parametrize("options", METHOD_OPTIONS, ids=["default", "batch_first", "bi-proj-layers2"])
def test_torchs_checking_methods_answer_as_torchs(options):
    """check_input, get_expected_hidden_size / cell_size, check_hidden_size, check_forward_args and
    permute_hidden: code written against torch.nn.LSTM calls them (they were missing). Same results, same
    errors, on the input as forward takes it (batch_first, packed data)."""
    ref = torch.nn.LSTM(5, 7, dtype=torch.float64, **options)
    ours = lstmlab.LSTM(5, 7, dtype=torch.float64, **options)
    layers = 2 * ref.num_layers if ref.bidirectional else ref.num_layers
    packed = pack_sequence([f64(3, 5), f64(2, 5)])
    inputs = [(f64(4, 3, 5), None), (packed.data, packed.batch_sizes)]
    bad_inputs = [(f64(4, 3, 6), None), (f64(4, 5), None), (torch.randn(4, 3, 5), None),
                  (f64(4, 3, 5), packed.batch_sizes)]
    for x, sizes in inputs:
        assert ours.get_expected_hidden_size(x, sizes) == ref.get_expected_hidden_size(x, sizes)
        assert ours.get_expected_cell_size(x, sizes) == ref.get_expected_cell_size(x, sizes)
        batch = ref.get_expected_hidden_size(x, sizes)[1]
        for hidden in [(f64(layers, batch, ref.proj_size or 7), f64(layers, batch, 7)),
                       (f64(layers, batch, 7), f64(layers, batch + 1, 7)), (f64(1, 1, 1), f64(1, 1, 1))]:
            assert raised_or_none(lambda: ours.check_forward_args(x, hidden, sizes)) == \
                raised_or_none(lambda: ref.check_forward_args(x, hidden, sizes))
    for x, sizes in bad_inputs:
        assert raised(lambda: ours.check_input(x, sizes)) == raised(lambda: ref.check_input(x, sizes))
    assert raised(lambda: ours.check_hidden_size(f64(1, 2), (1, 2, 3))) == \
        raised(lambda: ref.check_hidden_size(f64(1, 2), (1, 2, 3)))
    hx, order = (f64(layers, 3, 2), f64(layers, 3, 7)), torch.tensor([2, 0, 1])
    assert all(torch.equal(a, b) for a, b in zip(ours.permute_hidden(hx, order), ref.permute_hidden(hx, order)))
    assert ours.permute_hidden(hx, None) is hx
