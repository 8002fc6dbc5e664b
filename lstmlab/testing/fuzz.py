"""A hypothesis-fuzzed budget of random configurations (sizes, options, forms, dtypes within the claims)."""
from .conformance import ConformanceError, Report, run_case
from .subjects import Subject


def fuzz(obj, max_examples=20, kind=None, layout=None, supports=None):
    """Check ``max_examples`` random Cases (derandomized: the same ones on every run); raise ConformanceError
    for the first failing one (hypothesis then shrinks it to the smallest failing configuration it finds)."""
    from hypothesis import HealthCheck, given, settings

    from .cases import fuzz_strategy

    subject = obj if isinstance(obj, Subject) else Subject(obj, kind, layout, supports)
    if subject.instance is not None:
        raise ValueError(f"fuzz: expected a factory or step function (random sizes need new modules), "
                         f"got the module instance {subject.name}")

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(fuzz_strategy(subject.kind, subject.supports))
    def random_case(case):
        outcome = run_case(subject, case)
        if not outcome.passed:
            raise ConformanceError(Report(subject.name, [outcome]))

    random_case()
