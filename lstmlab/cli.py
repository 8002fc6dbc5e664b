"""The `lstmlab` command: demo, check, bench, forecast."""
import argparse
import json
import sys


def _demo(args):
    from .sine_demo import run_sine_demo
    if not args.json:
        print(f"Training the sine-wave model ({args.steps} L-BFGS steps, backend {args.backend!r}) ...")
    result = run_sine_demo(steps=args.steps, train_waves=args.train_waves, train_length=args.train_length, future=args.future,
                           seed=args.seed, backend=args.backend, out_dir=args.out, progress=not args.json)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"train loss (teacher-forced MSE)        {result.train_loss:.3e}")
    print(f"test loss  (teacher-forced MSE)        {result.test_loss:.3e}")
    print(f"{args.future}-step rollout MSE vs true sine    {result.rollout_mse:.3e}")
    print(f"figure: {result.figure}   ({result.seconds:.0f} s)")
    return 0


def _check(args):
    from .crosscheck import format_table, run_checks
    rows = run_checks(args.backend or None)
    print(format_table(rows))
    failed = [row for row in rows if not row.ok]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks agree with torch.nn.LSTM (float64).")
    return 1 if failed else 0


def _bench(args):
    import os
    import re
    from pathlib import Path

    import pytest

    from .benchmarking.presets import get_preset
    from .benchmarking.report import write_report
    preset = get_preset(args.preset)
    suite = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_variants.py"
    if not suite.exists():
        print(f"lstmlab bench: {suite} not found; run it from a source checkout of lstmlab", file=sys.stderr)
        return 2
    if args.out is None:
        from .benchmarking.variants import environment
        device_name = environment(preset.device)["device_name"]
        args.out = str(suite.parent / "results" / re.sub(r"[^A-Za-z0-9]+", "-", device_name).strip("-").lower())
    Path(args.out).mkdir(parents=True, exist_ok=True)
    json_path = str(Path(args.out) / f"{preset.name}.json")
    os.environ["LSTMLAB_BENCH_PRESET"] = preset.name
    code = pytest.main([str(suite), "--benchmark-only", f"--benchmark-json={json_path}", "-q", "-p", "no:cacheprovider"])
    if code not in (0, pytest.ExitCode.OK):
        print(f"lstmlab bench: the benchmark run failed (pytest exit code {int(code)})", file=sys.stderr)
        return 1
    for path in write_report(json_path, args.out):
        print(path)
    print(json_path)
    return 0


def _forecast(args):
    from .forecast.cli import run_cli
    return run_cli(args)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="lstmlab",
        description="lstmlab: the LSTM from the equations to a GPU kernel, each step proven equal to PyTorch's.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="train the classic sine-wave model and draw its future predictions",
        description="Train AutoregressiveLSTM (2 × 51 cells + linear head) on sine waves with L-BFGS + MSE, "
                    "then let it predict 1000 steps of its own future on 3 held-out waves; prints the losses "
                    "and the rollout MSE against the true sine, and writes the figure.")
    demo.add_argument("--steps", type=int, default=10, help="L-BFGS steps (default: 10)")
    demo.add_argument("--train-waves", type=int, default=32, help="waves to train on, of 97 (default: 32)")
    demo.add_argument("--train-length", type=int, default=300, help="steps of each training wave to read (default: 300)")
    demo.add_argument("--future", type=int, default=1000, help="steps to predict beyond the observed 999 (default: 1000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--backend", default="auto", help="LSTM backend (default: auto)")
    demo.add_argument("--out", default="figures", help="folder for the figure (default: figures)")
    demo.add_argument("--json", action="store_true", help="print the results as one JSON object")
    demo.set_defaults(run=_demo)

    check = commands.add_parser(
        "check", help="cross-check every available backend against torch.nn.LSTM",
        description="Run each available backend and torch.nn.LSTM with the same weights on a set of "
                    "configurations (layers, bidirectional, projections, packed sequences) in float64; print "
                    "the largest difference of outputs/states and of all gradients. Exit 1 on any mismatch.")
    check.add_argument("--backend", action="append", help="check only this backend (repeatable)")
    check.set_defaults(run=_check)

    from .benchmarking.presets import PRESETS
    bench = commands.add_parser(
        "bench", help="benchmark every variant side by side and write a table and plots",
        description="Run benchmarks/bench_variants.py (pytest-benchmark) for a preset: every variant (torch.nn.LSTM, "
                    "cell, bptt, triton, persistent, torch.compile, CUDA graph) in forward, forward+backward and "
                    "generation mode, each checked against torch first; then write the JSON, a markdown table of "
                    "time per step and ratio to torch, and plots. Presets: " + ", ".join(PRESETS) + ".")
    bench.add_argument("--preset", default="cpu-quick", choices=list(PRESETS), help="what to run (default: cpu-quick)")
    bench.add_argument("--out", default=None, help="output folder (default: benchmarks/results/<device>)")
    bench.set_defaults(run=_bench)

    forecast = commands.add_parser(
        "forecast", help="forecast a shipped dataset or your own CSV, next to naive, seasonal naive, ETS, ARIMA, Theta",
        description="Rolling-origin evaluation: before each of --folds cutoffs, fit the ES-LSTM hybrid and the pure "
                    "LSTM on the data up to the cutoff only, forecast the next --horizon steps, and print MAE, RMSE, "
                    "sMAPE and MASE next to naive, seasonal naive, ETS, AutoARIMA and Theta (statsforecast), with "
                    "each model's MAE relative to the best statistical one. CSVs in long format (unique_id, ds, y).")
    from .forecast.cli import add_forecast_arguments
    add_forecast_arguments(forecast)
    forecast.set_defaults(run=_forecast)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if getattr(args, "backend", None) and args.command == "demo":
        from .backends import check_backend
        try:
            check_backend(args.backend)
        except ValueError as error:
            print(f"lstmlab demo: {error}", file=sys.stderr)
            return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
