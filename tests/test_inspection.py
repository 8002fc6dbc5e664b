"""lstmlab.inspect: the recorded gates and states agree with the cell's own outputs and with torch."""
import pytest
import torch

import lstmlab


@pytest.mark.parametrize("options", [
    pytest.param({}, id="1layer"),
    pytest.param({"num_layers": 2, "bidirectional": True, "proj_size": 3}, id="2layers-bi-proj"),
])
def test_traces_agree_with_torch(options):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(4, 6, dtype=torch.float64, **options)
    x = torch.randn(5, 2, 4, dtype=torch.float64)
    output, (h_n, c_n) = reference(x)
    traces = lstmlab.inspect(reference, x)
    assert len(traces) == reference.num_layers
    last = traces[-1]
    torch.testing.assert_close(last[0].h, output[..., :last[0].h.size(-1)])       # forward direction
    if reference.bidirectional:
        torch.testing.assert_close(last[1].h.flip(0), output[..., last[0].h.size(-1):])
    for k, trace in enumerate(t for layer in traces for t in layer):
        torch.testing.assert_close(trace.c[-1], c_n[k])
        torch.testing.assert_close(trace.h[-1], h_n[k])


def test_gates_obey_the_cell_equations():
    torch.manual_seed(1)
    lstm = lstmlab.LSTM(3, 5, dtype=torch.float64)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    (trace,), = lstmlab.inspect(lstm, x)
    for gate in (trace.i, trace.f, trace.o):
        assert ((gate > 0) & (gate < 1)).all()
    c_prev = torch.cat([torch.zeros(1, 2, 5, dtype=torch.float64), trace.c[:-1]])
    torch.testing.assert_close(trace.c, trace.f * c_prev + trace.i * trace.g)
    torch.testing.assert_close(trace.h, trace.o * trace.c.tanh())
    # and step by step, the from-scratch cell on the same weights gives the same states
    h = c = torch.zeros(2, 5, dtype=torch.float64)
    w = lstm.direction_weights(0)
    for t in range(7):
        h, c = lstmlab.lstm_cell(x[t], h, c, w.weight_ih, w.weight_hh, w.bias_ih, w.bias_hh)
        torch.testing.assert_close(h, trace.h[t])
        torch.testing.assert_close(c, trace.c[t])


def test_plot_trace(tmp_path):
    traces = lstmlab.inspect(lstmlab.LSTM(2, 4, batch_first=True), torch.randn(3, 6, 2))
    lstmlab.plot_trace(traces[0][0], tmp_path / "trace.png")
    assert (tmp_path / "trace.png").stat().st_size > 5000
