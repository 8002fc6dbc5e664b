"""Run the battery on a Subject: one Outcome per Case, the first failure diagnosed, one Report."""
import contextlib
import warnings
from dataclasses import dataclass, field, replace
from typing import Optional

import torch

from . import compare as cmp
from . import runner
from .cases import Case, battery
from .subjects import Subject, textbook_subject, torch_subject


class ConformanceError(AssertionError):
    """A subject differs from torch. ``report`` holds every outcome; ``diagnosis`` the first failure's."""

    def __init__(self, report):
        self.report = report
        self.diagnosis = report.first_failure.diagnosis if report.first_failure else None
        super().__init__(report.format())


@dataclass
class Outcome:
    case: Case
    mismatches: list = field(default_factory=list)
    error: Optional[BaseException] = None
    diagnosis: Optional[object] = None       # a diagnosis.Diagnosis, for a failed case once diagnosed
    note: str = ""

    @property
    def passed(self):
        return self.error is None and not self.mismatches


@dataclass
class Report:
    subject: str
    outcomes: list

    @property
    def passed(self):
        return all(o.passed for o in self.outcomes)

    @property
    def first_failure(self):
        return next((o for o in self.outcomes if not o.passed), None)

    def format(self):
        failed = [o for o in self.outcomes if not o.passed]
        lines = [f"{self.subject}: {len(self.outcomes) - len(failed)} of {len(self.outcomes)} cases match torch"]
        if failed:
            first = failed[0]
            lines.append(first.diagnosis.format() if first.diagnosis else
                         f"FIRST FAILURE {first.case.describe()}\n  {first.error or first.mismatches[0].describe()}")
            passed = [o.case.id for o in self.outcomes if o.passed]
            lines.append(f"failing cases ({len(failed)}): " + ", ".join(o.case.id for o in failed))
            if passed:
                lines.append(f"passing cases ({len(passed)}): " + ", ".join(passed))
        return "\n".join(lines)

    def raise_if_failed(self):
        if not self.passed:
            raise ConformanceError(self)
        return self


def reference_and_tolerances(case, inputs):
    """torch in float64 on the CPU, and the tolerances from torch and the textbook cell in the case's dtype."""
    kind = "lstm" if case.kind == "lstm" else "cell"
    reference = torch_subject(kind).run(case, inputs, torch.float64, "cpu")
    if case.torch_dtype == torch.float64 and case.device == "cpu":
        twins = [textbook_subject(kind).run(case, inputs)]
    else:
        twins = [torch_subject(kind).run(case, inputs), textbook_subject(kind).run(case, inputs)]
    return reference, cmp.tolerances(reference, twins, case.torch_dtype, saturated=case.saturated)


@contextlib.contextmanager
def one_thread():
    """torch on one CPU thread while checking: at these sizes (B=3, H=4) a second thread only adds
    barriers, and on a shared 2-core machine each barrier can wait a whole time slice (a full
    battery of lstmlab.LSTM took 1.8 s on one thread, 20–56 s on two under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_case(subject, case, diagnose=True):
    """One Case: the subject against torch. Returns an Outcome (diagnosed when it failed and diagnose=True)."""
    with one_thread(), warnings.catch_warnings():
        # torch's own note when the reference has proj_size: about its speed, not about the check
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")
        return _run_case(subject, case, diagnose)


def _run_case(subject, case, diagnose):
    if case.kind == "init":
        from .init_check import check_init
        return check_init(subject, case)
    inputs = runner.make_inputs(case)
    reference, tols = reference_and_tolerances(case, inputs)
    outcome = Outcome(case)
    try:
        result = subject.run(case, inputs)
    except Exception as error:                      # the subject's own failure is a finding, not a crash
        outcome.error = error
    else:
        outcome.mismatches = cmp.wrong_dtypes(result, case.torch_dtype) + cmp.compare(result, reference, tols)
    if diagnose and not outcome.passed:
        from .diagnosis import Diagnosis, diagnose as run_diagnosis
        try:
            outcome.diagnosis = run_diagnosis(subject, outcome, inputs, reference, tols)
        except Exception as error:          # user code the diagnosis re-runs may fail in new ways: still report
            outcome.diagnosis = Diagnosis(case, first=outcome.mismatches[0] if outcome.mismatches else None,
                                          error=outcome.error, cause_text=f"(the diagnosis could not finish: "
                                                                          f"{type(error).__name__}: {error})")
    return outcome


def check(obj, kind=None, supports=None, layout=None, cases=None, name=None, raise_on_failure=True):
    """Check ``obj`` against torch on every case it claims; returns a Report, or raises ConformanceError.

    obj: a step function ``step(x, (h, c), weights) -> (h, c)`` (weights: torch.nn.LSTMCell's names),
    an LSTMCell- or LSTM-like module class / factory (built as ``factory(input_size, hidden_size, **options)``),
    or a module instance. See Subject for kind and layout, Supports for what can be claimed.
    """
    subject = obj if isinstance(obj, Subject) else Subject(obj, kind, layout, supports, name)
    cases = cases if cases is not None else subject_battery(subject)
    outcomes = []
    for case in cases:
        outcome = run_case(subject, case, diagnose=not any(not o.passed for o in outcomes))
        outcomes.append(outcome)
    report = Report(subject.name, outcomes)
    return report.raise_if_failed() if raise_on_failure else report


def subject_battery(subject):
    """The Cases for a Subject: its claims, or for a module instance its own options in each form and dtype."""
    base = subject.base_case()
    if base is None:
        return battery(subject.kind, subject.supports)
    s = subject.supports
    forms = [base] + ([replace(base, zero_state=True)] if s.zero_state else []) \
        + ([replace(base, form="unbatched")] if s.unbatched else []) \
        + ([replace(base, form="packed")] if s.packed and subject.kind == "lstm" else [])
    cases = [replace(c, dtype=d) for d in s.dtypes for c in forms]
    if s.torch_init or s.same_init_as_torch:
        cases.append(replace(base, kind="init", label=subject.kind))
    return cases


def check_step(step, supports=None, **kwargs):
    """Check a step function ``step(x, (h, c), weights) -> (h, c)`` against torch.nn.LSTMCell."""
    return check(step, kind="step", supports=supports, **kwargs)


def check_cell(cell, supports=None, layout=None, **kwargs):
    """Check an LSTMCell-like module class / factory / instance against torch.nn.LSTMCell."""
    return check(cell, kind="cell", supports=supports, layout=layout, **kwargs)


def check_lstm(lstm, supports=None, layout=None, **kwargs):
    """Check an LSTM-like module class / factory / instance against torch.nn.LSTM."""
    return check(lstm, kind="lstm", supports=supports, layout=layout, **kwargs)
