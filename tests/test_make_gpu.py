"""`make gpu` exists, and on a machine without CUDA it stops with one clear line instead of running anything."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: make gpu would run for real")
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_gpu_without_cuda_fails_clearly():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(["make", "-s", "gpu", f"GPU_PYTHON={sys.executable}"], cwd=root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "make gpu: needs a CUDA GPU that torch can see" in result.stderr
    assert "Nothing was run" in result.stderr
