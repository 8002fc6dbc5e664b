"""lstmlab.testing's own contract: clear errors for bad input, tolerances derived per dtype, the plugin."""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import lstmlab
from lstmlab.testing import ConformanceError, Supports, battery, check_cell, check_lstm, check_step
from lstmlab.testing.subjects import Subject, load_object
import planted_lstm_bugs as bugs


def test_layout_with_other_names_needs_a_hook():
    with pytest.raises(ConformanceError, match=r"expected its parameters \['W_h', 'W_x', 'b'\].*pass layout="):
        check_cell(bugs.ThirdPartyCell, supports={"dtypes": ("float64",)})


def test_bad_claims_and_specs_say_what_was_expected():
    with pytest.raises(ValueError, match=r"Supports.dtypes: expected names from .* got \['float8'\]"):
        Supports(dtypes=("float8",))
    with pytest.raises(ValueError, match="expected 'package.module:Name', got 'planted_lstm_bugs'"):
        load_object("planted_lstm_bugs")
    with pytest.raises(ValueError, match="kind: expected 'step', 'cell' or 'lstm', got 'gru'"):
        Subject(bugs.correct_step, kind="gru")
    with pytest.raises(TypeError, match="expected a factory returning a torch.nn.Module"):
        Subject(lambda input_size, hidden_size: 42)
    with pytest.raises(TypeError, match="supports: expected a lstmlab.testing.Supports"):
        Subject(bugs.correct_step, supports=["float64"])
    # found in a fault hunt: each was taken, and read otherwise than meant
    with pytest.raises(TypeError, match="supports: expected a lstmlab.testing.Supports .* got bool"):
        Subject(bugs.correct_step, supports=False)                       # was: claims everything
    with pytest.raises(TypeError, match=r"^Supports.bidirectional: expected True or False, got 'no'$"):
        Supports(bidirectional="no")                                     # was: claims bidirectional
    with pytest.raises(TypeError, match=r"^Supports.dtypes: expected a tuple of names, e.g. \('float64',\)"):
        Supports(dtypes="float64")                                       # was: read letter by letter
    with pytest.raises(ValueError, match="Supports.dtypes: expected at least one dtype name"):
        Supports(dtypes=())                                              # was: only the init case, "passed"
    assert Supports(num_layers=np.int64(2)).num_layers == 2             # numpy's integers, as elsewhere


def test_a_module_returning_states_of_another_shape_is_diagnosed_without_crashing():
    """Found in a fault hunt: the diagnosis read gates out of squeezed states and crashed ("the diagnosis could
    not finish: IndexError"); the shape check names the problem."""
    class SqueezedStates(torch.nn.LSTM):
        def forward(self, x, hx=None):
            output, (h, c) = super().forward(x, hx)
            return output, (h.squeeze(), c.squeeze())
    report = check_lstm(SqueezedStates, supports=Supports(num_layers=1, bidirectional=False, proj_size=False,
                                                          packed=False, dtypes=("float64",), devices=("cpu",)),
                        raise_on_failure=False)
    text = report.format()
    assert not report.passed and "could not finish" not in text, text
    assert "shape" in text, text


def test_kind_is_found_from_the_object():
    assert Subject(bugs.correct_step).kind == "step"
    assert Subject(lstmlab.LSTMCell).kind == "cell"
    assert Subject(lstmlab.LSTM).kind == "lstm"
    assert Subject(torch.nn.LSTM(3, 4)).kind == "lstm"


def test_a_step_returning_the_wrong_thing_is_reported():
    with pytest.raises(ConformanceError, match=r"step: expected it to return \(h, c\), got Tensor"):
        check_step(lambda x, state, weights: state[0], supports=Supports.for_step(dtypes=("float64",)))


def test_tolerance_follows_the_dtype():
    """An error of 1e-5 on c (float32's own error here is ~1e-7) fails in float32 and passes in bfloat16."""
    def nudged(x, state, weights):
        h, c = bugs.correct_step(x, state, weights)
        return h, c + 1e-5

    report = check_step(nudged, supports=Supports.for_step(dtypes=("float64", "float32", "bfloat16")),
                        raise_on_failure=False)
    assert [o.passed for o in report.outcomes if not o.case.saturated and o.case.batch > 1] == [False, False, True], \
        report.format()


def test_battery_ids_are_readable_and_unique():
    ids = [case.id for case in battery("lstm")]
    assert len(ids) == len(set(ids))
    assert "lstm-float64-cpu-layers2-bi-proj3" in ids and "lstm-bfloat16-cpu-packed" not in ids
    assert "lstm-bfloat16-cpu-bi-packed" in ids and ids[-1] == "init-float64-cpu"


def test_checking_restores_the_thread_count():
    threads = torch.get_num_threads()
    check_step(bugs.correct_step, supports=Supports.for_step(dtypes=("float64",)))
    assert torch.get_num_threads() == threads


def test_plugin_runs_the_battery_from_the_command_line(tmp_path):
    """--lstm-impl and the marker in a fresh pytest process (the fuzz budget is tested in test_conformance.py);
    loading the plugin and lstmlab.testing does not import triton."""
    (tmp_path / "planted_lstm_bugs.py").write_text((Path(__file__).parent / "planted_lstm_bugs.py").read_text())
    (tmp_path / "test_mine.py").write_text(textwrap.dedent("""
        import pytest
        from planted_lstm_bugs import correct_step

        @pytest.mark.lstm_conformance(correct_step, kind="step")
        def test_mine(lstm_case):
            lstm_case.check()

        def test_triton_is_not_imported():
            import sys
            assert "lstmlab.testing" in sys.modules and "triton" not in sys.modules
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", "--lstm-fuzz=0",
         "--lstm-impl=planted_lstm_bugs:correct_step", "--lstm-impl=planted_lstm_bugs:h_and_c_swapped"],
        cwd=tmp_path, capture_output=True, text=True)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    # each step battery: 3 dtypes × (plain, every size 1) + saturated in float64 and float32; test_mine's 8 + 1
    # and correct_step's 8 pass; the bug's 8 fail
    assert "8 failed, 17 passed" in out, out
    assert "FAILED lstm-impl[planted_lstm_bugs:h_and_c_swapped]::step-float64-cpu" in out
    assert "likely cause: h and c swapped" in out


@pytest.mark.parametrize("spec, message", [("nope:X", "--lstm-impl=nope:X: No module named 'nope'"),
                                           ("mymod", "--lstm-impl=mymod: expected 'package.module:Name', got 'mymod'"),
                                           ("baremod:bare", "--lstm-impl: baremod:bare: a module instance needs")])
def test_a_bad_lstm_impl_is_a_usage_error_not_an_internal_error(tmp_path, spec, message):
    """Found by a README audit: a spec that does not load printed a 62-line INTERNALERROR (exit 3); so did an
    instance whose sizes cannot be told (found in review)."""
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    (tmp_path / "baremod.py").write_text("import torch\nclass Bare(torch.nn.Module):\n    def __init__(self):\n"
                                         "        super().__init__()\n        self.core = torch.nn.LSTM(3, 4)\n"
                                         "bare = Bare()\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--lstm-impl={spec}",
                             "--lstm-only", str(tmp_path / "test_nothing.py")], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 4                                  # pytest's usage error
    assert f"ERROR: {message}" in result.stderr and "INTERNALERROR" not in result.stderr + result.stdout


def test_the_checks_catch_what_a_gentle_battery_let_pass():
    """Found by an audit of buggy learner code: a naive sigmoid (NaN once exp overflows), a result left in
    float32 for bfloat16 input, and dropout acting in eval mode all passed every case."""
    def naive_sigmoid(x, state, weights):
        h, c = state
        gates = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T + weights["bias_hh"]
        i, f, g, o = gates.chunk(4, dim=-1)
        sigmoid = lambda t: torch.exp(t) / (1 + torch.exp(t))           # noqa: E731 — inf / inf past t ≈ 709
        c = sigmoid(f) * c + sigmoid(i) * torch.tanh(g)
        return sigmoid(o) * torch.tanh(c), c

    report = check_step(naive_sigmoid, supports=Supports.for_step(dtypes=("float64",)), raise_on_failure=False)
    assert [o.case.saturated for o in report.outcomes if not o.passed] == [True], report.format()

    def left_in_float32(x, state, weights):
        wide = {name: w.float() for name, w in weights.items()}
        return bugs.correct_step(x.float(), tuple(s.float() for s in state), wide)

    report = check_step(left_in_float32, supports=Supports.for_step(dtypes=("bfloat16",)), raise_on_failure=False)
    assert not report.passed and report.first_failure.diagnosis.cause == "dtype", report.format()
    assert "returned in torch.float32, not in torch.bfloat16" in report.format()

    class DropsInEval(torch.nn.LSTM):
        def forward(self, x, hx=None):
            self.train(True)                                           # dropout acts whatever the mode
            return super().forward(x, hx)

    report = check_lstm(DropsInEval, supports=Supports(dtypes=("float64",), devices=("cpu",)), raise_on_failure=False)
    assert [o.case.id for o in report.outcomes if not o.passed] == ["lstm-float64-cpu-layers2-dropout-eval"]


@pytest.mark.parametrize("call, message", [
    (lambda: check_step(torch.nn.LSTMCell), r"check_step takes a step function .*LSTMCell is a torch.nn.Module: "
                                            r"use check_cell"),
    (lambda: check_lstm(torch.nn.LSTMCell), r"check_lstm expects an LSTM-like module; LSTMCell is .* use check_cell"),
    (lambda: check_cell(torch.nn.LSTM), r"check_cell expects an LSTMCell-like module; LSTM is .* use check_lstm"),
    (lambda: Subject(lambda *args: args[3]), r"could not tell what it is.*raised IndexError.*pass kind="),
], ids=["module-as-step", "cell-as-lstm", "lstm-as-cell", "unknown-callable"])
def test_the_wrong_kind_of_subject_is_named(call, message):
    """These used to end in a parameter-name mismatch advising layout=…, or the learner's own TypeError."""
    with pytest.raises(TypeError, match=message):
        call()


def test_float32_arithmetic_in_a_float64_check_is_named_as_precision():
    """Values equal to 7 digits used to be blamed on a gate ("no known pattern; gate i differs")."""
    def in_float32(x, state, weights):
        h, c = bugs.correct_step(x.float(), tuple(s.float() for s in state),
                                 {name: w.float() for name, w in weights.items()})
        return h.to(x.dtype), c.to(x.dtype)

    report = check_step(in_float32, supports=Supports.for_step(dtypes=("float64",)), raise_on_failure=False)
    diagnosis = report.first_failure.diagnosis
    assert diagnosis.cause == "precision" and "float32's rounding" in diagnosis.cause_text, report.format()


def test_a_kind_given_for_ones_own_module_is_trusted():
    """A wrapper LSTM without num_layers, checked with kind="lstm", was refused as 'LSTMCell-like'."""
    class Wrapper(torch.nn.Module):
        def __init__(self, input_size, hidden_size, **options):
            super().__init__()
            self.inner = torch.nn.LSTM(input_size, hidden_size, **options)

        def forward(self, x, hx=None):
            return self.inner(x, hx)

    assert Subject(Wrapper, kind="lstm").kind == "lstm"


def test_the_pytest_plugin_loads_no_torch_until_asked():
    """pytest imports the plugin (an entry point) in every run of an environment where lstmlab is installed:
    it used to import lstmlab, and so torch, each time (~2 s)."""
    code = "import sys, lstmlab.testing.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("package", ["lstmlab", "lstmlab.testing"])
def test_no_name_imported_on_first_use_is_also_a_submodule(package):
    """Importing a submodule sets the package's attribute of that name: a lazily exported function of the
    same name (lstmlab.testing.check, in check.py) would then be replaced by the module."""
    import importlib
    import importlib.util
    table = importlib.import_module(package)._WHERE
    assert [name for name in table if importlib.util.find_spec(f"{package}.{name}") is not None] == []


class WrappedLSTM(torch.nn.Module):
    """A user's wrapper: torch's LSTM inside, its parameters under core.*, no size attributes of its own."""
    def __init__(self, input_size, hidden_size, **options):
        super().__init__()
        self.core = torch.nn.LSTM(input_size, hidden_size, **options)

    def forward(self, x, hx=None):
        return self.core(x, hx)

    lstm_layout = staticmethod(lambda weights: {"core." + name: tensor for name, tensor in weights.items()})


def test_a_wrapper_instance_is_checked_with_the_sizes_of_its_weights():
    """Found in review: check_lstm(WrappedLSTM) passed, check_lstm(WrappedLSTM(3, 4)) failed with a bare
    AttributeError (no input_size) from inside the checker. Its sizes and options are now read from its
    weights through its layout hook; without any way to find them, one line says what is needed."""
    report = check_lstm(WrappedLSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2))
    assert report.passed
    case = report.outcomes[0].case
    assert (case.input_size, case.hidden_size, case.num_layers, case.bidirectional, case.proj_size) == (3, 4, 2, True, 2)

    class Bare(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.core = torch.nn.LSTM(3, 4)

    with pytest.raises(TypeError, match="needs input_size and hidden_size attributes .* or pass its class"):
        check_lstm(Bare())
    report = check_lstm(WrappedLSTM(3, 4, batch_first=True))          # batch_first read from torch's LSTM inside
    assert report.passed and report.outcomes[0].case.batch_first


def test_a_bug_that_only_shows_at_a_batch_of_one_is_caught():
    """Found in a fault hunt: every case ran at B = 3, so a module that squeezes the batch dimension away (which
    squeeze(1) does only when it is 1) passed every case, then returned (T, H) for a batch of one."""
    class SqueezesBatch(torch.nn.LSTM):
        def forward(self, x, hx=None):
            output, (h, c) = super().forward(x, hx)
            return output.squeeze(1), (h.squeeze(1), c.squeeze(1))
    claims = Supports(num_layers=1, bidirectional=False, proj_size=False, packed=False, unbatched=False,
                      dtypes=("float64",), devices=("cpu",))
    report = check_lstm(SqueezesBatch, supports=claims, raise_on_failure=False)
    failed = [o.case.id for o in report.outcomes if not o.passed]
    assert failed == ["lstm-float64-cpu-I1-H1-T1-B1"], report.format()


def test_a_negative_fuzz_count_is_a_usage_error(tmp_path):
    """Found in a fault hunt: --lstm-fuzz=-1 was taken, and the fuzz test then failed inside hypothesis."""
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--lstm-fuzz=-1"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "argument --lstm-fuzz: expected a whole number >= 0 (0: no fuzzing), got '-1'" in result.stderr
