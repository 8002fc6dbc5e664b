"""The classic sine-wave demo: train AutoregressiveLSTM with L-BFGS, then let it predict its own future.

Waves 0–2 are held out. Training reads the first ``train_length`` steps of ``train_waves`` others,
teacher-forced (input: the value at t, target: the value at t + 1). The test then reads all 999
observed steps of the held-out waves and rolls out ``future`` more steps on its own predictions;
the true continuation is known exactly (it is a sine), so the rollout error is exact too.
"""
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .data import sine_waves
from .models import AutoregressiveLSTM
from .plots import plot_future_predictions
from .training import fit_lbfgs


@dataclass
class SineDemoResult:
    train_loss: float       # teacher-forced MSE on the training waves
    test_loss: float        # teacher-forced MSE on the held-out waves
    rollout_mse: float      # MSE of the free-running future against the true sine
    seconds: float
    figure: str
    backend: str

    def as_dict(self):
        return asdict(self)


def run_sine_demo(steps=10, train_waves=32, train_length=300, future=1000, seed=0, backend="auto", out_dir="figures",
                  progress=True, dtype=torch.float64):
    start = time.perf_counter()
    torch.manual_seed(seed)
    waves = sine_waves()
    y = waves.y.to(dtype)                                         # (100, 1000)
    train = y[3:3 + train_waves]                                  # (train_waves, 1000)
    train_inputs, train_targets = train[:, :train_length], train[:, 1:train_length + 1]
    test_inputs, test_targets = y[:3, :-1], y[:3, 1:]             # (3, 999)

    model = AutoregressiveLSTM(backend=backend, dtype=dtype)
    history = fit_lbfgs(model, train_inputs, train_targets, steps=steps, progress=progress)

    model.eval()
    with torch.no_grad():
        predictions = model(test_inputs, future_preds=future)    # (3, 999 + future)
        test_loss = torch.nn.functional.mse_loss(predictions[:, :test_targets.size(1)], test_targets).item()
        truth = waves.continuation(future, rows=slice(0, 3)).to(dtype)     # (3, future)
        rollout_mse = torch.nn.functional.mse_loss(predictions[:, test_inputs.size(1):], truth).item()

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    figure = str(Path(out_dir) / "sine_future_predictions.png")
    observed = y[:3, :-1]
    true_future = torch.cat([y[:3, -1:], truth], dim=1)           # from step 999 on
    plot_future_predictions(observed.numpy(), predictions.numpy(), true_future.numpy(), figure,
                            title=f"{future}-step rollout, MSE {rollout_mse:.2e} (observed solid, predicted dotted, truth faint)")
    return SineDemoResult(history[-1], test_loss, rollout_mse, time.perf_counter() - start, figure,
                          model.lstm.backend)
