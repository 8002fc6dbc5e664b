"""CPU: "bptt" and "cell" against torch.nn.LSTM (oneDNN), forward and forward+backward, float32.

Run:  .venv/bin/python -m pytest benchmarks/bench_cpu_backends.py --benchmark-only --benchmark-json=cpu.json
In `make test` it runs in smoke mode (--benchmark-disable, LSTMLAB_BENCH_SMOKE=1 shapes) so it cannot rot.

Machines are noisy, so the ratio to torch is measured side by side: every round times torch, then
cell, then bptt, back to back (torch and cell in pytest-benchmark's per-round setup hook), and
the reported figure is the median over rounds of bptt_time / torch_time (likewise for cell).
"""
import os
import statistics
import time

import pytest
import torch

import lstmlab

SMOKE = os.environ.get("LSTMLAB_BENCH_SMOKE") == "1" or os.environ.get("CI") == "true"

# (T, B, I, H), the configurations of issue 4: a mid-size layer, the sine model's shape, a wide layer.
CONFIGS = [(100, 64, 32, 128), (100, 8, 1, 51), (100, 64, 256, 256)]
if SMOKE:
    CONFIGS = [(5, 3, 2, 4)]
ROUNDS = 3 if SMOKE else 30


def make_variants(steps, batch, input_size, hidden_size, names, dtype=torch.float32, seed=0):
    """One LSTM per backend, all with torch.nn.LSTM's weights, and a shared input."""
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(input_size, hidden_size, dtype=dtype)
    modules = {}
    for name in names:
        module = lstmlab.LSTM(input_size, hidden_size, dtype=dtype, backend=name)
        module.load_state_dict(reference.state_dict(), strict=True)
        modules[name] = module
    x = torch.randn(steps, batch, input_size, dtype=dtype)
    return modules, x


def workload(module, x, mode):
    if mode == "forward":
        def run():
            with torch.no_grad():
                module(x)
    else:
        x_leaf = x.clone().requires_grad_(True)

        def run():
            output, (h_n, c_n) = module(x_leaf)
            (output.sum() + h_n.sum() + c_n.sum()).backward()
    return run


def check_same_as_torch(modules, x):
    """A fast variant that computes something else must not win."""
    with torch.no_grad():
        expected, _ = modules["torch"](x)
        for name, module in modules.items():
            torch.testing.assert_close(module(x)[0], expected, rtol=1e-4, atol=1e-5, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("mode", ["forward", "forward+backward"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "T{}-B{}-I{}-H{}".format(*c))
def test_bptt_against_torch(benchmark, config, mode):
    modules, x = make_variants(*config, names=["torch", "cell", "bptt"])
    check_same_as_torch(modules, x)
    runs = {name: workload(module, x, mode) for name, module in modules.items()}
    for run in runs.values():
        run()                                                  # warm-up
    others = {"torch": [], "cell": []}

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
    benchmark.extra_info["bptt_over_torch"] = statistics.median(b / t for b, t in zip(bptt_times, others["torch"]))
    benchmark.extra_info["cell_over_torch"] = statistics.median(c / t for c, t in zip(others["cell"], others["torch"]))
