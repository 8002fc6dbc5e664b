"""CPU: "bptt" and "cell" against torch.nn.LSTM (oneDNN), forward and forward+backward, float32.

Each row also records the floor: the call's multiply-adds at the float32 GEMM rate measured in the
same run (lstmlab/benchmarking/floor.py). A ratio target below floor / torch cannot be met by any
float32 implementation on that machine.

"bptt" runs its C++ time loops (kernels/lstm_cpu_recurrence.cpp); "bptt-python" is the same backend
with its PyTorch loops (lstmlab/backends/bptt.py), to show what the fused C++ step buys.

Run:  .venv/bin/python -m pytest benchmarks/bench_cpu_backends.py --benchmark-only --benchmark-json=cpu.json
In `make test` it runs in smoke mode (--benchmark-disable, LSTMLAB_BENCH_SMOKE=1 shapes) so it cannot rot.

Machines are noisy, so the ratio to torch is measured side by side: every round times torch, cell
and bptt-python, then bptt, back to back (the first three in pytest-benchmark's per-round setup
hook), and the reported figure is the median over rounds of bptt_time / torch_time (likewise for
the others).
"""
import os
import statistics
import time

import pytest
import torch

from lstmlab.benchmarking.floor import floor_us_per_step, gemm_gflops
from lstmlab.benchmarking.presets import Case
from lstmlab.benchmarking.memory import peak_memory_of_one_call
from lstmlab.benchmarking.variants import build_variant, check_matches_reference, make_workload

SMOKE = os.environ.get("LSTMLAB_BENCH_SMOKE") == "1" or os.environ.get("CI") == "true"

# (T, B, I, H): issue 4's mid-size layer, the sine model's shape and a wide layer; issue 17's wide
# hidden state, single long sequence and short wide batch.
CONFIGS = [(100, 64, 32, 128), (100, 8, 1, 51), (100, 64, 256, 256), (200, 32, 64, 512), (300, 1, 16, 64),
           (20, 128, 128, 128)]
if SMOKE:
    CONFIGS = [(5, 3, 2, 4)]
ROUNDS = 3 if SMOKE else 30


@pytest.mark.parametrize("mode", ["forward", "forward+backward"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "T{}-B{}-I{}-H{}".format(*c))
def test_bptt_against_torch(benchmark, config, mode):
    steps, batch, input_size, hidden = config
    runs = {}
    for name in ["torch", "cell", "bptt-python", "bptt"]:                     # same seed: same weights, same input
        module, reference, x = build_variant(Case(name, mode, steps, batch, hidden, input_size, 1, "float32", "cpu"))
        check_matches_reference(module, reference, x, "float32")
        runs[name] = make_workload(module, x, mode)
    for run in runs.values():
        run()                                                  # warm-up
    # the extra memory of one call, torch's and bptt's, measured in a fresh process (see memory.py)
    peaks = {} if SMOKE else peak_memory_of_one_call(config, mode)
    others = {"torch": [], "cell": [], "bptt-python": []}

    def time_the_others():                                     # runs right before each bptt round
        for name, times in others.items():
            start = time.perf_counter()
            runs[name]()
            times.append(time.perf_counter() - start)

    benchmark.group = f"{mode} T{config[0]} B{config[1]} I{config[2]} H{config[3]}"
    benchmark.extra_info.update(config=dict(zip("TBIH", config)), mode=mode, dtype="float32",
                                threads=torch.get_num_threads(), torch=torch.__version__)
    benchmark.pedantic(runs["bptt"], setup=time_the_others, rounds=ROUNDS, warmup_rounds=0)
    if benchmark.stats is None:                                # --benchmark-disable: nothing was timed
        return
    bptt_times = benchmark.stats.stats.data
    for name, times in others.items():
        benchmark.extra_info[f"median_{name}_s"] = statistics.median(times)
    benchmark.extra_info["median_bptt_s"] = statistics.median(bptt_times)
    benchmark.extra_info.update({f"peak_memory_{name}_bytes": peak for name, peak in (peaks or {}).items()})
    benchmark.extra_info["bptt_over_torch"] = statistics.median(b / t for b, t in zip(bptt_times, others["torch"]))
    for name in ["cell", "bptt-python"]:
        benchmark.extra_info[f"{name}_over_torch"] = statistics.median(
            o / t for o, t in zip(others[name], others["torch"]))
    # the floor: the call's multiply-adds at the GEMM rate measured now, with the same threads (floor.py)
    gflops = gemm_gflops(torch.float32)
    benchmark.extra_info["gemm_gflops"] = gflops
    benchmark.extra_info["floor_s"] = steps * floor_us_per_step(mode, batch, hidden, input_size, 1, gflops) / 1e6
