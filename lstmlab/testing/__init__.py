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
from ..lazy import lazy_names

# imported on first use (see lstmlab/__init__.py): the plugin module next to this one must stay light. No
# name here may be a submodule's too: importing lstmlab.testing.X sets the package's attribute X to the module
# (the functions check, check_step … live in conformance.py, not check.py, for that reason)
_WHERE = {"Case": ".cases", "Supports": ".cases", "battery": ".cases", "fuzz_strategy": ".cases",
          "ConformanceError": ".conformance", "Outcome": ".conformance", "Report": ".conformance",
          "check": ".conformance", "check_cell": ".conformance", "check_lstm": ".conformance",
          "check_step": ".conformance", "run_case": ".conformance",
          "TOLERANCE_MULTIPLE": ".compare", "Diagnosis": ".diagnosis", "CAUSES": ".patterns", "Subject": ".subjects"}

__all__ = ["check", "check_step", "check_cell", "check_lstm", "run_case", "Supports", "Case", "Subject",
           "battery", "fuzz_strategy", "ConformanceError", "Report", "Outcome", "Diagnosis", "CAUSES",
           "TOLERANCE_MULTIPLE"]

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
