"""pytest plugin: the conformance battery as parametrized tests (registered as entry point pytest11).

From the command line, for anyone's implementation:

    pytest --lstm-impl=package.module:Factory [--lstm-kind=lstm] [--lstm-layout=package.module:fn]
           [--lstm-fuzz=20] [--lstm-only]

From a test file, with the ``lstm_case`` argument and the ``lstm_conformance`` marker:

    @pytest.mark.lstm_conformance(MyCell, kind="cell", layout=to_my_names, fuzz=10)
    def test_my_cell(lstm_case):
        lstm_case.check()

Without --lstm-impl and outside marked tests it does nothing (lstmlab.testing is imported only then).
"""
import pytest

MARKER = "lstm_conformance"


def pytest_addoption(parser):
    group = parser.getgroup("lstm-conformance", "LSTM conformance against torch (lstmlab.testing)")
    group.addoption("--lstm-impl", action="append", default=[], metavar="package.module:Name",
                    help="check this step function / cell / LSTM (class, factory or instance) against torch")
    group.addoption("--lstm-kind", default=None, choices=["step", "cell", "lstm"],
                    help="what --lstm-impl is (default: found from it)")
    group.addoption("--lstm-layout", default=None, metavar="package.module:fn",
                    help="fn(weights under torch's names) -> {the module's parameter name: tensor}")
    group.addoption("--lstm-fuzz", type=_fuzz_count, default=20, metavar="N",
                    help="random configurations checked by hypothesis (0: none; default 20)")
    group.addoption("--lstm-only", action="store_true", help="run only the --lstm-impl battery")


def _fuzz_count(text):
    """--lstm-fuzz: a count >= 0, or pytest's usage error (a negative one failed later inside hypothesis)."""
    import argparse
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0 (0: no fuzzing), got {text!r}")
    return value


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}(subject, kind=None, layout=None, supports=None, fuzz=0): "
                                       "parametrize the test's lstm_case argument over lstmlab.testing's battery")


class BoundCase:
    """One Case of the battery bound to its subject; ``check()`` raises ConformanceError on a mismatch."""

    def __init__(self, subject, case=None, fuzz=0):
        self.subject, self.case, self.fuzz = subject, case, fuzz

    @property
    def id(self):
        return self.case.id if self.case is not None else f"fuzz{self.fuzz}"

    def check(self):
        from lstmlab.testing.conformance import Report
        from lstmlab.testing.fuzz import fuzz

        if self.case is None:
            pytest.importorskip("hypothesis")
            fuzz(self.subject, self.fuzz)
            return None
        from lstmlab.testing.conformance import run_case
        outcome = run_case(self.subject, self.case)
        return Report(self.subject.name, [outcome]).raise_if_failed()

    def __repr__(self):
        return f"BoundCase({self.subject.name}, {self.id})"


def bound_cases(subject, fuzz):
    from lstmlab.testing.conformance import subject_battery

    cases = [BoundCase(subject, case) for case in subject_battery(subject)]
    if fuzz and subject.instance is None:
        cases.append(BoundCase(subject, fuzz=fuzz))
    return cases


def pytest_generate_tests(metafunc):
    if "lstm_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: the lstm_case argument needs "
                                f"@pytest.mark.{MARKER}(subject, kind=..., layout=..., supports=...)")
    from lstmlab.testing.subjects import Subject

    kwargs = dict(marker.kwargs)
    fuzz = kwargs.pop("fuzz", 0)
    cases = bound_cases(Subject(*marker.args, **kwargs), fuzz)
    metafunc.parametrize("lstm_case", cases, ids=[c.id for c in cases])


class LSTMImplItem(pytest.Item):
    def __init__(self, *, bound, **kwargs):
        super().__init__(**kwargs)
        self.bound = bound

    def runtest(self):
        self.bound.check()

    def repr_failure(self, excinfo):
        from lstmlab.testing.conformance import ConformanceError

        if isinstance(excinfo.value, ConformanceError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"lstm conformance: {self.nodeid}"


class LSTMImplCollector(pytest.Collector):
    def __init__(self, *, subject, fuzz, **kwargs):
        super().__init__(**kwargs)
        self.subject, self.fuzz = subject, fuzz

    def collect(self):
        return [LSTMImplItem.from_parent(self, name=b.id, bound=b) for b in bound_cases(self.subject, self.fuzz)]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    specs = config.getoption("lstm_impl")
    if not specs:
        return
    from lstmlab.testing.subjects import Subject, load_object

    def loaded(option, spec):
        """The object a command-line spec names, or pytest's one-line usage error (not an INTERNALERROR)."""
        try:
            return load_object(spec)
        except Exception as error:                    # a bad spec, or a module that fails on import (not ^C)
            raise pytest.UsageError(f"{option}={spec}: {error}") from None

    layout_spec = config.getoption("lstm_layout")
    layout = loaded("--lstm-layout", layout_spec) if layout_spec else None
    if config.getoption("lstm_only"):
        items.clear()
    for spec in specs:
        try:
            subject = Subject(loaded("--lstm-impl", spec), config.getoption("lstm_kind"), layout, name=spec)
            subject.base_case()                       # an instance's sizes, read now: a usage error, not an internal one
        except TypeError as error:                    # not something the checker can tell how to run
            raise pytest.UsageError(f"--lstm-impl: {error}") from None      # the message names the spec
        collector = LSTMImplCollector.from_parent(session, name=f"lstm-impl[{spec}]", nodeid=f"lstm-impl[{spec}]",
                                                  subject=subject, fuzz=config.getoption("lstm_fuzz"))
        items.extend(collector.collect())
