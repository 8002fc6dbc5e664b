"""lstmlab.testing: check anyone's LSTM against torch — a step function, a cell, a whole LSTM.

    from lstmlab.testing import check_step, check_cell, check_lstm, Supports

    check_step(my_step)            # my_step(x, (h, c), weights) -> (h, c); weights: torch.nn.LSTMCell's names
    check_cell(MyCell)             # built as MyCell(input_size, hidden_size[, bias=False])
    check_lstm(MyLSTM, supports=Supports(packed=False), layout=to_my_names)

Each runs the battery (lstmlab.testing.cases) against torch.nn.LSTMCell / torch.nn.LSTM — outputs,
states and the gradients of the input, h_0, c_0 and every parameter, in each claimed dtype and
device, with tolerances derived per dtype from a float64 reference (lstmlab.testing.compare) — and
raises ConformanceError naming the first place it goes wrong and, for known bugs, the likely cause
(lstmlab.testing.diagnosis, .step_views, .patterns). The pytest plugin (lstmlab.testing.plugin) runs the same
battery as parametrized tests: ``pytest --lstm-impl=package.module:Factory``.
"""
from .cases import Case, Supports, battery, fuzz_strategy
from .check import ConformanceError, Outcome, Report, check, check_cell, check_lstm, check_step, run_case
from .compare import TOLERANCE_MULTIPLE
from .diagnosis import Diagnosis
from .patterns import CAUSES
from .subjects import Subject

__all__ = ["check", "check_step", "check_cell", "check_lstm", "run_case", "Supports", "Case", "Subject",
           "battery", "fuzz_strategy", "ConformanceError", "Report", "Outcome", "Diagnosis", "CAUSES",
           "TOLERANCE_MULTIPLE"]
