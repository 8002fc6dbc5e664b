"""The classic sine-wave demo: train AutoregressiveLSTM with L-BFGS, then let it predict its own future.

Waves 0–2 are held out. Training has two phases, both full-batch L-BFGS with a strong-Wolfe line
search (it never takes a step that raises the loss; a fixed step, the classic example's, diverges at
some seeds):

1. teacher forcing — the first ``train_length`` steps of ``train_waves`` other waves, input the value at
   t, target the value at t + 1, ``steps`` L-BFGS steps;
2. a multi-step loss — the model reads ``rollout_warmup`` true values, then predicts ``rollout_horizon``
   more from its own outputs, and the loss covers all of them (``rollout_steps`` L-BFGS steps; both
   within the same first ``train_length`` steps). Teacher
   forcing never shows the model its own errors; a small error in frequency then grows into a phase
   drift over a long rollout. Here the model is trained on exactly what it will do at test time.

The test reads all 999 observed steps of the held-out waves and rolls out ``future`` more steps on its
own predictions; the true continuation is known exactly (it is a sine), so the rollout error is exact too.
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
                  progress=True, dtype=torch.float64, max_iter=10, rollout_steps=6, rollout_warmup=50,
                  rollout_horizon=200, threads=1):
    # One thread: the model is small (B = 32, H = 51), and on a shared machine a second thread that has
    # to wait for a busy core at every step's barrier costs far more than it saves.
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _run(steps=steps, train_waves=train_waves, train_length=train_length, future=future, seed=seed,
                    backend=backend, out_dir=out_dir, progress=progress, dtype=dtype, max_iter=max_iter,
                    rollout_steps=rollout_steps, rollout_warmup=rollout_warmup, rollout_horizon=rollout_horizon)
    finally:
        torch.set_num_threads(previous_threads)


def _run(*, steps, train_waves, train_length, future, seed, backend, out_dir, progress, dtype, max_iter,
         rollout_steps, rollout_warmup, rollout_horizon):
    start = time.perf_counter()
    torch.manual_seed(seed)
    waves = sine_waves()
    y = waves.y.to(dtype)                                         # (100, 1000)
    train = y[3:3 + train_waves]                                  # (train_waves, 1000)
    train_inputs, train_targets = train[:, :train_length], train[:, 1:train_length + 1]
    test_inputs, test_targets = y[:3, :-1], y[:3, 1:]             # (3, 999)

    model = AutoregressiveLSTM(backend=backend, dtype=dtype)
    history = fit_lbfgs(model, train_inputs, train_targets, steps=steps, lr=1.0, max_iter=max_iter,
                        line_search_fn="strong_wolfe", progress=progress, desc="teacher-forced")
    if rollout_steps:
        # the same first train_length + 1 values of each wave as phase 1: warm-up, then the rollout
        warmup = min(rollout_warmup, train_length // 2)
        horizon = min(rollout_horizon, train_length - warmup)
        fit_lbfgs(model, train[:, :warmup], train[:, 1:warmup + horizon + 1], steps=rollout_steps, lr=1.0,
                  max_iter=20, line_search_fn="strong_wolfe", future_preds=horizon, progress=progress,
                  desc="multi-step")
        with torch.no_grad():
            history.append(torch.nn.functional.mse_loss(model(train_inputs), train_targets).item())

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
    from .backends import resolve_backend
    ran = resolve_backend(model.lstm.backend, y.device).name                    # "auto": the one it chose
    return SineDemoResult(history[-1], test_loss, rollout_mse, time.perf_counter() - start, figure, ran)
