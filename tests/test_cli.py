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
    assert "unknown backend 'nope'" in capsys.readouterr().err
