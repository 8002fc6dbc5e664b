"""Packaging: the sdist carries the license, tutorials and benchmarks; the wheel and the sdist install
into a fresh virtual environment and `lstmlab check` runs from there.

The fresh environment reuses this one's torch, numpy, ... through a .pth file (nothing is downloaded)
and installs lstmlab itself with --no-deps --no-index.
"""
import os
import pathlib
import subprocess
import sys
import sysconfig
import tarfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def build(kind, out_dir):
    """`python -m build --<kind>` without an isolated environment (no download): the built file."""
    result = subprocess.run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out_dir),
                             str(ROOT)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (built,) = out_dir.glob("*.tar.gz" if kind == "sdist" else "*.whl")
    return built


def test_sdist_carries_license_tutorials_benchmarks_and_the_cpp_source(tmp_path):
    sdist = build("sdist", tmp_path)
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {"LICENSE", "README.md", "pyproject.toml", "kernels/lstm_cpu_recurrence.cpp",
                "kernels/lstm_cpu_rollout.cpp", "kernels/lstm_cpu_inference.cpp", "kernels/lstm_cpu_activations.h",
                "kernels/lstm_cpu_team.h", "kernels/lstm_cpu_matmul.cpp",
                "benchmarks/bench_variants.py", "tests/conftest.py",
                # what the shipped forecasting scripts read, and the committed kernel report
                "benchmarks/forecast_panel/data/airpassengers.csv", "benchmarks/results/kernels/sm_90.txt"}
    expected |= {str(p.relative_to(ROOT)) for p in (ROOT / "tutorials").glob("*.ipynb")}
    assert len([n for n in expected if n.startswith("tutorials/")]) >= 1
    assert expected <= names, sorted(expected - names)
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def fresh_venv(path):
    """A new venv that sees this environment's packages (torch, numpy, and pip and setuptools to install
    with) but not its lstmlab."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=300)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # A plain path line: this environment's site-packages joins sys.path, its .pth files (the editable
    # lstmlab among them) are not run.
    pathlib.Path(purelib, "lstmlab_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_built_package_installs_and_lstmlab_check_runs(kind, tmp_path):
    package = build(kind, tmp_path / "dist")
    python = fresh_venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
                    str(package)], check=True, timeout=600)
    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path / "torch_extensions")}   # builds the C++ loops anew
    where = subprocess.run([str(python), "-c", "import lstmlab; print(lstmlab.__file__)"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert str(tmp_path / "venv") in where                               # the installed copy, not this checkout
    result = subprocess.run([str(tmp_path / "venv" / "bin" / "lstmlab"), "check"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "checks agree with torch.nn.LSTM" in result.stdout and "bptt" in result.stdout
