"""The lstmlab command."""
import json
import subprocess
import sys

import pytest

from lstmlab import crosscheck
from lstmlab.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "check" in out


@pytest.mark.parametrize("command", ["demo", "check"])
def test_subcommand_help(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "usage: lstmlab " + command in capsys.readouterr().out


def test_check_passes_and_prints_a_row_per_backend_and_config(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "agree with torch.nn.LSTM" in out
    checked = [n for n in crosscheck.backends.available_backends("cpu") if n != "torch"] + ["bptt·py"]
    assert out.count("✓") == len(crosscheck.CONFIGS) * len(checked)
    assert all(name in out for name in checked)


def test_check_fails_on_a_wrong_backend(monkeypatch, capsys):
    # A backend that computes something else must make `lstmlab check` fail.
    from lstmlab.backends import cell_loop
    original = cell_loop.run_direction

    def off_by_a_little(x, h0, c0, weights):
        outputs, cells = original(x, h0, c0, weights)
        return outputs * (1 + 1e-6), cells

    monkeypatch.setattr(cell_loop, "run_direction", off_by_a_little)
    assert main(["check", "--backend", "cell"]) == 1
    assert "✗" in capsys.readouterr().out


def test_demo_runs_small_and_reports_json(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lstmlab.cli", "demo", "--steps", "1", "--train-waves", "4", "--train-length", "30",
         "--future", "20", "--out", str(tmp_path), "--json"],
        capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) >= {"train_loss", "test_loss", "rollout_mse", "figure"}
    assert (tmp_path / "sine_future_predictions.png").stat().st_size > 10_000


def test_demo_rejects_an_unknown_backend(capsys):
    assert main(["demo", "--backend", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown backend 'nope'" in err
    assert_one_line(err, "demo")


# --- failures: one line `lstmlab <command>: expected …, given …`, exit 2 (usage) or 1 (failed run) ----
def assert_one_line(err, command):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lstmlab {command}: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", [["demo", "--steps", "1"], ["bench", "--preset", "smoke"]], ids=["demo", "bench"])
def test_an_empty_out_is_a_usage_error(command, capsys):
    """Found in a fault hunt: --out '' wrote the report into the current folder."""
    assert main([*command, "--out", ""]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, command[0])
    assert "expected --out to be a folder lstmlab can write to, given ''" in err


def test_demo_out_that_cannot_be_written_is_a_usage_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["demo", "--steps", "1", "--out", str(blocker / "figures")]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, "demo")
    assert f"expected --out to be a folder lstmlab can write to, given '{blocker / 'figures'}'" in err


def test_check_with_a_backend_that_cannot_run_here_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)        # CPU tensors need the interpreter
    assert main(["check", "--backend", "triton"]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, "check")
    assert "expected --backend to name a backend that runs here, given 'triton'" in err
    assert main(["check", "--backend", "nope"]) == 2
    assert "given 'nope': unknown backend 'nope'" in capsys.readouterr().err


def test_bench_with_a_variant_the_preset_lacks_says_so(capsys):
    assert main(["bench", "--preset", "cpu-quick", "--variants", "torch,persistent"]) == 2     # bad usage
    err = capsys.readouterr().err
    assert_one_line(err, "bench")
    assert "expected variants of preset 'cpu-quick' (torch, cell, bptt, bptt-python, compile, fused), " \
           "given 'torch,persistent'" in err


def test_bench_where_every_case_is_skipped_says_so(tmp_path, capsys):
    """Found by a README audit: fused runs in generation only, so --variants fused --modes forward ran nothing
    and failed reading a JSON that was never written (FileNotFoundError, exit 1)."""
    assert main(["bench", "--preset", "smoke", "--variants", "fused", "--modes", "forward", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, "bench")
    assert "expected --variants and --modes to leave at least one case of preset 'smoke' to run, given --variants " \
           "fused --modes forward: fused runs in generation mode only" in err


def test_bench_without_pytest_installed_says_so(monkeypatch, capsys):
    import importlib.util
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pytest" else real_find_spec(name, *a))
    assert main(["bench", "--preset", "smoke"]) == 1
    err = capsys.readouterr().err
    assert_one_line(err, "bench")
    assert "expected pytest and pytest-benchmark to be installed" in err and "without pytest" in err


def test_an_unexpected_error_is_one_line_and_exit_1(monkeypatch, capsys):
    def broken(names=None):
        raise RuntimeError("something broke\non two lines")
    monkeypatch.setattr(crosscheck, "run_checks", broken)
    assert main(["check", "--backend", "cell"]) == 1
    err = capsys.readouterr().err
    assert_one_line(err, "check")
    assert "RuntimeError: something broke on two lines" in err


def test_bad_usage_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--steps", "many"])
    assert exit_info.value.code == 2
    assert_one_line(capsys.readouterr().err, "demo")


@pytest.mark.parametrize("debug_first", [True, False], ids=["lstmlab-debug-demo", "lstmlab-demo-debug"])
def test_debug_shows_the_traceback(tmp_path, debug_first):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    command = ["demo", "--out", str(blocker / "x")]
    argv = ["--debug", *command] if debug_first else [*command, "--debug"]
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", *argv], capture_output=True, text=True)
    assert result.returncode == 2                   # bad usage, as without --debug (it exited 1 with it)
    assert "Traceback" in result.stderr and "CommandError" in result.stderr


def test_installed_command_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", "check", "--backend", "nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert_one_line(result.stderr, "check")


@pytest.mark.parametrize("argv, message", [
    (["demo", "--train-waves", "0"], "expected --train-waves from 1 to 97, given 0"),
    (["demo", "--train-length", "5000"], "expected --train-length from 2 to 999, given 5000"),
    (["demo", "--future", "0"], "expected --future from 1 to 100000, given 0"),
    (["demo", "--steps", "-1"], "expected --steps at least 0, given -1"),
    (["kernels", "--hidden", "0"], "argument --hidden: invalid size from 1 to 4096 value: '0'"),
    (["kernels", "--batch", "100000000"], "argument --batch: invalid size from 1 to 4096 value: '100000000'"),
    (["demo", "--future", "1000000"], "expected --future from 1 to 100000, given 1000000"),
    (["demo", "--seed", str(2**64)], f"expected --seed from {-2**63} to {2**64 - 1}, given {2**64}"),
    (["forecast", "--dataset", "airpassengers", "--horizon", "12", "--column", "foo"],
     "--column describes the columns of a --csv file; --dataset airpassengers has its own"),
], ids=["waves", "length", "future", "steps", "kernels-hidden", "kernels-batch", "future-huge", "seed", "dataset-column"])
def test_counts_and_options_are_checked_before_any_work(argv, message, capsys):
    """Found by a new user's audit: --train-waves 0 trained to a NaN loss, --future 0 printed a NaN MSE (and
    invalid JSON), --train-length 5000 failed in a broadcast, kernels --hidden 0 divided by zero, and
    --column with --dataset was ignored."""
    try:
        code = main(argv)
    except SystemExit as exit_info:                    # argparse's own refusal (a type= check)
        code = exit_info.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_forecast_out_that_is_a_file_is_refused_before_the_evaluation(tmp_path, capsys, monkeypatch):
    from lstmlab.forecast import evaluate
    monkeypatch.setattr(evaluate, "evaluate", lambda *a, **k: pytest.fail("the evaluation ran"))
    (tmp_path / "afile").write_text("")
    argv = ["forecast", "--dataset", "airpassengers", "--horizon", "12", "--out", str(tmp_path / "afile")]
    assert main(argv) == 2
    assert "expected --out to be a folder lstmlab can write to" in capsys.readouterr().err


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_a_gpu_preset_without_a_gpu_is_refused(tmp_path, capsys):
    assert main(["bench", "--preset", "gpu-quick", "--out", str(tmp_path)]) == 2
    assert "expected a CUDA GPU for preset 'gpu-quick'" in capsys.readouterr().err


@pytest.mark.parametrize("debug_first", [True, False], ids=["lstmlab-debug-forecast", "lstmlab-forecast-debug"])
def test_forecast_debug_shows_the_traceback_of_a_refused_file(tmp_path, debug_first):
    """`lstmlab forecast` printed its one line for bad input before --debug was consulted."""
    path = tmp_path / "steps.csv"
    path.write_text("ds,y\n" + "".join(f"{k},{k}\n" for k in range(30)))       # integers, no --freq
    command = ["forecast", "--csv", str(path), "--horizon", "3"]
    argv = ["--debug", *command] if debug_first else [*command, "--debug"]
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "ValueError: column ds holds integers" in result.stderr
    plain = subprocess.run([sys.executable, "-m", "lstmlab.cli", *command], capture_output=True, text=True)
    assert plain.returncode == 2
    assert_one_line(plain.stderr, "forecast")


def test_forecast_csv_that_is_a_directory_says_so(tmp_path, capsys):
    assert main(["forecast", "--csv", str(tmp_path), "--horizon", "3"]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, "forecast")
    assert f"{tmp_path} is a directory, not a CSV file" in err and "not found" not in err
