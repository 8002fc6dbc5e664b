"""Backend selection: available_backends() tells the truth, errors name the choices, "auto" falls back."""
import importlib.util
import os
import subprocess
import sys

import pytest
import torch

import lstmlab
from lstmlab import backends


def run_python(code, **env_changes):
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU machine triton is available without the interpreter")
def test_without_gpu_or_interpreter_triton_is_unavailable_and_auto_falls_back():
    code = """
import lstmlab
from lstmlab.backends import resolve_backend
print(lstmlab.available_backends())
print(resolve_backend("auto", "cpu").name)
try:
    lstmlab.LSTM(3, 4, backend="triton")
except ValueError as error:
    print(error)
"""
    result = run_python(code)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == "['cell', 'bptt', 'torch']"
    assert lines[1] == "bptt"
    assert lines[2] == ("backend 'triton' is not available: needs a CUDA GPU, or TRITON_INTERPRET=1 to run "
                        "kernels on the CPU; available: 'auto', 'cell', 'bptt', 'torch'")


def test_without_triton_installed(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "triton" else real_find_spec(name, *a))
    backends._triton_installed.cache_clear()                 # it asks once per process: ask again
    try:
        assert "triton" not in backends.available_backends()
        with pytest.raises(ValueError, match=r"backend 'triton' is not available: triton is not installed"):
            lstmlab.LSTM(3, 4, backend="triton")
        assert backends.resolve_backend("auto", "cpu").name == "bptt"
    finally:
        backends._triton_installed.cache_clear()             # later tests ask the real find_spec


def test_interpreter_on_cuda_tensors_is_refused(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    reason = backends.BACKENDS["triton"].unavailable_reason(torch.device("cuda"))
    assert reason == "cannot run on cuda tensors with TRITON_INTERPRET=1"


def test_auto_never_picks_torch_and_prefers_bptt_on_cpu():
    assert backends.resolve_backend("auto", "cpu").name == "bptt"
    assert all(info.name != "torch" for info in backends.BACKENDS.values() if info.auto_rank)


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown backend 'cudnn'; available: 'auto', 'cell', 'bptt'"):
        lstmlab.LSTM(3, 4, backend="cudnn")
    with pytest.raises(TypeError, match=r"backend must be a string, one of 'auto', 'cell', 'bptt'.*got list"):
        lstmlab.LSTM(3, 4, backend=["bptt"])                          # was "unhashable type: 'list'"
