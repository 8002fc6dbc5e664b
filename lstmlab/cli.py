"""The `lstmlab` command: demo, check, bench, forecast, kernels.

Every failure is one line on stderr, ``lstmlab <command>: what was expected, what was given``, and an
exit code: 2 for bad usage (a wrong option, a path that cannot be written), 1 for a run that failed.
No traceback unless ``--debug`` is given.
"""
import argparse
import importlib.util
import json
import sys

USAGE, FAILED = 2, 1                       # exit codes


class CommandError(Exception):
    """A failure the user can act on, printed as one line: ``lstmlab <command>: <message>``."""

    def __init__(self, message, exit_code=FAILED):
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line (``lstmlab demo: argument --steps: ...``), exit 2."""

    def error(self, message):
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def writable_folder(path, option):
    """Create ``path`` if needed and make sure a file can be written there, before any work is done."""
    import tempfile
    from pathlib import Path
    if not str(path).strip():                 # '' would be the current folder, which was not asked for
        raise CommandError(f"expected {option} to be a folder lstmlab can write to, given {str(path)!r}", USAGE)
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as error:
        raise CommandError(f"expected {option} to be a folder lstmlab can write to, given {str(path)!r} "
                           f"({error.strerror or error})", USAGE) from error
    return path


def _require_backend(name):
    """A backend that can run on CPU tensors here, or a usage error naming the ones that can."""
    from . import backends
    try:
        backends.check_backend(name, "cpu")
    except ValueError as error:
        raise CommandError(f"expected --backend to name a backend that runs here, given {name!r}: {error}",
                           USAGE) from error


def _counted(option, value, lowest, highest=None):
    """A count option within its range, or a usage error naming the range (before any training)."""
    if value < lowest or (highest is not None and value > highest):
        span = f"from {lowest} to {highest}" if highest is not None else f"at least {lowest}"
        raise CommandError(f"expected {option} {span}, given {value}", USAGE)


def _demo(args):
    _counted("--steps", args.steps, 0)
    _counted("--train-waves", args.train_waves, 1, 97)              # the data holds 100 waves; 3 are the test
    _counted("--train-length", args.train_length, 2, 999)           # a wave is 1000 steps: inputs and next values
    _counted("--future", args.future, 1, 100_000)                   # ~3 µs a step fused: seconds, not memory
    _counted("--seed", args.seed, -2**63, 2**64 - 1)                # what torch.manual_seed takes
    _require_backend(args.backend)
    writable_folder(args.out, "--out")
    from .sine_demo import run_sine_demo
    if not args.json:
        print(f"Training the sine-wave model ({args.steps} teacher-forced L-BFGS steps, then multi-step ones on "
              f"its own predictions; backend {args.backend!r}) ...")
    result = run_sine_demo(steps=args.steps, train_waves=args.train_waves, train_length=args.train_length, future=args.future,
                           seed=args.seed, backend=args.backend, out_dir=args.out,
                           progress=not args.json and sys.stderr.isatty())    # bars on a terminal, not in a log
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"train loss (teacher-forced MSE)        {result.train_loss:.3e}")
    print(f"test loss  (teacher-forced MSE)        {result.test_loss:.3e}")
    print(f"{args.future}-step rollout MSE vs true sine    {result.rollout_mse:.3e}")
    print(f"figure: {result.figure}   ({result.seconds:.0f} s)")
    return 0


GUARANTEES = """\
What the tests guarantee (README, "Guarantees"): every backend equals torch.nn.LSTM in outputs, states and
every gradient for every option and input form, empty batches included, under any OpenMP thread grant;
"bptt" also in double backward, torch.func (grad, vmap, jacrev) and torch.compile; float64 to rounding,
float32 within 4x torch's own float32 error."""


def _check(args):
    chosen = list(dict.fromkeys(args.backend or []))                  # --backend cell --backend cell: once
    for name in chosen:
        _require_backend(name)
    from .crosscheck import format_table, persistent_reasons, run_checks
    rows = run_checks(chosen or None)
    print(format_table(rows))
    for pass_name, reason in persistent_reasons().items():
        print(f"persistent {pass_name}: {reason}")
    failed = [row for row in rows if not row.ok]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks agree with torch.nn.LSTM (float64).")
    print(GUARANTEES)
    return 1 if failed else 0


def _bench(args):
    import os
    import re
    from pathlib import Path
    from unittest import mock

    missing = [name for name in ("pytest", "pytest_benchmark") if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(f"expected pytest and pytest-benchmark to be installed (pip install 'lstmlab[dev]'), "
                           f"given an environment without {' and '.join(missing)}")
    import pytest

    from .benchmarking.presets import get_preset
    from .benchmarking.report import write_report
    try:
        preset = get_preset(args.preset, args.variants, args.modes)
    except ValueError as error:
        raise CommandError(str(error), USAGE) from None
    from .benchmarking.presets import ONLY_MODE
    if all(variant in ONLY_MODE and ONLY_MODE[variant] not in preset.modes for variant in preset.variants):
        raise CommandError(f"expected --variants and --modes to leave at least one case of preset {preset.name!r} to "
                           f"run, given --variants {','.join(preset.variants)} --modes {','.join(preset.modes)}: "
                           + ", ".join(f"{v} runs in {ONLY_MODE[v]} mode only" for v in preset.variants), USAGE)
    if preset.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise CommandError(f"expected a CUDA GPU for preset {preset.name!r}, given a machine where "
                               "torch.cuda.is_available() is False (the cpu-* presets run here)", USAGE)
    suite = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_variants.py"
    if not suite.exists():
        raise CommandError(f"expected the benchmark suite at {suite}, given an installation without it "
                           f"(run lstmlab bench from a source checkout or an unpacked sdist)")
    if args.out is None:
        from .benchmarking.variants import environment
        device_name = environment(preset.device)["device_name"]
        args.out = str(suite.parent / "results" / re.sub(r"[^A-Za-z0-9]+", "-", device_name).strip("-").lower())
    writable_folder(args.out, "--out")
    part = "" if (args.variants, args.modes) == (None, None) else \
        "-" + "-".join(n.replace("+", "-") for n in preset.variants + preset.modes)     # cpu-full-torch-bptt-forward-...
    json_path = str(Path(args.out) / f"{preset.name}{part}.json")
    chosen = {"LSTMLAB_BENCH_PRESET": preset.name, "LSTMLAB_BENCH_VARIANTS": ",".join(preset.variants),
              "LSTMLAB_BENCH_MODES": ",".join(preset.modes)}        # read by bench_variants.py
    with mock.patch.dict(os.environ, chosen):                         # restored afterwards
        code = pytest.main([str(suite), "--benchmark-only", f"--benchmark-json={json_path}", "-q", "-p",
                            "no:cacheprovider"])
    if code == pytest.ExitCode.OK and not Path(json_path).exists():          # every case skipped here (no GPU, say)
        raise CommandError(f"expected at least one case of preset {preset.name!r} to run, given a machine where "
                           "every one was skipped (pytest's skip reasons say why)")
    if code not in (0, pytest.ExitCode.OK):
        raise CommandError(f"expected the benchmark run to pass, given pytest exit code {int(code)}")
    # a partial run's table and plots carry its name too: the full run's (which the README quotes) stay
    for path in write_report(json_path, args.out, prefix=f"{preset.name}{part}-" if part else ""):
        print(path)
    print(json_path)
    return 0


def _forecast(args):
    from .forecast.cli import run_cli
    return run_cli(args)


def build_parser():
    parser = _Parser(
        prog="lstmlab",
        description="lstmlab: the LSTM from the equations to a GPU kernel, each step proven equal to PyTorch's.")
    parser.add_argument("--debug", action="store_true", help="on a failure, show the full traceback")
    # --debug is accepted after the command too (lstmlab demo --debug); SUPPRESS keeps the top-level value
    debug = _Parser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on a failure, show the full traceback")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    demo = commands.add_parser(
        "demo", parents=[debug], help="train the classic sine-wave model and draw its future predictions",
        description="Train AutoregressiveLSTM (2 × 51 cells + linear head) on sine waves with L-BFGS + MSE "
                    "(teacher-forced steps, then steps on a multi-step loss over its own predictions), "
                    "then let it predict --future steps (default 1000) of its own future on 3 held-out waves; prints the losses "
                    "and the rollout MSE against the true sine, and writes the figure.")
    demo.add_argument("--steps", type=int, default=10, help="teacher-forced L-BFGS steps (default: 10; the multi-step phase follows)")
    demo.add_argument("--train-waves", type=int, default=32, help="waves to train on, of 97 (default: 32)")
    demo.add_argument("--train-length", type=int, default=300, help="steps of each training wave to read (default: 300)")
    demo.add_argument("--future", type=int, default=1000, help="steps to predict beyond the observed 999 (default: 1000, at most 100000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--backend", default="auto", help="LSTM backend (default: auto)")
    demo.add_argument("--out", default="figures", help="folder for the figure (default: figures)")
    demo.add_argument("--json", action="store_true", help="print the results as one JSON object")
    demo.set_defaults(run=_demo)

    check = commands.add_parser(
        "check", parents=[debug], help="cross-check every available backend against torch.nn.LSTM",
        description="Run each available backend and torch.nn.LSTM with the same weights on a set of "
                    "configurations (layers, bidirectional, projections, packed sequences) in float64; print "
                    "the largest difference of outputs/states and of all gradients. Exit 1 on any mismatch.")
    check.add_argument("--backend", action="append", help="check only this backend (repeatable)")
    check.set_defaults(run=_check)

    from .benchmarking.presets import CPU_VARIANTS, GPU_VARIANTS, PRESETS
    bench = commands.add_parser(
        "bench", parents=[debug], help="benchmark every variant side by side and write a table and plots",
        description="Run benchmarks/bench_variants.py (pytest-benchmark) for a preset: every variant (on the CPU: "
                    + ", ".join(CPU_VARIANTS) + "; on a CUDA GPU: " + ", ".join(GPU_VARIANTS) + ") in forward, "
                    "forward+backward and generation mode (fused: generation only), each checked against torch "
                    "first; then write the JSON, a markdown table of time per step and ratio to torch, and plots. "
                    "Presets: " + ", ".join(PRESETS) + ".")
    bench.add_argument("--preset", default="cpu-quick", choices=list(PRESETS), help="what to run (default: cpu-quick)")
    bench.add_argument("--out", default=None, help="output folder (default: benchmarks/results/<device>)")
    bench.add_argument("--variants", default=None,
                       help="run only these of the preset's variants, comma-separated (e.g. torch,bptt)")
    bench.add_argument("--modes", default=None,
                       help="run only these modes, comma-separated (forward, forward+backward, generation)")
    bench.set_defaults(run=_bench)

    forecast = commands.add_parser(
        "forecast", parents=[debug], help="forecast a shipped dataset or your own CSV, next to naive, seasonal naive, ETS, ARIMA, Theta",
        description="Rolling-origin evaluation: before each of --folds cutoffs, fit the ES-LSTM hybrid and the pure "
                    "LSTM on the data up to the cutoff only, forecast the next --horizon steps, and print MAE, RMSE, "
                    "sMAPE and MASE next to naive, seasonal naive, ETS, AutoARIMA and Theta (statsforecast), with "
                    "each model's MAE relative to the best statistical one, and 'selected': per series, whichever "
                    "of ES-LSTM, ETS, AutoARIMA and Theta forecast the last --horizon steps up to the cutoff best. "
                    "CSVs in long format (unique_id, ds, y).")
    from .forecast.cli import add_forecast_arguments
    add_forecast_arguments(forecast)
    forecast.set_defaults(run=_forecast)

    kernels = commands.add_parser(
        "kernels", parents=[debug], help="compile the Triton kernels for a GPU (none needed) and report registers, spills, "
                        "shared memory and the path the persistent dispatcher would choose",
        description="Compile the fused gate kernel (\"triton\") and the persistent kernel for --arch with Triton, "
                    "without a GPU, and print what the compiler reports for each dtype, hidden size and batch size: "
                    "registers per thread, spills, shared memory, and which path the persistent dispatcher would "
                    "take. Needs triton (pip install 'lstmlab[triton]').")
    from .kernel_report import add_arguments
    add_arguments(kernels)
    kernels.set_defaults(run=_kernels)
    return parser


def _kernels(args):
    from .kernel_report import run
    return run(args)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"lstmlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                         # lstmlab check | head: the reader has what it wanted
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())     # no second error at exit
        return 0
    except Exception as error:                      # anything else: one line, no traceback (unless --debug)
        if args.debug:                              # the traceback, then the same line and exit code as without
            import traceback
            traceback.print_exc()
        if isinstance(error, CommandError):
            code, message = error.exit_code, str(error)
        else:
            hint = "" if args.debug else f" (lstmlab --debug {args.command} ... shows where)"
            code, message = FAILED, f"{type(error).__name__}: {error}{hint}"
        print(f"lstmlab {args.command}: " + " ".join(message.split()), file=sys.stderr)
        return code


if __name__ == "__main__":
    # python -m lstmlab.cli runs this file as __main__, a second copy of the module: its CommandError would not
    # be the one lstmlab.forecast raises, so the package's own main runs
    from lstmlab.cli import main as package_main
    sys.exit(package_main())
