"""lstmlab's own cell, step function and backends, checked through lstmlab.testing's public battery
(the same marker and argument a user puts in their own test file)."""
import functools

import pytest

import lstmlab

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

# lstmlab.LSTM and LSTMCell claim everything torch has, and the same initial numbers for the same seed.
EVERYTHING = {"same_init_as_torch": True}


def lstmlab_step(x, state, weights):
    """lstmlab.lstm_cell with the exercise signature step(x, (h, c), weights) -> (h, c)."""
    return lstmlab.lstm_cell(x, state[0], state[1], **weights)


@pytest.mark.lstm_conformance(lstmlab_step, kind="step", fuzz=5)
def test_lstm_cell_function(lstm_case):
    lstm_case.check()


@pytest.mark.lstm_conformance(lstmlab.LSTMCell, kind="cell", supports=EVERYTHING)
def test_lstm_cell_module(lstm_case):
    lstm_case.check()


@pytest.mark.lstm_conformance(functools.partial(lstmlab.LSTM, backend="cell"), kind="lstm", supports=EVERYTHING,
                              name="LSTM-cell", fuzz=10)
def test_backend_cell(lstm_case):
    lstm_case.check()


@pytest.mark.lstm_conformance(functools.partial(lstmlab.LSTM, backend="bptt"), kind="lstm", supports=EVERYTHING,
                              name="LSTM-bptt", fuzz=5)
def test_backend_bptt(lstm_case):
    lstm_case.check()


# "torch" is torch's own op on lstmlab's parameters: float64 shows the plumbing around it is right.
@pytest.mark.lstm_conformance(functools.partial(lstmlab.LSTM, backend="torch"), kind="lstm",
                              supports={**EVERYTHING, "dtypes": ("float64",)}, name="LSTM-torch")
def test_backend_torch(lstm_case):
    lstm_case.check()


# The Triton interpreter (numpy) is slow: every option set, float64 only (the whole battery, float32 and
# bfloat16 included, also passes: 34 cases in 11 s on the 2-core machine).
TRITON_CLAIMS = {"dtypes": ("float64",), "torch_init": False}


@pytest.mark.lstm_conformance(functools.partial(lstmlab.LSTM, backend="triton"), kind="lstm",
                              supports=TRITON_CLAIMS, name="LSTM-triton")
def test_backend_triton_interpreted(lstm_case):
    if "triton" not in lstmlab.available_backends("cpu"):
        pytest.skip("triton runs on CPU tensors only with TRITON_INTERPRET=1 and triton installed")
    lstm_case.check()
