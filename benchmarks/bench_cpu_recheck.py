"""CPU: the cells a cpu-full report puts above a ratio, timed again, torch and bptt interleaved round by round.

`lstmlab bench --preset cpu-full` times each variant of a shape back to back (5 rounds each), so on a VM
whose speed drifts by 20-30 % over minutes one cell's ratio can be off by that much. This benchmark
takes the report's cells whose bptt / torch is above RECHECK_ABOVE (default 1.0), and times each again,
torch then bptt in every round, the figure being the median over rounds of bptt_time / torch_time —
as bench_cpu_backends.py does for issue 17's six shapes.

Run:  .venv/bin/python -m pytest benchmarks/bench_cpu_recheck.py --benchmark-only \\
          --benchmark-json=benchmarks/results/cpu-full/recheck.json
      .venv/bin/python benchmarks/recheck_table.py benchmarks/results/cpu-full/recheck.json
Options (environment): LSTMLAB_RECHECK_JSON (the cpu-full report; default the committed one),
LSTMLAB_RECHECK_ABOVE (default 1.0). In `make test` it runs in smoke mode on one tiny cell so it cannot rot.
"""
import json
import os
import statistics
import time
from pathlib import Path

import pytest
import torch

from lstmlab.benchmarking.presets import Case
from lstmlab.benchmarking.variants import build_variant, check_matches_reference, make_workload

SMOKE = os.environ.get("LSTMLAB_BENCH_SMOKE") == "1" or os.environ.get("CI") == "true"
REPORT = Path(os.environ.get("LSTMLAB_RECHECK_JSON", Path(__file__).parent / "results" / "cpu-full" /
                             "cpu-full-torch-bptt-forward-forward-backward.json"))
ABOVE = float(os.environ.get("LSTMLAB_RECHECK_ABOVE", "1.0"))
ROUNDS = 3 if SMOKE else 15
SHAPE = ("layers", "steps", "batch", "input_size", "hidden", "dtype")


def flagged_cells(report, above):
    """(mode, layers, T, B, I, H, dtype, ratio in the report) of every cell with bptt / torch > above."""
    medians = {}
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        key = (info["mode"], *(info[name] for name in SHAPE))
        medians.setdefault(key, {})[info["variant"]] = bench["stats"]["median"]
    return [(*key, times["bptt"] / times["torch"]) for key, times in medians.items()
            if {"torch", "bptt"} <= set(times) and times["bptt"] / times["torch"] > above]


CELLS = ([("forward+backward", 2, 5, 3, 2, 4, "float32", None)] if SMOKE
         else flagged_cells(json.loads(REPORT.read_text()), ABOVE))


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: "{}-L{}-T{}-B{}-I{}-H{}".format(*c[:6]))
def test_recheck_against_torch(benchmark, cell):
    mode, layers, steps, batch, input_size, hidden, dtype, reported = cell
    runs = {}
    for name in ["torch", "bptt"]:                                   # same seed: same weights, same input
        module, reference, x = build_variant(Case(name, mode, steps, batch, hidden, input_size, layers, dtype, "cpu"))
        check_matches_reference(module, reference, x, dtype)
        runs[name] = make_workload(module, x, mode)
    for run in runs.values():
        run()                                                        # warm-up
    torch_times = []

    def time_torch():                                                # runs right before each bptt round
        start = time.perf_counter()
        runs["torch"]()
        torch_times.append(time.perf_counter() - start)

    benchmark.group = f"{mode} L{layers} T{steps} B{batch} I{input_size} H{hidden}"
    benchmark.extra_info.update(mode=mode, layers=layers, steps=steps, batch=batch, input_size=input_size,
                                hidden=hidden, dtype=dtype, reported_ratio=reported,
                                threads=torch.get_num_threads(), torch=torch.__version__)
    benchmark.pedantic(runs["bptt"], setup=time_torch, rounds=ROUNDS, warmup_rounds=0)
    if benchmark.stats is None:                                      # --benchmark-disable: nothing was timed
        return
    bptt_times = benchmark.stats.stats.data
    benchmark.extra_info["median_torch_s"] = statistics.median(torch_times)
    benchmark.extra_info["median_bptt_s"] = statistics.median(bptt_times)
    benchmark.extra_info["bptt_over_torch"] = statistics.median(b / t for b, t in zip(bptt_times, torch_times))
