"""Generation: the sine model's future_preds against the textbook loop of torch.nn.LSTMCell.

The workload of issue 17: batch 3, two layers of H = 51 and a linear head, 100 observed steps read
teacher-forced, then 1000 generated steps, each prediction fed back as the next input, no grad.
Every round times, back to back:
    cells    two torch.nn.LSTMCell and a Linear stepped in a plain Python loop (the textbook way)
    steps    lstmlab's AutoregressiveLSTM with the step-by-step rollout (fused=False: LSTM.step)
    fused    the same model with the fused C++ rollout (the default under no_grad)
The figures are medians over rounds of each variant's time and of fused / cells in the same round,
with the floor: the arithmetic of the 1100 steps at the GEMM rate measured in the same run
(lstmlab/benchmarking/floor.py).

Run:  .venv/bin/python -m pytest benchmarks/bench_generation.py --benchmark-only \\
          --benchmark-json=benchmarks/results/generation/generation.json
      .venv/bin/python benchmarks/generation_table.py benchmarks/results/generation/generation.json
In `make test` it runs in smoke mode (--benchmark-disable, a few steps) so it cannot rot.
"""
import os
import statistics
import time

import pytest
import torch
from torch import nn

from lstmlab.benchmarking.floor import floor_us_per_step, gemm_gflops
from lstmlab.models import AutoregressiveLSTM

SMOKE = os.environ.get("LSTMLAB_BENCH_SMOKE") == "1" or os.environ.get("CI") == "true"
BATCH, HIDDEN, LAYERS = 3, 51, 2
OBSERVED, GENERATED = (5, 7) if SMOKE else (100, 1000)
ROUNDS = 2 if SMOKE else 15


def textbook_cells(model):
    """Two torch.nn.LSTMCell and a Linear with the model's weights."""
    cells = []
    for layer in range(LAYERS):
        w = model.lstm.direction_weights(layer)
        cell = nn.LSTMCell(w.weight_ih.size(1), HIDDEN, dtype=w.weight_ih.dtype)
        cell.load_state_dict({"weight_ih": w.weight_ih, "weight_hh": w.weight_hh,
                              "bias_ih": w.bias_ih, "bias_hh": w.bias_hh})
        cells.append(cell)
    return cells


def run_cells(cells, head, x, future):
    """The textbook loop: every observed value, then every generated one, one cell call per layer and step."""
    states = [None] * LAYERS
    predictions, value = [], None
    for t in range(x.size(1) + future):
        value = x[:, t:t + 1] if t < x.size(1) else value
        layer_input = value
        for layer, cell in enumerate(cells):
            states[layer] = cell(layer_input, states[layer])
            layer_input = states[layer][0]
        value = head(layer_input)                                  # (B, 1)
        predictions.append(value)
    return torch.cat(predictions, dim=1)                           # (B, T + future)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_generation_against_the_lstmcell_loop(benchmark, dtype):
    torch_dtype = getattr(torch, dtype)
    torch.manual_seed(0)
    model = AutoregressiveLSTM(HIDDEN, LAYERS, dtype=torch_dtype).eval()
    cells = textbook_cells(model)
    x = torch.sin(torch.linspace(0, 8, OBSERVED, dtype=torch_dtype)).repeat(BATCH, 1) + \
        0.01 * torch.randn(BATCH, OBSERVED, dtype=torch_dtype)

    runs = {"cells": lambda: run_cells(cells, model.head, x, GENERATED),
            "steps": lambda: model(x, future_preds=GENERATED, fused=False),
            "fused": lambda: model(x, future_preds=GENERATED, fused=True)}
    with torch.no_grad():
        expected = runs["cells"]()
        for name in ("steps", "fused"):                            # the same numbers before anything is timed
            torch.testing.assert_close(runs[name](), expected, rtol=1e-4, atol=1e-5)
    others = {"cells": [], "steps": []}

    def time_the_others():                                          # right before each fused round
        with torch.no_grad():
            for name, times in others.items():
                start = time.perf_counter()
                runs[name]()
                times.append(time.perf_counter() - start)

    def fused():
        with torch.no_grad():
            runs["fused"]()

    steps = OBSERVED + GENERATED
    benchmark.group = f"generation {dtype}"
    benchmark.extra_info.update(dtype=dtype, batch=BATCH, hidden=HIDDEN, layers=LAYERS, observed=OBSERVED,
                                generated=GENERATED, threads=torch.get_num_threads(), torch=torch.__version__)
    benchmark.pedantic(fused, setup=time_the_others, rounds=ROUNDS, warmup_rounds=1)
    if benchmark.stats is None:                                     # --benchmark-disable: nothing was timed
        return
    fused_times = benchmark.stats.stats.data
    per_step = {name: statistics.median(times) / steps * 1e6 for name, times in others.items()}
    per_step["fused"] = statistics.median(fused_times) / steps * 1e6
    gflops = gemm_gflops(torch_dtype)
    floor = floor_us_per_step("generation", BATCH, HIDDEN, 1, LAYERS, gflops)
    benchmark.extra_info.update({f"{name}_us_per_step": value for name, value in per_step.items()})
    benchmark.extra_info["speedup_fused_over_cells"] = statistics.median(
        c / f for c, f in zip(others["cells"], fused_times))
    benchmark.extra_info["speedup_fused_over_steps"] = statistics.median(
        s / f for s, f in zip(others["steps"], fused_times))
    benchmark.extra_info.update(gemm_gflops=gflops, floor_us_per_step=floor,
                                fused_over_floor=per_step["fused"] / floor)
