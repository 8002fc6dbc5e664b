"""lstmlab.testing catches every planted bug (tests/planted_lstm_bugs.py) and names it; a correct
implementation written without lstmlab, with its own parameter names and layout, passes."""
import pytest

from lstmlab.testing import CAUSES, ConformanceError, Supports, check, check_cell, check_lstm, check_step
import planted_lstm_bugs as bugs

FLOAT64 = {"dtypes": ("float64",)}
THIRD_PARTY_LSTM = Supports(bidirectional=False, proj_size=False, packed=False, dropout_arg=False)


def diagnosis_of(run):
    with pytest.raises(ConformanceError) as info:
        run()
    return info.value.diagnosis, str(info.value)


@pytest.mark.parametrize("step, cause, gate, state", [
    pytest.param(bugs.gate_order_swapped, "gate_order", "g", "c", id="gate-order"),
    pytest.param(bugs.bias_missing, "bias_missing", None, "c", id="bias-missing"),
    pytest.param(bugs.sigmoid_for_tanh, "sigmoid_for_tanh", "g", "c", id="sigmoid-for-tanh"),
    pytest.param(bugs.h_and_c_swapped, "h_c_swapped", None, "h", id="h-c-swapped"),
    pytest.param(bugs.transposed_weight, "transposed_weight", None, "c", id="transposed-weight"),
    # both were "no known pattern; gate i differs" (found by an audit of buggy learner steps)
    pytest.param(bugs.bias_added_twice, "bias_twice", None, "c", id="bias-twice"),
    pytest.param(bugs.initial_state_ignored, "state_ignored", None, "h", id="state-ignored"),
])
def test_step_bug_is_caught_and_named(step, cause, gate, state):
    d, message = diagnosis_of(lambda: check_step(step, supports=Supports.for_step(**FLOAT64)))
    assert d.cause == cause, message
    assert (d.step, d.gate, d.state) == (0, gate, state), message
    assert f"likely cause: {CAUSES[cause]}" in message
    assert "expected" in message and "got" in message


def test_an_activation_that_overflows_when_saturated_is_named():
    # a learner's textbook σ passes the ordinary case and gives NaN gradients in the saturated one: the
    # message used to blame "the backward, or something detached from the graph"
    d, message = diagnosis_of(lambda: check_step(bugs.sigmoid_from_its_definition,
                                                 supports=Supports.for_step(**FLOAT64)))
    assert d.case.saturated and d.cause == "overflow", message
    assert "torch.sigmoid" in message and "nan" in message, message


def test_bug_is_named_in_bfloat16_too():
    # bfloat16's tolerances are ~1e5 times float64's; the planted pattern still matches within them.
    d, message = diagnosis_of(lambda: check_step(bugs.gate_order_swapped,
                                                 supports=Supports.for_step(dtypes=("bfloat16",))))
    assert d.case.dtype == "bfloat16" and d.cause == "gate_order", message


def test_unknown_bug_names_the_gate_read_out_of_the_black_box():
    d, message = diagnosis_of(lambda: check_step(bugs.forget_gate_ignored, supports=Supports.for_step(**FLOAT64)))
    assert d.cause == "unknown" and d.gate == "f", message
    index, expected, actual = d.gates["f"]
    assert actual == pytest.approx(1.0) and expected < 1          # c' = c + i ⊙ g reads as f = 1
    for gate in "igo":                                              # the others read out right
        _, expected, actual = d.gates[gate]
        assert actual == pytest.approx(expected, rel=1e-9)


def test_wrong_layout_hook_is_named_as_gate_order():
    d, message = diagnosis_of(lambda: check_cell(bugs.ThirdPartyCell, layout=bugs.wrong_third_party_layout,
                                                 supports=FLOAT64))
    assert d.cause == "gate_order" and "(i, f, o, g)" in message, message


def test_off_by_one_in_time():
    d, message = diagnosis_of(lambda: check_lstm(bugs.OffByOneLSTM, layout=bugs.third_party_lstm_layout,
                                                 supports=Supports(**vars(THIRD_PARTY_LSTM) | FLOAT64)))
    assert d.cause == "off_by_one_time" and "output[t − 1]" in message, message


def test_wrong_init_only():
    report = check_cell(bugs.ForgetBiasOneCell, layout=bugs.third_party_layout, supports=FLOAT64,
                        raise_on_failure=False)
    failed = [o for o in report.outcomes if not o.passed]
    assert [o.case.kind for o in failed] == ["init"], report.format()      # forward and backward all match
    assert failed[0].diagnosis.cause == "wrong_init"
    assert "outside torch's bound" in report.format()


def test_backward_wrong_only_for_h0():
    d, message = diagnosis_of(lambda: check_lstm(bugs.H0GradientLostLSTM, layout=bugs.third_party_lstm_layout,
                                                 supports=Supports(**vars(THIRD_PARTY_LSTM) | FLOAT64)))
    assert d.cause == "h0_backward" and d.first.quantity == "grad h_0", message


def test_bug_in_layer_one_is_located_and_the_cell_cleared():
    d, message = diagnosis_of(lambda: check_lstm(bugs.FirstLayerStateEverywhereLSTM,
                                                 layout=bugs.third_party_lstm_layout,
                                                 supports=Supports(**vars(THIRD_PARTY_LSTM) | FLOAT64)))
    assert "layers2" in d.case.id and (d.step, d.layer, d.direction) == (0, 1, "forward"), message
    assert d.cause == "plumbing" and "layer 1's input" in message, message


def test_shape_error_is_reported_with_the_users_line():
    def untransposed(x, state, weights):
        h, c = state
        gates = x @ weights["weight_ih"] + h @ weights["weight_hh"].T        # (4H, I) used as (I, 4H)
        i, f, g, o = gates.chunk(4, dim=-1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c

    d, message = diagnosis_of(lambda: check_step(untransposed, supports=Supports.for_step(**FLOAT64)))
    assert d.cause == "transposed_weight" and "raised RuntimeError" in message
    assert "x @ weights[\"weight_ih\"] + h" in message, message


def test_correct_third_party_cell_and_lstm_pass():
    assert check_step(bugs.correct_step).passed
    assert check_cell(bugs.ThirdPartyCell, layout=bugs.third_party_layout).passed
    report = check_lstm(bugs.ThirdPartyLSTM, layout=bugs.third_party_lstm_layout, supports=THIRD_PARTY_LSTM)
    assert len(report.outcomes) == 24 and report.passed        # 22 + a saturated case in float64 and float32


def test_a_module_instance_is_checked_on_its_own_options():
    lstm = bugs.ThirdPartyLSTM(3, 6, num_layers=2, batch_first=True)
    report = check(lstm, layout=bugs.third_party_lstm_layout, supports=THIRD_PARTY_LSTM)
    assert {(o.case.num_layers, o.case.batch_first, o.case.input_size, o.case.hidden_size)
            for o in report.outcomes} == {(2, True, 3, 6)}


def test_reverse_outputs_left_unflipped():
    d, message = diagnosis_of(lambda: check_lstm(bugs.UnflippedReverseLSTM, supports=Supports(**FLOAT64)))
    assert "bi" in d.case.id and d.direction == "reverse" and "flipped back" in message, message


def test_bug_in_the_reverse_direction_only_is_located_and_named():
    claims = Supports(num_layers=1, proj_size=False, bias_false=False, batch_first=False, unbatched=False,
                      packed=False, dropout_arg=False, zero_state=False, torch_init=False, **FLOAT64)
    d, message = diagnosis_of(lambda: check_lstm(bugs.ReverseGateOrderLSTM, layout=bugs.reverse_gate_order_layout,
                                                 supports=claims))
    assert d.case.id == "lstm-float64-cpu-bi", message
    assert (d.step, d.layer, d.direction) == (4, 0, "reverse"), message       # the reverse direction reads x[4] first
    assert d.cause == "gate_order", message
