"""CPU: backend "bptt" against torch.nn.LSTM with the options of the cpu-full grid the presets do not
vary: bidirectional, 2 layers, a projection, float64 (oneDNN has no float64 LSTM: torch runs its own
per-step ATen loop there). Forward (no_grad) and forward+backward, and the peak memory of one call (in a fresh process: memory.py).

Run:  .venv/bin/python -m pytest benchmarks/bench_cpu_options.py --benchmark-only \\
          --benchmark-json=benchmarks/results/cpu/options.json
      .venv/bin/python benchmarks/options_table.py benchmarks/results/cpu/options.json
In `make test` it runs in smoke mode (--benchmark-disable) so it cannot rot.

Each round times torch, then bptt, back to back; the figure is the median over rounds of bptt / torch.
"""
import os
import statistics
import time

import pytest
import torch

import lstmlab
from lstmlab.benchmarking.memory import peak_memory_of_one_call

SMOKE = os.environ.get("LSTMLAB_BENCH_SMOKE") == "1" or os.environ.get("CI") == "true"
SHAPES = [(5, 3, 2, 4)] if SMOKE else [(100, 64, 32, 128), (100, 8, 1, 51)]       # (T, B, I, H)
OPTIONS = {"plain": {}, "bidirectional": {"bidirectional": True}, "2 layers": {"num_layers": 2},
           "projection": {"proj_size": "H/2"}, "float64": {"dtype": torch.float64},
           "2 layers bidirectional float64": {"num_layers": 2, "bidirectional": True, "dtype": torch.float64}}
ROUNDS = 2 if SMOKE else 15


def twins(shape, options):
    steps, batch, input_size, hidden = shape
    options = {k: (hidden // 2 if v == "H/2" else v) for k, v in options.items()}
    torch.manual_seed(0)
    reference = torch.nn.LSTM(input_size, hidden, **options)
    ours = lstmlab.LSTM(input_size, hidden, backend="bptt", **options)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(steps, batch, input_size, dtype=options.get("dtype", torch.float32), requires_grad=True)
    return reference, ours, x


def workload(module, x, mode):
    if mode == "forward":
        def run():
            with torch.no_grad():
                module(x)
    else:
        def run():
            output, (h_n, c_n) = module(x)
            (output.sum() + h_n.sum() + c_n.sum()).backward()
    return run


@pytest.mark.parametrize("mode", ["forward", "forward+backward"])
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda c: "T{}-B{}-I{}-H{}".format(*c))
def test_bptt_against_torch_with_options(benchmark, shape, option, mode):
    reference, ours, x = twins(shape, OPTIONS[option])
    with torch.no_grad():
        expected, got = reference(x)[0], ours(x)[0]
    tolerance = 1e-10 if x.dtype == torch.float64 else 1e-4
    torch.testing.assert_close(got, expected, rtol=tolerance, atol=tolerance)   # the same numbers first
    torch_run, bptt_run = workload(reference, x, mode), workload(ours, x, mode)
    torch_run(), bptt_run()                                    # warm-up
    options = {k: (str(v).replace("torch.", "") if k == "dtype" else shape[3] // 2 if v == "H/2" else v)
               for k, v in OPTIONS[option].items()}
    peaks = {} if SMOKE else peak_memory_of_one_call(shape, mode, options)    # in a fresh process (memory.py)
    torch_times = []

    def time_torch():
        start = time.perf_counter()
        torch_run()
        torch_times.append(time.perf_counter() - start)

    benchmark.group = f"{mode} {option} T{shape[0]} B{shape[1]} I{shape[2]} H{shape[3]}"
    benchmark.extra_info.update(shape=dict(zip("TBIH", shape)), option=option, mode=mode,
                                threads=torch.get_num_threads(), torch=torch.__version__)
    benchmark.pedantic(bptt_run, setup=time_torch, rounds=ROUNDS, warmup_rounds=0)
    if benchmark.stats is None:                                # --benchmark-disable: nothing was timed
        return
    bptt_times = benchmark.stats.stats.data
    benchmark.extra_info.update(
        median_torch_s=statistics.median(torch_times), median_bptt_s=statistics.median(bptt_times),
        bptt_over_torch=statistics.median(b / t for b, t in zip(bptt_times, torch_times)),
        **{f"peak_memory_{name}_bytes": peak for name, peak in (peaks or {}).items()})
