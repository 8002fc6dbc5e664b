"""Every variant side by side: forward, forward+backward and generation, as pytest-benchmark runs.

    LSTMLAB_BENCH_PRESET=cpu-quick .venv/bin/python -m pytest benchmarks/bench_variants.py \\
        --benchmark-only --benchmark-json=out.json
or simply `lstmlab bench --preset cpu-quick --out DIR`, which also writes the table and the plots
(`--variants torch,bptt --modes forward,forward+backward` run part of a preset).
`make test` runs the "smoke" preset with --benchmark-disable (each case once, untimed).

Each case builds its variant with the shared factory (lstmlab.benchmarking.variants): the weights of
one seeded torch.nn.LSTM, the same input, and a check that the variant's output equals torch's
before anything is timed. GPU work is synchronised inside the timed call.
"""
import os

import pytest
import torch

import lstmlab
from lstmlab.benchmarking.floor import gemm_gflops
from lstmlab.benchmarking.presets import ONLY_MODE, get_preset
from lstmlab.benchmarking.variants import (build_variant, check_matches_reference, environment, make_workload,
                                           peak_memory_bytes)

# LSTMLAB_BENCH_VARIANTS / LSTMLAB_BENCH_MODES (comma-separated) run only part of the preset.
PRESET = get_preset(os.environ.get("LSTMLAB_BENCH_PRESET") or
                    ("smoke" if os.environ.get("LSTMLAB_BENCH_SMOKE") == "1" else "cpu-quick"),
                    os.environ.get("LSTMLAB_BENCH_VARIANTS") or None, os.environ.get("LSTMLAB_BENCH_MODES") or None)
CASES = list(PRESET.cases())


def skip_reason(case):
    if case.device == "cuda" and not torch.cuda.is_available():
        return "needs a CUDA GPU"
    if case.variant in ONLY_MODE and case.mode != ONLY_MODE[case.variant]:
        return {"fused": "the fused rollout is a generation variant",
                "cudagraph": "the CUDA-graph variant times inference only"}[case.variant]
    if case.variant == "persistent" and "persistent" not in lstmlab.backends.BACKENDS:
        return "backend 'persistent' does not exist yet"
    if case.variant in lstmlab.backends.BACKENDS:
        # the Triton interpreter on the CPU is for tests, not timings
        if lstmlab.backends.BACKENDS[case.variant].unavailable_reason(torch.device(case.device)) is not None \
                or (case.variant in ("triton", "persistent") and case.device == "cpu"):
            return f"backend {case.variant!r} does not run on {case.device} here"
    return None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_variant(benchmark, case):
    reason = skip_reason(case)
    if reason:
        pytest.skip(reason)
    module, reference, x = build_variant(case)
    check_matches_reference(module, reference, x, case.dtype)
    run = make_workload(module, x, case.mode)
    benchmark.group = f"{case.mode} {case.dtype} L{case.layers} T{case.steps} B{case.batch} I{case.input_size}"
    benchmark.extra_info.update(case.__dict__)
    benchmark.extra_info.update(environment(case.device), preset=PRESET.name)
    benchmark.extra_info["peak_memory_bytes"] = peak_memory_bytes(run, case.device)
    benchmark.extra_info["gemm_gflops"] = gemm_gflops(x.dtype, case.device)    # for the report's floor line
    benchmark.pedantic(run, rounds=PRESET.rounds, warmup_rounds=1, iterations=1)
    if case.variant == "persistent":             # which path the dispatcher took for each pass, and why
        from lstmlab.kernels.lstm_persistent import last_plans
        benchmark.extra_info["persistent_plans"] = {name: {"path": p.path, "reason": p.reason, "grid": list(p.grid)}
                                                    for name, p in last_plans.items()}
