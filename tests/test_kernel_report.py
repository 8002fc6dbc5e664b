"""`lstmlab kernels`: ahead-of-time compiles for a GPU this machine does not have.

It runs in a subprocess: the tests' own process imports the kernels under TRITON_INTERPRET=1, which
turns them into interpreted functions with nothing to compile. One small configuration compiles in
`make test` (seconds); the whole grid the issue asks for — and the dispatch table's promise of zero
spills within the shared-memory limit — runs with `-m slow`.
"""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("triton")


def kernels_command(*arguments):
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    result = subprocess.run([sys.executable, "-m", "lstmlab.cli", "kernels", *arguments], capture_output=True,
                            text=True, env=env, timeout=1200)
    return result


def test_one_small_configuration_compiles_for_sm90():
    result = kernels_command("--arch", "sm_90", "--json", "--dtype", "bfloat16", "--hidden", "64", "--batch", "16",
                             "--backend", "persistent")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["arch"] == "sm_90" and report["limits"]["shared_bytes"] == 232448
    keys = {"backend", "pass", "dtype", "hidden", "batch", "path", "registers", "spill_bytes", "shared_bytes",
            "num_warps", "grid"}
    assert all(keys <= set(row) for row in report["configs"])
    assert {row["pass"] for row in report["configs"]} == {"forward", "backward"}
    forward = next(row for row in report["configs"] if row["pass"] == "forward")
    assert forward["path"] == "persistent" and forward["grid"] == [4, 1] and forward["num_warps"] == 4
    assert 0 < forward["registers"] <= 255 and forward["spill_bytes"] == 0
    # W_hh's slice alone is 4·16 rows × 64 bf16 = 8 KiB; the forward kernel keeps it in shared memory.
    assert 4 * 16 * 64 * 2 <= forward["shared_bytes"] <= report["limits"]["shared_bytes"]


def test_an_unknown_arch_is_refused():
    result = kernels_command("--arch", "sm_70")
    assert result.returncode == 2 and "invalid choice: 'sm_70'" in result.stderr


@pytest.mark.slow
def test_the_dispatch_table_keeps_real_sizes_persistent_without_spills():
    """Issue 13's bar: persistent forward AND backward at batch 16 for bf16 H = 256, 512, 1024 and fp32
    H = 256, 512; no configuration the dispatcher would launch spills; shared memory within the limit."""
    result = kernels_command("--arch", "sm_90", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for row in report["configs"]:
        assert row["spill_bytes"] == 0, row
        assert row["shared_bytes"] <= report["limits"]["shared_bytes"], row
    persistent = {(row["pass"], row["dtype"], row["hidden"]): row["path"] for row in report["configs"]
                  if row["backend"] == "persistent" and row["batch"] == 16}
    for dtype, sizes in [("bfloat16", (256, 512, 1024)), ("float32", (256, 512))]:
        for hidden in sizes:
            for pass_name in ("forward", "backward"):
                assert persistent[(pass_name, dtype, hidden)] == "persistent", (pass_name, dtype, hidden)
