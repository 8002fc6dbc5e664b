"""The benchmark suite's factory, presets and report (the timings themselves live in benchmarks/)."""
import json

import pytest
import torch

from lstmlab.benchmarking.memory import peak_memory_of_one_call
from lstmlab.benchmarking.presets import PRESETS, Case, get_preset
from lstmlab.benchmarking.report import load_results, markdown_table, ratio_summary, write_report
from lstmlab.benchmarking.variants import build_variant, check_matches_reference, make_workload, peak_memory_bytes


def test_presets_cover_the_grid():
    full = get_preset("gpu-full")
    assert full.hidden == (32, 64, 128, 256, 512) and full.batch == (1, 16, 64, 256)
    assert full.steps == (100, 1024) and full.layers == (1, 2) and full.dtypes == ("float32", "bfloat16")
    assert get_preset("cpu-full").dtypes == ("float32",)
    for preset in PRESETS.values():
        ids = [case.id for case in preset.cases()]
        assert len(ids) == len(set(ids)), preset.name
    assert any(case.input_size == 1 and case.hidden == 51 for case in get_preset("cpu-quick").cases())
    with pytest.raises(ValueError, match="unknown preset 'nope'; choose one of: smoke, cpu-quick"):
        get_preset("nope")


def test_part_of_a_preset():
    """cpu-full for the two variants the training target compares: the same grid, nothing else."""
    full, part = get_preset("cpu-full"), get_preset("cpu-full", "bptt,torch", ["forward", "forward+backward"])
    assert part.variants == ("torch", "bptt") and part.modes == ("forward", "forward+backward")
    cases = list(part.cases())
    assert {(c.variant, c.mode) for c in cases} == {(v, m) for v in part.variants for m in part.modes}
    assert {c.id for c in cases} <= {c.id for c in full.cases()}
    assert len(cases) == len(list(full.cases())) * 4 // (len(full.variants) * len(full.modes))
    assert [c.variant for c in cases[:4]] == ["torch", "bptt", "torch", "bptt"]     # side by side, shape by shape
    with pytest.raises(ValueError, match=r"expected variants of preset 'cpu-full' \(torch, cell, .*\), given 'triton'"):
        get_preset("cpu-full", "triton")
    with pytest.raises(ValueError, match="expected modes of preset 'smoke'"):
        get_preset("smoke", modes="backward")


@pytest.mark.parametrize("variant", ["torch", "cell", "bptt", "fused"])
@pytest.mark.parametrize("mode", ["forward", "forward+backward", "generation"])
def test_every_variant_is_built_from_the_same_weights_and_runs(variant, mode):
    if variant == "fused" and mode != "generation":
        pytest.skip("the fused rollout is a generation variant")
    case = Case(variant, mode, steps=4, batch=3, hidden=6, input_size=2, layers=2, dtype="float32", device="cpu")
    module, reference, x = build_variant(case)
    for (name, a), b in zip(module.named_parameters(), reference.parameters()):
        assert torch.equal(a, b), name
    check_matches_reference(module, reference, x, "float32")
    make_workload(module, x, mode)()


def test_a_variant_that_computes_something_else_is_caught():
    case = Case("bptt", "forward", steps=4, batch=3, hidden=6, input_size=2, layers=1, dtype="float32", device="cpu")
    module, reference, x = build_variant(case)
    with torch.no_grad():
        module.weight_hh_l0.mul_(1.01)
    with pytest.raises(AssertionError):
        check_matches_reference(module, reference, x, "float32")


def test_peak_memory_sees_a_large_allocation():
    peak = peak_memory_bytes(lambda: torch.ones(64, 1024, 1024).sum(), "cpu")   # 256 MiB
    if peak is None:
        pytest.skip("no /proc/self/clear_refs here")
    assert peak >= 200 * 2**20


def test_peak_memory_of_one_call_sees_what_a_training_step_keeps():
    """In a fresh process: bptt's training step at (T, B, I, H) = (400, 16, 8, 64) keeps at least its gates,
    cell states and outputs (T·B·(4H + H + H) floats = 9.4 MiB); its forward under no_grad keeps the
    outputs (1.6 MiB) and one chunk of steps (≤ 1 MiB of gates, bptt.INFERENCE_CHUNK_BYTES)."""
    training = peak_memory_of_one_call((400, 16, 8, 64), "forward+backward")
    if training is None:
        pytest.skip("Linux only")
    inference = peak_memory_of_one_call((400, 16, 8, 64), "forward")
    kept = 400 * 16 * 6 * 64 * 4
    assert training["bptt"] >= kept and training["torch"] >= kept
    assert inference["bptt"] < kept / 2


def fake_report(tmp_path):
    benchmarks = []
    for variant, median in [("torch", 1e-3), ("bptt", 2e-3)]:
        for hidden in (32, 64):
            info = dict(variant=variant, mode="forward", dtype="float32", layers=1, steps=100, batch=16,
                        input_size=hidden, hidden=hidden, device_name="test cpu", torch="x", triton=None,
                        cuda=None, threads=2, preset="test", input_projection_timed=True, gemm_gflops=100.0)
            benchmarks.append({"extra_info": info, "stats": {"median": median * hidden / 32}})
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"benchmarks": benchmarks}))
    return path


def test_report_table_and_plots(tmp_path):
    path = fake_report(tmp_path)
    table, environment = load_results(path)
    text = markdown_table(table, environment)
    # floor: 16 rows · 4·32 gates · (32 + 32) inputs = 131,072 multiply-adds = 262,144 FLOP at 100 GFLOP/s
    assert "| forward | float32 | 1 | 100 | 16 | 32 | 32 | 10.0 µs | 20.0 µs (2.00×) | 2.62 µs |" in text
    assert "test cpu" in text and "float32 100 GFLOP/s" in text
    assert "- bptt, forward: median 2.00×, 2.00–2.00×; above 1.0× at 2 of 2, above 0.8× at 2; worst: float32 L1 T100 B16" in text


def test_ratio_summary_counts_the_shapes_above_each_line():
    row = lambda torch_us, bptt_us: {"torch": torch_us, "bptt": bptt_us}
    table = {("forward", "float32", 1, 100, 16, 32, 32): row(10.0, 7.0),               # 0.70×
             ("forward", "float32", 1, 100, 16, 64, 64): row(10.0, 9.0),               # 0.90×
             ("forward", "float32", 2, 100, 64, 64, 64): row(10.0, 12.0),              # 1.20×
             ("forward+backward", "float32", 1, 100, 16, 32, 32): row(10.0, 5.0)}     # 0.50×
    assert ratio_summary(table) == [
        "- bptt, forward: median 0.90×, 0.70–1.20×; above 1.0× at 1 of 3, above 0.8× at 2; worst: float32 L2 T100 B64 I64 H64",
        "- bptt, forward+backward: median 0.50×, 0.50–0.50×; above 1.0× at 0 of 1, above 0.8× at 0; worst: float32 L1 T100 B16 I32 "
        "H32"]


def test_report_writes_its_files(tmp_path):
    path = fake_report(tmp_path)
    written = write_report(path, tmp_path / "out")
    assert [p.rsplit("/", 1)[1] for p in written] == ["table.md", "time_per_step.png", "time_per_step_vs_batch.png",
                                                      "ratio.png"]
    # a partial run (lstmlab bench --variants …) names its files after itself: the full run's stay
    partial = write_report(path, tmp_path / "out", prefix="cpu-full-bptt-forward-")
    assert [p.rsplit("/", 1)[1] for p in partial][0] == "cpu-full-bptt-forward-table.md"
    assert len(list((tmp_path / "out").iterdir())) == 8


def test_bench_command_smoke(tmp_path):
    from lstmlab.cli import main
    assert main(["bench", "--preset", "smoke", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "table.md").read_text()
    for mode in ("forward", "forward+backward", "generation"):
        assert f"| {mode} | float32 |" in table
    assert (tmp_path / "ratio.png").stat().st_size > 5000


def test_training_table_shows_the_floor_against_torch():
    """bench_cpu_backends' table: the floor and floor / torch, the lowest ratio any float32 code can reach."""
    from benchmarks.ratio_table import ratio_table
    info = {"config": {"T": 10, "B": 2, "I": 3, "H": 4}, "mode": "forward", "threads": 1, "torch": "x",
            "median_torch_s": 0.004, "median_bptt_s": 0.005, "median_bptt-python_s": 0.006, "median_cell_s": 0.008,
            "bptt_over_torch": 1.25, "bptt-python_over_torch": 1.5, "cell_over_torch": 2.0,
            "floor_s": 0.0035, "gemm_gflops": 100.0}
    text = ratio_table({"benchmarks": [{"extra_info": info, "stats": {"rounds": 3}}], "machine_info": {}})
    row = next(line for line in text.splitlines() if line.startswith("| 10, 2, 3, 4 |"))
    assert "| **1.25×** |" in row and "| 3.50 | 0.88× |" in row
    assert "100 GFLOP/s" in text


def test_recheck_takes_the_cells_a_report_puts_above_the_ratio():
    """bench_cpu_recheck: only cells where bptt / torch > the bound, each with the ratio the report gave."""
    from benchmarks.bench_cpu_recheck import flagged_cells
    from benchmarks.recheck_table import recheck_table

    def bench(variant, mode, hidden, median):
        info = {"variant": variant, "mode": mode, "layers": 2, "steps": 100, "batch": 1, "input_size": hidden,
                "hidden": hidden, "dtype": "float32"}
        return {"extra_info": info, "stats": {"median": median}}
    report = {"benchmarks": [bench("torch", "forward", 256, 1.0), bench("bptt", "forward", 256, 1.2),
                             bench("torch", "forward", 512, 1.0), bench("bptt", "forward", 512, 0.9),
                             bench("torch", "forward+backward", 512, 2.0),
                             bench("bptt", "forward+backward", 512, 2.1),
                             bench("bptt", "forward+backward", 64, 9.0)]}          # no torch to compare with
    cells = flagged_cells(report, 1.0)
    assert [cell[:6] for cell in cells] == [("forward", 2, 100, 1, 256, 256),
                                            ("forward+backward", 2, 100, 1, 512, 512)]
    assert [round(cell[-1], 3) for cell in cells] == [1.2, 1.05]
    assert flagged_cells(report, 1.1) == [cells[0]]
    info = {"mode": "forward", "layers": 2, "steps": 100, "batch": 1, "input_size": 256, "hidden": 256,
            "dtype": "float32", "reported_ratio": 1.2, "threads": 2, "torch": "x", "median_torch_s": 0.004,
            "median_bptt_s": 0.0042, "bptt_over_torch": 1.05}
    text = recheck_table({"benchmarks": [{"extra_info": info, "stats": {"rounds": 15}}], "machine_info": {}})
    assert "| forward | 2 | 100 | 1 | 256 | 256 | 4.00 | 4.20 | 1.20× | **1.05×** |" in text
    assert "medians of 15 rounds" in text
