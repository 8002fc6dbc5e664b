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
    assert main(["bench", "--preset", "cpu-quick", "--variants", "torch,persistent"]) == 1
    err = capsys.readouterr().err
    assert_one_line(err, "bench")
    assert "expected variants of preset 'cpu-quick' (torch, cell, bptt, bptt-python, compile, fused), " \
           "given 'torch,persistent'" in err


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
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "CommandError" in result.stderr


def test_installed_command_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", "check", "--backend", "nope"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert_one_line(result.stderr, "check")
